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
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := trainOptions{cfg: train.DefaultConfig()}
	fs := newFlags("fmtrain", stdout, "Usage: fmtrain [flags]\n\nTrains a CNN on Fashion-MNIST (the book's recipe by default) and writes the model,\nits history (JSON and CSV) and a resumable checkpoint beside it.")
	fs.StringVar(&o.data, "data", "", "Fashion-MNIST directory (default: $FMNIST_DATA, /usr/share/datasets/fashion-mnist, the user cache)")
	fs.IntVar(&o.cfg.Epochs, "epochs", o.cfg.Epochs, "number of epochs")
	fs.IntVar(&o.cfg.BatchSize, "batch-size", o.cfg.BatchSize, "batch size")
	fs.Float64Var(&o.cfg.LR, "lr", o.cfg.LR, "Adam learning rate")
	fs.Uint64Var(&o.cfg.Seed, "seed", o.cfg.Seed, "random seed (weights, shuffling, augmentation, dropout)")
	fs.StringVar(&o.arch, "arch", "book", `architecture: "book", "small" or a spec such as c32k3-p2-c64k3-f-d32-d10`)
	fs.IntVar(&o.trainSize, "train-size", 0, "train on the first N training samples only (0: all 60,000)")
	fs.StringVar(&o.augment, "augment", "", `augmentation, e.g. "hflip,hshift=3" (hflip, vflip, rotate=DEG, wshift=R, hshift=R; R as Keras reads it: 3 whole pixels -2..2, 3.0 or 2.5 real pixels, 0.1 a fraction)`)
	fs.Float64Var(&o.dropout, "dropout", 0, "dropout rate before the last dense layer (0: none)")
	fs.BoolVar(&o.earlyStop, "early-stopping", false, "stop when val_loss has not improved for --patience epochs")
	fs.IntVar(&o.patience, "patience", train.DefaultPatience, "early-stopping patience in epochs")
	fs.BoolVar(&o.restoreBest, "restore-best", true, "with --early-stopping, end with the weights of the best epoch")
	fs.BoolVar(&o.cfg.Validate, "validate", true, "evaluate on the test set after each epoch")
	fs.IntVar(&o.cfg.Threads, "threads", runtime.NumCPU(), "threads (results are bit-reproducible for a fixed count)")
	fs.StringVar(&o.out, "out", "model.onnx", "model file to write: .onnx (ONNX) or .fmk (the native format)")
	fs.IntVar(&o.export.opset, "opset", onnxexport.DefaultOpset, fmt.Sprintf("ONNX opset (%d to %d)", onnxexport.MinExportOpset, onnxexport.MaxExportOpset))
	fs.BoolVar(&o.export.logits, "logits", false, "ONNX: add a 'logits' output beside 'probabilities'")
	fs.StringVar(&o.bundle, "bundle", "", "also write a model-zoo bundle (model.onnx + test_data_set_0 of real test images and outputs) into this directory")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "training-state file (default: the model file with .ckpt)")
	fs.BoolVar(&o.resume, "resume", false, "continue from the checkpoint")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
	if err := parse(fs, args); err != nil {
		return err
	}
	return o.run(ctx, stdout, stderr)
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
	o.cfg.EarlyStopping = o.earlyStop
	o.cfg.Patience = o.patience
	o.cfg.RestoreBest = o.earlyStop && o.restoreBest
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
	m, err := train.BuildModel(arch, train.Shape{1, 28, 28}, train.NewRNG(o.cfg.Seed))
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

	dir, err := fmnist.Locate(o.data)
	if err != nil {
		return err
	}
	if err := files.checkInputs("the dataset file", fmnist.Files(dir)); err != nil {
		return err
	}
	trainSet, err := loadData(fmnist.LoadTrain, dir, o.trainSize)
	if err != nil {
		return err
	}
	// The test set validates each epoch (unless --validate=false) and always
	// gives the final test accuracy recorded in the model's metadata.
	testSet, err := loadData(fmnist.LoadTest, dir, 0)
	if err != nil {
		return err
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
	}
	if files.staged && !o.quiet {
		fmt.Fprintf(stdout, "%s exists: its files stay as they are until this run has written its model (meanwhile the run writes %s and the other .pending files)\n",
			userpath.Show(o.out), userpath.Show(files.pending.ckpt))
	}
	t := files.target()
	writeHistory := func(t fileSet, h *train.History) error {
		if err := h.WriteJSON(t.histJSON); err != nil {
			return err
		}
		if err := h.WriteCSV(t.histCSV); err != nil {
			return err
		}
		return curves.Write(t.curves, h, filepath.Base(o.out)+": "+arch)
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
	hist, err := train.Fit(ctx, m, opt, trainSet, testSet, o.cfg, cb, resume)
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
	loss, acc := m.Evaluate(testSet.X, testSet.Labels, testSet.N())
	recipe, _ := json.Marshal(o.cfg)
	meta := map[string]string{
		"arch":          arch,
		"recipe":        string(recipe),
		"train_samples": strconv.Itoa(trainSet.N()),
		"epochs_run":    strconv.Itoa(len(hist.Epochs)),
		"test_accuracy": strconv.FormatFloat(acc, 'f', 4, 64),
		"test_loss":     strconv.FormatFloat(loss, 'g', 6, 64),
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
		fmt.Fprintf(stdout, "test accuracy: %.4f  test loss: %.4f\nwrote %s, %s, %s, %s, %s\n", acc, loss,
			userpath.Show(f.model), userpath.Show(f.histJSON), userpath.Show(f.histCSV), userpath.Show(f.curves), userpath.Show(f.ckpt))
	}
	return nil
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
	now.AugmentSpec = now.Augment.String()
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
	add("--early-stopping", saved.EarlyStopping, now.EarlyStopping)
	add("--patience", saved.Patience, now.Patience)
	add("--restore-best", saved.RestoreBest, now.RestoreBest)
	add("--augment", strconv.Quote(saved.AugmentSpec), strconv.Quote(now.AugmentSpec))
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
	px := s.Rows * s.Cols
	d := &train.Data{X: make([]float32, n*px), Labels: append([]uint8(nil), s.Labels[:n]...)}
	fmnist.Scale(d.X, s.Images[:n*px])
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
	arch := fs.String("arch", "book", `architecture: "book", "small" or a spec`)
	dropout := fs.Float64("dropout", 0, "dropout rate before the last dense layer")
	if err := parse(fs, args); err != nil {
		return err
	}
	spec, err := expandArch(*arch, *dropout)
	if err != nil {
		return err
	}
	m, err := train.BuildModel(spec, train.Shape{1, 28, 28}, train.NewRNG(1))
	if err != nil {
		return cli.Usage(fmt.Errorf("--arch: %w", err))
	}
	return m.Summary(stdout)
}

