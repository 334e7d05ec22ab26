package onnx

import (
	"errors"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/internal/onnxwire"
)

// decodeModelWire decodes the common subset of ONNX's ModelProto straight
// from the protobuf wire format, without the protobuf runtime. The runtime
// builds its decoders for a dozen message types the first time it meets
// them, about 2.5 ms that a fresh fminfer process spends on every start, and
// copies every initializer's raw_data; this decoder does neither. The
// returned message's raw_data fields alias b.
//
// The subset is what exporters write for a plain model: the fields of
// ModelProto, GraphProto, NodeProto, AttributeProto (scalars, lists, strings
// and tensors), TensorProto (dims, data_type, name, doc_string, raw_data and
// the float, int32 and int64 lists), ValueInfoProto and tensor types with
// their shapes. On anything else, and on anything it is not sure of (a field
// outside the subset, a group, a singular message or oneof given twice, an
// enum value the schema does not name, invalid UTF-8, malformed input), it
// returns ok == false and the caller decodes with proto.Unmarshal instead,
// which also gives the error for malformed input. When ok, the message equals
// what proto.Unmarshal returns (TestDecodeModelWireMatchesProto,
// FuzzDecodeModelWire).
func decodeModelWire(b []byte) (*onnxpb.ModelProto, bool) {
	m := new(onnxpb.ModelProto)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == onnxwire.ModelIRVersion && typ == protowire.VarintType:
			m.IrVersion = ptr(int64(x))
		case num == onnxwire.ModelProducerName && typ == protowire.BytesType:
			return wireString(v, &m.ProducerName)
		case num == onnxwire.ModelProducerVersion && typ == protowire.BytesType:
			return wireString(v, &m.ProducerVersion)
		case num == onnxwire.ModelDomain && typ == protowire.BytesType:
			return wireString(v, &m.Domain)
		case num == onnxwire.ModelModelVersion && typ == protowire.VarintType:
			m.ModelVersion = ptr(int64(x))
		case num == onnxwire.ModelDocString && typ == protowire.BytesType:
			return wireString(v, &m.DocString)
		case num == onnxwire.ModelGraph && typ == protowire.BytesType && m.Graph == nil:
			g, ok := decodeGraphWire(v)
			m.Graph = g
			return ok
		case num == onnxwire.ModelOpsetImport && typ == protowire.BytesType:
			o := new(onnxpb.OperatorSetIdProto)
			m.OpsetImport = append(m.OpsetImport, o)
			return wireFields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
				switch {
				case num == onnxwire.OpsetDomain && typ == protowire.BytesType:
					return wireString(v, &o.Domain)
				case num == onnxwire.OpsetVersion && typ == protowire.VarintType:
					o.Version = ptr(int64(x))
				default:
					return false
				}
				return true
			})
		case num == onnxwire.ModelMetadataProps && typ == protowire.BytesType:
			e := new(onnxpb.StringStringEntryProto)
			m.MetadataProps = append(m.MetadataProps, e)
			return wireFields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
				switch {
				case num == onnxwire.EntryKey && typ == protowire.BytesType:
					return wireString(v, &e.Key)
				case num == onnxwire.EntryValue && typ == protowire.BytesType:
					return wireString(v, &e.Value)
				}
				return false
			})
		default:
			return false
		}
		return true
	})
	return m, ok
}

func decodeGraphWire(b []byte) (*onnxpb.GraphProto, bool) {
	g := new(onnxpb.GraphProto)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
		if typ != protowire.BytesType {
			return false
		}
		switch num {
		case onnxwire.GraphNode:
			n, ok := decodeNodeWire(v)
			g.Node = append(g.Node, n)
			return ok
		case onnxwire.GraphName:
			return wireString(v, &g.Name)
		case onnxwire.GraphInitializer:
			t, ok := decodeTensorWire(v)
			g.Initializer = append(g.Initializer, t)
			return ok
		case onnxwire.GraphDocString:
			return wireString(v, &g.DocString)
		case onnxwire.GraphInput, onnxwire.GraphOutput, onnxwire.GraphValueInfo:
			vi, ok := decodeValueInfoWire(v)
			switch num {
			case onnxwire.GraphInput:
				g.Input = append(g.Input, vi)
			case onnxwire.GraphOutput:
				g.Output = append(g.Output, vi)
			default:
				g.ValueInfo = append(g.ValueInfo, vi)
			}
			return ok
		}
		return false
	})
	return g, ok
}

