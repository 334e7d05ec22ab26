package onnx_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/onnxexport"
)

// cnnModel is tinyModel with its parts open to change: input (batch,1,28,28) -> Conv
// (filters 3x3) -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax. edit changes the
// message before it is encoded; the Gemm's K follows the pool's output.
func cnnModel(t testing.TB, batch onnx.Dim, filters int64, edit func(m *onnxpb.ModelProto)) []byte {
	t.Helper()
	m := tinyModel(1)
	g := m.Graph
	g.Input[0] = tensorValueInfo("input", onnx.Float, batch, onnx.Dim{Value: 1}, onnx.Dim{Value: 28}, onnx.Dim{Value: 28})
	rng := rand.New(rand.NewPCG(2, 2))
	g.Initializer = []*onnxpb.TensorProto{randTensor(rng, "conv1.weight", filters, 1, 3, 3).ToProto(),
		randTensor(rng, "conv1.bias", filters).ToProto(), randTensor(rng, "dense.weight", filters*13*13, 10).ToProto(),
		randTensor(rng, "dense.bias", 10).ToProto()}
	if edit != nil {
		edit(m)
	}
	b, err := encodeModel(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setAttr replaces (or adds) attribute a of the node named name.
func setAttr(m *onnxpb.ModelProto, name string, a *onnxpb.AttributeProto) {
	for _, n := range m.Graph.Node {
		if n.GetName() != name {
			continue
		}
		for i, old := range n.Attribute {
			if old.GetName() == a.GetName() {
				n.Attribute[i] = a
				return
			}
		}
		n.Attribute = append(n.Attribute, a)
		return
	}
	panic("no node " + name)
}

// reluChain is input (N,1,28,28) -> k Relu nodes -> output.
func reluChain(t testing.TB, k int) []byte {
	nodes := make([]*onnxpb.NodeProto, k)
	prev := "x"
	for i := range nodes {
		out := fmt.Sprintf("r%d", i)
		nodes[i] = node(fmt.Sprintf("relu%d", i), "Relu", []string{prev}, []string{out})
		prev = out
	}
	nodes[k-1].Output[0] = "y"
	return graphModel(t, 13, dims(1, 28, 28), []string{"y"}, nil, nodes...)
}

// TestGateRefuses maps each hostile model to the error the gate must give: the type, and
// words of the message naming the node, op and attribute (or the limit) at fault.
func TestGateRefuses(t *testing.T) {
	type errKind int
	const (
		model errKind = iota
		unsupported
		limit
		tensor
	)
	cases := []struct {
		name  string
		model []byte
		kind  errKind
		want  []string
	}{
		{"conv stride 0", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) { setAttr(m, "conv1", attrInts("strides", 0, 0)) }),
			model, []string{`node "conv1" (Conv)`, "strides", "[0] = 0, want > 0"}},
		{"maxpool stride 0", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) { setAttr(m, "pool1", attrInts("strides", 0, 0)) }),
			model, []string{`node "pool1" (MaxPool)`, "strides", "want > 0"}},
		{"conv pads -5", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) { setAttr(m, "conv1", attrInts("pads", -5, -5, -5, -5)) }),
			model, []string{`node "conv1" (Conv)`, "pads", "[0] = -5, want >= 0"}},
		{"conv bias of 7 for 32 channels", cnnModel(t, sym(), 32, func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[1] = onnx.NewFloat("conv1.bias", []int64{7}, make([]float32, 7)).ToProto()
		}), model, []string{`node "conv1" (Conv)`, "input 2", "B [7], want (32)"}},
		{"raw_data shorter than dims", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[1].RawData = m.Graph.Initializer[1].RawData[:8]
		}), tensor, []string{`tensor "conv1.bias"`, "raw_data", "8 bytes, want 16"}},
		{"fixed batch 2^40", cnnModel(t, fixed(1<<40), 4, nil), model, []string{`input "input"`, "[1099511627776 1 28 28]"}},
		{"fixed batch 2^31", cnnModel(t, fixed(1<<31), 4, nil), model, []string{`input "input"`, "[2147483648 1 28 28]"}},
		{"fixed batch 4096 of a 32-filter CNN", cnnModel(t, fixed(4096), 32, nil), limit,
			[]string{`node "conv1" (Conv)`, "FLOAT[4096 32 26 26]", "activation memory"}},
		{"pads 1500", cnnModel(t, sym(), 32, func(m *onnxpb.ModelProto) {
			setAttr(m, "conv1", attrInts("pads", 1500, 1500, 1500, 1500))
			setAttr(m, "pool1", attrInts("kernel_shape", 233, 233))
			setAttr(m, "pool1", attrInts("strides", 233, 233))
		}), limit, []string{`node "conv1" (Conv)`, "FLOAT[1 32 3026 3026]", "pads [1500 1500 1500 1500]", "activation memory"}},
		{"pads 3000", cnnModel(t, sym(), 32, func(m *onnxpb.ModelProto) { setAttr(m, "conv1", attrInts("pads", 3000, 3000, 3000, 3000)) }),
			limit, []string{`node "conv1" (Conv)`, "FLOAT[1 32 6026 6026]", "activation memory"}},
		{"pooling time bomb", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			setAttr(m, "pool1", attrInts("kernel_shape", 1000, 1000))
			setAttr(m, "pool1", attrInts("pads", 999, 999, 999, 999))
		}), limit, []string{`node "pool1" (MaxPool)`, "kernel_shape [1000 1000]", "operations"}},
		{"convolution workspace bomb", cnnModel(t, sym(), 1, func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0] = onnx.NewFloat("conv1.weight", []int64{1, 1, 400, 400}, make([]float32, 400*400)).ToProto()
			setAttr(m, "conv1", attrInts("kernel_shape", 400, 400))
			setAttr(m, "conv1", attrInts("pads", 399, 399, 399, 399))
		}), limit, []string{`node "conv1" (Conv)`, "estimated memory"}},
		{"auto_pad beside zero pads", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) { setAttr(m, "conv1", attrString("auto_pad", "SAME_UPPER")) }),
			model, []string{`node "conv1" (Conv)`, "pads", "together with auto_pad SAME_UPPER"}},
		{"output declared INT64", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			m.Graph.Output[0] = tensorValueInfo("probabilities", onnx.Int64, sym(), fixed(10))
		}), model, []string{`output "probabilities"`, "declared INT64, computed FLOAT"}},
		{"output declared with 5 classes", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			m.Graph.Output[0] = tensorValueInfo("probabilities", onnx.Float, sym(), fixed(5))
		}), model, []string{`output "probabilities"`, "dim 1 declared 5, computed 10"}},
		{"20,000 Relu nodes", reluChain(t, 20000), limit, []string{"graph", "20000 nodes", "limit of 4096"}},
		{"graph attribute", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			setAttr(m, "relu1", &onnxpb.AttributeProto{Name: proto.String("body"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: &onnxpb.GraphProto{}})
		}), unsupported, []string{`"relu1"`, "body", "holds a graph"}},
		{"model-local functions", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			m.Functions = []*onnxpb.FunctionProto{{Name: proto.String("f")}}
		}), unsupported, []string{"functions", "not supported"}},
		{"training info", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			m.TrainingInfo = []*onnxpb.TrainingInfoProto{{}}
		}), unsupported, []string{"training_info"}},
		{"op outside the claimed set", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) { m.Graph.Node[1].OpType = proto.String("Hardmax") }),
			unsupported, []string{`"relu1"`, `"Hardmax"`}},
		{"symbolic image size", cnnModel(t, sym(), 4, func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = tensorValueInfo("input", onnx.Float, sym(), fixed(1), onnx.Dim{Value: -1, Param: "H"}, fixed(28))
		}), unsupported, []string{`input "input"`, "dim 2 is H"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gd, err := onnx.Gate(tc.model, nil, onnx.GateOptions{})
			if err == nil {
				t.Fatalf("accepted (%d bytes per run, max batch %d)", gd.RunBytes, gd.MaxBatch)
			}
			t.Log(err)
			var me *onnx.InvalidError
			var ue *onnx.UnsupportedError
			var le *onnx.LimitError
			var te *onnx.TensorError
			ok := map[errKind]bool{model: errors.As(err, &me), unsupported: errors.As(err, &ue), limit: errors.As(err, &le), tensor: errors.As(err, &te)}[tc.kind]
			if !ok {
				t.Errorf("%T %v, want kind %d", err, err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\n does not say %q", err, w)
				}
			}
			// The native importer gives the same answer: one gate for both engines.
			if _, _, ierr := onnxexport.Import(tc.model); ierr == nil || ierr.Error() != err.Error() {
				t.Errorf("Import: %v, want the gate's error", ierr)
			}
		})
	}
}

