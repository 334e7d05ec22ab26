package onnxpb

import "google.golang.org/protobuf/proto"

// Helpers to build ONNX messages by hand, for tests that write models the exporter would
// not (hostile, old-style or other exporters' models). fmkit's own exports are built as a
// pkg/onnx Graph and written by onnx.Encode, never from these types.

// Dim is one dimension of a declared shape: a size (Value >= 0), a symbolic one (Param, with
// Value < 0), or unknown (Value < 0, Param "").
type Dim struct {
	Value int64
	Param string
}

// TensorValueInfo declares a tensor graph input or output of element type elemType.
func TensorValueInfo(name string, elemType int32, dims ...Dim) *ValueInfoProto {
	shape := &TensorShapeProto{}
	for _, d := range dims {
		pd := &TensorShapeProto_Dimension{}
		if d.Value >= 0 {
			pd.Value = &TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
		} else if d.Param != "" {
			pd.Value = &TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
		}
		shape.Dim = append(shape.Dim, pd)
	}
	return &ValueInfoProto{
		Name: proto.String(name),
		Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{
			ElemType: proto.Int32(elemType), Shape: shape}}},
	}
}

// Node builds a NodeProto of the default domain.
func Node(name, op string, inputs, outputs []string, attrs ...*AttributeProto) *NodeProto {
	return &NodeProto{Name: proto.String(name), OpType: proto.String(op),
		Input: inputs, Output: outputs, Attribute: attrs}
}

// AttrInt builds an INT attribute.
func AttrInt(name string, v int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// AttrInts builds an INTS attribute.
func AttrInts(name string, v ...int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INTS.Enum(), Ints: v}
}

// AttrFloat builds a FLOAT attribute.
func AttrFloat(name string, v float32) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// AttrString builds a STRING attribute.
func AttrString(name, v string) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_STRING.Enum(), S: []byte(v)}
}

// AttrTensor builds a TENSOR attribute.
func AttrTensor(name string, t *TensorProto) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_TENSOR.Enum(), T: t}
}

// Marshal serializes m deterministically (same message, same bytes).
func Marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
