package onnx

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/onnxpb"
)

// tinyModel builds input (N,1,28,28) -> Conv 4x3x3 -> Relu -> MaxPool 2x2 -> Flatten ->
// Gemm 676x10 -> Softmax -> probabilities, opset 13, IR version 7, with deterministic
// pseudo-random weights from seed.
func tinyModel(seed uint64) *onnxpb.ModelProto {
	rng := rand.New(rand.NewPCG(seed, 1))
	randT := func(name string, dims ...int64) *Tensor {
		v := make([]float32, prod(dims))
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.1)
		}
		return NewFloat(name, dims, v)
	}
	inits := []*Tensor{randT("conv1.weight", 4, 1, 3, 3), randT("conv1.bias", 4),
		randT("dense.weight", 4*13*13, 10), randT("dense.bias", 10)}
	g := &onnxpb.GraphProto{
		Name: proto.String("tiny"),
		Input: []*onnxpb.ValueInfoProto{tensorValueInfo("input", Float,
			Dim{Value: -1, Param: "N"}, Dim{Value: 1}, Dim{Value: 28}, Dim{Value: 28})},
		Output: []*onnxpb.ValueInfoProto{tensorValueInfo("probabilities", Float, Dim{Value: -1, Param: "N"}, Dim{Value: 10})},
		Node: []*onnxpb.NodeProto{
			node("conv1", "Conv", []string{"input", "conv1.weight", "conv1.bias"}, []string{"conv1.out"},
				attrInts("kernel_shape", 3, 3), attrInts("strides", 1, 1), attrInts("pads", 0, 0, 0, 0)),
			node("relu1", "Relu", []string{"conv1.out"}, []string{"relu1.out"}),
			node("pool1", "MaxPool", []string{"relu1.out"}, []string{"pool1.out"},
				attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)),
			node("flatten", "Flatten", []string{"pool1.out"}, []string{"flatten.out"}, attrInt("axis", 1)),
			node("dense", "Gemm", []string{"flatten.out", "dense.weight", "dense.bias"}, []string{"logits"},
				attrFloat("alpha", 1), attrFloat("beta", 1)),
			node("softmax", "Softmax", []string{"logits"}, []string{"probabilities"}, attrInt("axis", -1)),
		},
	}
	for _, t := range inits {
		g.Initializer = append(g.Initializer, t.ToProto())
	}
	return &onnxpb.ModelProto{
		IrVersion:       proto.Int64(7),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		ProducerName:    proto.String("fmkit"),
		ProducerVersion: proto.String("test"),
		DocString:       proto.String("tiny CNN built by onnxexport's tests"),
		MetadataProps:   []*onnxpb.StringStringEntryProto{{Key: proto.String("source"), Value: proto.String("build_test.go")}},
		Graph:           g,
	}
}

// onnxPython returns Debian's python with the onnx module, or skips.
func onnxPython(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("%s cannot import onnx (install python3-onnx): %v", py, err)
	}
	return py
}

// TestTinyModelPassesChecker writes the tiny model and runs ONNX's full checker on it, and
// checks that the checker does reject a broken copy (so the test can fail).
func TestTinyModelPassesChecker(t *testing.T) {
	py := onnxPython(t)
	dir := t.TempDir()
	good, err := encodeModel(tinyModel(1))
	if err != nil {
		t.Fatal(err)
	}
	broken := tinyModel(1)
	broken.Graph.Node[1].Input[0] = "no_such_value"
	bad, err := encodeModel(broken)
	if err != nil {
		t.Fatal(err)
	}
	goodPath, badPath := filepath.Join(dir, "tiny.onnx"), filepath.Join(dir, "broken.onnx")
	if err := atomicfile.WriteFile(goodPath, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(badPath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("..", "..", "scripts", "onnx_check.py")
	if out, err := exec.Command(py, script, goodPath).CombinedOutput(); err != nil {
		t.Fatalf("checker rejected the tiny model: %v\n%s", err, out)
	}
	out, err := exec.Command(py, script, badPath).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "FAIL") {
		t.Fatalf("checker accepted a model with an undefined input: %v\n%s", err, out)
	}
}

// TestTinyModelLowersAndRuns decodes the tiny model, infers its shapes for a batch of 3
// and evaluates it: the probabilities of each row must be positive and sum to 1.
func TestTinyModelLowersAndRuns(t *testing.T) {
	b, err := encodeModel(tinyModel(2))
	if err != nil {
		t.Fatal(err)
	}
	g, err := DecodeModel(b)
	if err != nil {
		t.Fatal(err)
	}
	types, err := g.InferShapes(map[string][]int64{"input": {3, 1, 28, 28}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]int64{"conv1.out": {3, 4, 26, 26}, "pool1.out": {3, 4, 13, 13},
		"flatten.out": {3, 676}, "probabilities": {3, 10}} {
		if got := types[name].Shape; !equalInts(got, want) {
			t.Errorf("%s: shape %v, want %v", name, got, want)
		}
	}
	x := make([]float32, 3*28*28)
	for i := range x {
		x[i] = float32(i%251) / 251
	}
	out, err := EvalNaive(g, map[string]*Tensor{"input": NewFloat("input", []int64{3, 1, 28, 28}, x)})
	if err != nil {
		t.Fatal(err)
	}
	p := out[0]
	if p.Name != "probabilities" || !equalInts(p.Dims, []int64{3, 10}) {
		t.Fatalf("output %q %v", p.Name, p.Dims)
	}
	for r := 0; r < 3; r++ {
		sum := 0.0
		for _, v := range p.Float[r*10 : r*10+10] {
			if !(v > 0) {
				t.Errorf("row %d: probability %v", r, v)
			}
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("row %d sums to %v", r, sum)
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWriteTinyModelSeed keeps testdata/onnx/tiny.onnx (a fuzz seed) equal to tinyModel(1);
// with FMKIT_UPDATE_TESTDATA=1 it rewrites it.
func TestWriteTinyModelSeed(t *testing.T) {
	b, err := encodeModel(tinyModel(1))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "testdata", "onnx", "tiny.onnx")
	if os.Getenv("FMKIT_UPDATE_TESTDATA") == "1" {
		if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with FMKIT_UPDATE_TESTDATA=1 go test -run TestWriteTinyModelSeed)", err)
	}
	if string(have) != string(b) {
		t.Fatalf("%s is stale: regenerate with FMKIT_UPDATE_TESTDATA=1 go test -run TestWriteTinyModelSeed", path)
	}
}
