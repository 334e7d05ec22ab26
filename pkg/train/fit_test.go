package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// fitData makes n deterministic 1x12x12 samples whose class (0..9) decides
// where a bright square sits, so a small model can learn it.
func fitData(n int, seed uint64) *Data {
	r := NewRNG(seed)
	d := &Data{X: make([]float32, n*144), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		c := r.Intn(10)
		d.Labels[i] = uint8(c)
		x := d.X[i*144 : (i+1)*144]
		for j := range x {
			x[j] = 0.1 * r.Float32()
		}
		row, col := (c/5)*6+1, (c%5)*2+1
		for dy := 0; dy < 3; dy++ {
			for dx := 0; dx < 2; dx++ {
				x[(row+dy)*12+col+dx] = 0.9
			}
		}
	}
	return d
}

const fitArch = "c4k3-p2-f-x0.25-d16-d10"

func fitModel(t *testing.T, seed uint64) (*Model, *Adam) {
	t.Helper()
	m, err := BuildModel(fitArch, Shape{1, 12, 12}, NewRNG(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m, NewAdam(m.Params())
}

func fitConfig() Config {
	cfg := DefaultConfig()
	cfg.Epochs = 3
	cfg.BatchSize = 16
	cfg.Threads = 2
	cfg.Seed = 7
	cfg.Augment = Augment{HorizontalFlip: true, HeightShift: ShiftRange{Int: 2}}
	return cfg
}

// cancelAt cancels a context when a given step of a given epoch finishes.
type cancelAt struct {
	NopProgress
	epoch, step, cur int
	cancel           context.CancelFunc
}

func (c *cancelAt) EpochStart(epoch, epochs, steps int) { c.cur = epoch }
func (c *cancelAt) Step(step int, loss, acc float64) {
	if c.cur == c.epoch && step == c.step {
		c.cancel()
	}
}

func sameWeights(t *testing.T, a, b *Model) {
	t.Helper()
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		for j := range pa[i].Data {
			if math.Float32bits(pa[i].Data[j]) != math.Float32bits(pb[i].Data[j]) {
				t.Fatalf("%s[%d]: %v != %v", pa[i].Name, j, pa[i].Data[j], pb[i].Data[j])
			}
		}
	}
}

func sameHistory(t *testing.T, a, b *History) {
	t.Helper()
	if len(a.Epochs) != len(b.Epochs) {
		t.Fatalf("%d epochs != %d", len(a.Epochs), len(b.Epochs))
	}
	for i := range a.Epochs {
		x, y := a.Epochs[i], b.Epochs[i]
		x.Seconds, y.Seconds = 0, 0
		if x != y {
			t.Fatalf("epoch %d: %+v != %+v", i+1, x, y)
		}
	}
}

func TestFitLearnsAndIsReproducible(t *testing.T) {
	train, val := fitData(480, 1), fitData(160, 2)
	cfg := fitConfig()
	run := func() (*Model, *History) {
		m, opt := fitModel(t, 3)
		h, err := Fit(context.Background(), m, opt, train, val, cfg, Callbacks{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m, h
	}
	m1, h1 := run()
	m2, h2 := run()
	sameWeights(t, m1, m2)
	sameHistory(t, h1, h2)
	last := h1.Epochs[len(h1.Epochs)-1]
	if last.ValAccuracy < 0.5 || !(last.Loss < h1.Epochs[0].Loss) {
		t.Fatalf("did not learn: %+v", h1.Epochs)
	}
}

// recipeConfigs are fitConfig with the recipe features on: every piece of
// state they add (the cosine schedule's position, the plateau's counters,
// AdamW, the augmentation stream of the photometric settings) must survive
// a checkpoint.
func recipeConfigs() map[string]Config {
	book := fitConfig()
	book.EarlyStopping = true
	book.Patience = 5
	cosine := book
	cosine.Schedule = LRSchedule{Kind: ScheduleCosine, WarmupEpochs: 1, WarmupStart: 0.1, MinLR: 1e-5}
	cosine.WeightDecay = 0.05
	cosine.LabelSmoothing = 0.1
	cosine.Augment = Augment{HorizontalFlip: true, RotationRange: 8, Zoom: [2]float64{0.9, 1.1}, Brightness: [2]float64{0.8, 1.2},
		Contrast: [2]float64{0.8, 1.2}, Blur: [2]float64{0.1, 0.8}, Noise: 0.02}
	plateau := book
	plateau.Schedule = LRSchedule{Kind: SchedulePlateau, Monitor: "val_loss", Factor: 0.5, Patience: 0, MinDelta: 10, Cooldown: 1, MinLR: 1e-4}
	plateau.WeightDecay = 0.01
	return map[string]Config{"book": book, "cosine+adamw+smoothing+photometric": cosine, "plateau": plateau}
}

func TestFitResumeIsBitIdentical(t *testing.T) {
	for name, cfg := range recipeConfigs() {
		t.Run(name, func(t *testing.T) { testFitResume(t, cfg) })
	}
}

func testFitResume(t *testing.T, cfg Config) {
	train, val := fitData(480, 1), fitData(160, 2)

	ref, opt := fitModel(t, 3)
	href, err := Fit(context.Background(), ref, opt, train, val, cfg, Callbacks{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, at := range []struct{ epoch, step int }{{1, 5}, {2, 30}, {3, 1}} {
		m, opt := fitModel(t, 3)
		ctx, cancel := context.WithCancel(context.Background())
		path := filepath.Join(t.TempDir(), "state.ckpt")
		cb := Callbacks{
			Progress:   &cancelAt{epoch: at.epoch, step: at.step, cancel: cancel},
			Checkpoint: func(c *Checkpoint) error { return SaveCheckpoint(path, c) },
		}
		_, err := Fit(ctx, m, opt, train, val, cfg, cb, nil)
		cancel()
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("interrupt at %+v: err = %v", at, err)
		}
		saved, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		// Resume into a model built from another seed: everything must come
		// from the checkpoint.
		m2, opt2 := fitModel(t, 99)
		h2, err := Fit(context.Background(), m2, opt2, train, val, cfg, Callbacks{}, saved)
		if err != nil {
			t.Fatalf("resume at %+v: %v", at, err)
		}
		sameWeights(t, ref, m2)
		sameHistory(t, href, h2)
	}
}

// TestFitSchedulesMoveTheRate checks that Fit applies the schedules: a
// plateau that can only worsen (min_delta 10) halves the rate after each
// epoch from the first, down to its floor, which the checkpoint records;
// the cosine schedule ends near its floor.
func TestFitSchedulesMoveTheRate(t *testing.T) {
	train, val := fitData(96, 1), fitData(32, 2)
	cfg := recipeConfigs()["plateau"]
	cfg.Epochs = 4
	cfg.Schedule.Cooldown = 0
	m, opt := fitModel(t, 3)
	var last *Checkpoint
	if _, err := Fit(context.Background(), m, opt, train, val, cfg, Callbacks{Checkpoint: func(c *Checkpoint) error { last = c; return nil }}, nil); err != nil {
		t.Fatal(err)
	}
	// Epoch 1 improves on +Inf; epochs 2, 3, 4 each halve: 1e-3 -> 1.25e-4.
	if lr, _ := parseF64bits(last.Extra["plateau_lr"]); lr != 1.25e-4 || opt.LR != 2.5e-4 {
		t.Errorf("plateau: rate %v after training (the last step used %v), want 1.25e-4 (2.5e-4)", lr, opt.LR)
	}
	cfg = recipeConfigs()["cosine+adamw+smoothing+photometric"]
	m, opt = fitModel(t, 3)
	if _, err := Fit(context.Background(), m, opt, train, val, cfg, Callbacks{}, nil); err != nil {
		t.Fatal(err)
	}
	steps := stepsPerEpoch(train.N(), cfg.BatchSize)
	if want := cfg.Schedule.CosineLR(cfg.LR, cfg.Epochs*steps-1, steps, cfg.Epochs*steps); opt.LR != want || want > cfg.LR/10 {
		t.Errorf("cosine: the last step used %v, want %v", opt.LR, want)
	}
}

func TestSplitValidation(t *testing.T) {
	d := fitData(10, 1)
	tr, val, err := SplitValidation(d, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	// floor(10 * 0.75) = 7: the first 7 train, the last 3 validate.
	if tr.N() != 7 || val.N() != 3 || &val.X[0] != &d.X[7*144] || val.Labels[0] != d.Labels[7] || len(tr.X) != 7*144 {
		t.Fatalf("split %d/%d", tr.N(), val.N())
	}
	for _, f := range []float64{0, 1, -0.5, math.NaN(), 0.95} {
		if _, _, err := SplitValidation(d, f); err == nil {
			t.Errorf("split %v of 10 samples accepted", f)
		}
	}
}

// TestConfigJSONKeepsTheBookRecipe pins the recipe JSON of the book's
// configuration: the recipe features are left out when off, so a model
// trained without them records the same recipe, byte for byte, as before
// they existed.
func TestConfigJSONKeepsTheBookRecipe(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Threads = 2
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"epochs":10,"batch_size":32,"lr":0.001,"seed":1,"threads":2,"validate":true,"early_stopping":false,"patience":3,"restore_best":true}`
	if string(b) != want {
		t.Errorf("book recipe JSON\n%s\nwant\n%s", b, want)
	}
	full := recipeConfigs()["cosine+adamw+smoothing+photometric"]
	full.ValidationSplit = 0.1
	b, _ = json.Marshal(full)
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || back != full {
		t.Errorf("%s read back as %+v (%v)", b, back, err)
	}
}

func TestFitRejectsBadConfig(t *testing.T) {
	train := fitData(32, 1)
	cases := []func(*Config){
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.BatchSize = -1 },
		func(c *Config) { c.LR = math.NaN() },
		func(c *Config) { c.Threads = 0 },
		func(c *Config) { c.Validate = false; c.EarlyStopping = true },
		func(c *Config) { c.Augment.RotationRange = -5 },
		func(c *Config) { c.ValidationSplit = 1 },
		func(c *Config) { c.ValidationSplit, c.ValidateOnTest = 0.1, true },
		func(c *Config) { c.Validate, c.EarlyStopping, c.ValidateOnTest = false, false, true },
		func(c *Config) { c.WeightDecay = -0.1 },
		func(c *Config) { c.WeightDecay = 1000 },
		func(c *Config) { c.LabelSmoothing = 1 },
		func(c *Config) { c.Schedule = LRSchedule{Kind: ScheduleCosine, WarmupEpochs: 3, WarmupStart: 0.5} },
		func(c *Config) { c.Schedule = LRSchedule{Kind: "step"} },
		func(c *Config) { c.Schedule = PlateauSchedule(); c.Schedule.Factor = 1.5 },
		func(c *Config) { c.Schedule = PlateauSchedule(); c.Validate, c.EarlyStopping = false, false },
		func(c *Config) { c.Schedule = CosineSchedule(1); c.Schedule.Monitor = "loss" },
		func(c *Config) { c.Augment.Blur = [2]float64{0, 1} },
	}
	for i, mod := range cases {
		cfg := fitConfig()
		mod(&cfg)
		m, opt := fitModel(t, 3)
		if _, err := Fit(context.Background(), m, opt, train, train, cfg, Callbacks{}, nil); err == nil {
			t.Errorf("case %d: bad config %+v accepted", i, cfg)
		}
	}
}

func TestFitResumeRejectsOtherConfig(t *testing.T) {
	train := fitData(64, 1)
	cfg := fitConfig()
	cfg.Epochs = 1
	m, opt := fitModel(t, 3)
	var saved *Checkpoint
	if _, err := Fit(context.Background(), m, opt, train, train, cfg, Callbacks{Checkpoint: func(c *Checkpoint) error { saved = c; return nil }}, nil); err != nil {
		t.Fatal(err)
	}
	cfg.BatchSize = 8
	m2, opt2 := fitModel(t, 3)
	if _, err := Fit(context.Background(), m2, opt2, train, train, cfg, Callbacks{}, saved); err == nil {
		t.Fatal("resume with another batch size accepted")
	}
}

// TestFitResumeRefusesOutOfRangeFields writes checkpoints whose fields lie
// out of range, each with a valid checksum (SaveCheckpoint computes it), as
// someone editing a checkpoint would: resuming from each must fail with an
// error naming the field, never panic (a negative step_in_epoch used to
// index the permutation out of range).
func TestFitResumeRefusesOutOfRangeFields(t *testing.T) {
	train, val := fitData(96, 1), fitData(32, 2)
	cfg := fitConfig()
	cfg.Epochs = 2
	m, opt := fitModel(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var saved *Checkpoint
	cb := Callbacks{
		Progress:   &cancelAt{epoch: 2, step: 3, cancel: cancel},
		Checkpoint: func(c *Checkpoint) error { saved = c; return nil },
	}
	if _, err := Fit(ctx, m, opt, train, val, cfg, cb, nil); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupt: %v", err)
	}
	cancel()
	path := filepath.Join(t.TempDir(), "state.ckpt")
	if err := SaveCheckpoint(path, saved); err != nil {
		t.Fatal(err)
	}
	good, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(c *Checkpoint)
		msg  string
	}{
		{"negative step_in_epoch", func(c *Checkpoint) { c.Extra["step_in_epoch"] = "-3" }, `"step_in_epoch"`},
		{"step_in_epoch past the epoch", func(c *Checkpoint) { c.Extra["step_in_epoch"] = "6" }, `"step_in_epoch"`},
		{"huge step_in_epoch", func(c *Checkpoint) { c.Extra["step_in_epoch"] = "9223372036854775807" }, `"step_in_epoch"`},
		{"seen disagrees", func(c *Checkpoint) { c.Extra["seen"] = "-1" }, `"seen"`},
		{"negative epoch", func(c *Checkpoint) { c.Epoch = -1 }, `"epoch"`},
		{"huge epoch", func(c *Checkpoint) { c.Epoch = 1 << 40 }, `"epoch"`},
		{"epoch beyond the history", func(c *Checkpoint) { c.Epoch = 2 }, "history"},
		{"negative Adam step", func(c *Checkpoint) { c.Step = -5 }, `"step"`},
		{"Adam step disagrees", func(c *Checkpoint) { c.Step++ }, `"step"`},
		{"NaN loss sum", func(c *Checkpoint) { c.Extra["loss_sum"] = f64bits(math.NaN()) }, `"loss_sum"`},
		{"accuracy sum past the samples", func(c *Checkpoint) { c.Extra["acc_sum"] = f64bits(1e9) }, `"acc_sum"`},
		{"negative seconds", func(c *Checkpoint) { c.Extra["epoch_seconds"] = f64bits(-1) }, `"epoch_seconds"`},
		{"NaN best loss", func(c *Checkpoint) { c.Extra["best_val_loss"] = f64bits(math.NaN()) }, `"best_val_loss"`},
		{"negative wait", func(c *Checkpoint) { c.Extra["wait"] = "-2" }, `"wait"`},
		{"stopped without early stopping", func(c *Checkpoint) { c.Extra["stopped"] = "true" }, `"stopped"`},
		{"garbled number", func(c *Checkpoint) { c.Extra["wait"] = "two" }, `"wait"`},
		{"history renumbered", func(c *Checkpoint) {
			c.Extra["history"] = `{"format":"fmkit-history","version":1,"epochs":[{"epoch":7,"loss":1,"accuracy":0.5}]}`
		}, `"history"`},
		{"other sample count", func(c *Checkpoint) { c.Extra["train_samples"] = "95" }, "95 training samples, this run has 96"},
		{"other data", func(c *Checkpoint) { c.Extra["train_sha256"] = "00" + c.Extra["train_sha256"][2:] }, "other training data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			c.edit(bad)
			p := filepath.Join(t.TempDir(), "bad.ckpt")
			if err := SaveCheckpoint(p, bad); err != nil {
				t.Fatal(err)
			}
			// The reader refuses what is wrong in any checkpoint (a negative
			// count); Fit what is wrong for this run.
			if bad, err = LoadCheckpoint(p); err == nil {
				m2, opt2 := fitModel(t, 3)
				_, err = Fit(context.Background(), m2, opt2, train, val, cfg, Callbacks{}, bad)
			}
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %v, want an error naming %s", err, c.msg)
			}
		})
	}
	// The unedited checkpoint resumes.
	m3, opt3 := fitModel(t, 3)
	if _, err := Fit(context.Background(), m3, opt3, train, val, cfg, Callbacks{}, good); err != nil {
		t.Fatalf("the unedited checkpoint: %v", err)
	}
}
