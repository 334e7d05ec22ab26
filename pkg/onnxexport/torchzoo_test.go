//go:build cgo

package onnxexport

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fmkit/fmkit/pkg/onnx"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// torchZooDir holds the models testdata/gen/onnx/torch_zoo.py exports from PyTorch 1.13.
const torchZooDir = "../../testdata/onnx/torch_zoo"

// Tolerances of the torch zoo parity: the outputs are logits, probabilities or
// log-probabilities of magnitude below 10, summed in float32 by three engines in different
// orders (PyTorch's, onnxruntime's MLAS, ours); 1e-5 absolute plus 1e-5 relative.
const zooAtol, zooRtol = 1e-5, 1e-5

// TestTorchZooParity imports each PyTorch export of the zoo into the native engine and runs it
// on onnxruntime 1.24.1 (through the model gate, as fminfer does), on 4 real test images in
// the model's own input layout: the raw outputs of both match each other and PyTorch's.
func TestTorchZooParity(t *testing.T) {
	lib := ortLibrary(t)
	dirs, err := filepath.Glob(filepath.Join(torchZooDir, "*", "model.onnx"))
	if err != nil || len(dirs) < 15 {
		t.Fatalf("torch zoo: %d models (%v), want at least 15: run testdata/gen/onnx/torch_zoo.py", len(dirs), err)
	}
	worst, worstName := 0.0, ""
	for _, path := range dirs {
		dir := filepath.Dir(path)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			model, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tc, err := onnx.LoadTestDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			in, want := tc.DataSets[0].Inputs[0], tc.DataSets[0].Outputs[0]
			n := int(in.Dims[0])

			m, info, err := Import(model)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if !fmrt.IsImageLayout(shapeInt64(m.InputShape)) {
				t.Errorf("imported input shape %v is not an image layout", m.InputShape)
			}
			native, err := RunImported(m, info, in)
			if err != nil {
				t.Fatal(err)
			}
			p, err := fmrt.NewORT(model, fmrt.ORTOptions{Gate: onnx.GateOptions{}.Check, LibraryPath: lib, Warn: io.Discard, IntraOpThreads: 1})
			if err != nil {
				t.Fatalf("onnxruntime: %v", err)
			}
			defer p.Close()
			ort, err := p.Predict(in.Float, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want []float32
			}{{"native vs PyTorch", native[0].Float, want.Float}, {"onnxruntime vs PyTorch", ort, want.Float}, {"native vs onnxruntime", native[0].Float, ort}} {
				abs, rel, ok := onnx.Compare(c.got, c.want, zooAtol, zooRtol)
				if !ok {
					t.Errorf("%s: max abs %g, max rel %g beyond atol=rtol=%g", c.what, abs, rel, zooAtol)
				}
				if abs > worst {
					worst, worstName = abs, name+" "+c.what
				}
			}
		})
	}
	t.Logf("%d PyTorch models: largest |difference| %.3g (%s)", len(dirs), worst, worstName)
}

// TestTorchZooUpToDate regenerates the zoo with torch_zoo.py and compares it with the
// committed files byte for byte.
func TestTorchZooUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("exports 17 models with PyTorch")
	}
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, onnx").Run(); err != nil {
		t.Skipf("%s cannot import torch and onnx: %v", py, err)
	}
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	dir := t.TempDir()
	if out, err := exec.Command(py, "../../testdata/gen/onnx/torch_zoo.py", dir).CombinedOutput(); err != nil {
		t.Fatalf("torch_zoo.py: %v\n%s", err, out)
	}
	fresh, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.pb"))
	models, _ := filepath.Glob(filepath.Join(dir, "*", "model.onnx"))
	fresh = append(fresh, models...)
	if len(fresh) < 45 {
		t.Fatalf("torch_zoo.py wrote %d files", len(fresh))
	}
	for _, f := range fresh {
		rel, _ := filepath.Rel(dir, f)
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(torchZooDir, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("testdata/onnx/torch_zoo/%s is stale (err %v): rerun /usr/bin/python3 testdata/gen/onnx/torch_zoo.py", rel, err)
		}
	}
}
