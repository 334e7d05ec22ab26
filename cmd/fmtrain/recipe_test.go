package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/pkg/train"
)

// trainedRecipe trains with args on 256 training samples for 2 epochs and
// returns the recipe the model records.
func trainedRecipe(t *testing.T, args ...string) train.Config {
	t.Helper()
	out := filepath.Join(t.TempDir(), "m.fmk")
	args = append(args, "--data", trainOnlyData(t), "--arch", "c4k3-p2-f-d10", "--train-size", "256", "--epochs", "2",
		"--threads", "2", "--quiet", "--out", out)
	code, stdout, stderr := runCmd(context.Background(), args...)
	if code != exitOK {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	_, c, err := train.LoadModel(out, train.Shape{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	var cfg train.Config
	if err := json.Unmarshal([]byte(c.Extra["recipe"]), &cfg); err != nil {
		t.Fatalf("recipe %q: %v", c.Extra["recipe"], err)
	}
	return cfg
}

// TestRecipeImproved checks that --recipe improved sets every flag of the
// preset and that flags on the command line win over it, including those
// that decide a choice the preset's other flags belong to.
func TestRecipeImproved(t *testing.T) {
	cfg := trainedRecipe(t, "--recipe", "improved", "--warmup-epochs", "1")
	if cfg.ValidationSplit != 0.1 || !cfg.EarlyStopping || cfg.Patience != 10 || !cfg.RestoreBest {
		t.Errorf("validation: split %v, early stopping %v, patience %d, restore %v", cfg.ValidationSplit, cfg.EarlyStopping, cfg.Patience, cfg.RestoreBest)
	}
	if cfg.WeightDecay != 0.05 || cfg.LabelSmoothing != 0.1 || cfg.Augment.String() != "hflip,wshift=2,hshift=2" {
		t.Errorf("weight decay %v, label smoothing %v, augment %q", cfg.WeightDecay, cfg.LabelSmoothing, cfg.Augment.String())
	}
	if s := cfg.Schedule; s.Kind != train.ScheduleCosine || s.WarmupEpochs != 1 || s.MinLR != 1e-5 {
		t.Errorf("schedule %+v: want cosine, the command line's 1 warm-up epoch, min lr 1e-5", s)
	}
	if cfg.Epochs != 2 {
		t.Errorf("epochs %d: the command line's 2 must win over the recipe's 30", cfg.Epochs)
	}

	// Another schedule on the command line drops the recipe's cosine
	// flags rather than refusing them as belonging to another schedule.
	cfg = trainedRecipe(t, "--recipe", "improved", "--lr-schedule", "constant")
	if cfg.Schedule != (train.LRSchedule{}) || cfg.WeightDecay != 0.05 {
		t.Errorf("schedule %+v, weight decay %v: want constant, the recipe's 0.05", cfg.Schedule, cfg.WeightDecay)
	}

	// The photo recipe is the improved one with more augmentation.
	cfg = trainedRecipe(t, "--recipe", "photo", "--warmup-epochs", "1")
	if cfg.WeightDecay != 0.05 || cfg.Augment.String() != "hflip,rotate=6,wshift=2,hshift=2,zoom=0.92:1.08,blur=0.05:0.5" {
		t.Errorf("photo recipe: weight decay %v, augment %q", cfg.WeightDecay, cfg.Augment.String())
	}

	// The book's recipe is the defaults.
	cfg = trainedRecipe(t, "--recipe", "book", "--validation-split", "0.25")
	if cfg.WeightDecay != 0 || cfg.Schedule != (train.LRSchedule{}) || cfg.EarlyStopping || cfg.Augment.String() != "none" {
		t.Errorf("book recipe: %+v", cfg)
	}
}

func TestRecipeUnknown(t *testing.T) {
	code, _, stderr := runCmd(context.Background(), "--recipe", "fancy", "--out", filepath.Join(t.TempDir(), "m.onnx"))
	if code != exitUsage || !strings.Contains(stderr, `--recipe "fancy": want one of book, improved, photo`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
