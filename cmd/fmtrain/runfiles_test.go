package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/internal/cli"
)

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestRunFilesStagedCommit: over an existing model the run writes the
// pending names, and commit puts the whole new set in place.
func TestRunFilesStagedCommit(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.fmk")
	final := []string{"m.ckpt", "m.curves.png", "m.fmk", "m.history.csv", "m.history.json"}
	for _, n := range final {
		os.WriteFile(filepath.Join(dir, n), []byte("old "+n), 0o644)
	}
	r := newRunFiles(out, "")
	if !r.staged || r.target() != r.pending || r.pending.ckpt != filepath.Join(dir, ".m.ckpt.pending") {
		t.Fatalf("not staged over an existing model: %+v", r)
	}
	if err := r.check(""); err != nil {
		t.Fatal(err)
	}
	if got := r.resumeFrom(); got != r.final.ckpt {
		t.Errorf("resumeFrom without a pending checkpoint = %s", got)
	}
	os.WriteFile(r.pending.ckpt, []byte("new m.ckpt"), 0o644) // what Fit checkpointed
	if got := r.resumeFrom(); got != r.pending.ckpt {
		t.Errorf("resumeFrom with a pending checkpoint = %s", got)
	}
	write := func(p, what string) error { return os.WriteFile(p, []byte(what), 0o644) }
	err := r.commit(func(s fileSet) error {
		for _, p := range []string{s.histJSON, s.histCSV, s.curves} {
			if !strings.HasSuffix(p, ".pending") {
				t.Errorf("history written to %s, not a pending name", p)
			}
			write(p, "new "+strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "."), ".pending"))
		}
		return nil
	}, func(p string) error {
		if p != r.pending.model {
			t.Errorf("model written to %s, want %s", p, r.pending.model)
		}
		return write(p, "new m.fmk")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := listNames(t, dir); !slices.Equal(got, final) {
		t.Errorf("after commit: %v, want %v", got, final)
	}
	for _, n := range final {
		if b, _ := os.ReadFile(filepath.Join(dir, n)); string(b) != "new "+n {
			t.Errorf("%s holds %q after commit", n, b)
		}
	}
}

// TestRunFilesUnstaged: with no model at --out the run writes the final
// names, and commit removes pending files it did not use.
func TestRunFilesUnstaged(t *testing.T) {
	dir := t.TempDir()
	r := newRunFiles(filepath.Join(dir, "m.onnx"), filepath.Join(dir, "state.ckpt"))
	if r.staged || r.target() != r.final || r.final.ckpt != filepath.Join(dir, "state.ckpt") {
		t.Fatalf("%+v", r)
	}
	os.WriteFile(r.pending.ckpt, []byte("spent"), 0o644)
	if err := r.commit(func(fileSet) error { return nil }, func(p string) error { return os.WriteFile(p, nil, 0o644) }); err != nil {
		t.Fatal(err)
	}
	if got := listNames(t, dir); !slices.Equal(got, []string{"m.onnx"}) {
		t.Errorf("after commit: %v", got)
	}
}

func TestRunFilesCheck(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.onnx")
	for _, c := range []struct {
		out, ckpt, bundle, msg string
	}{
		{out, out, "", "--out"},
		{out, filepath.Join(dir, "m.history.csv"), "", "the history file"},
		{out, filepath.Join(dir, ".", "m.curves.png"), "", "the training curves"},
		{out, filepath.Join(dir, "sub", "x.ckpt"), "", "does not exist"},
		{filepath.Join(dir, "model.onnx"), "", dir, "--bundle's model.onnx"},
	} {
		err := newRunFiles(c.out, c.ckpt).check(c.bundle)
		var ue cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("--checkpoint %q --bundle %q: got %v, want a usage error naming %s", c.ckpt, c.bundle, err, c.msg)
		}
	}
	os.Mkdir(filepath.Join(dir, "m.history.json"), 0o755)
	if err := newRunFiles(out, "").check(""); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a directory at the history path: %v", err)
	}
}
