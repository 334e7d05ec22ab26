package onnxexport

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/train"
)

// mixedSpec exercises every exportable layer kind besides the book's: 'same' padding,
// batch normalisation (after a conv and after a dense), average pooling with a stride,
// dropout in two places and a standalone ReLU.
const mixedSpec = "c8k3same:linear-bn-r-p2-x0.25-a2s1-c8k3s2:relu-f-d16:linear-bn-r-x0.5-d10"

// testModels returns the book model, the small model and the mixed model, with seeded
// random weights; the mixed model's batch-norm statistics and biases are made non-trivial
// so that a wrong mapping shows in the outputs.
func testModels(t testing.TB) map[string]*train.Model {
	t.Helper()
	mixed, err := train.BuildModel(mixedSpec, train.Shape{1, 28, 28}, train.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	rng := train.NewRNG(4)
	for _, p := range mixed.Params() {
		for i := range p.Data {
			switch {
			case strings.HasSuffix(p.Name, ".var"):
				p.Data[i] = float32(0.5 + rng.Float64())
			case strings.HasSuffix(p.Name, ".bias"), strings.HasSuffix(p.Name, ".mean"):
				p.Data[i] = float32(rng.NormFloat64() * 0.1)
			case strings.HasSuffix(p.Name, ".scale"):
				p.Data[i] = float32(1 + 0.2*rng.NormFloat64())
			}
		}
	}
	book, small := train.BookModel(train.NewRNG(1)), train.SmallModel(train.NewRNG(2))
	// Non-zero biases, so that a bias mapped to the wrong place shows.
	for _, m := range []*train.Model{book, small} {
		for _, p := range m.Params() {
			if strings.HasSuffix(p.Name, ".bias") {
				for i := range p.Data {
					p.Data[i] = float32(rng.NormFloat64() * 0.05)
				}
			}
		}
	}
	return map[string]*train.Model{"book": book, "small": small, "mixed": mixed}
}

var (
	testImagesOnce sync.Once
	testImages     []float32
	testImagesErr  error
)

// realImages returns the first n Fashion-MNIST test images scaled to [0, 1], or skips.
func realImages(t testing.TB, n int) []float32 {
	t.Helper()
	testImagesOnce.Do(func() {
		loc := fmnist.Locator{NoDownload: true}
		dir, err := loc.Locate("")
		if err != nil {
			testImagesErr = err
			return
		}
		set, err := loc.LoadTest(dir)
		if err != nil {
			testImagesErr = err
			return
		}
		const keep = 64
		testImages = make([]float32, keep*28*28)
		for i := 0; i < keep; i++ {
			fmnist.Scale(testImages[i*784:(i+1)*784], set.Image(i))
		}
	})
	if testImagesErr != nil {
		t.Skipf("Fashion-MNIST test set not available: %v", testImagesErr)
	}
	if n > len(testImages)/784 {
		t.Fatalf("realImages: %d images asked, %d kept", n, len(testImages)/784)
	}
	return testImages[:n*784]
}

func decodeProto(t testing.TB, b []byte) *onnxpb.ModelProto {
	t.Helper()
	mp := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, mp); err != nil {
		t.Fatal(err)
	}
	return mp
}

