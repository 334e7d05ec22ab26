package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Keras' fit() defaults and the book's recipe.
const (
	// DefaultBatchSize is Keras' fit() batch_size default (and the book's).
	DefaultBatchSize = 32
	// DefaultEpochs is the book's epoch count for the Fashion-MNIST CNN.
	DefaultEpochs = 10
	// DefaultPatience is the early-stopping patience used when none is given.
	DefaultPatience = 3
)

// Config is a training run's configuration. The zero value is not valid;
// start from DefaultConfig.
type Config struct {
	Epochs    int     `json:"epochs"`
	BatchSize int     `json:"batch_size"`
	LR        float64 `json:"lr"`
	Seed      uint64  `json:"seed"`
	// Threads is the number of goroutines the model uses; results are
	// bit-reproducible for a fixed Threads.
	Threads int `json:"threads"`
	// Validate evaluates the validation set after each epoch.
	Validate bool `json:"validate"`
	// ValidationSplit, when not zero, records that the validation set is
	// the last ValidationSplit of the training samples given, held out by
	// SplitValidation before any shuffling (Keras' fit(validation_split=)).
	// Fit does not split: it records the fact, in checkpoints and recipes.
	ValidationSplit float64 `json:"validation_split,omitempty"`
	// ValidateOnTest records that the validation set is the test set, the
	// book's choice (fit(..., validation_data=(X_test, y_test))): the val_
	// metrics are then test metrics, and early stopping and RestoreBest
	// select on the test set. Like ValidationSplit, only a record.
	ValidateOnTest bool `json:"validate_on_test,omitempty"`
	// EarlyStopping stops when val_loss has not improved for Patience
	// epochs (Keras' EarlyStopping(monitor="val_loss", min_delta=0)).
	EarlyStopping bool `json:"early_stopping"`
	Patience      int  `json:"patience"`
	// RestoreBest restores the weights of the epoch with the lowest
	// val_loss when training ends (Keras' restore_best_weights; like
	// Keras 3 we restore at the end of training whether or not it
	// stopped early).
	RestoreBest bool `json:"restore_best"`
	// Augment is applied on the fly to every training batch. In JSON it is
	// its specification string (Augment.String), left out when off.
	Augment Augment `json:"augment,omitzero"`
	// Schedule moves the learning rate (the zero value keeps LR).
	Schedule LRSchedule `json:"lr_schedule,omitzero"`
	// WeightDecay, when not zero, makes Adam AdamW with this decoupled
	// weight decay (torch.optim.AdamW's weight_decay; see Adam).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// LabelSmoothing is the cross-entropy's label smoothing (see
	// CrossEntropy); the training loss and val_loss are the smoothed loss,
	// as Keras reports its compiled loss.
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
}

// DefaultConfig returns the book's recipe: 10 epochs, batch 32, Adam with
// Keras' defaults, validation after each epoch, seed 1.
func DefaultConfig() Config {
	return Config{Epochs: DefaultEpochs, BatchSize: DefaultBatchSize, LR: DefaultLR, Seed: 1,
		Threads: 1, Validate: true, Patience: DefaultPatience, RestoreBest: true}
}

// Check validates the configuration and names the field at fault.
func (c Config) Check() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("epochs must be at least 1, got %d", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("batch size must be at least 1, got %d", c.BatchSize)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("learning rate must be a positive number, got %v", c.LR)
	case c.Threads < 1:
		return fmt.Errorf("threads must be at least 1, got %d", c.Threads)
	case c.EarlyStopping && c.Patience < 1:
		return fmt.Errorf("patience must be at least 1, got %d", c.Patience)
	case c.EarlyStopping && !c.Validate:
		return errors.New("early stopping monitors val_loss and needs validation data")
	case math.IsNaN(c.ValidationSplit) || c.ValidationSplit < 0 || c.ValidationSplit >= 1:
		return fmt.Errorf("validation split must be in (0, 1), got %v", c.ValidationSplit)
	case c.ValidationSplit != 0 && c.ValidateOnTest:
		return errors.New("the validation set is either a split of the training samples or the test set, not both")
	case (c.ValidationSplit != 0 || c.ValidateOnTest) && !c.Validate:
		return errors.New("a validation set is named but validation is off")
	case math.IsNaN(c.WeightDecay) || math.IsInf(c.WeightDecay, 0) || c.WeightDecay < 0 || c.LR*c.WeightDecay >= 1:
		return fmt.Errorf("weight decay must be >= 0 with lr*weight_decay < 1, got %v", c.WeightDecay)
	case math.IsNaN(c.LabelSmoothing) || c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return fmt.Errorf("label smoothing must be in [0, 1), got %v", c.LabelSmoothing)
	case c.Schedule.Kind == SchedulePlateau && strings.HasPrefix(c.Schedule.Monitor, "val_") && !c.Validate:
		return fmt.Errorf("the plateau schedule monitors %s and needs validation data", c.Schedule.Monitor)
	}
	if err := c.Schedule.Check(c.Epochs); err != nil {
		return err
	}
	return c.Augment.Validate()
}

