package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz/curves"
)

var errInterrupted = errors.New("interrupted")

// trainOptions are fmtrain's training flags.
type trainOptions struct {
	data        string
	arch        string
	trainSize   int
	augment     string
	dropout     float64
	out         string
	checkpoint  string
	resume      bool
	quiet       bool
	cfg         train.Config
	earlyStop   bool
	patience    int
	restoreBest bool
	export      exportOptions
	bundle      string
	schedule    string
	sched       train.LRSchedule       // the schedule's flags, whichever schedule
	changed     func(name string) bool // given on the command line
	recipe      string
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := trainOptions{cfg: train.DefaultConfig()}
	fs := newFlags("fmtrain", stdout, usageText())
	fs.StringVar(&o.data, "data", "", "the Fashion-MNIST directory `DIR` (default: $FMNIST_DATA, /usr/share/datasets/fashion-mnist, the user cache)")
	fs.IntVar(&o.cfg.Epochs, "epochs", o.cfg.Epochs, "number of epochs")
	fs.IntVar(&o.cfg.BatchSize, "batch-size", o.cfg.BatchSize, "batch size")
	fs.Float64Var(&o.cfg.LR, "lr", o.cfg.LR, "Adam learning rate")
	fs.Uint64Var(&o.cfg.Seed, "seed", o.cfg.Seed, "random seed (weights, shuffling, augmentation, dropout)")
	fs.StringVar(&o.arch, "arch", "book", "the architecture `SPEC`: \"book\", \"small\" or layers such as c32k3-p2-c64k3-f-d32-d10 (fmtrain help arch)")
	fs.IntVar(&o.trainSize, "train-size", 0, "train on the first N training samples only (0: all 60,000)")
	fs.StringVar(&o.augment, "augment", "", "the augmentation `SPEC`, e.g. \"hflip,hshift=3\" (hflip, vflip, rotate=DEG, wshift=R, hshift=R; R as Keras reads it: 3 whole pixels -2..2, 3.0 or 2.5 real pixels, 0.1 a fraction; zoom=Z or LO:HI, brightness=LO:HI, contrast=F or LO:HI, blur=SIGMA or LO:HI, noise=STD)")
	fs.Float64Var(&o.dropout, "dropout", 0, "dropout rate before the last dense layer (0: none)")
	fs.Float64Var(&o.cfg.ValidationSplit, "validation-split", 0, "hold out the last fraction `F` of the training samples, before any shuffling, as validation data (Keras' validation_split); they are never trained on, and the test files are not read until training ends")
	fs.BoolVar(&o.cfg.ValidateOnTest, "validate-on-test", false, "validate on the TEST set after each epoch, as the book does (its val_ figures are then test figures, and early stopping selects on the test set)")
	fs.BoolVar(&o.earlyStop, "early-stopping", false, "stop when val_loss has not improved for --patience epochs (needs --validation-split or --validate-on-test)")
	fs.IntVar(&o.patience, "patience", train.DefaultPatience, "early-stopping patience in epochs")
	fs.BoolVar(&o.restoreBest, "restore-best", true, "with --early-stopping, end with the weights of the best epoch")
	fs.BoolVar(&o.cfg.Validate, "validate", false, "deprecated: validation now follows --validation-split or --validate-on-test; --validate=false turns it off")
	fs.StringVar(&o.schedule, "lr-schedule", "constant", "the learning-rate `SCHEDULE`: constant, cosine (linear warm-up, then cosine decay, per step: PyTorch's LinearLR + CosineAnnealingLR) or plateau (Keras' ReduceLROnPlateau)")
	fs.IntVar(&o.sched.WarmupEpochs, "warmup-epochs", 0, "cosine: epochs of linear warm-up")
	fs.Float64Var(&o.sched.WarmupStart, "warmup-start", train.DefaultWarmupStart, "cosine: the warm-up starts at this fraction of --lr (LinearLR's start_factor)")
	fs.Float64Var(&o.sched.MinLR, "min-lr", 0, "cosine: the final learning rate (eta_min); plateau: the lowest (min_lr)")
	fs.StringVar(&o.sched.Monitor, "plateau-monitor", train.DefaultPlateauMonitor, "plateau: the `METRIC` watched (val_loss, val_accuracy, loss, accuracy)")
	fs.Float64Var(&o.sched.Factor, "plateau-factor", train.DefaultPlateauFactor, "plateau: multiply the learning rate by this on a plateau")
	fs.IntVar(&o.sched.Patience, "plateau-patience", train.DefaultPlateauPatience, "plateau: epochs without improvement before a reduction")
	fs.Float64Var(&o.sched.MinDelta, "plateau-min-delta", train.DefaultPlateauMinDelta, "plateau: the least change that counts as an improvement")
	fs.IntVar(&o.sched.Cooldown, "plateau-cooldown", 0, "plateau: epochs to wait after a reduction before counting again")
	fs.Float64Var(&o.cfg.WeightDecay, "weight-decay", 0, "decoupled weight decay: AdamW as torch.optim.AdamW (0: Adam)")
	fs.Float64Var(&o.cfg.LabelSmoothing, "label-smoothing", 0, "label smoothing of the cross-entropy, as torch's CrossEntropyLoss(label_smoothing=) (0: none)")
	fs.IntVar(&o.cfg.Threads, "threads", runtime.NumCPU(), "threads (results are bit-reproducible for a fixed count)")
	fs.StringVar(&o.out, "out", "model.onnx", "the model `FILE` to write: .onnx (ONNX) or .fmk (the native format)")
	fs.IntVar(&o.export.opset, "opset", onnxexport.DefaultOpset, fmt.Sprintf("ONNX opset (%d to %d)", onnxexport.MinExportOpset, onnxexport.MaxExportOpset))
	fs.BoolVar(&o.export.logits, "logits", false, "ONNX: add a 'logits' output beside 'probabilities'")
	fs.StringVar(&o.bundle, "bundle", "", "also write a model-zoo bundle (model.onnx + test_data_set_0 of real test images and outputs) into directory `DIR`")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "the training-state `FILE` (default: the model file with .ckpt)")
	fs.BoolVar(&o.resume, "resume", false, "continue from the checkpoint")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
	fs.StringVar(&o.recipe, "recipe", "", recipeHelp())
	if err := parse(fs, args); err != nil {
		return err
	}
	// What the command line gave, before a recipe sets more: the checks
	// below refuse contradictions in what the user typed, not in a preset.
	given := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { given[f.Name] = true })
	o.changed = func(name string) bool { return given[name] }
	if o.recipe != "" {
		if err := applyRecipe(fs, o.recipe, o.changed); err != nil {
			return err
		}
	}
	return o.run(ctx, stdout, stderr)
}

