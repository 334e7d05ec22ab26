package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fmkit/fmkit/pkg/fmnist"
)

// needData skips when the Fashion-MNIST files are not installed.
func needData(t *testing.T) {
	t.Helper()
	if _, err := fmnist.Locate(""); err != nil {
		t.Skipf("Fashion-MNIST not available (run make setup): %v", err)
	}
}

func runCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

func TestSummary(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"summary"}, "Total params: 167,114"},
		{[]string{"summary", "--arch", "c32k3-c64k3-c128k3-f-d64-d10"}, "Total params: 4,058,314"},
		{[]string{"summary", "--arch", "small"}, "Total params:"},
	} {
		code, out, errOut := runCmd(context.Background(), c.args...)
		if code != exitOK || !strings.Contains(out, c.want) {
			t.Errorf("%v: code %d, want %q in:\n%s%s", c.args, code, c.want, out, errOut)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--epochs", "0"},
		{"--batch-size", "-1"},
		{"--lr", "-1"},
		{"--threads", "0"},
		{"--bogus"},
		{"--arch", "c32k3-zz"},
		{"--augment", "spin=3"},
		{"--dropout", "1.5"},
		{"--train-size", "-5"},
		{"--early-stopping", "--validate=false"},
		{"--out", filepath.Join(dir, "missing", "m.fmk")},
		{"--out", dir},
		{"extra-argument"},
		{"evaluate"},
		{"summary", "--arch", ""},
	} {
		code, _, errOut := runCmd(context.Background(), args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
		if !strings.HasPrefix(errOut, "fmtrain: ") {
			t.Errorf("%v: stderr %q lacks a message", args, errOut)
		}
	}
}

func TestEvaluateBadModel(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.fmk")
	os.WriteFile(garbage, []byte("this is not a model"), 0o644)
	for _, path := range []string{filepath.Join(dir, "missing.fmk"), garbage, dir} {
		code, _, errOut := runCmd(context.Background(), "evaluate", "--model", path)
		if code != exitFail || !strings.Contains(errOut, filepath.Base(path)) {
			t.Errorf("%s: exit %d, stderr %q", path, code, errOut)
		}
	}
}

// trainArgs trains a tiny model briefly on real data.
func trainArgs(out string, extra ...string) []string {
	return append([]string{"--arch", "c4k3-p2-f-d10", "--train-size", "256", "--epochs", "2",
		"--batch-size", "32", "--threads", "2", "--seed", "5", "--augment", "hflip,hshift=2", "--out", out}, extra...)
}

func TestTrainReproducibleAndResumable(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	files := func(name string) (model, hist []byte) {
		var err error
		if model, err = os.ReadFile(filepath.Join(dir, name+".onnx")); err != nil {
			t.Fatal(err)
		}
		if hist, err = os.ReadFile(filepath.Join(dir, name+".history.csv")); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range []string{"a", "b"} {
		code, out, errOut := runCmd(context.Background(), trainArgs(filepath.Join(dir, name+".onnx"))...)
		if code != exitOK {
			t.Fatalf("train %s: exit %d\n%s%s", name, code, out, errOut)
		}
		if strings.ContainsAny(out, "\r\x1b") {
			t.Errorf("non-terminal progress has control characters: %q", out)
		}
	}
	ma, ha := files("a")
	mb, hb := files("b")
	if !bytes.Equal(ma, mb) {
		t.Error("same seed and threads gave different model files")
	}
	if !bytes.Equal(ha, hb) {
		t.Errorf("same seed and threads gave different histories:\n%s\n%s", ha, hb)
	}

	// Interrupted before the first step: the state is saved, the exit code
	// says so, and --resume ends with the same model.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := filepath.Join(dir, "c.onnx")
	code, _, errOut := runCmd(ctx, trainArgs(c)...)
	if code != exitInterrupted || !strings.Contains(errOut, "--resume") {
		t.Fatalf("interrupted run: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(c); err == nil {
		t.Fatal("an interrupted run wrote a model file")
	}
	if code, out, errOut := runCmd(context.Background(), trainArgs(c, "--resume")...); code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	mc, _ := files("c")
	if !bytes.Equal(ma, mc) {
		t.Error("resumed run ended with a different model file")
	}

	code, out, errOut := runCmd(context.Background(), "evaluate", "--model", filepath.Join(dir, "a.onnx"))
	if code != exitOK || !strings.Contains(out, "accuracy:") || !strings.Contains(out, "Ankle boot") {
		t.Errorf("evaluate: exit %d\n%s%s", code, out, errOut)
	}
}

func TestInterruptibleQuietWithoutSignal(t *testing.T) {
	// A run that ends by itself must not print the interrupt notice. (main
	// once cancelled its signal context on the way out, and the goroutine
	// that waited on that context then printed the notice: about 1 run in 200.)
	for range 100 {
		var buf bytes.Buffer
		ctx, release := interruptible(&buf)
		release()
		if buf.Len() != 0 {
			t.Fatalf("printed %q without a signal", buf.String())
		}
		if ctx.Err() == nil {
			t.Fatal("release left the context live")
		}
	}
}

func TestInterruptibleOnSignal(t *testing.T) {
	var buf syncBuffer
	ctx, release := interruptible(&buf)
	defer release()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
	if got := buf.String(); got != interruptNotice+"\n" {
		t.Errorf("wrote %q, want the notice", got)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