// TestGateAccepts: good models pass, with the estimates the shapes imply, and the batch
// limit that follows from the memory limit.
func TestGateAccepts(t *testing.T) {
	// tinyModel: input 784 + conv 4x26x26 + relu 4x26x26 + pool 4x13x13 + flatten 676 +
	// logits 10 + probabilities 10 floats per image, no workspace larger than the conv's
	// 9 x 26 x 26 im2col floats.
	perImage := int64(4 * (784 + 2*4*26*26 + 2*4*13*13 + 10 + 10 + 9*26*26))
	b, err := encodeModel(tinyModel(1))
	if err != nil {
		t.Fatal(err)
	}
	gd, err := onnx.Gate(b, nil, onnx.GateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if gd.RunBytes != perImage || gd.FixedBatch != -1 || gd.MaxBatch != min(onnx.MaxGateBatch, onnx.DefaultMaxActivationBytes/perImage) {
		t.Errorf("RunBytes %d (want %d), FixedBatch %d, MaxBatch %d", gd.RunBytes, perImage, gd.FixedBatch, gd.MaxBatch)
	}
	limited, err := onnx.Gate(b, nil, onnx.GateOptions{MaxActivationBytes: 10 * perImage})
	if err != nil || limited.MaxBatch != 10 {
		t.Errorf("a limit of 10 images: %v, MaxBatch %d", err, limited.MaxBatch)
	}
	if _, err := onnx.Gate(b, nil, onnx.GateOptions{MaxActivationBytes: perImage - 1}); err == nil {
		t.Error("a limit one byte below one image accepted the model")
	}
	fixed3, err := onnx.Gate(cnnModel(t, fixed(3), 4, nil), nil, onnx.GateOptions{})
	if err != nil || fixed3.FixedBatch != 3 || fixed3.MaxBatch != 3 || fixed3.RunBytes <= 2*perImage {
		t.Errorf("fixed batch 3: %v, %+v", err, fixed3)
	}
	given, err := onnx.Gate(b, [][]int64{{5, 1, 28, 28}}, onnx.GateOptions{})
	if err != nil || given.MaxBatch != 5 || given.RunBytes < 5*(perImage-4*9*26*26) {
		t.Errorf("given shapes: %v, %+v", err, given)
	}
	if _, err := onnx.Gate(b, [][]int64{{5, 1, 27, 28}}, onnx.GateOptions{}); err == nil || !strings.Contains(err.Error(), "dim 2 is declared 28") {
		t.Errorf("a given shape the model does not take: %v", err)
	}
	for _, path := range []string{"../../testdata/onnx/tiny.onnx", torchBookDir + "/model.onnx", torchVariantsDir + "/model.onnx", "../../models/fmnist.onnx"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := onnx.Gate(data, nil, onnx.GateOptions{}); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestGateModelIsCanonical: the gate's model holds only what it checked (no doc strings,
// value_info or unknown fields), runs as the original does, and gating it again gives the
// same bytes.
func TestGateModelIsCanonical(t *testing.T) {
	m := tinyModel(3)
	m.Graph.ValueInfo = []*onnxpb.ValueInfoProto{tensorValueInfo("conv1.out", onnx.Float, fixed(99))} // a lie onnxruntime would read
	m.Graph.Node[0].DocString = proto.String("secret notes")
	m.Graph.Node[4].Attribute[0].Floats = []float32{1, 2, 3} // alpha, with a stray list beside its value
	b, err := encodeModel(m)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, 0xfa, 0x3e, 3, 'x', 'y', 'z') // field 999, unknown to onnx.proto
	gd, err := onnx.Gate(b, nil, onnx.GateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := decodeProto(t, gd.Model)
	if len(out.Graph.ValueInfo) != 0 || out.Graph.Node[0].DocString != nil || out.DocString != nil ||
		len(out.Graph.Node[4].Attribute[0].Floats) != 0 || len(out.ProtoReflect().GetUnknown()) != 0 {
		t.Errorf("the gate's model keeps what it did not check: %v", out)
	}
	again, err := onnx.Gate(gd.Model, nil, onnx.GateOptions{})
	if err != nil || !bytes.Equal(again.Model, gd.Model) {
		t.Errorf("gating the gate's model: %v, same bytes %v", err, err == nil && bytes.Equal(again.Model, gd.Model))
	}
	x := realImages(t, 4)
	want, err := onnxexport.NativeEngine(b, []*onnx.Tensor{onnx.NewFloat("input", []int64{4, 1, 28, 28}, x)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := onnxexport.NativeEngine(gd.Model, []*onnx.Tensor{onnx.NewFloat("input", []int64{4, 1, 28, 28}, x)})
	if err != nil {
		t.Fatal(err)
	}
	if !bitsEqual(got[0].Float, want[0].Float) {
		t.Error("the gate's model computes something else")
	}
}

// externalModel is tinyModel with dense.bias (10 floats) stored outside, per entries.
func externalModel(t *testing.T, entries ...string) []byte {
	t.Helper()
	m := tinyModel(1)
	for _, tp := range m.Graph.Initializer {
		if tp.GetName() == "dense.bias" {
			tp.RawData = nil
			tp.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			for i := 0; i+1 < len(entries); i += 2 {
				tp.ExternalData = append(tp.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(entries[i]), Value: proto.String(entries[i+1])})
			}
		}
	}
	b, err := encodeModel(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGateExternalData: external data is refused without a directory; with one, it is read
// from inside it only, and the gate's model holds it inline. Messages never tell the size
// or content of a file outside the directory.
func TestGateExternalData(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "allowed")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bias := make([]byte, 40)
	for i := range 10 {
		copy(bias[4*i:], onnx.NewFloat("", []int64{1}, []float32{float32(i) / 8}).ToProto().RawData)
	}
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "bias.bin"), bias)
	write(filepath.Join(dir, "padded.bin"), append(append([]byte("HEADER.."), bias...), "TRAILER"...))
	secret := append([]byte("s3cr3t-p4ssw0rd-do-not-leak!"), make([]byte, 12)...) // 40 bytes, like a bias
	write(filepath.Join(root, "secret"), secret)
	if err := os.Symlink(filepath.Join(root, "secret"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("bias.bin", filepath.Join(dir, "inner-link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}

	refused := externalModel(t, "location", "bias.bin")
	_, err := onnx.Gate(refused, nil, onnx.GateOptions{})
	if !errors.Is(err, onnx.ErrExternalData) || !strings.Contains(err.Error(), `"dense.bias"`) {
		t.Errorf("no directory: %v, want ErrExternalData naming dense.bias", err)
	}

	for _, tc := range []struct {
		name    string
		entries []string
		want    string // "" for accepted
	}{
		{"plain", []string{"location", "bias.bin"}, ""},
		{"offset and length", []string{"location", "padded.bin", "offset", "8", "length", "40"}, ""},
		{"link inside", []string{"location", "inner-link"}, ""},
		{"dot-dot", []string{"location", "../secret"}, "leaves the external data directory"},
		{"dot-dot inside", []string{"location", "sub/../../secret"}, "leaves the external data directory"},
		{"deep dot-dot", []string{"location", "../../../../../../etc/passwd"}, "leaves the external data directory"},
		{"absolute", []string{"location", filepath.Join(root, "secret")}, "absolute path"},
		{"link out", []string{"location", "link"}, "escapes"},
		{"fifo", []string{"location", "fifo"}, "not a regular file"},
		{"directory", []string{"location", "sub"}, "not a regular file"},
		{"missing", []string{"location", "nothing.bin"}, "no such file"},
		{"beyond the end", []string{"location", "bias.bin", "offset", "8"}, "beyond the end"},
		{"length too short", []string{"location", "padded.bin", "length", "36"}, "need 40 bytes"},
		{"no length, longer file", []string{"location", "padded.bin"}, "does not hold exactly"},
		{"negative offset", []string{"location", "bias.bin", "offset", "-8"}, "non-negative"},
		{"huge offset", []string{"location", "bias.bin", "offset", "9223372036854775807"}, "beyond the end"},
		{"no location", []string{"offset", "0"}, "no location"},
		{"unknown key", []string{"location", "bias.bin", "basepath", "/"}, "unknown key"},
		{"key twice", []string{"location", "bias.bin", "location", "../secret"}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gd, err := onnx.Gate(externalModel(t, tc.entries...), nil, onnx.GateOptions{ExternalDataDir: dir})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				out := decodeProto(t, gd.Model)
				for _, tp := range out.Graph.Initializer {
					if tp.GetName() == "dense.bias" && (!bytes.Equal(tp.RawData, bias) || tp.DataLocation != nil || len(tp.ExternalData) != 0) {
						t.Errorf("dense.bias not inlined: %v", tp)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			t.Log(err)
			msg := err.Error()
			if strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "40 bytes") && strings.Contains(tc.name, "link") {
				t.Errorf("the message tells about the file outside: %s", msg)
			}
		})
	}
}
