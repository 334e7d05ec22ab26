//go:build cgo

package runtime

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestORTGate: onnxruntime sees only what the gate returns, a refusal is a *LoadError that
// wraps the gate's error, and no gate at all is refused before the library is touched.
func TestORTGate(t *testing.T) {
	tiny, err := os.ReadFile(modelPath("tiny.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	refusal := errors.New("node \"conv1\" (Conv): strides: [0] = 0, want > 0")
	t.Run("no gate", func(t *testing.T) {
		for _, run := range []func() error{
			func() error { _, err := NewORT(tiny, ORTOptions{}); return err },
			func() error { _, err := OpenORT(modelPath("tiny.onnx"), ORTOptions{}); return err },
			func() error { _, err := RunGeneric(tiny, nil, ORTOptions{}); return err },
		} {
			var me *LoadError
			if err := run(); !errors.As(err, &me) || !strings.Contains(err.Error(), "no model gate") {
				t.Errorf("got %v, want a *LoadError about the missing gate", err)
			}
		}
	})
	t.Run("refusal", func(t *testing.T) {
		gate := func([]byte, [][]int64) ([]byte, int, error) { return nil, 0, refusal }
		_, err := NewORT(tiny, ORTOptions{Gate: gate, ModelName: "m.onnx"})
		var me *LoadError
		if !errors.As(err, &me) || !errors.Is(err, refusal) || me.Model != "m.onnx" || !strings.Contains(err.Error(), "strides") {
			t.Errorf("NewORT: %v, want a *LoadError for m.onnx wrapping the gate's error", err)
		}
		if _, err := RunGeneric(tiny, nil, ORTOptions{Gate: gate}); !errors.Is(err, refusal) {
			t.Errorf("RunGeneric: %v, want the gate's error", err)
		}
	})
	t.Run("the gate's bytes run", func(t *testing.T) {
		// Garbage in, tiny.onnx out of the gate: the predictor must be tiny's.
		var seen [][]int64
		gate := func(b []byte, in [][]int64) ([]byte, int, error) { seen = in; return tiny, 0, nil }
		p, err := NewORT([]byte("not a model at all"), ORTOptions{Gate: gate, IntraOpThreads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		x := fashionImages(t, 2)
		got, err := p.Predict(x, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got, tinyReference(x, 2)); d > tolerance {
			t.Errorf("maxdiff %.3g against tiny.onnx's reference", d)
		}
		if seen != nil {
			t.Errorf("NewORT passed input shapes %v to the gate, want nil", seen)
		}
		in := []Tensor{{Name: "input", Shape: []int64{2, 1, 28, 28}, Data: x}}
		if _, err := RunGeneric([]byte("garbage"), in, ORTOptions{Gate: gate}); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 || len(seen[0]) != 4 || seen[0][0] != 2 {
			t.Errorf("RunGeneric passed input shapes %v to the gate, want [[2 1 28 28]]", seen)
		}
	})
	t.Run("max batch", func(t *testing.T) {
		gate := func(b []byte, _ [][]int64) ([]byte, int, error) { return b, 3, nil }
		p, err := NewORT(tiny, ORTOptions{Gate: gate, IntraOpThreads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if p.Info().MaxBatch != 3 {
			t.Errorf("Info().MaxBatch = %d, want 3", p.Info().MaxBatch)
		}
		x := fashionImages(t, 10)
		got, err := p.Predict(x, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got, tinyReference(x, 10)); d > tolerance {
			t.Errorf("10 images in runs of 3: maxdiff %.3g", d)
		}
	})
	t.Run("shape and data disagree", func(t *testing.T) {
		in := []Tensor{{Name: "input", Shape: []int64{1 << 40, 1 << 40}, Data: make([]float32, 4)}}
		if _, err := RunGeneric(tiny, in, ORTOptions{Gate: trustGate}); err == nil || !strings.Contains(err.Error(), "does not hold") {
			t.Errorf("got %v", err)
		}
	})
}
