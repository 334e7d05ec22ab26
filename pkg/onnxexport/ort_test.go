//go:build cgo

package onnxexport

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmkit/fmkit/pkg/onnx"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// ortLibrary returns the onnxruntime 1.24.1 library to test against, or skips.
func ortLibrary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")
	if p == "" {
		p = filepath.Join("..", "..", ".cache", "onnxruntime", "1.24.1", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("onnxruntime library not available: %v", err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// ortPredict runs model on n images of 1x28x28 with onnxruntime and returns the
// probabilities.
func ortPredict(t *testing.T, lib string, model []byte, x []float32, n int) []float32 {
	t.Helper()
	p, err := fmrt.NewORT(model, fmrt.ORTOptions{Gate: onnx.GateOptions{}.Check, LibraryPath: lib, Warn: io.Discard, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	y, err := p.Predict(x, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// TestORTMatchesNativeOnExports runs our exports of the book, small and mixed models
// (random weights) in onnxruntime 1.24.1 on 64 real test images, at the lowest and highest
// opset: the probabilities match the native engine's within 1e-5 (absolute; two float32
// engines summing in different orders).
func TestORTMatchesNativeOnExports(t *testing.T) {
	lib := ortLibrary(t)
	const n = 64
	x := realImages(t, n)
	for name, m := range testModels(t) {
		want := m.Predict(x, n, nil)
		for _, opset := range []int{MinExportOpset, MaxExportOpset} {
			b, err := Export(m, ExportOptions{Opset: opset, Logits: true})
			if err != nil {
				t.Fatal(err)
			}
			got := ortPredict(t, lib, b, x, n)
			abs, rel, ok := onnx.Compare(got, want, 1e-5, 0)
			if !ok {
				t.Errorf("%s opset %d: onnxruntime vs native: max abs %g, max rel %g", name, opset, abs, rel)
			}
			t.Logf("%s opset %d: onnxruntime vs native on %d real images: max abs %.3g, max rel %.3g", name, opset, n, abs, rel)
		}
	}
}

// TestORTMatchesTorch runs PyTorch's export of the book model in onnxruntime: it matches
// torch's outputs and the native engine's within 1e-5.
func TestORTMatchesTorch(t *testing.T) {
	lib := ortLibrary(t)
	for _, dir := range []string{torchBookDir, torchVariantsDir} {
		tc, err := onnx.LoadTestDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		model, err := os.ReadFile(tc.ModelPath)
		if err != nil {
			t.Fatal(err)
		}
		in, want := tc.DataSets[0].Inputs[0], tc.DataSets[0].Outputs[0]
		n := int(in.Dims[0])
		got := ortPredict(t, lib, model, in.Float, n)
		abs, rel, ok := onnx.Compare(got, want.Float, 1e-5, 0)
		if !ok {
			t.Errorf("%s: onnxruntime vs torch: max abs %g rel %g", dir, abs, rel)
		}
		native, err := NativeEngine(model, []*onnx.Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		abs2, rel2, ok := onnx.Compare(got, native[0].Float, 1e-5, 0)
		if !ok {
			t.Errorf("%s: onnxruntime vs native: max abs %g rel %g", dir, abs2, rel2)
		}
		t.Logf("%s: onnxruntime vs torch max abs %.3g; vs native max abs %.3g (rel %.3g)", dir, abs, abs2, rel2)
	}
}
