package train

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Learning-rate schedules. The zero LRSchedule keeps the learning rate
// constant (Config.LR), as the book's recipe does.
const (
	// ScheduleConstant keeps Config.LR for every step.
	ScheduleConstant = ""
	// ScheduleCosine is cosine decay with linear warm-up, per optimizer step
	// (see LRSchedule.CosineLR).
	ScheduleCosine = "cosine"
	// SchedulePlateau is Keras' ReduceLROnPlateau, per epoch (see Plateau).
	SchedulePlateau = "plateau"
)

// Keras' ReduceLROnPlateau defaults (tf.keras.callbacks.ReduceLROnPlateau:
// monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, cooldown=0,
// min_lr=0) and PyTorch's LinearLR start_factor default (1/3).
const (
	DefaultPlateauMonitor  = "val_loss"
	DefaultPlateauFactor   = 0.1
	DefaultPlateauPatience = 10
	DefaultPlateauMinDelta = 1e-4
	DefaultWarmupStart     = 1.0 / 3
)

// LRSchedule says how the learning rate moves during training. Kind picks
// the schedule; the fields of the other kinds must be zero.
//
// Cosine (Kind "cosine") is PyTorch's
//
//	SequentialLR(opt, [LinearLR(opt, start_factor=WarmupStart, end_factor=1, total_iters=W),
//	                   CosineAnnealingLR(opt, T_max=T-W, eta_min=MinLR)], milestones=[W])
//
// stepped once per optimizer step (not per epoch), with W = WarmupEpochs
// times the steps per epoch and T = Config.Epochs times the steps per
// epoch; we evaluate its closed form (CosineLR), which is the LambdaLR
// formula the reference script checks against that SequentialLR.
//
// Plateau (Kind "plateau") is Keras' ReduceLROnPlateau callback with
// monitor Monitor, factor Factor, patience Patience, min_delta MinDelta,
// cooldown Cooldown and min_lr MinLR, mode "auto" (see Plateau).
type LRSchedule struct {
	Kind string `json:"kind"`
	// WarmupEpochs is the length of the cosine schedule's linear warm-up.
	WarmupEpochs int `json:"warmup_epochs,omitempty"`
	// WarmupStart is LinearLR's start_factor: the warm-up begins at
	// WarmupStart*LR.
	WarmupStart float64 `json:"warmup_start,omitempty"`
	// MinLR is CosineAnnealingLR's eta_min, or ReduceLROnPlateau's min_lr.
	MinLR float64 `json:"min_lr,omitempty"`
	// Monitor is the metric ReduceLROnPlateau watches: val_loss,
	// val_accuracy, loss or accuracy.
	Monitor  string  `json:"monitor,omitempty"`
	Factor   float64 `json:"factor,omitempty"`
	Patience int     `json:"patience,omitempty"`
	MinDelta float64 `json:"min_delta,omitempty"`
	Cooldown int     `json:"cooldown,omitempty"`
}

// CosineSchedule returns the cosine schedule with PyTorch's LinearLR
// start factor and no floor.
func CosineSchedule(warmupEpochs int) LRSchedule {
	return LRSchedule{Kind: ScheduleCosine, WarmupEpochs: warmupEpochs, WarmupStart: DefaultWarmupStart}
}

// PlateauSchedule returns ReduceLROnPlateau with Keras' defaults.
func PlateauSchedule() LRSchedule {
	return LRSchedule{Kind: SchedulePlateau, Monitor: DefaultPlateauMonitor, Factor: DefaultPlateauFactor,
		Patience: DefaultPlateauPatience, MinDelta: DefaultPlateauMinDelta}
}

// Check validates s for a run of epochs epochs, naming the field at fault.
func (s LRSchedule) Check(epochs int) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	switch s.Kind {
	case ScheduleConstant:
		if s != (LRSchedule{}) {
			return errors.New("learning-rate schedule: settings given without a schedule")
		}
	case ScheduleCosine:
		switch {
		case s.WarmupEpochs < 0 || s.WarmupEpochs >= epochs:
			return fmt.Errorf("cosine schedule: warm-up of %d epochs, want 0 to %d (fewer than the %d epochs)", s.WarmupEpochs, epochs-1, epochs)
		case bad(s.WarmupStart) || s.WarmupStart == 0 || s.WarmupStart > 1:
			return fmt.Errorf("cosine schedule: warm-up start factor %v, want a number in (0, 1] (PyTorch's LinearLR)", s.WarmupStart)
		case bad(s.MinLR):
			return fmt.Errorf("cosine schedule: minimum learning rate %v, want a finite number >= 0", s.MinLR)
		case s.Monitor != "" || s.Factor != 0 || s.Patience != 0 || s.MinDelta != 0 || s.Cooldown != 0:
			return errors.New("cosine schedule: plateau settings (monitor, factor, patience, min_delta, cooldown) given")
		}
	case SchedulePlateau:
		switch {
		case !validMonitor(s.Monitor):
			return fmt.Errorf("plateau schedule: monitor %q, want one of val_loss, val_accuracy, loss, accuracy", s.Monitor)
		case bad(s.Factor) || s.Factor == 0 || s.Factor >= 1:
			return fmt.Errorf("plateau schedule: factor %v, want a number in (0, 1) (Keras refuses factor >= 1)", s.Factor)
		case s.Patience < 0:
			return fmt.Errorf("plateau schedule: patience %d, want 0 or more", s.Patience)
		case bad(s.MinDelta):
			return fmt.Errorf("plateau schedule: min_delta %v, want a finite number >= 0", s.MinDelta)
		case s.Cooldown < 0:
			return fmt.Errorf("plateau schedule: cooldown %d, want 0 or more", s.Cooldown)
		case bad(s.MinLR):
			return fmt.Errorf("plateau schedule: minimum learning rate %v, want a finite number >= 0", s.MinLR)
		case s.WarmupEpochs != 0 || s.WarmupStart != 0:
			return errors.New("plateau schedule: warm-up settings given (they belong to the cosine schedule)")
		}
	default:
		return fmt.Errorf("learning-rate schedule %q, want %q or %q (or none)", s.Kind, ScheduleCosine, SchedulePlateau)
	}
	return nil
}

