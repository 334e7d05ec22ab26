package onnx

import (
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fmkit/fmkit/internal/onnxpb"
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
		case num == 1 && typ == protowire.VarintType:
			m.IrVersion = ptr(int64(x))
		case num == 2 && typ == protowire.BytesType:
			return wireString(v, &m.ProducerName)
		case num == 3 && typ == protowire.BytesType:
			return wireString(v, &m.ProducerVersion)
		case num == 4 && typ == protowire.BytesType:
			return wireString(v, &m.Domain)
		case num == 5 && typ == protowire.VarintType:
			m.ModelVersion = ptr(int64(x))
		case num == 6 && typ == protowire.BytesType:
			return wireString(v, &m.DocString)
		case num == 7 && typ == protowire.BytesType && m.Graph == nil:
			g, ok := decodeGraphWire(v)
			m.Graph = g
			return ok
		case num == 8 && typ == protowire.BytesType:
			o := new(onnxpb.OperatorSetIdProto)
			m.OpsetImport = append(m.OpsetImport, o)
			return wireFields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
				switch {
				case num == 1 && typ == protowire.BytesType:
					return wireString(v, &o.Domain)
				case num == 2 && typ == protowire.VarintType:
					o.Version = ptr(int64(x))
				default:
					return false
				}
				return true
			})
		case num == 14 && typ == protowire.BytesType:
			e := new(onnxpb.StringStringEntryProto)
			m.MetadataProps = append(m.MetadataProps, e)
			return wireFields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
				switch {
				case num == 1 && typ == protowire.BytesType:
					return wireString(v, &e.Key)
				case num == 2 && typ == protowire.BytesType:
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
		case 1:
			n, ok := decodeNodeWire(v)
			g.Node = append(g.Node, n)
			return ok
		case 2:
			return wireString(v, &g.Name)
		case 5:
			t, ok := decodeTensorWire(v)
			g.Initializer = append(g.Initializer, t)
			return ok
		case 10:
			return wireString(v, &g.DocString)
		case 11, 12, 13:
			vi, ok := decodeValueInfoWire(v)
			switch num {
			case 11:
				g.Input = append(g.Input, vi)
			case 12:
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
		case 1, 2:
			if !utf8.Valid(v) {
				return false
			}
			if num == 1 {
				n.Input = append(n.Input, string(v))
			} else {
				n.Output = append(n.Output, string(v))
			}
			return true
		case 3:
			return wireString(v, &n.Name)
		case 4:
			return wireString(v, &n.OpType)
		case 5:
			a, ok := decodeAttributeWire(v)
			n.Attribute = append(n.Attribute, a)
			return ok
		case 6:
			return wireString(v, &n.DocString)
		case 7:
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
		case num == 1 && typ == protowire.BytesType:
			return wireString(v, &a.Name)
		case num == 2 && typ == protowire.Fixed32Type:
			a.F = ptr(math.Float32frombits(uint32(x)))
		case num == 3 && typ == protowire.VarintType:
			a.I = ptr(int64(x))
		case num == 4 && typ == protowire.BytesType:
			a.S = append([]byte{}, v...)
		case num == 5 && typ == protowire.BytesType && a.T == nil:
			var ok bool
			a.T, ok = decodeTensorWire(v)
			return ok
		case num == 7:
			return wireFixed32s(typ, v, x, func(u uint32) { a.Floats = append(a.Floats, math.Float32frombits(u)) })
		case num == 8:
			return wireVarints(typ, v, x, func(u uint64) { a.Ints = append(a.Ints, int64(u)) })
		case num == 9 && typ == protowire.BytesType:
			a.Strings = append(a.Strings, append([]byte{}, v...))
		case num == 13 && typ == protowire.BytesType:
			return wireString(v, &a.DocString)
		case num == 20 && typ == protowire.VarintType:
			t := int32(x)
			if _, known := onnxpb.AttributeProto_AttributeType_name[t]; !known {
				return false // a closed enum: Unmarshal keeps unknown values as unknown fields
			}
			a.Type = ptr(onnxpb.AttributeProto_AttributeType(t))
		case num == 21 && typ == protowire.BytesType:
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
		case num == 1:
			return wireVarints(typ, v, x, func(u uint64) { t.Dims = append(t.Dims, int64(u)) })
		case num == 2 && typ == protowire.VarintType:
			t.DataType = ptr(int32(x))
		case num == 4:
			if typ == protowire.BytesType && t.FloatData == nil {
				t.FloatData = make([]float32, 0, len(v)/4)
			}
			return wireFixed32s(typ, v, x, func(u uint32) { t.FloatData = append(t.FloatData, math.Float32frombits(u)) })
		case num == 5:
			return wireVarints(typ, v, x, func(u uint64) { t.Int32Data = append(t.Int32Data, int32(u)) })
		case num == 7:
			return wireVarints(typ, v, x, func(u uint64) { t.Int64Data = append(t.Int64Data, int64(u)) })
		case num == 8 && typ == protowire.BytesType:
			return wireString(v, &t.Name)
		case num == 9 && typ == protowire.BytesType:
			t.RawData = v
			if t.RawData == nil {
				t.RawData = []byte{}
			}
		case num == 12 && typ == protowire.BytesType:
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
		case num == 1:
			return wireString(v, &vi.Name)
		case num == 2 && vi.Type == nil:
			var ok bool
			vi.Type, ok = decodeTypeWire(v)
			return ok
		case num == 3:
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
		case num == 1 && tp.Value == nil:
			tt, ok := decodeTensorTypeWire(v)
			tp.Value = &onnxpb.TypeProto_TensorType{TensorType: tt}
			return ok
		case num == 6:
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
		case num == 1 && typ == protowire.VarintType:
			tt.ElemType = ptr(int32(x))
		case num == 2 && typ == protowire.BytesType && tt.Shape == nil:
			tt.Shape = new(onnxpb.TensorShapeProto)
			return wireFields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
				if num != 1 || typ != protowire.BytesType {
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
		case num == 1 && typ == protowire.VarintType && d.Value == nil:
			d.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(x)}
		case num == 2 && typ == protowire.BytesType && d.Value == nil:
			if !utf8.Valid(v) {
				return false
			}
			d.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: string(v)}
		case num == 3 && typ == protowire.BytesType:
			return wireString(v, &d.Denotation)
		default:
			return false
		}
		return true
	})
	return d, ok
}

// wireFields calls field for each field of the message b: its number, wire
// type, and value (v for length-delimited fields, x for varints and fixed
// ones). It returns false as soon as field does, or on a malformed field or
// a group.
func wireFields(b []byte, field func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || !num.IsValid() {
			return false
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			return false
		}
		if n < 0 || !field(num, typ, v, x) {
			return false
		}
		b = b[n:]
	}
	return true
}

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