// TestExportPassesChecker exports the book, small and mixed models at every opset
// 13..17 and runs ONNX's full checker (strict shape inference included) on all of them.
func TestExportPassesChecker(t *testing.T) {
	py := onnxPython(t)
	dir := t.TempDir()
	var paths []string
	for name, m := range testModels(t) {
		for opset := MinExportOpset; opset <= MaxExportOpset; opset++ {
			p := filepath.Join(dir, name+"-opset"+strconv.Itoa(opset)+".onnx")
			if err := WriteModel(p, m, ExportOptions{Opset: opset, Logits: true}); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	script := filepath.Join("..", "..", "scripts", "onnx_check.py")
	out, err := exec.Command(py, append([]string{script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("checker: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), ": ok ("); got != len(paths) {
		t.Fatalf("checker passed %d of %d files:\n%s", got, len(paths), out)
	}
	t.Logf("%s", out)
}

// TestExportGraph checks the book model's graph: interface, node names and order, op
// types, attributes, initializer names, opset/IR pairs and metadata.
func TestExportGraph(t *testing.T) {
	m := testModels(t)["book"]
	for opset := MinExportOpset; opset <= MaxExportOpset; opset++ {
		b, err := Export(m, ExportOptions{Opset: opset, Metadata: map[string]string{"test_accuracy": "0.9123", "recipe": "adam lr=0.001"}})
		if err != nil {
			t.Fatal(err)
		}
		mp := decodeProto(t, b)
		wantIR := map[int]int64{13: 7, 14: 7, 15: 8, 16: 8, 17: 8}[opset]
		if mp.GetIrVersion() != wantIR || mp.GetOpsetImport()[0].GetVersion() != int64(opset) {
			t.Errorf("opset %d: ir_version %d opset %v", opset, mp.GetIrVersion(), mp.GetOpsetImport())
		}
		if opset != DefaultOpset {
			continue
		}
		g := mp.GetGraph()
		var ops []string
		for _, n := range g.GetNode() {
			ops = append(ops, n.GetName()+":"+n.GetOpType())
		}
		want := "conv1:Conv relu1:Relu pool1:MaxPool conv2:Conv relu2:Relu pool2:MaxPool conv3:Conv relu3:Relu " +
			"flatten:Flatten dense1:Gemm relu4:Relu dense2:Gemm softmax:Softmax"
		if got := strings.Join(ops, " "); got != want {
			t.Errorf("nodes:\n got %s\nwant %s", got, want)
		}
		last := g.GetNode()[len(g.GetNode())-1]
		if last.GetInput()[0] != LogitsName || last.GetOutput()[0] != ProbabilitiesName {
			t.Errorf("softmax %v -> %v", last.GetInput(), last.GetOutput())
		}
		for _, n := range g.GetNode() {
			if n.GetOpType() == "Gemm" {
				for _, a := range n.GetAttribute() {
					if a.GetName() == "transB" && a.GetI() != 1 {
						t.Errorf("%s: transB = %d", n.GetName(), a.GetI())
					}
				}
			}
		}
		var inits []string
		for _, it := range g.GetInitializer() {
			inits = append(inits, it.GetName())
			if len(it.GetRawData()) == 0 || len(it.GetFloatData()) != 0 {
				t.Errorf("initializer %s not stored as raw data", it.GetName())
			}
		}
		if got := strings.Join(inits, " "); got != "conv1.weight conv1.bias conv2.weight conv2.bias conv3.weight conv3.bias dense1.weight dense1.bias dense2.weight dense2.bias" {
			t.Errorf("initializers: %s", got)
		}
		in := g.GetInput()[0]
		dims := in.GetType().GetTensorType().GetShape().GetDim()
		if in.GetName() != InputName || len(dims) != 4 || dims[0].GetDimParam() != "N" || dims[1].GetDimValue() != 1 || dims[3].GetDimValue() != 28 {
			t.Errorf("input %v", in)
		}
		if len(g.GetOutput()) != 1 || g.GetOutput()[0].GetName() != ProbabilitiesName {
			t.Errorf("outputs %v", g.GetOutput())
		}
		meta := map[string]string{}
		var keys []string
		for _, p := range mp.GetMetadataProps() {
			meta[p.GetKey()] = p.GetValue()
			keys = append(keys, p.GetKey())
		}
		if !slices.IsSorted(keys) {
			t.Errorf("metadata keys not sorted: %v", keys)
		}
		if meta["test_accuracy"] != "0.9123" || meta["recipe"] != "adam lr=0.001" ||
			!strings.Contains(meta[MetaClassNames], `"Ankle boot"`) || !strings.Contains(meta[MetaPreprocessing], `"scale":0.00392156862745098`) {
			t.Errorf("metadata %v", meta)
		}
		if mp.GetProducerName() != "fmkit" || mp.GetProducerVersion() == "" || mp.GetDocString() == "" {
			t.Errorf("producer %q %q doc %q", mp.GetProducerName(), mp.GetProducerVersion(), mp.GetDocString())
		}
	}
}

// TestExportDeterministic: the same model and options give the same bytes, also for a
// clone of the model; another opset gives other bytes.
func TestExportDeterministic(t *testing.T) {
	for name, m := range testModels(t) {
		opt := ExportOptions{Logits: true, Metadata: map[string]string{"a": "1", "b": "2", "c": "3"}}
		b1, err := Export(m, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			b2, err := Export(m.Clone(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Fatalf("%s: export %d differs", name, i)
			}
		}
		opt.Opset = 15
		b3, _ := Export(m, opt)
		if bytes.Equal(b1, b3) {
			t.Errorf("%s: opsets 13 and 15 give the same bytes", name)
		}
	}
}

// TestExportErrors: bad options and models are refused with an *ExportError naming the
// option or layer.
func TestExportErrors(t *testing.T) {
	nan := train.SmallModel(train.NewRNG(1))
	nan.Params()[2].Data[7] = float32(math.NaN())
	noSoftmax, err := train.BuildModel("c4k3-f-d10:linear", train.Shape{1, 28, 28}, train.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	convSoftmax, err := train.BuildModel("c4k3:softmax", train.Shape{1, 8, 8}, train.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	book := train.BookModel(train.NewRNG(1))
	for _, tc := range []struct {
		name string
		m    *train.Model
		opt  ExportOptions
		want string
	}{
		{"opset 12", book, ExportOptions{Opset: 12}, "opset 12: want 13..17"},
		{"opset 18", book, ExportOptions{Opset: 18}, "opset 18: want 13..17"},
		{"NaN weight", nan, ExportOptions{}, "parameter conv2.weight[7] = NaN is not finite"},
		{"logits without softmax", noSoftmax, ExportOptions{Logits: true}, "no final softmax"},
		{"conv softmax", convSoftmax, ExportOptions{}, "layer conv1: a softmax fused into Conv2D"},
		{"reserved key", book, ExportOptions{Metadata: map[string]string{MetaClassNames: "[]"}}, `metadata key "class_names" is reserved`},
		{"class count", book, ExportOptions{ClassNames: []string{"a", "b"}}, "2 class names for an output of shape (10)"},
	} {
		_, err := Export(tc.m, tc.opt)
		var ee *ExportError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an *ExportError containing %q", tc.name, err, tc.want)
		}
	}
	// A model without a final softmax exports its output as logits.
	b, err := Export(noSoftmax, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if outs := decodeProto(t, b).GetGraph().GetOutput(); len(outs) != 1 || outs[0].GetName() != LogitsName {
		t.Errorf("no-softmax model outputs %v", outs)
	}
}

// TestWriteModelAtomic: WriteModel leaves no temporary file, replaces an existing file
// whole, and an export error leaves the old file untouched.
func TestWriteModelAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := train.SmallModel(train.NewRNG(1))
	if err := WriteModel(path, m, ExportOptions{Opset: 99}); err == nil {
		t.Fatal("opset 99 accepted")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("a failed export changed the file: %q", b)
	}
	if err := WriteModel(path, m, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := Export(m, ExportOptions{})
	if b, _ := os.ReadFile(path); !bytes.Equal(b, want) {
		t.Fatal("file differs from Export's bytes")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only m.onnx", len(entries))
	}
	if err := WriteModel(filepath.Join(dir, "no", "such", "dir.onnx"), m, ExportOptions{}); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}

// TestRoundTrip imports each exported model back: the weights are identical bit for bit
// and, on real test images, so are the outputs, except for the mixed model whose
// batch-norm epsilon (1e-3 in float64) is stored as float32 by ONNX (an ulp-level
// difference, bounded here by 1e-6). Re-exporting an imported dropout-free model gives the
// very same bytes.
func TestRoundTrip(t *testing.T) {
	x := realImages(t, 16)
	for name, m := range testModels(t) {
		for _, logits := range []bool{false, true} {
			opt := ExportOptions{Logits: logits, Metadata: map[string]string{"recipe": "test"}}
			b, err := Export(m, opt)
			if err != nil {
				t.Fatal(err)
			}
			im, info, err := Import(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := map[string]*train.Param{}
			for _, p := range im.Params() {
				got[p.Name] = p
			}
			for _, p := range m.Params() {
				q := got[p.Name]
				if q == nil || !slices.Equal(p.Shape, q.Shape) || !bitsEqual(p.Data, q.Data) {
					t.Fatalf("%s: parameter %s not preserved", name, p.Name)
				}
			}
			if len(got) != len(m.Params()) {
				t.Errorf("%s: %d parameters imported, %d exported", name, len(got), len(m.Params()))
			}
			if info.Metadata["recipe"] != "test" || info.ProducerName != "fmkit" || info.Opset != 13 || info.Input != InputName {
				t.Errorf("%s: info %+v", name, info)
			}
			if classes, err := info.ClassNames(); err != nil || len(classes) != 10 || classes[9] != "Ankle boot" {
				t.Errorf("%s: class names %v, %v", name, classes, err)
			}
			want := m.Predict(x, 16, nil)
			have := im.Predict(x, 16, nil)
			tol := 0.0
			if name == "mixed" {
				tol = 1e-6
			}
			if abs, _, ok := onnx.Compare(have, want, tol, 0); !ok || (tol == 0 && !bitsEqual(have, want)) {
				t.Errorf("%s: outputs differ by up to %g", name, abs)
			}
			outs, err := RunImported(im, info, onnx.NewFloat(InputName, []int64{16, 1, 28, 28}, x))
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != 1+btoi(logits) || outs[0].Name != ProbabilitiesName {
				t.Fatalf("%s: outputs %d, %q", name, len(outs), outs[0].Name)
			}
			if _, _, ok := onnx.Compare(outs[0].Float, want, tol, 0); !ok {
				t.Errorf("%s: RunImported's probabilities differ", name)
			}
			if logits {
				wl := m.Logits(x, 16, false)
				if outs[1].Name != LogitsName || !slices.Equal(outs[1].Dims, []int64{16, 10}) {
					t.Fatalf("%s: logits output %q %v", name, outs[1].Name, outs[1].Dims)
				}
				if _, _, ok := onnx.Compare(outs[1].Float, wl, tol*10, 0); !ok {
					t.Errorf("%s: logits differ", name)
				}
			}
			if name != "mixed" {
				b2, err := Export(im, opt)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, b2) {
					t.Errorf("%s: export(import(export(m))) differs from export(m)", name)
				}
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestWriteBundleVerify writes a model-zoo bundle of real test images and checks it with
// Verify through the native engine (exactly equal) and through the reference evaluator
// (within the default tolerances); a corrupted expected output must fail.
func TestWriteBundleVerify(t *testing.T) {
	x := realImages(t, 8)
	for name, m := range testModels(t) {
		dir := filepath.Join(t.TempDir(), name)
		if err := WriteBundle(dir, m, ExportOptions{Logits: true}, x, 8); err != nil {
			t.Fatal(err)
		}
		r, err := onnx.Verify(dir, NativeEngine)
		if err != nil {
			t.Fatal(err)
		}
		tol := 0.0
		if name == "mixed" {
			tol = 1e-6
		}
		if !r.OK || r.MaxAbs > tol || len(r.DataSets) != 1 || len(r.DataSets[0].Outputs) != 2 {
			t.Errorf("%s: native verify %+v", name, r)
		}
		r, err = onnx.Verify(dir, naiveEngine)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			t.Errorf("%s: reference evaluator: max abs %g rel %g", name, r.MaxAbs, r.MaxRel)
		}
		t.Logf("%s: reference evaluator vs native: max abs %.3g, max rel %.3g", name, r.MaxAbs, r.MaxRel)
		// Corrupt output_0 and check that Verify notices.
		p := filepath.Join(dir, "test_data_set_0", "output_0.pb")
		want, err := onnx.ReadTensorFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want.Float[3] += 1e-3
		if err := onnx.WriteTensorFile(p, want); err != nil {
			t.Fatal(err)
		}
		if r, err := onnx.Verify(dir, NativeEngine); err != nil || r.OK || r.MaxAbs < 9e-4 {
			t.Errorf("%s: corrupted output passed: %+v, %v", name, r, err)
		}
	}
	if err := WriteBundle(t.TempDir(), train.SmallModel(train.NewRNG(1)), ExportOptions{}, x[:100], 1); err == nil {
		t.Error("a short image buffer was accepted")
	}
}

// naiveEngine runs a model with the reference evaluator: an Engine for tests.
func naiveEngine(model []byte, inputs []*onnx.Tensor) ([]*onnx.Tensor, error) {
	g, err := onnx.DecodeModel(model)
	if err != nil {
		return nil, err
	}
	in := map[string]*onnx.Tensor{}
	for i, v := range g.Inputs {
		if i < len(inputs) {
			in[v.Name] = inputs[i]
		}
	}
	return onnx.EvalNaive(g, in)
}