func validMonitor(m string) bool {
	switch m {
	case "val_loss", "val_accuracy", "loss", "accuracy":
		return true
	}
	return false
}

// CosineLR returns the learning rate of optimizer step s (0-based: the
// rate the (s+1)-th update uses) of the cosine schedule, for base rate lr,
// warm-up steps w and total steps t (0 <= w < t):
//
//	s < w:  lr * (WarmupStart + (1 - WarmupStart) * s / w)          (LinearLR)
//	s >= w: MinLR + (lr - MinLR) * (1 + cos(pi * (s - w) / (t - w))) / 2  (CosineAnnealingLR)
//
// in float64. Past t (a resumed run given more epochs cannot reach here:
// Fit refuses it) the cosine continues, as CosineAnnealingLR's closed form
// does.
func (s LRSchedule) CosineLR(lr float64, step, w, t int) float64 {
	if step < w {
		return lr * (s.WarmupStart + (1-s.WarmupStart)*float64(step)/float64(w))
	}
	return s.MinLR + (lr-s.MinLR)*(1+math.Cos(math.Pi*float64(step-w)/float64(t-w)))/2
}

// Plateau is the state of Keras' ReduceLROnPlateau (keras/callbacks.py,
// Keras 2.x; tf.keras the same), updated once per epoch by Update:
//
//	if cooldown_counter > 0: cooldown_counter -= 1; wait = 0
//	if monitor_op(current, best): best = current; wait = 0
//	elif cooldown_counter == 0:
//	    wait += 1
//	    if wait >= patience and lr > min_lr:
//	        lr = max(lr * factor, min_lr); cooldown_counter = cooldown; wait = 0
//
// with mode "auto": monitor_op is current < best - min_delta, best starting
// at +Inf, unless the monitor's name contains "acc", when it is current >
// best + min_delta, best starting at -Inf. A NaN metric counts as no
// improvement. Keras keeps lr in a float32 variable; we keep it in float64,
// so after several reductions the rates differ by float32 rounding
// (about 1e-8 relative).
//
// torch.optim.lr_scheduler.ReduceLROnPlateau(mode, threshold=min_delta,
// threshold_mode="abs") differs: it reduces after more than patience bad
// epochs (Keras: at patience), it counts the epoch that ends a cooldown as
// bad, and it skips a reduction smaller than its eps (1e-8) rather than
// one that starts at min_lr. With cooldown 0, Keras' patience p is
// PyTorch's p-1; the reference test relies on that.
type Plateau struct {
	LR       float64 // the learning rate now
	Best     float64 // best monitored value so far
	Wait     int     // epochs without improvement
	Cooldown int     // epochs of cooldown left
}

// NewPlateau returns the state at the start of training with rate lr.
func (s LRSchedule) NewPlateau(lr float64) Plateau {
	p := Plateau{LR: lr, Best: math.Inf(1)}
	if s.maximise() {
		p.Best = math.Inf(-1)
	}
	return p
}

// maximise reports whether a larger monitored value is better (Keras' mode
// "auto": the name contains "acc").
func (s LRSchedule) maximise() bool { return strings.Contains(s.Monitor, "acc") }

// Update moves the state by one epoch whose monitored value is current and
// reports whether the rate was reduced.
func (s LRSchedule) Update(p *Plateau, current float64) (reduced bool) {
	if p.Cooldown > 0 {
		p.Cooldown--
		p.Wait = 0
	}
	better := current < p.Best-s.MinDelta
	if s.maximise() {
		better = current > p.Best+s.MinDelta
	}
	if better {
		p.Best, p.Wait = current, 0
		return false
	}
	if p.Cooldown > 0 {
		return false
	}
	p.Wait++
	if p.Wait >= s.Patience && p.LR > s.MinLR {
		p.LR = max(p.LR*s.Factor, s.MinLR)
		p.Cooldown, p.Wait = s.Cooldown, 0
		return true
	}
	return false
}

// monitored returns the metric of e that s watches.
func (s LRSchedule) monitored(e Epoch) float64 {
	switch s.Monitor {
	case "val_accuracy":
		return e.ValAccuracy
	case "loss":
		return e.Loss
	case "accuracy":
		return e.Accuracy
	}
	return e.ValLoss
}
