package onnx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// verifyDir writes a backend-test directory: a model file (its bytes are the engine's
// business), one data set with one input and the expected outputs.
func verifyDir(t *testing.T, want ...*Tensor) string {
	t.Helper()
	dir := t.TempDir()
	ds := filepath.Join(dir, "test_data_set_0")
	if err := os.Mkdir(ds, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), []byte("model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTensorFile(filepath.Join(ds, "input_0.pb"), NewFloat("x", []int64{1, 2}, []float32{1, 2})); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if err := WriteTensorFile(filepath.Join(ds, "output_"+string(rune('0'+i))+".pb"), w); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestVerifyWrongShapeIsMismatch: an engine that runs but gives an output of another shape
// or type, or fewer outputs, makes a report with the output marked (a mismatch, with the
// reason), not an error; an engine that fails is an error.
func TestVerifyWrongShapeIsMismatch(t *testing.T) {
	want := NewFloat("y", []int64{1, 2}, []float32{0.25, 0.75})
	dir := verifyDir(t, want, NewFloat("z", []int64{1, 1}, []float32{3}))
	right := NewFloat("y", []int64{1, 2}, []float32{0.25, 0.75})
	for _, c := range []struct {
		name   string
		got    []*Tensor
		reason string // of output 1, "" when it matches
	}{
		{"all right", []*Tensor{right, NewFloat("z", []int64{1, 1}, []float32{3})}, ""},
		{"another shape", []*Tensor{right, NewFloat("z", []int64{1, 2}, []float32{3, 4})}, "got FLOAT[1 2], want FLOAT[1 1]"},
		{"another type", []*Tensor{right, NewInt64("z", []int64{1, 1}, []int64{3})}, "got INT64[1 1], want FLOAT[1 1]"},
		{"missing", []*Tensor{right}, "missing: the engine gave 1 outputs, 2 expected"},
	} {
		engine := func([]byte, []*Tensor) ([]*Tensor, error) { return c.got, nil }
		r, err := Verify(dir, engine)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		outs := r.DataSets[0].Outputs
		if len(outs) != 2 || !outs[0].OK || outs[0].Reason != "" || outs[0].MaxAbs != 0 {
			t.Errorf("%s: output 0 = %+v, want a match", c.name, outs)
			continue
		}
		o := outs[1]
		if c.reason == "" {
			if !r.OK || !o.OK || o.Reason != "" {
				t.Errorf("%s: %+v, want every output to match", c.name, r)
			}
			continue
		}
		if r.OK || o.OK || !strings.Contains(o.Reason, c.reason) || !math.IsInf(o.MaxAbs, 1) || !math.IsInf(r.MaxAbs, 1) || o.Dims[1] != 1 {
			t.Errorf("%s: output 1 %+v (report ok %v, max abs %v), want a mismatch saying %q", c.name, o, r.OK, r.MaxAbs, c.reason)
		}
	}
	failing := func([]byte, []*Tensor) ([]*Tensor, error) { return nil, errors.New("boom") }
	if _, err := Verify(dir, failing); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a failing engine: %v, want its error", err)
	}
}