func decodeNodeWire(b []byte) (*onnxpb.NodeProto, bool) {
	n := new(onnxpb.NodeProto)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
		if typ != protowire.BytesType {
			return false
		}
		switch num {
		case onnxwire.NodeInput, onnxwire.NodeOutput:
			if !utf8.Valid(v) {
				return false
			}
			if num == onnxwire.NodeInput {
				n.Input = append(n.Input, string(v))
			} else {
				n.Output = append(n.Output, string(v))
			}
			return true
		case onnxwire.NodeName:
			return wireString(v, &n.Name)
		case onnxwire.NodeOpType:
			return wireString(v, &n.OpType)
		case onnxwire.NodeAttribute:
			a, ok := decodeAttributeWire(v)
			n.Attribute = append(n.Attribute, a)
			return ok
		case onnxwire.NodeDocString:
			return wireString(v, &n.DocString)
		case onnxwire.NodeDomain:
			return wireString(v, &n.Domain)
		}
		return false
	})
	return n, ok
}

func decodeAttributeWire(b []byte) (*onnxpb.AttributeProto, bool) {
	a := new(onnxpb.AttributeProto)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == onnxwire.AttrName && typ == protowire.BytesType:
			return wireString(v, &a.Name)
		case num == onnxwire.AttrF && typ == protowire.Fixed32Type:
			a.F = ptr(math.Float32frombits(uint32(x)))
		case num == onnxwire.AttrI && typ == protowire.VarintType:
			a.I = ptr(int64(x))
		case num == onnxwire.AttrS && typ == protowire.BytesType:
			a.S = append([]byte{}, v...)
		case num == onnxwire.AttrT && typ == protowire.BytesType && a.T == nil:
			var ok bool
			a.T, ok = decodeTensorWire(v)
			return ok
		case num == onnxwire.AttrFloats:
			return wireFixed32s(typ, v, x, func(u uint32) { a.Floats = append(a.Floats, math.Float32frombits(u)) })
		case num == onnxwire.AttrInts:
			return wireVarints(typ, v, x, func(u uint64) { a.Ints = append(a.Ints, int64(u)) })
		case num == onnxwire.AttrStrings && typ == protowire.BytesType:
			a.Strings = append(a.Strings, append([]byte{}, v...))
		case num == onnxwire.AttrDocString && typ == protowire.BytesType:
			return wireString(v, &a.DocString)
		case num == onnxwire.AttrType && typ == protowire.VarintType:
			t := int32(x)
			if _, known := onnxpb.AttributeProto_AttributeType_name[t]; !known {
				return false // a closed enum: Unmarshal keeps unknown values as unknown fields
			}
			a.Type = ptr(onnxpb.AttributeProto_AttributeType(t))
		case num == onnxwire.AttrRefAttrName && typ == protowire.BytesType:
			return wireString(v, &a.RefAttrName)
		default:
			return false
		}
		return true
	})
	return a, ok
}

func decodeTensorWire(b []byte) (*onnxpb.TensorProto, bool) {
	t := new(onnxpb.TensorProto)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == onnxwire.TensorDims:
			return wireVarints(typ, v, x, func(u uint64) { t.Dims = append(t.Dims, int64(u)) })
		case num == onnxwire.TensorDataType && typ == protowire.VarintType:
			t.DataType = ptr(int32(x))
		case num == onnxwire.TensorFloatData:
			if typ == protowire.BytesType && t.FloatData == nil {
				t.FloatData = make([]float32, 0, len(v)/4)
			}
			return wireFixed32s(typ, v, x, func(u uint32) { t.FloatData = append(t.FloatData, math.Float32frombits(u)) })
		case num == onnxwire.TensorInt32Data:
			return wireVarints(typ, v, x, func(u uint64) { t.Int32Data = append(t.Int32Data, int32(u)) })
		case num == onnxwire.TensorInt64Data:
			return wireVarints(typ, v, x, func(u uint64) { t.Int64Data = append(t.Int64Data, int64(u)) })
		case num == onnxwire.TensorName && typ == protowire.BytesType:
			return wireString(v, &t.Name)
		case num == onnxwire.TensorRawData && typ == protowire.BytesType:
			t.RawData = v
			if t.RawData == nil {
				t.RawData = []byte{}
			}
		case num == onnxwire.TensorDocString && typ == protowire.BytesType:
			return wireString(v, &t.DocString)
		default:
			return false
		}
		return true
	})
	return t, ok
}

func decodeValueInfoWire(b []byte) (*onnxpb.ValueInfoProto, bool) {
	vi := new(onnxpb.ValueInfoProto)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
		if typ != protowire.BytesType {
			return false
		}
		switch {
		case num == onnxwire.ValueInfoName:
			return wireString(v, &vi.Name)
		case num == onnxwire.ValueInfoType && vi.Type == nil:
			var ok bool
			vi.Type, ok = decodeTypeWire(v)
			return ok
		case num == onnxwire.ValueInfoDocString:
			return wireString(v, &vi.DocString)
		}
		return false
	})
	return vi, ok
}