// validationChoice settles what validates each epoch, from
// --validation-split, --validate-on-test and the deprecated --validate,
// and refuses what would silently select on the test set: early stopping
// needs one of the two named explicitly.
func (o *trainOptions) validationChoice() error {
	split, onTest := o.cfg.ValidationSplit, o.cfg.ValidateOnTest
	if split != 0 && !(split > 0 && split < 1) {
		return cli.Usage(fmt.Errorf("--validation-split must be a fraction in (0, 1), got %v", split))
	}
	if split != 0 && onTest {
		return cli.Usage(errors.New("--validation-split and --validate-on-test name two validation sets; give one"))
	}
	named := split != 0 || onTest
	if o.changed("validate") {
		switch {
		case o.cfg.Validate && !named:
			return cli.Usage(errors.New("--validate no longer means the test set: give --validation-split F (Keras' validation_split, e.g. 0.1) or, for the book's choice, --validate-on-test"))
		case !o.cfg.Validate && named:
			return cli.Usage(errors.New("--validate=false turns off the validation that --validation-split or --validate-on-test asks for; drop one"))
		}
	} else {
		o.cfg.Validate = named
	}
	if o.earlyStop && !o.cfg.Validate {
		return cli.Usage(errors.New("--early-stopping monitors val_loss, which needs validation data: give --validation-split F (the last fraction F of the training samples, e.g. 0.1) or, for the book's choice of validating on the test set, --validate-on-test"))
	}
	return nil
}

