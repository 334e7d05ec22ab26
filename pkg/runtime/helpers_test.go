package runtime

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// testdataDir holds the models written by testdata/gen/runtime/make_models.py.
const testdataDir = "../../testdata/runtime"

// fashionTest is the Fashion-MNIST test set as Debian's dataset-fashion-mnist installs it.
const fashionTest = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

// fashionImages returns the first n Fashion-MNIST test images as NCHW float32 in [0,1]
// (pixel/255), read with a minimal IDX reader so this package does not depend on pkg/fmnist.
func fashionImages(tb testing.TB, n int) []float32 {
	tb.Helper()
	f, err := os.Open(fashionTest)
	if err != nil {
		tb.Fatalf("real data missing (run make setup): %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var hdr [16]byte
	if _, err := io.ReadFull(zr, hdr[:]); err != nil {
		tb.Fatal(err)
	}
	magic := binary.BigEndian.Uint32(hdr[0:])
	count := int(binary.BigEndian.Uint32(hdr[4:]))
	rows := binary.BigEndian.Uint32(hdr[8:])
	cols := binary.BigEndian.Uint32(hdr[12:])
	if magic != 0x803 || rows != Height || cols != Width || count < n {
		tb.Fatalf("%s: unexpected header magic=%#x count=%d rows=%d cols=%d", fashionTest, magic, count, rows, cols)
	}
	raw := make([]byte, n*PixelsPerImage)
	if _, err := io.ReadFull(zr, raw); err != nil {
		tb.Fatal(err)
	}
	x := make([]float32, len(raw))
	for i, b := range raw {
		x[i] = float32(b) / 255
	}
	return x
}

// tinyWeights rebuilds tiny.onnx's Gemm weights (784x10, row-major) and bias from the formulas
// in make_models.py: W[i][j] = float32(((i*7+j*13)%23-11)/100), b[j] = float32((j-4.5)/10).
func tinyWeights() (w []float32, b []float32) {
	w = make([]float32, PixelsPerImage*NumClasses)
	for i := range PixelsPerImage {
		for j := range NumClasses {
			w[i*NumClasses+j] = float32(float64((i*7+j*13)%23-11) / 100)
		}
	}
	b = make([]float32, NumClasses)
	for j := range b {
		b[j] = float32((float64(j) - 4.5) / 10)
	}
	return w, b
}

// softmax64 writes the softmax of logits (float64, max-subtracted) into out.
func softmax64(logits []float64, out []float64) {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, v)
	}
	var s float64
	for j, v := range logits {
		out[j] = math.Exp(v - m)
		s += out[j]
	}
	for j := range out {
		out[j] /= s
	}
}

// tinyReference computes tiny.onnx (Flatten -> Gemm -> Softmax) in float64.
func tinyReference(x []float32, n int) []float64 {
	w, b := tinyWeights()
	out := make([]float64, n*NumClasses)
	logits := make([]float64, NumClasses)
	for k := range n {
		img := x[k*PixelsPerImage : (k+1)*PixelsPerImage]
		for j := range NumClasses {
			acc := float64(b[j])
			for i, v := range img {
				acc += float64(v) * float64(w[i*NumClasses+j])
			}
			logits[j] = acc
		}
		softmax64(logits, out[k*NumClasses:(k+1)*NumClasses])
	}
	return out
}

// first10Reference computes the small models' graph (softmax of each image's first 10 pixels).
func first10Reference(x []float32, n int) []float64 {
	out := make([]float64, n*NumClasses)
	logits := make([]float64, NumClasses)
	for k := range n {
		for j := range NumClasses {
			logits[j] = float64(x[k*PixelsPerImage+j])
		}
		softmax64(logits, out[k*NumClasses:(k+1)*NumClasses])
	}
	return out
}

// maxAbsDiff returns max |got[i]-want[i]|, or +Inf if the lengths differ.
func maxAbsDiff(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d float64
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

// refForwarder is a pure-Go Forwarder running tiny.onnx's graph. Like the native engine it is
// not safe for concurrent use: it keeps a scratch buffer, so the race detector catches a
// wrapper that fails to serialise.
type refForwarder struct {
	w, b    []float32
	scratch []float32
	closed  int
}

func newRefForwarder() *refForwarder {
	w, b := tinyWeights()
	return &refForwarder{w: w, b: b, scratch: make([]float32, NumClasses)}
}

func (f *refForwarder) Predict(x []float32, n int, dst []float32) []float32 {
	if cap(dst) < n*NumClasses {
		dst = make([]float32, n*NumClasses)
	}
	dst = dst[:n*NumClasses]
	logits := make([]float64, NumClasses)
	probs := make([]float64, NumClasses)
	for k := range n {
		for j := range NumClasses {
			f.scratch[j] = f.b[j]
		}
		img := x[k*PixelsPerImage : (k+1)*PixelsPerImage]
		for i, v := range img {
			row := f.w[i*NumClasses : (i+1)*NumClasses]
			for j := range NumClasses {
				f.scratch[j] += v * row[j]
			}
		}
		for j := range NumClasses {
			logits[j] = float64(f.scratch[j])
		}
		softmax64(logits, probs)
		for j := range NumClasses {
			dst[k*NumClasses+j] = float32(probs[j])
		}
	}
	return dst
}

func (f *refForwarder) Close() error { f.closed++; return nil }

// TestModelsUpToDate regenerates the test models with make_models.py and compares them with
// the committed files, so a stale model or an edited script without regenerated files fails.
func TestModelsUpToDate(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx, numpy").Run(); err != nil {
		t.Skipf("%s cannot import onnx and numpy (run make setup): %v", py, err)
	}
	dir := t.TempDir()
	cmd := exec.Command(py, "../../testdata/gen/runtime/make_models.py", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_models.py: %v\n%s", err, out)
	}
	fresh, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if err != nil || len(fresh) == 0 {
		t.Fatalf("make_models.py wrote nothing (%v)", err)
	}
	committed, _ := filepath.Glob(filepath.Join(testdataDir, "*.onnx"))
	if len(committed) != len(fresh) {
		t.Errorf("testdata/runtime has %d models, make_models.py writes %d", len(committed), len(fresh))
	}
	for _, p := range fresh {
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(testdataDir, filepath.Base(p)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/runtime/%s is stale (err %v): rerun /usr/bin/python3 testdata/gen/runtime/make_models.py testdata/runtime", filepath.Base(p), err)
		}
	}
}

// trustGate lets every model through unchanged, with no batch limit. pkg/runtime does not
// import the real gate (pkg/onnx), and its tests load only the models of testdataDir; the
// real gate is tested with onnxruntime in pkg/onnx (FuzzGateORT) and internal/e2e.
func trustGate(model []byte, inputs [][]int64) ([]byte, int, error) { return model, 0, nil }

// addModelSeeds seeds a fuzz target with every model of testdataDir.
func addModelSeeds(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testdataDir, "*.onnx"))
	if len(seeds) == 0 {
		f.Fatalf("no seed models in %s", testdataDir)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}