// SplitValidation holds out the last fraction f of d's samples as Keras'
// fit(validation_split=f) does: "The validation data is selected from the
// last samples in the x and y data provided, before shuffling" (Keras
// Model.fit documentation). The split point is floor(n*(1-f)), as in
// tf.keras' train_validation_split; train gets the samples before it, val
// the rest, so val is never trained on. Both share d's memory. f must be in
// (0, 1) and leave at least one sample on each side.
func SplitValidation(d *Data, f float64) (train, val *Data, err error) {
	n := d.N()
	if !(f > 0 && f < 1) {
		return nil, nil, fmt.Errorf("validation split must be in (0, 1), got %v", f)
	}
	at := int(math.Floor(float64(n) * (1 - f)))
	if at <= 0 || at >= n {
		return nil, nil, fmt.Errorf("%d samples are too few to hold out a validation split of %v (it leaves %d to train on and %d to validate on)", n, f, at, n-at)
	}
	in := len(d.X) / max(n, 1)
	train = &Data{X: d.X[: at*in : at*in], Labels: d.Labels[:at:at]} // capped: an append cannot reach val
	val = &Data{X: d.X[at*in:], Labels: d.Labels[at:]}
	return train, val, nil
}

// Data is a labelled set of samples: X holds len(Labels) samples of the
// model's input shape, back to back (NCHW), already scaled.
type Data struct {
	X      []float32
	Labels []uint8
}

// N returns the number of samples.
func (d *Data) N() int { return len(d.Labels) }

// Callbacks are the hooks Fit calls; every field is optional.
type Callbacks struct {
	// Progress reports to a person.
	Progress Progress
	// Checkpoint saves the training state; Fit calls it after every epoch
	// and when ctx is cancelled (after the step under way). An error stops
	// the run.
	Checkpoint func(*Checkpoint) error
	// EpochEnd is called after each epoch with the history so far (to
	// write the history files or plots). An error stops the run.
	EpochEnd func(*History) error
}

// ErrInterrupted is returned by Fit when its context was cancelled; the
// state was saved through Callbacks.Checkpoint first, if set.
var ErrInterrupted = errors.New("training interrupted")

// Names of the random streams saved in checkpoints.
const (
	rngShuffle = "shuffle" // state at the start of the current epoch
	rngAugment = "augment"
	rngDropout = "dropout." // + layer name
)

// stepsPerEpoch returns the optimizer steps of an epoch over n samples.
func stepsPerEpoch(n, batch int) int { return (n + batch - 1) / batch }

// loopState is everything beyond the model and optimiser that an
// uninterrupted run carries from one step to the next.
type loopState struct {
	epoch       int // completed epochs
	step        int // completed steps in the current epoch
	shuffle     [4]uint64
	augment     *RNG
	lossSum     float64 // sum over the epoch's samples of the batch-mean loss times batch size
	accSum      float64
	seen        int
	epochSecs   float64 // time spent in the current epoch before an interruption
	history     History
	bestVal     float64
	wait        int
	best        []NamedTensor // weights of the best epoch (early stopping)
	stopped     bool
	interrupted bool
	trainN      int    // training samples, recorded in checkpoints
	trainSum    string // dataFingerprint of the training data, recorded in checkpoints
	plateau     Plateau
}