// scheduleChoice builds the learning-rate schedule from --lr-schedule and
// its flags, refusing a schedule's flag given with another schedule.
func (o *trainOptions) scheduleChoice() (train.LRSchedule, error) {
	cosine := []string{"warmup-epochs", "warmup-start"}
	plateau := []string{"plateau-monitor", "plateau-factor", "plateau-patience", "plateau-min-delta", "plateau-cooldown"}
	refuse := func(flags []string) error {
		for _, f := range flags {
			if o.changed(f) {
				kind := "plateau"
				switch {
				case f == "min-lr":
					kind = "cosine or plateau"
				case strings.HasPrefix(f, "warmup"):
					kind = "cosine"
				}
				return cli.Usage(fmt.Errorf("--%s belongs to --lr-schedule %s (this run's is %s)", f, kind, o.schedule))
			}
		}
		return nil
	}
	var s train.LRSchedule
	switch o.schedule {
	case "constant", "":
		if err := refuse(append(append(cosine, plateau...), "min-lr")); err != nil {
			return s, err
		}
		return s, nil
	case train.ScheduleCosine:
		if err := refuse(plateau); err != nil {
			return s, err
		}
		s = train.LRSchedule{Kind: train.ScheduleCosine, WarmupEpochs: o.sched.WarmupEpochs, WarmupStart: o.sched.WarmupStart, MinLR: o.sched.MinLR}
	case train.SchedulePlateau:
		if err := refuse(cosine); err != nil {
			return s, err
		}
		s = o.sched
		s.Kind, s.WarmupEpochs, s.WarmupStart = train.SchedulePlateau, 0, 0
	default:
		return s, cli.Usage(fmt.Errorf("--lr-schedule %q: want constant, cosine or plateau", o.schedule))
	}
	if err := s.Check(o.cfg.Epochs); err != nil {
		return s, cli.Usage(fmt.Errorf("--lr-schedule %s: %w", o.schedule, err))
	}
	return s, nil
}

// validationLabel says, for the log, the history and the curves, what the
// val_ metrics are computed on.
func (o *trainOptions) validationLabel(valN int) string {
	switch {
	case o.cfg.ValidateOnTest:
		return "the TEST set (--validate-on-test, the book's choice): val_ figures are test figures, and early stopping selects on the test set"
	case o.cfg.ValidationSplit != 0:
		return fmt.Sprintf("the last %d training samples (--validation-split %g, Keras' validation_split: held out before shuffling, never trained on)", valN, o.cfg.ValidationSplit)
	}
	return ""
}

// expandArch turns the built-in names into specs and inserts dropout.
func expandArch(arch string, dropout float64) (string, error) {
	switch arch {
	case "book":
		arch = train.BookSpec
	case "small":
		arch = train.SmallSpec
	}
	if dropout < 0 || dropout >= 1 || dropout != dropout {
		return "", cli.Usage(fmt.Errorf("--dropout must be in [0, 1), got %v", dropout))
	}
	if dropout > 0 {
		i := strings.LastIndex(arch, "-")
		if i < 0 {
			return "", cli.Usage(fmt.Errorf("--dropout needs at least two layers in --arch %q", arch))
		}
		arch = arch[:i] + "-x" + strconv.FormatFloat(dropout, 'g', -1, 64) + arch[i:]
	}
	return arch, nil
}

// siblings returns the paths written beside the model file.
func siblings(out string) (historyJSON, historyCSV, ckpt string) {
	base := strings.TrimSuffix(out, filepath.Ext(out))
	return base + ".history.json", base + ".history.csv", base + ".ckpt"
}

