package onnx

import (
	"github.com/fmkit/fmkit/internal/onnxpb"
)

// AttrType is the type of a node attribute, numbered as onnx.proto's
// AttributeProto.AttributeType.
type AttrType int32

// The attribute types (onnx.proto AttributeProto.AttributeType).
const (
	AttrUndefined AttrType = 0
	AttrFloat     AttrType = 1
	AttrInt       AttrType = 2
	AttrString    AttrType = 3
	AttrTensor    AttrType = 4
	AttrGraph     AttrType = 5
	AttrFloats    AttrType = 6
	AttrInts      AttrType = 7
	AttrStrings   AttrType = 8
)

// String returns onnx.proto's name, e.g. "INTS".
func (t AttrType) String() string { return onnxpb.AttributeProto_AttributeType(t).String() }

// Attribute is one node attribute: its name, its type and the value of that type.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       []byte
	T       *Tensor // a TENSOR attribute, once decoded (Constant's value)
	Floats  []float32
	Ints    []int64
	Strings [][]byte

	ref string              // ref_attr_name: only valid inside functions, refused by lowering
	tp  *onnxpb.TensorProto // a TENSOR attribute as read, decoded by the op that takes it
}

// IntAttr returns an INT attribute.
func IntAttr(name string, v int64) Attribute { return Attribute{Name: name, Type: AttrInt, I: v} }

// IntsAttr returns an INTS attribute.
func IntsAttr(name string, v ...int64) Attribute {
	return Attribute{Name: name, Type: AttrInts, Ints: v}
}

// FloatAttr returns a FLOAT attribute.
func FloatAttr(name string, v float32) Attribute {
	return Attribute{Name: name, Type: AttrFloat, F: v}
}

// attributeFromProto converts an AttributeProto; for old models that leave the type unset
// the type is the one implied by the one field that is set.
func attributeFromProto(a *onnxpb.AttributeProto) Attribute {
	at := Attribute{Name: a.GetName(), Type: AttrType(attrType(a)), F: a.GetF(), I: a.GetI(), S: a.GetS(),
		Floats: a.GetFloats(), Ints: a.GetInts(), Strings: a.GetStrings(), ref: a.GetRefAttrName(), tp: a.GetT()}
	return at
}

// attrType returns a's declared type, or for old models that leave it unset the type
// implied by the one field that is set.
func attrType(a *onnxpb.AttributeProto) onnxpb.AttributeProto_AttributeType {
	if a.Type != nil {
		return a.GetType()
	}
	switch {
	case a.F != nil:
		return onnxpb.AttributeProto_FLOAT
	case a.I != nil:
		return onnxpb.AttributeProto_INT
	case a.S != nil:
		return onnxpb.AttributeProto_STRING
	case a.T != nil:
		return onnxpb.AttributeProto_TENSOR
	case len(a.Floats) > 0:
		return onnxpb.AttributeProto_FLOATS
	case len(a.Ints) > 0:
		return onnxpb.AttributeProto_INTS
	}
	return onnxpb.AttributeProto_UNDEFINED
}