// lr returns the learning rate of the next optimizer step (step t of the
// run, 0-based).
func (st *loopState) lr(cfg Config, t, steps int) float64 {
	switch cfg.Schedule.Kind {
	case ScheduleCosine:
		return cfg.Schedule.CosineLR(cfg.LR, t, cfg.Schedule.WarmupEpochs*steps, cfg.Epochs*steps)
	case SchedulePlateau:
		return st.plateau.LR
	}
	return cfg.LR
}

// Fit trains m with opt on train for cfg.Epochs epochs, as Keras' fit()
// does: the samples are shuffled each epoch, split into batches of
// cfg.BatchSize (the last one may be smaller), augmented on the fly, and the
// reported loss and accuracy are running means over the epoch's samples;
// val (when cfg.Validate) is evaluated at each epoch's end. resume, if not
// nil, is a checkpoint written by an earlier Fit with the same model,
// configuration and data: training continues exactly where it stopped, and
// ends with the same weights, bit for bit, as an uninterrupted run.
//
// The learning rate of each step follows cfg.Schedule (a cosine schedule
// per step, a plateau schedule per epoch, after the epoch's metrics);
// cfg.WeightDecay makes opt AdamW and cfg.LabelSmoothing smooths the loss.
// Their state (the plateau's counters and rate; the cosine schedule needs
// only the step count) is in every checkpoint.
//
// The random streams are derived from cfg.Seed only (model initialisation
// is the caller's, see BuildModel), so the same seed, data and
// cfg.Threads give the same history and the same weights.
func Fit(ctx context.Context, m *Model, opt *Adam, train, val *Data, cfg Config, cb Callbacks, resume *Checkpoint) (*History, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	in := m.InputShape.Size()
	n := train.N()
	if n == 0 {
		return nil, errors.New("no training samples")
	}
	if len(train.X) != n*in {
		return nil, fmt.Errorf("training data holds %d values, %d samples of %v need %d", len(train.X), n, m.InputShape, n*in)
	}
	if cfg.Validate {
		if val == nil || val.N() == 0 {
			return nil, errors.New("validation is on but there is no validation data")
		}
		if len(val.X) != val.N()*in {
			return nil, fmt.Errorf("validation data holds %d values, %d samples of %v need %d", len(val.X), val.N(), m.InputShape, val.N()*in)
		}
	}
	if cb.Progress == nil {
		cb.Progress = NopProgress{}
	}
	m.SetThreads(cfg.Threads)
	opt.LR = cfg.LR
	opt.WeightDecay = cfg.WeightDecay

	st := &loopState{bestVal: math.Inf(1), trainN: n, trainSum: dataFingerprint(train), plateau: cfg.Schedule.NewPlateau(cfg.LR)}
	shuffleRNG := NewRNG(cfg.Seed ^ 0x5348554646_4c45) // "SHUFFLE"
	st.shuffle = shuffleRNG.State()
	st.augment = NewRNG(cfg.Seed ^ 0x4155474d_454e54) // "AUGMENT"
	if resume != nil {
		if err := st.restore(resume, m, opt, cfg, train); err != nil {
			return nil, err
		}
	}

	bs := min(cfg.BatchSize, n)
	steps := stepsPerEpoch(n, cfg.BatchSize)
	perm := make([]int, n)
	xb := make([]float32, bs*in)
	xa := make([]float32, bs*in)
	yb := make([]uint8, bs)
	shape := m.InputShape
	c, h, w := 1, 1, in
	if len(shape) == 3 {
		c, h, w = shape[0], shape[1], shape[2]
	} else if cfg.Augment.Enabled() {
		return nil, fmt.Errorf("augmentation needs image inputs (C,H,W), the model takes %v", shape)
	}

	for st.epoch < cfg.Epochs && !st.stopped {
		epoch := st.epoch + 1
		shuffleRNG.SetState(st.shuffle)
		shuffleRNG.Perm(perm)
		cb.Progress.EpochStart(epoch, cfg.Epochs, steps)
		start := time.Now()
		for st.step < steps {
			if ctx.Err() != nil {
				st.epochSecs += time.Since(start).Seconds()
				st.interrupted = true
				if cb.Checkpoint != nil {
					if err := cb.Checkpoint(st.checkpoint(m, opt, cfg)); err != nil {
						return &st.history, fmt.Errorf("saving the checkpoint after the interruption: %w", err)
					}
				}
				return &st.history, ErrInterrupted
			}
			lo := st.step * cfg.BatchSize
			hi := min(lo+cfg.BatchSize, n)
			k := hi - lo
			for i, idx := range perm[lo:hi] {
				copy(xb[i*in:(i+1)*in], train.X[idx*in:(idx+1)*in])
				yb[i] = train.Labels[idx]
			}
			x := xb[:k*in]
			if cfg.Augment.Enabled() {
				cfg.Augment.Apply(xa[:k*in], x, k, c, h, w, st.augment)
				x = xa[:k*in]
			}
			opt.LR = st.lr(cfg, opt.T, steps)
			loss, acc := m.TrainStepSmoothed(opt, cfg.LabelSmoothing, x, yb[:k], k)
			st.lossSum += loss * float64(k)
			st.accSum += acc * float64(k)
			st.seen += k
			st.step++
			cb.Progress.Step(st.step, st.lossSum/float64(st.seen), st.accSum/float64(st.seen))
		}
		e := Epoch{Epoch: epoch, Loss: st.lossSum / float64(st.seen), Accuracy: st.accSum / float64(st.seen),
			ValLoss: math.NaN(), ValAccuracy: math.NaN()}
		if cfg.Validate {
			e.ValLoss, e.ValAccuracy = m.EvaluateSmoothed(cfg.LabelSmoothing, val.X, val.Labels, val.N())
		}
		e.Seconds = st.epochSecs + time.Since(start).Seconds()
		if math.IsNaN(e.Loss) || math.IsInf(e.Loss, 0) {
			return &st.history, fmt.Errorf("epoch %d: the training loss is %v: training diverged (try a lower --lr)", epoch, e.Loss)
		}
		st.endEpoch(e, m, cfg)
		st.shuffle = shuffleRNG.State() // where the next epoch's permutation starts
		cb.Progress.EpochEnd(e)
		if cb.EpochEnd != nil {
			if err := cb.EpochEnd(&st.history); err != nil {
				return &st.history, err
			}
		}
		if cb.Checkpoint != nil {
			if err := cb.Checkpoint(st.checkpoint(m, opt, cfg)); err != nil {
				return &st.history, fmt.Errorf("saving the checkpoint after epoch %d: %w", epoch, err)
			}
		}
	}
	if cfg.RestoreBest && st.best != nil {
		if err := setWeights(m, st.best, ""); err != nil {
			return &st.history, err
		}
	}
	return &st.history, nil
}