func (o *trainOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	if err := o.validationChoice(); err != nil {
		return err
	}
	o.cfg.EarlyStopping = o.earlyStop
	o.cfg.Patience = o.patience
	o.cfg.RestoreBest = o.earlyStop && o.restoreBest
	sched, err := o.scheduleChoice()
	if err != nil {
		return err
	}
	o.cfg.Schedule = sched
	if o.augment != "" {
		a, err := train.ParseAugment(o.augment)
		if err != nil {
			return cli.Usage(fmt.Errorf("--augment: %w", err))
		}
		o.cfg.Augment = a
	}
	if err := checkThreads(o.cfg.Threads); err != nil {
		return err
	}
	if err := o.cfg.Check(); err != nil {
		return cli.Usage(err)
	}
	if o.trainSize < 0 {
		return cli.Usage(fmt.Errorf("--train-size must be 0 (all) or positive, got %d", o.trainSize))
	}
	arch, err := expandArch(o.arch, o.dropout)
	if err != nil {
		return err
	}
	if o.out == "" {
		return cli.Usage(errors.New("--out must name a file"))
	}
	if err := checkOutputDir(o.out); err != nil {
		return err
	}
	if err := o.export.check(o.out); err != nil {
		return err
	}
	if o.bundle != "" {
		if err := checkBundleDir(o.bundle); err != nil {
			return err
		}
	}
	files := newRunFiles(o.out, o.checkpoint)
	if err := files.check(o.bundle); err != nil {
		return err
	}
	m, err := train.BuildModel(arch, train.DefaultInputShape(), train.NewRNG(o.cfg.Seed))
	if err != nil {
		return cli.Usage(fmt.Errorf("--arch: %w", err))
	}
	var resume *train.Checkpoint
	resumedFrom := ""
	if o.resume {
		resumedFrom = files.resumeFrom()
		if resume, err = train.LoadCheckpoint(resumedFrom); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if err := o.checkResume(resumedFrom, resume, arch); err != nil {
			return err
		}
	}

	// With a validation split, only the training files are located and
	// read now: the test set is opened once training is over, and scored
	// once. Otherwise nothing in training can select on it but the book's
	// choice, which validates on it, and all four files are verified first,
	// as before, so that a bad test file fails before any training.
	split := o.cfg.ValidationSplit != 0
	locate := fmnist.Locate
	if split {
		locate = fmnist.LocateTrain
	}
	dir, err := locate(o.data)
	if err != nil {
		return err
	}
	if err := files.checkInputs("the dataset file", fmnist.Files(dir)); err != nil {
		return err
	}
	if split {
		// Names only (a stat each); the files' content waits.
		if n := len(fmnist.Files(dir)); n == 3 {
			return fmt.Errorf("%s holds one of the two test files (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) but not the other: add it, or remove both to train without test figures", userpath.Show(dir))
		} else if n < 4 && o.bundle != "" {
			return cli.Usage(fmt.Errorf("--bundle needs the test images, and %s has no test files", userpath.Show(dir)))
		}
	}
	trainSet, err := loadData(fmnist.LoadTrain, dir, o.trainSize)
	if err != nil {
		return err
	}
	var valSet, testSet *train.Data
	if split {
		if trainSet, valSet, err = train.SplitValidation(trainSet, o.cfg.ValidationSplit); err != nil {
			return cli.Usage(fmt.Errorf("--validation-split: %w", err))
		}
	} else if testSet, err = loadData(fmnist.LoadTest, dir, 0); err != nil {
		return err
	}
	if o.cfg.ValidateOnTest {
		valSet = testSet
	}
	valLabel := ""
	if valSet != nil {
		valLabel = o.validationLabel(valSet.N())
	}
	var bundleModel []string
	if o.bundle != "" {
		bundleModel = []string{filepath.Join(o.bundle, "model.onnx")}
	}
	files.clean(stderr, resumedFrom, bundleModel...)
	progOut := io.Discard
	if !o.quiet {
		progOut = stdout
	}
	isTerm := false
	if f, ok := stdout.(*os.File); ok && !o.quiet {
		isTerm = train.IsTerminal(f)
	}
	if !o.quiet {
		fmt.Fprintf(stdout, "Training %s on %d samples (%s), %d epochs, batch %d, lr %g, seed %d, %d threads\n",
			o.arch, trainSet.N(), userpath.Show(dir), o.cfg.Epochs, o.cfg.BatchSize, o.cfg.LR, o.cfg.Seed, o.cfg.Threads)
		if valLabel != "" {
			fmt.Fprintf(stdout, "Validation: %s\n", valLabel)
		} else {
			fmt.Fprintln(stdout, "Validation: none (--validation-split F holds out training samples for it)")
		}
	}
	if files.staged && !o.quiet {
		fmt.Fprintf(stdout, "%s exists: its files stay as they are until this run has written its model (meanwhile the run writes %s and the other .pending files)\n",
			userpath.Show(o.out), userpath.Show(files.pending.ckpt))
	}
	t := files.target()
	title := filepath.Base(o.out) + ": " + arch
	if o.cfg.ValidateOnTest {
		title += " (val = TEST set)"
	}
	writeHistory := func(t fileSet, h *train.History) error {
		h.Validation = valLabel
		if err := h.WriteJSON(t.histJSON); err != nil {
			return err
		}
		if err := h.WriteCSV(t.histCSV); err != nil {
			return err
		}
		return curves.Write(t.curves, h, title)
	}
	opt := train.NewAdam(m.Params())
	cb := train.Callbacks{
		Progress: train.NewProgress(progOut, isTerm),
		Checkpoint: func(c *train.Checkpoint) error {
			c.Arch = arch
			c.Extra[extraTrainSize] = strconv.Itoa(o.trainSize)
			return train.SaveCheckpoint(t.ckpt, c)
		},
		EpochEnd: func(h *train.History) error { return writeHistory(t, h) },
	}
	hist, err := train.Fit(ctx, m, opt, trainSet, valSet, o.cfg, cb, resume)
	if errors.Is(err, train.ErrInterrupted) {
		kept := ""
		if files.staged {
			kept = fmt.Sprintf(" (%s and its files from the earlier run are unchanged)", userpath.Show(o.out))
		}
		return fmt.Errorf("%w: training state saved to %s%s; continue with the same flags and --resume", errInterrupted, userpath.Show(t.ckpt), kept)
	}
	if err != nil {
		return err
	}
	// Training is over: the test set is scored once, now (without a split
	// it was loaded before). Without its files, the model is written
	// without test figures.
	if testSet == nil {
		if testSet, err = loadTestAfterTraining(dir, stderr); err != nil {
			return fmt.Errorf("%w\nthe test set is read only after training with --validation-split, and training is done: its state is in %s; fix the test files and run the same command with --resume to score the test set and write the model",
				err, userpath.Show(t.ckpt))
		}
	}
	recipe, _ := json.Marshal(o.cfg)
	meta := map[string]string{
		"arch":          arch,
		"recipe":        string(recipe),
		"train_samples": strconv.Itoa(trainSet.N()),
		"epochs_run":    strconv.Itoa(len(hist.Epochs)),
	}
	if o.cfg.ValidationSplit != 0 {
		meta["validation_samples"] = strconv.Itoa(valSet.N())
	}
	var loss, acc float64
	if testSet != nil {
		loss, acc = m.Evaluate(testSet.X, testSet.Labels, testSet.N())
		meta["test_accuracy"] = strconv.FormatFloat(acc, 'f', 4, 64)
		meta["test_loss"] = strconv.FormatFloat(loss, 'g', 6, 64)
		hist.Test = &train.TestScore{Loss: loss, Accuracy: acc}
	}
	err = files.commit(func(t fileSet) error { return writeHistory(t, hist) },
		func(path string) error { return saveModel(path, m, arch, meta, o.export) })
	if err != nil {
		return err
	}
	if o.bundle != "" {
		// Checked again just before writing: nothing may have been planted
		// in the bundle since the start.
		if err := checkBundleDir(o.bundle); err != nil {
			return err
		}
		if err := writeBundle(o.bundle, m, meta, o.export, testSet); err != nil {
			return err
		}
		if !o.quiet {
			fmt.Fprintf(stdout, "wrote the model-zoo bundle %s (model.onnx, test_data_set_0)\n", userpath.Show(o.bundle))
		}
	}
	if !o.quiet {
		f := files.final
		switch {
		case testSet == nil:
			fmt.Fprintln(stdout, "test set: not scored (no test files)")
		case o.cfg.ValidateOnTest:
			fmt.Fprintf(stdout, "test accuracy: %.4f  test loss: %.4f (the test set was also the validation set: --validate-on-test)\n", acc, loss)
		default:
			fmt.Fprintf(stdout, "test accuracy: %.4f  test loss: %.4f (scored once, after training)\n", acc, loss)
		}
		fmt.Fprintf(stdout, "wrote %s, %s, %s, %s, %s\n",
			userpath.Show(f.model), userpath.Show(f.histJSON), userpath.Show(f.histCSV), userpath.Show(f.curves), userpath.Show(f.ckpt))
	}
	return nil
}

