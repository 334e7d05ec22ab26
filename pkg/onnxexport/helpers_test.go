package onnxexport

import (
	"os/exec"
	"testing"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/pkg/onnx"
)

// Short names for internal/onnxpb's builders, for tests that write models by hand.
var (
	node       = onnxpb.Node
	attrInt    = onnxpb.AttrInt
	attrInts   = onnxpb.AttrInts
	attrFloat  = onnxpb.AttrFloat
	attrString = onnxpb.AttrString
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

// onnxPython returns Debian's python with the onnx module, or skips.
func onnxPython(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("%s cannot import onnx (install python3-onnx): %v", py, err)
	}
	return py
}

// prod is the product of dims.
func prod(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}