// endEpoch records e and updates the early-stopping state.
func (st *loopState) endEpoch(e Epoch, m *Model, cfg Config) {
	st.history.Add(e)
	st.epoch++
	st.step, st.lossSum, st.accSum, st.seen, st.epochSecs = 0, 0, 0, 0, 0
	if cfg.Schedule.Kind == SchedulePlateau {
		cfg.Schedule.Update(&st.plateau, cfg.Schedule.monitored(e))
	}
	if !cfg.Validate || (!cfg.EarlyStopping && !cfg.RestoreBest) {
		return
	}
	if e.ValLoss < st.bestVal {
		st.bestVal, st.wait = e.ValLoss, 0
		if cfg.RestoreBest {
			st.best = weights(m, "")
		}
		return
	}
	st.wait++
	if cfg.EarlyStopping && st.wait >= cfg.Patience {
		st.stopped = true
	}
}

// weights copies m's parameters into named tensors, prefixed.
func weights(m *Model, prefix string) []NamedTensor {
	var out []NamedTensor
	for _, p := range m.Params() {
		out = append(out, NamedTensor{Name: prefix + p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), p.Data...)})
	}
	return out
}

// setWeights copies the tensors called prefix+name into m's parameters.
func setWeights(m *Model, ts []NamedTensor, prefix string) error {
	byName := map[string]*NamedTensor{}
	for i := range ts {
		byName[ts[i].Name] = &ts[i]
	}
	for _, p := range m.Params() {
		t := byName[prefix+p.Name]
		if t == nil {
			return fmt.Errorf("checkpoint has no tensor %q", prefix+p.Name)
		}
		if len(t.Data) != len(p.Data) || !Shape(t.Shape).Equal(Shape(p.Shape)) {
			return fmt.Errorf("checkpoint tensor %q has shape %v, the model wants %v", prefix+p.Name, Shape(t.Shape), Shape(p.Shape))
		}
		copy(p.Data, t.Data)
	}
	return nil
}