// loadTestAfterTraining loads the test set from dir once training is over.
// When dir lacks the test files it says so on w and returns nil, nil: a run
// that validated on a split does not need them.
func loadTestAfterTraining(dir string, w io.Writer) (*train.Data, error) {
	if len(fmnist.Files(dir)) < 4 {
		fmt.Fprintf(w, "fmtrain: note: %s has no test files (t10k-*): the model is written without test figures\n", userpath.Show(dir))
		return nil, nil
	}
	return loadData(fmnist.LoadTest, dir, 0)
}

// extraTrainSize is the checkpoint's record of --train-size, so that a
// resume can name the flag when it differs.
const extraTrainSize = "fmtrain.train_size"

// checkResume refuses a checkpoint made with other data or model flags than
// this run's, naming every flag that differs. --epochs and --threads may
// change (more epochs continue a finished run; a thread count changes only
// the rounding).
func (o *trainOptions) checkResume(path string, c *train.Checkpoint, arch string) error {
	if c.Arch != arch {
		return cli.Usage(fmt.Errorf("--resume: %s holds architecture %q, not %q (--arch, --dropout)", userpath.Show(path), c.Arch, arch))
	}
	var saved train.Config
	if err := json.Unmarshal(c.Config, &saved); err != nil {
		return fmt.Errorf("--resume: %s holds no training configuration (%v): it is a model, not a training checkpoint", userpath.Show(path), err)
	}
	now := o.cfg
	var diffs []string
	add := func(flag string, was, is any) {
		if a, b := fmt.Sprint(was), fmt.Sprint(is); a != b {
			diffs = append(diffs, fmt.Sprintf("%s %s (this run: %s)", flag, a, b))
		}
	}
	if v, ok := c.Extra[extraTrainSize]; ok {
		add("--train-size", v, o.trainSize)
	} else if v, ok := c.Extra["train_samples"]; ok && o.trainSize != 0 {
		add("--train-size", v, o.trainSize)
	}
	add("--batch-size", saved.BatchSize, now.BatchSize)
	add("--lr", saved.LR, now.LR)
	add("--seed", saved.Seed, now.Seed)
	add("--validate", saved.Validate, now.Validate)
	add("--validation-split", saved.ValidationSplit, now.ValidationSplit)
	add("--validate-on-test", saved.ValidateOnTest, now.ValidateOnTest)
	add("--early-stopping", saved.EarlyStopping, now.EarlyStopping)
	add("--patience", saved.Patience, now.Patience)
	add("--restore-best", saved.RestoreBest, now.RestoreBest)
	add("--augment", strconv.Quote(saved.Augment.String()), strconv.Quote(now.Augment.String()))
	add("--lr-schedule and its flags", fmt.Sprintf("%+v", saved.Schedule), fmt.Sprintf("%+v", now.Schedule))
	add("--weight-decay", saved.WeightDecay, now.WeightDecay)
	add("--label-smoothing", saved.LabelSmoothing, now.LabelSmoothing)
	if saved.Schedule.Kind == train.ScheduleCosine && saved.Epochs != now.Epochs {
		add("--epochs (the cosine schedule depends on it)", saved.Epochs, now.Epochs)
	}
	if len(diffs) > 0 {
		return cli.Usage(fmt.Errorf("--resume: %s was made with other flags: %s; resume with the flags it was made with, or start afresh without --resume",
			userpath.Show(path), strings.Join(diffs, ", ")))
	}
	return nil
}

