package onnx_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnx"
)

// Helpers of the external tests; pkg/onnxexport's tests keep the same ones for their own
// hand-written models.

var (
	node       = onnxpb.Node
	attrInt    = onnxpb.AttrInt
	attrInts   = onnxpb.AttrInts
	attrFloat  = onnxpb.AttrFloat
	attrString = onnxpb.AttrString
	tinyModel  = onnx.TinyModel
)

const (
	backendNodeDir   = onnx.BackendNodeDir
	torchBookDir     = "../../testdata/onnx/torch_book"
	torchVariantsDir = "../../testdata/onnx/torch_variants"
)

// tensorValueInfo declares a tensor graph input or output; a Dim with Value < 0 and a
// Param is symbolic (e.g. the batch "N").
func tensorValueInfo(name string, dt onnx.DataType, dims ...onnx.Dim) *onnxpb.ValueInfoProto {
	pd := make([]onnxpb.Dim, len(dims))
	for i, d := range dims {
		pd[i] = onnxpb.Dim{Value: d.Value, Param: d.Param}
	}
	return onnxpb.TensorValueInfo(name, int32(dt), pd...)
}

func attrTensor(name string, t *onnx.Tensor) *onnxpb.AttributeProto {
	return onnxpb.AttrTensor(name, t.ToProto())
}

// encodeModel serializes m deterministically (same model, same bytes).
func encodeModel(m *onnxpb.ModelProto) ([]byte, error) { return onnxpb.Marshal(m) }

// ptr returns a pointer to a copy of v, for proto2 optional fields.
func ptr[T any](v T) *T { return &v }

// graphModel builds a serialized model: one float input with the given dims, the named
// outputs (type only), initializers and nodes.
func graphModel(t testing.TB, opset int64, in []onnx.Dim, outs []string, inits []*onnx.Tensor, nodes ...*onnxpb.NodeProto) []byte {
	t.Helper()
	g := &onnxpb.GraphProto{Name: proto.String("test"), Node: nodes,
		Input: []*onnxpb.ValueInfoProto{tensorValueInfo("x", onnx.Float, in...)}}
	for _, o := range outs {
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(o), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.Float))}}}})
	}
	for _, it := range inits {
		g.Initializer = append(g.Initializer, it.ToProto())
	}
	ir := int64(7)
	if opset < 13 {
		ir = 6
	}
	b, err := encodeModel(&onnxpb.ModelProto{IrVersion: proto.Int64(ir), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randTensor(rng *rand.Rand, name string, dims ...int64) *onnx.Tensor {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * 0.3)
	}
	return onnx.NewFloat(name, dims, v)
}

func ints(name string, v ...int64) *onnx.Tensor {
	return onnx.NewInt64(name, []int64{int64(len(v))}, v)
}

func sym() onnx.Dim          { return onnx.Dim{Value: -1, Param: "N"} }
func fixed(v int64) onnx.Dim { return onnx.Dim{Value: v} }
func dims(v ...int64) []onnx.Dim {
	d := []onnx.Dim{sym()}
	for _, x := range v {
		d = append(d, fixed(x))
	}
	return d
}

func decodeProto(t testing.TB, b []byte) *onnxpb.ModelProto {
	t.Helper()
	mp := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, mp); err != nil {
		t.Fatal(err)
	}
	return mp
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