// decodeTypeWire decodes a TypeProto holding a tensor type.
func decodeTypeWire(b []byte) (*onnxpb.TypeProto, bool) {
	tp := new(onnxpb.TypeProto)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
		if typ != protowire.BytesType {
			return false
		}
		switch {
		case num == onnxwire.TypeTensorType && tp.Value == nil:
			tt, ok := decodeTensorTypeWire(v)
			tp.Value = &onnxpb.TypeProto_TensorType{TensorType: tt}
			return ok
		case num == onnxwire.TypeDenotation:
			return wireString(v, &tp.Denotation)
		}
		return false
	})
	return tp, ok
}

func decodeTensorTypeWire(b []byte) (*onnxpb.TypeProto_Tensor, bool) {
	tt := new(onnxpb.TypeProto_Tensor)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == onnxwire.TensorTypeElemType && typ == protowire.VarintType:
			tt.ElemType = ptr(int32(x))
		case num == onnxwire.TensorTypeShape && typ == protowire.BytesType && tt.Shape == nil:
			tt.Shape = new(onnxpb.TensorShapeProto)
			return wireFields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
				if num != onnxwire.ShapeDim || typ != protowire.BytesType {
					return false
				}
				d, ok := decodeDimensionWire(v)
				tt.Shape.Dim = append(tt.Shape.Dim, d)
				return ok
			})
		default:
			return false
		}
		return true
	})
	return tt, ok
}

func decodeDimensionWire(b []byte) (*onnxpb.TensorShapeProto_Dimension, bool) {
	d := new(onnxpb.TensorShapeProto_Dimension)
	ok := wireFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == onnxwire.DimValue && typ == protowire.VarintType && d.Value == nil:
			d.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(x)}
		case num == onnxwire.DimParam && typ == protowire.BytesType && d.Value == nil:
			if !utf8.Valid(v) {
				return false
			}
			d.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: string(v)}
		case num == onnxwire.DimDenotation && typ == protowire.BytesType:
			return wireString(v, &d.Denotation)
		default:
			return false
		}
		return true
	})
	return d, ok
}

// wireFields calls field for each field of the message b: its number, wire type, and
// value (v for length-delimited fields, x for varints and fixed ones). It returns false as
// soon as field does, or on a malformed field, an invalid field number or a group. It is
// onnxwire.Walk with the decoder's contract.
func wireFields(b []byte, field func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool) bool {
	return onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if !num.IsValid() {
			return errDecline
		}
		var x uint64
		if typ != protowire.BytesType {
			var ok bool
			if x, ok = onnxwire.Scalar(typ, v); !ok {
				return errDecline // a group
			}
			v = nil
		}
		if !field(num, typ, v, x) {
			return errDecline
		}
		return nil
	}) == nil
}

// errDecline stops a wireFields walk: the fast decoder leaves the model to proto.Unmarshal.
var errDecline = errors.New("outside the fast decoder's subset")

// wireString stores a proto2 string field, refusing invalid UTF-8 (on which
// the caller falls back to the protobuf runtime, whatever it makes of it).
func wireString(v []byte, dst **string) bool {
	if !utf8.Valid(v) {
		return false
	}
	s := string(v)
	*dst = &s
	return true
}

// wireVarints decodes one element of a repeated varint field, or a packed run
// of them, as the protobuf runtime accepts either.
func wireVarints(typ protowire.Type, v []byte, x uint64, add func(uint64)) bool {
	switch typ {
	case protowire.VarintType:
		add(x)
		return true
	case protowire.BytesType:
		for len(v) > 0 {
			u, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return false
			}
			add(u)
			v = v[n:]
		}
		return true
	}
	return false
}

// wireFixed32s is wireVarints for repeated fixed32 fields (floats).
func wireFixed32s(typ protowire.Type, v []byte, x uint64, add func(uint32)) bool {
	switch typ {
	case protowire.Fixed32Type:
		add(uint32(x))
		return true
	case protowire.BytesType:
		if len(v)%4 != 0 {
			return false
		}
		for ; len(v) > 0; v = v[4:] {
			u, _ := protowire.ConsumeFixed32(v)
			add(u)
		}
		return true
	}
	return false
}

// ptr returns a pointer to a copy of v, for proto2 optional fields.
func ptr[T any](v T) *T { return &v }