// WeightsCheckpoint returns a checkpoint holding only m's weights, under
// their parameter names.
func WeightsCheckpoint(m *Model) *Checkpoint {
	return &Checkpoint{Tensors: weights(m, "")}
}

// LoadWeights sets m's parameters from the tensors of c with the same
// names, checking every shape.
func LoadWeights(m *Model, c *Checkpoint) error { return setWeights(m, c.Tensors, "") }

// checkpoint captures the full training state.
func (st *loopState) checkpoint(m *Model, opt *Adam, cfg Config) *Checkpoint {
	cfgJSON, _ := json.Marshal(cfg) // a Config always marshals
	hist, _ := json.Marshal(&st.history)
	c := &Checkpoint{
		Epoch:  st.epoch,
		Step:   int64(opt.T),
		RNG:    map[string][4]uint64{rngShuffle: st.shuffle, rngAugment: st.augment.State()},
		Config: cfgJSON,
		Extra: map[string]string{
			"train_samples": strconv.Itoa(st.trainN),
			"train_sha256":  st.trainSum,
			"step_in_epoch": strconv.Itoa(st.step),
			"loss_sum":      f64bits(st.lossSum),
			"acc_sum":       f64bits(st.accSum),
			"seen":          strconv.Itoa(st.seen),
			"epoch_seconds": f64bits(st.epochSecs),
			"best_val_loss": f64bits(st.bestVal),
			"wait":          strconv.Itoa(st.wait),
			"stopped":       strconv.FormatBool(st.stopped),
			"history":       string(hist),
		},
		Tensors: weights(m, ""),
	}
	if cfg.Schedule.Kind == SchedulePlateau {
		c.Extra["plateau_lr"] = f64bits(st.plateau.LR)
		c.Extra["plateau_best"] = f64bits(st.plateau.Best)
		c.Extra["plateau_wait"] = strconv.Itoa(st.plateau.Wait)
		c.Extra["plateau_cooldown"] = strconv.Itoa(st.plateau.Cooldown)
	}
	for _, l := range m.Layers {
		if d, ok := l.(*Dropout); ok && d.RNG != nil {
			c.RNG[rngDropout+d.Name()] = d.RNG.State()
		}
	}
	for i, p := range m.Params() {
		if !p.Trainable() {
			continue
		}
		c.Tensors = append(c.Tensors,
			NamedTensor{Name: "adam.m." + p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), opt.M[i]...)},
			NamedTensor{Name: "adam.v." + p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), opt.V[i]...)})
	}
	if st.best != nil {
		for _, t := range st.best {
			c.Tensors = append(c.Tensors, NamedTensor{Name: "best." + t.Name, Shape: t.Shape, Data: t.Data})
		}
	}
	return c
}

