package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/train"
)

// trainOnlyData returns a directory holding links to the two training files
// of the installed dataset and no test files.
func trainOnlyData(t *testing.T) string {
	t.Helper()
	needData(t)
	src, err := fmnist.Locate("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, p := range fmnist.Files(src) {
		if strings.HasPrefix(filepath.Base(p), "train-") {
			if err := os.Symlink(p, filepath.Join(dir, filepath.Base(p))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestValidationSplitNeverReadsTheTestSet trains with --validation-split
// from a directory that has no test files at all: training must succeed
// (so it never needed them), validate on the last samples of the training
// set (the val_ figures of the last epoch are the model's on exactly those
// samples), record the split in the history and the recipe, and write the
// model without test figures.
func TestValidationSplitNeverReadsTheTestSet(t *testing.T) {
	data := trainOnlyData(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "m.fmk")
	args := []string{"--data", data, "--arch", "c4k3-p2-f-d10", "--train-size", "256", "--epochs", "2", "--threads", "2",
		"--seed", "3", "--validation-split", "0.25", "--out", out}
	code, stdout, stderr := runCmd(context.Background(), args...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Validation: the last 64 training samples (--validation-split 0.25") {
		t.Errorf("the log does not say what validates:\n%s", stdout)
	}
	if !strings.Contains(stdout, "Training c4k3-p2-f-d10 on 192 samples") {
		t.Errorf("the log does not say 192 samples are trained on:\n%s", stdout)
	}
	if !strings.Contains(stderr, "no test files") || !strings.Contains(stdout, "test set: not scored") {
		t.Errorf("no note that the test set was not scored:\nstdout %s\nstderr %s", stdout, stderr)
	}
	hist, err := train.ReadHistoryJSON(filepath.Join(dir, "m.history.json"))
	if err != nil {
		t.Fatal(err)
	}
	if hist.Test != nil || !strings.Contains(hist.Validation, "validation_split") || len(hist.Epochs) != 2 || !hist.HasValidation() {
		t.Fatalf("history: validation %q, test %+v, %d epochs", hist.Validation, hist.Test, len(hist.Epochs))
	}
	m, c, err := train.LoadModel(out, train.Shape{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Extra["test_accuracy"]; ok {
		t.Error("the model records a test accuracy without a test set")
	}
	if c.Extra["validation_samples"] != "64" || c.Extra["train_samples"] != "192" {
		t.Errorf("metadata: validation_samples %q, train_samples %q", c.Extra["validation_samples"], c.Extra["train_samples"])
	}
	var recipe train.Config
	if err := json.Unmarshal([]byte(c.Extra["recipe"]), &recipe); err != nil || recipe.ValidationSplit != 0.25 || recipe.ValidateOnTest {
		t.Errorf("recipe %s (%v)", c.Extra["recipe"], err)
	}
	// The val_ figures are the model's on training samples 192..255.
	set, err := fmnist.LoadTrain(data)
	if err != nil {
		t.Fatal(err)
	}
	full, err := loadData(func(string) (*fmnist.Set, error) { return set, nil }, data, 256)
	if err != nil {
		t.Fatal(err)
	}
	_, val, err := train.SplitValidation(full, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	m.SetThreads(2)
	loss, acc := m.Evaluate(val.X, val.Labels, val.N())
	last := hist.Epochs[1]
	if loss != last.ValLoss || acc != last.ValAccuracy {
		t.Errorf("last epoch val_loss %v val_accuracy %v, the model on samples 192..255: %v %v", last.ValLoss, last.ValAccuracy, loss, acc)
	}

	// The book's choice needs the test files, and says so.
	code, _, stderr = runCmd(context.Background(), append(args[:len(args)-4], "--validate-on-test", "--out", out)...)
	if code != exitFail || !strings.Contains(stderr, "t10k") {
		t.Errorf("--validate-on-test without test files: exit %d, %s", code, stderr)
	}
}

// TestValidateOnTestIsLabelled runs the book's choice and checks that the
// log, the history, the curves' title and the recipe say the test set
// validated.
func TestValidateOnTestIsLabelled(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "m.fmk")
	code, stdout, stderr := runCmd(context.Background(), "--arch", "c4k3-p2-f-d10", "--train-size", "128", "--epochs", "2", "--threads", "2",
		"--validate-on-test", "--early-stopping", "--patience", "1", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Validation: the TEST set (--validate-on-test, the book's choice)") ||
		!strings.Contains(stdout, "the test set was also the validation set") {
		t.Errorf("the log does not label the test-set validation:\n%s", stdout)
	}
	hist, err := train.ReadHistoryJSON(filepath.Join(dir, "m.history.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hist.Validation, "TEST set") || hist.Test == nil {
		t.Errorf("history: validation %q, test %+v", hist.Validation, hist.Test)
	}
	_, c, err := train.LoadModel(out, train.Shape{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Extra["recipe"], `"validate_on_test":true`) || c.Extra["test_accuracy"] == "" {
		t.Errorf("metadata: recipe %s, test_accuracy %q", c.Extra["recipe"], c.Extra["test_accuracy"])
	}
}

func TestRecipeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.fmk")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--early-stopping"}, "--validation-split F"},
		{[]string{"--validate"}, "no longer means the test set"},
		{[]string{"--validate=false", "--validation-split", "0.1"}, "--validate=false"},
		{[]string{"--validation-split", "1"}, "(0, 1)"},
		{[]string{"--validation-split", "-0.1"}, "(0, 1)"},
		{[]string{"--validation-split", "0.1", "--validate-on-test"}, "give one"},
		{[]string{"--warmup-epochs", "1"}, "belongs to --lr-schedule cosine"},
		{[]string{"--lr-schedule", "cosine", "--plateau-factor", "0.5"}, "belongs to --lr-schedule plateau"},
		{[]string{"--lr-schedule", "cosine", "--warmup-epochs", "10"}, "warm-up of 10 epochs"},
		{[]string{"--lr-schedule", "plateau", "--plateau-factor", "1"}, "factor"},
		{[]string{"--lr-schedule", "plateau"}, "val_loss and needs validation"},
		{[]string{"--lr-schedule", "plateau", "--plateau-monitor", "val_acc", "--validation-split", "0.1"}, "monitor"},
		{[]string{"--lr-schedule", "step"}, "constant, cosine or plateau"},
		{[]string{"--weight-decay", "-1"}, "weight decay"},
		{[]string{"--label-smoothing", "1"}, "label smoothing"},
		{[]string{"--augment", "blur=9"}, "blur"},
		{[]string{"--augment", "brightness=1.2"}, "LO:HI"},
		{[]string{"--augment", "zoom=0.5:0.2"}, "zoom"},
		{[]string{"--augment", "noise=0.1:0.2"}, "noise"},
	} {
		code, _, stderr := runCmd(context.Background(), append(c.args, "--out", out)...)
		if code != exitUsage || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, want %d and %q in %q", c.args, code, exitUsage, c.msg, stderr)
		}
	}
}

// TestRecipeFlagsResume trains with every recipe feature on, interrupted
// before its first step and resumed: the model must be the uninterrupted
// run's, byte for byte, and a resume with another recipe flag is refused,
// naming it.
func TestRecipeFlagsResume(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	recipe := []string{"--validation-split", "0.25", "--early-stopping", "--lr-schedule", "cosine", "--warmup-epochs", "1",
		"--min-lr", "1e-5", "--weight-decay", "0.02", "--label-smoothing", "0.1",
		"--augment", "hflip,zoom=0.1,brightness=0.8:1.2,contrast=0.2,blur=0.1:0.8,noise=0.02"}
	a, b := filepath.Join(dir, "a.onnx"), filepath.Join(dir, "b.onnx")
	if code, out, errOut := runCmd(context.Background(), trainArgs(a, recipe...)...); code != exitOK {
		t.Fatalf("train: exit %d\n%s%s", code, out, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code, _, errOut := runCmd(ctx, trainArgs(b, recipe...)...); code != exitInterrupted {
		t.Fatalf("interrupted run: exit %d, %s", code, errOut)
	}
	other := append(append([]string(nil), recipe...), "--resume")
	other[slices.Index(other, "--weight-decay")+1] = "0.03"
	if code, _, errOut := runCmd(context.Background(), trainArgs(b, other...)...); code != exitUsage || !strings.Contains(errOut, "--weight-decay 0.02 (this run: 0.03)") {
		t.Errorf("resume with another --weight-decay: exit %d, %s", code, errOut)
	}
	if code, out, errOut := runCmd(context.Background(), trainArgs(b, append(recipe, "--resume")...)...); code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	ma, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ma) != string(mb) {
		t.Error("the resumed run's model differs from the uninterrupted run's")
	}
	_, meta, err := loadModel(a)
	if err != nil {
		t.Fatal(err)
	}
	var cfg train.Config
	if err := json.Unmarshal([]byte(meta["recipe"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Augment.String() != "hflip,zoom=0.9:1.1,brightness=0.8:1.2,contrast=0.8:1.2,blur=0.1:0.8,noise=0.02" ||
		cfg.Schedule.Kind != train.ScheduleCosine || cfg.WeightDecay != 0.02 || cfg.LabelSmoothing != 0.1 {
		t.Errorf("the recipe metadata does not record the recipe: %s", meta["recipe"])
	}
}

// TestValidationSplitBadTestFiles: with a split, a corrupt test file is met
// only once training is done (it is not opened before); the run fails
// without writing the model and says how to finish, and --resume, once the
// file is fixed, scores the test set and writes the model without training
// again.
func TestValidationSplitBadTestFiles(t *testing.T) {
	data := trainOnlyData(t)
	src, _ := fmnist.Locate("")
	for _, name := range []string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if err := os.WriteFile(filepath.Join(data, name), []byte("<html>404</html>"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "m.fmk")
	args := []string{"--data", data, "--arch", "c4k3-p2-f-d10", "--train-size", "128", "--epochs", "1", "--threads", "2",
		"--validation-split", "0.25", "--out", out}
	code, stdout, stderr := runCmd(context.Background(), args...)
	if code != exitFail || !strings.Contains(stderr, "t10k") || !strings.Contains(stderr, "--resume") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Epoch 1/1") {
		t.Errorf("training did not run before the test files were read:\n%s", stdout)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the model was written without its test figures")
	}
	for _, name := range []string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		os.Remove(filepath.Join(data, name))
		if err := os.Symlink(filepath.Join(src, name), filepath.Join(data, name)); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr = runCmd(context.Background(), append(args, "--resume")...)
	if code != exitOK || strings.Contains(stdout, "Epoch 1/1") || !strings.Contains(stdout, "scored once, after training") {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, c, err := train.LoadModel(out, train.Shape{1, 28, 28}); err != nil || c.Extra["test_accuracy"] == "" {
		t.Errorf("model after resume: %v, test_accuracy %q", err, c.Extra["test_accuracy"])
	}
	// One test file without the other is refused before training.
	os.Remove(filepath.Join(data, "t10k-labels-idx1-ubyte.gz"))
	code, stdout, stderr = runCmd(context.Background(), append(args[:len(args)-2], "--out", filepath.Join(dir, "n.fmk"))...)
	if code != exitFail || strings.Contains(stdout, "Epoch") || !strings.Contains(stderr, "one of the two test files") {
		t.Errorf("one test file: exit %d\n%s%s", code, stdout, stderr)
	}
}