// loadTestSet locates the dataset (--data, see fmnist.Locate) and loads all
// of its test set, scaled, after checking that none of outputs is a
// dataset file.
func loadTestSet(data string, outputs ...userpath.Role) (*train.Data, error) {
	dir, err := fmnist.Locate(data)
	if err != nil {
		return nil, err
	}
	if err := checkNotData(dir, outputs); err != nil {
		return nil, err
	}
	return loadData(fmnist.LoadTest, dir, 0)
}

// loadData loads one split as scaled float32 images, the first n if n > 0.
func loadData(load func(string) (*fmnist.Set, error), dir string, n int) (*train.Data, error) {
	s, err := load(dir)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > s.N {
		if n > s.N {
			return nil, cli.Usage(fmt.Errorf("--train-size %d exceeds the %d samples available", n, s.N))
		}
		n = s.N
	}
	d := &train.Data{}
	d.X, d.Labels = s.Input(n)
	return d, nil
}

// checkOutputDir fails early, before any training, if out cannot be written.
func checkOutputDir(out string) error {
	dir := filepath.Dir(out)
	st, err := os.Stat(dir)
	if err != nil {
		return cli.Usage(fmt.Errorf("--out %s: directory %s does not exist", out, dir))
	}
	if !st.IsDir() {
		return cli.Usage(fmt.Errorf("--out %s: %s is not a directory", out, dir))
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return cli.Usage(fmt.Errorf("--out %s is a directory", out))
	}
	f, err := os.CreateTemp(dir, ".fmtrain-probe-*")
	if err != nil {
		return fmt.Errorf("--out %s: cannot write in %s: %w", out, dir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

func runSummary(args []string, stdout io.Writer) error {
	fs := newFlags("fmtrain summary", stdout, "Usage: fmtrain summary [--arch SPEC]\n\nPrints a Keras-like summary of a model.")
	arch := fs.String("arch", "book", "the architecture `SPEC`: \"book\", \"small\" or layers (fmtrain help arch)")
	dropout := fs.Float64("dropout", 0, "dropout rate before the last dense layer")
	if err := parse(fs, args); err != nil {
		return err
	}
	spec, err := expandArch(*arch, *dropout)
	if err != nil {
		return err
	}
	m, err := train.BuildModel(spec, train.DefaultInputShape(), train.NewRNG(1))
	if err != nil {
		return cli.Usage(fmt.Errorf("--arch: %w", err))
	}
	return m.Summary(stdout)
}

func runEvaluate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fmtrain evaluate", stdout, "Usage: fmtrain evaluate --model FILE [--data DIR] [--json] [--plot FILE]\n\nEvaluates a model (ONNX or native .fmk) on the 10,000 test images with the native engine:\naccuracy, per-class precision and recall, the confusion matrix.")
	model := fs.String("model", "", "the model `FILE`: ONNX or native .fmk (required)")
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR` (default: discovered)")
	asJSON := fs.Bool("json", false, "print JSON, the shape of fminfer eval --json (docs/json.md)")
	threads := fs.Int("threads", runtime.NumCPU(), "threads of the engine")
	plotOut := fs.String("plot", "", "also write the confusion matrix as a PNG heatmap to `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cli.Usage(errors.New("--model is required"))
	}
	var outputs []userpath.Role
	if fs.Changed("plot") {
		if err := checkPictureOut("--plot", *plotOut); err != nil {
			return err
		}
		outputs = append(outputs, userpath.Role{Flag: "--plot", Path: *plotOut})
		if err := userpath.Distinct(userpath.Role{Flag: "--model", Path: *model, Input: true}, outputs[0]); err != nil {
			return cli.Usage(err)
		}
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	m, _, err := loadModel(*model)
	if err != nil {
		return err
	}
	m.SetThreads(*threads)
	test, err := loadTestSet(*data, outputs...)
	if err != nil {
		return err
	}
	start := time.Now()
	probs := m.Predict(test.X, test.N(), nil)
	ips := float64(test.N()) / max(time.Since(start).Seconds(), 1e-9)
	conf := train.NewConfusion(fmnist.NumClasses)
	conf.AddProbs(probs, test.Labels, test.N())
	if *plotOut != "" {
		if err := writeConfusionPlot(*plotOut, *model, conf); err != nil {
			return err
		}
	}
	if *asJSON {
		ev := cli.NewEvaluation(conf, fmnist.ClassNames[:])
		ev.Model, ev.Engine, ev.Provider, ev.ImagesPerSecond = userpath.Show(*model), "native", "cpu", ips
		return cli.WriteJSON(stdout, ev)
	}
	if err := conf.Report(stdout, fmnist.ClassNames[:]); err != nil {
		return err
	}
	if *plotOut != "" {
		fmt.Fprintf(stdout, "wrote %s\n", userpath.Show(*plotOut))
	}
	return nil
}

// threadsPerCPU bounds --threads, as fminfer's (pkg/runtime.ThreadsPerCPU):
// more threads than that only thrash, and a huge count would ask for huge
// per-thread buffers.
const threadsPerCPU = 4

func checkThreads(n int) error {
	if n < 1 || n > threadsPerCPU*runtime.NumCPU() {
		return cli.Usage(fmt.Errorf("--threads must be between 1 and %d (%d per CPU), got %d", threadsPerCPU*runtime.NumCPU(), threadsPerCPU, n))
	}
	return nil
}
