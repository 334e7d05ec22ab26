package onnx

import (
	"github.com/fmkit/fmkit/internal/onnxpb"
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
func tensorValueInfo(name string, dt DataType, dims ...Dim) *onnxpb.ValueInfoProto {
	pd := make([]onnxpb.Dim, len(dims))
	for i, d := range dims {
		pd[i] = onnxpb.Dim{Value: d.Value, Param: d.Param}
	}
	return onnxpb.TensorValueInfo(name, int32(dt), pd...)
}

func attrTensor(name string, t *Tensor) *onnxpb.AttributeProto {
	return onnxpb.AttrTensor(name, t.ToProto())
}

// encodeModel serializes m deterministically (same model, same bytes).
func encodeModel(m *onnxpb.ModelProto) ([]byte, error) { return onnxpb.Marshal(m) }