// restore loads a checkpoint written by checkpoint, after checking that it
// belongs to this configuration and training data, and that every field is
// in range and consistent with the others: a checkpoint's checksum proves
// only that the file is whole, not that its writer was Fit, so a field out
// of range is an error here, never an index out of range later.
func (st *loopState) restore(c *Checkpoint, m *Model, opt *Adam, cfg Config, train *Data) error {
	var saved Config
	if err := json.Unmarshal(c.Config, &saved); err != nil {
		return fmt.Errorf("checkpoint configuration: %w", err)
	}
	if saved.Schedule.Kind == ScheduleCosine && saved.Epochs != cfg.Epochs {
		return fmt.Errorf("checkpoint was written for %d epochs and its cosine schedule depends on that: resume with --epochs %d", saved.Epochs, saved.Epochs)
	}
	saved.Epochs, cfg.Epochs = 0, 0 // more epochs may be asked of a resumed run
	saved.Threads, cfg.Threads = 0, 0
	if saved != cfg {
		return fmt.Errorf("checkpoint was written with a different configuration (%s); resume with the same flags", c.Config)
	}
	if err := setWeights(m, c.Tensors, ""); err != nil {
		return err
	}
	for i, p := range m.Params() {
		if !p.Trainable() {
			continue
		}
		for _, mv := range []struct {
			name string
			dst  []float32
		}{{"adam.m.", opt.M[i]}, {"adam.v.", opt.V[i]}} {
			t := c.Tensor(mv.name + p.Name)
			if t == nil || len(t.Data) != len(mv.dst) {
				return fmt.Errorf("checkpoint lacks the optimiser state %q", mv.name+p.Name)
			}
			copy(mv.dst, t.Data)
		}
	}
	// c.Step is checked against the epochs and steps done in checkRestored.
	opt.T = int(c.Step)
	var ok bool
	if st.shuffle, ok = c.RNG[rngShuffle]; !ok {
		return errors.New("checkpoint lacks the shuffle random state")
	}
	s, ok := c.RNG[rngAugment]
	if !ok {
		return errors.New("checkpoint lacks the augmentation random state")
	}
	st.augment.SetState(s)
	for _, l := range m.Layers {
		if d, ok := l.(*Dropout); ok && d.RNG != nil {
			s, ok := c.RNG[rngDropout+d.Name()]
			if !ok {
				return fmt.Errorf("checkpoint lacks the random state of %s", d.Name())
			}
			d.RNG.SetState(s)
		}
	}
	if c.Epoch < 0 || c.Epoch > maxEpochs {
		return fmt.Errorf("checkpoint field \"epoch\": %d is out of range 0..%d", c.Epoch, maxEpochs)
	}
	st.epoch = c.Epoch
	var err error
	get := func(key string) string { return c.Extra[key] }
	parse := []struct {
		key string
		fn  func(string) error
	}{
		{"step_in_epoch", func(v string) (e error) { st.step, e = strconv.Atoi(v); return }},
		{"seen", func(v string) (e error) { st.seen, e = strconv.Atoi(v); return }},
		{"wait", func(v string) (e error) { st.wait, e = strconv.Atoi(v); return }},
		{"stopped", func(v string) (e error) { st.stopped, e = strconv.ParseBool(v); return }},
		{"loss_sum", func(v string) (e error) { st.lossSum, e = parseF64bits(v); return }},
		{"acc_sum", func(v string) (e error) { st.accSum, e = parseF64bits(v); return }},
		{"epoch_seconds", func(v string) (e error) { st.epochSecs, e = parseF64bits(v); return }},
		{"best_val_loss", func(v string) (e error) { st.bestVal, e = parseF64bits(v); return }},
		{"history", func(v string) error { return json.Unmarshal([]byte(v), &st.history) }},
	}
	if cfg.Schedule.Kind == SchedulePlateau {
		parse = append(parse, []struct {
			key string
			fn  func(string) error
		}{
			{"plateau_lr", func(v string) (e error) { st.plateau.LR, e = parseF64bits(v); return }},
			{"plateau_best", func(v string) (e error) { st.plateau.Best, e = parseF64bits(v); return }},
			{"plateau_wait", func(v string) (e error) { st.plateau.Wait, e = strconv.Atoi(v); return }},
			{"plateau_cooldown", func(v string) (e error) { st.plateau.Cooldown, e = strconv.Atoi(v); return }},
		}...)
	}
	for _, p := range parse {
		if err = p.fn(get(p.key)); err != nil {
			return fmt.Errorf("checkpoint field %q: %w", p.key, err)
		}
	}
	if err := st.checkRestored(c, cfg, train); err != nil {
		return err
	}
	if c.Tensor("best."+m.Params()[0].Name) != nil {
		st.best = weights(m, "")
		for i := range st.best {
			t := c.Tensor("best." + st.best[i].Name)
			if t == nil || len(t.Data) != len(st.best[i].Data) {
				return fmt.Errorf("checkpoint lacks the best weights of %q", st.best[i].Name)
			}
			copy(st.best[i].Data, t.Data)
		}
	}
	return nil
}

// maxEpochs bounds the completed epochs a checkpoint may claim: far more
// than any run, small enough that epoch*steps cannot overflow.
const maxEpochs = 1 << 20