func runEvaluate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fmtrain evaluate", stdout, "Usage: fmtrain evaluate --model FILE [--data DIR] [--json] [--plot FILE]\n\nEvaluates a model on the 10,000 test images.")
	model := fs.String("model", "", "model file (required)")
	data := fs.String("data", "", "Fashion-MNIST directory")
	asJSON := fs.Bool("json", false, "print JSON")
	threads := fs.Int("threads", runtime.NumCPU(), "threads")
	plotOut := fs.String("plot", "", "also write the confusion matrix as a PNG heatmap to this file")
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
	probs := m.Predict(test.X, test.N(), nil)
	conf := train.NewConfusion(fmnist.NumClasses)
	conf.AddProbs(probs, test.Labels, test.N())
	if *plotOut != "" {
		if err := writeConfusionPlot(*plotOut, *model, conf); err != nil {
			return err
		}
	}
	if *asJSON {
		type class struct {
			Name      string  `json:"name"`
			Precision float64 `json:"precision"`
			Recall    float64 `json:"recall"`
		}
		out := struct {
			Accuracy  float64 `json:"accuracy"`
			N         int     `json:"n"`
			Classes   []class `json:"classes"`
			Confusion [][]int `json:"confusion"`
		}{Accuracy: conf.Accuracy(), N: conf.Total(), Confusion: conf.Counts}
		for k, n := range fmnist.ClassNames {
			out.Classes = append(out.Classes, class{n, conf.Precision(k), conf.Recall(k)})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
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