// checkRestored checks the loop state restored from c against the run
// about to continue: the data must be the data c was made with, and every
// counter must lie in its range and agree with the others, as a checkpoint
// written by Fit always does.
func (st *loopState) checkRestored(c *Checkpoint, cfg Config, train *Data) error {
	n := train.N()
	if v, ok := c.Extra["train_samples"]; ok {
		if k, err := strconv.Atoi(v); err != nil || k != n {
			return fmt.Errorf("checkpoint was made with %s training samples, this run has %d; resume with the same data", v, n)
		}
	}
	if v, ok := c.Extra["train_sha256"]; ok && v != st.trainSum {
		return fmt.Errorf("checkpoint was made with other training data (fingerprint %.16s, this run's %.16s); resume with the same data", v, st.trainSum)
	}
	steps := stepsPerEpoch(n, cfg.BatchSize)
	field := func(key string, format string, args ...any) error {
		return fmt.Errorf("checkpoint field %q: %s", key, fmt.Sprintf(format, args...))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case len(st.history.Epochs) != st.epoch:
		return fmt.Errorf("checkpoint is inconsistent: %d epochs done but %d in its history", st.epoch, len(st.history.Epochs))
	case st.step < 0 || st.step >= steps:
		return field("step_in_epoch", "%d is out of range 0..%d (%d steps per epoch)", st.step, steps-1, steps)
	case st.seen != st.step*cfg.BatchSize:
		return field("seen", "%d samples, but %d steps of %d make %d", st.seen, st.step, cfg.BatchSize, st.step*cfg.BatchSize)
	case c.Step != int64(st.epoch)*int64(steps)+int64(st.step):
		return field("step", "%d optimizer steps, but %d epochs of %d steps and %d more make %d", c.Step, st.epoch, steps, st.step, int64(st.epoch)*int64(steps)+int64(st.step))
	case !finite(st.lossSum) || st.lossSum < 0:
		return field("loss_sum", "%v is not a finite sum of losses", st.lossSum)
	case !finite(st.accSum) || st.accSum < 0 || st.accSum > float64(st.seen):
		return field("acc_sum", "%v is not a sum of accuracies over %d samples", st.accSum, st.seen)
	case !finite(st.epochSecs) || st.epochSecs < 0:
		return field("epoch_seconds", "%v is not a duration", st.epochSecs)
	case math.IsNaN(st.bestVal) || math.IsInf(st.bestVal, -1):
		return field("best_val_loss", "%v is not a loss", st.bestVal)
	case st.wait < 0 || st.wait > st.epoch:
		return field("wait", "%d epochs without improvement, out of range 0..%d", st.wait, st.epoch)
	case st.stopped && !cfg.EarlyStopping:
		return field("stopped", "true, but early stopping is off")
	case cfg.Schedule.Kind == SchedulePlateau && (!finite(st.plateau.LR) || st.plateau.LR <= 0 || st.plateau.LR > cfg.LR):
		return field("plateau_lr", "%v is not a learning rate in (0, %v]", st.plateau.LR, cfg.LR)
	case cfg.Schedule.Kind == SchedulePlateau && math.IsNaN(st.plateau.Best):
		return field("plateau_best", "NaN is not a monitored value")
	case cfg.Schedule.Kind == SchedulePlateau && (st.plateau.Wait < 0 || st.plateau.Wait > st.epoch):
		return field("plateau_wait", "%d epochs without improvement, out of range 0..%d", st.plateau.Wait, st.epoch)
	case cfg.Schedule.Kind == SchedulePlateau && (st.plateau.Cooldown < 0 || st.plateau.Cooldown > cfg.Schedule.Cooldown):
		return field("plateau_cooldown", "%d epochs, out of range 0..%d", st.plateau.Cooldown, cfg.Schedule.Cooldown)
	}
	for i, e := range st.history.Epochs {
		if e.Epoch != i+1 {
			return field("history", "entry %d is epoch %d, want %d", i, e.Epoch, i+1)
		}
	}
	return nil
}

// dataFingerprint returns the hex SHA-256 of d's labels and of its samples'
// float32 bits (little-endian), which a checkpoint records so that a resumed
// run can tell it is given the same data. It costs about 0.2 s for the
// 60,000 training images, once per run.
func dataFingerprint(d *Data) string {
	h := sha256.New()
	var nb [8]byte
	binary.LittleEndian.PutUint64(nb[:], uint64(d.N()))
	h.Write(nb[:])
	h.Write(d.Labels)
	buf := make([]byte, 0, 4<<10)
	for i, v := range d.X {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) || i == len(d.X)-1 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func f64bits(v float64) string { return strconv.FormatUint(math.Float64bits(v), 16) }

func parseF64bits(s string) (float64, error) {
	u, err := strconv.ParseUint(s, 16, 64)
	return math.Float64frombits(u), err
}
