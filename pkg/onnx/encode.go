package onnx

import (
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fmkit/fmkit/internal/onnxwire"
)

// Encode serializes g as an ONNX ModelProto, deterministically: the same graph always
// gives the same bytes. It writes the header (ir_version, the producer, domain,
// model_version and doc_string when set), the default domain's opset, the metadata in
// order, and the graph: its nodes in order with their attributes as written (a Constant's
// tensor from its value), its name, its initializers (in InitializerOrder, data in
// raw_data, little-endian), its declared inputs (in InputOrder) and outputs. Fields are
// written in field-number order, as the protobuf runtime does, so that a graph built from
// the same facts encodes to the same bytes as proto.Marshal of the same ModelProto.
// Nothing else is written (no value_info, functions, doc strings of nodes or unknown
// fields). Repeated numbers are written unpacked, as proto2 does by default. It fails for a
// model over MaxModelBytes.
func Encode(g *Graph) ([]byte, error) {
	var gb pbuf
	for _, n := range g.Nodes {
		nb, err := encodeNode(n)
		if err != nil {
			return nil, err
		}
		gb = gb.bytes(onnxwire.GraphNode, nb)
	}
	gb = gb.str(onnxwire.GraphName, g.Name)
	order := g.InitializerOrder
	if order == nil {
		order = make([]string, 0, len(g.Initializers))
		for name := range g.Initializers {
			order = append(order, name)
		}
		slices.Sort(order)
	}
	for _, name := range order {
		gb = gb.bytes(onnxwire.GraphInitializer, encodeTensor(g.Initializers[name], true))
	}
	inputs := map[string]ValueInfo{}
	for _, in := range g.Inputs {
		inputs[in.Name] = in
	}
	inOrder := g.InputOrder
	if inOrder == nil {
		for _, in := range g.Inputs {
			inOrder = append(inOrder, in.Name)
		}
	}
	for _, name := range inOrder {
		in, ok := inputs[name]
		if t, isInit := g.Initializers[name]; !ok && isInit {
			in = ValueInfo{Name: t.Name, DataType: t.DataType, Shape: make([]Dim, len(t.Dims))}
			for i, d := range t.Dims {
				in.Shape[i] = Dim{Value: d}
			}
		}
		gb = gb.bytes(onnxwire.GraphInput, encodeValueInfo(in))
	}
	for _, out := range g.Outputs {
		gb = gb.bytes(onnxwire.GraphOutput, encodeValueInfo(out))
	}

	var mb pbuf
	mb = mb.varint(onnxwire.ModelIRVersion, uint64(g.IRVersion))
	if g.ProducerName != "" {
		mb = mb.str(onnxwire.ModelProducerName, g.ProducerName)
	}
	if g.ProducerVersion != "" {
		mb = mb.str(onnxwire.ModelProducerVersion, g.ProducerVersion)
	}
	if g.Domain != "" {
		mb = mb.str(onnxwire.ModelDomain, g.Domain)
	}
	if g.ModelVersion != 0 {
		mb = mb.varint(onnxwire.ModelModelVersion, uint64(g.ModelVersion))
	}
	if g.DocString != "" {
		mb = mb.str(onnxwire.ModelDocString, g.DocString)
	}
	mb = mb.bytes(onnxwire.ModelGraph, gb)
	mb = mb.bytes(onnxwire.ModelOpsetImport, pbuf(nil).str(onnxwire.OpsetDomain, "").varint(onnxwire.OpsetVersion, uint64(g.Opset)))
	for _, p := range g.Metadata {
		mb = mb.bytes(onnxwire.ModelMetadataProps, pbuf(nil).str(onnxwire.EntryKey, p.Key).str(onnxwire.EntryValue, p.Value))
	}
	if len(mb) > MaxModelBytes {
		return nil, &InvalidError{Node: "model", Reason: fmt.Sprintf("with its external data inlined the model would be %d bytes, over the %d-byte cap of a protobuf message", len(mb), MaxModelBytes)}
	}
	return mb, nil
}

// encodeNode writes a NodeProto: value names, name, op type and attributes (a Constant's
// tensor from its decoded value).
func encodeNode(n Node) ([]byte, error) {
	nb := n.Base()
	var b pbuf
	for _, s := range nb.Inputs {
		b = b.str(onnxwire.NodeInput, s)
	}
	for _, s := range nb.Outputs {
		b = b.str(onnxwire.NodeOutput, s)
	}
	if nb.Name != "" {
		b = b.str(onnxwire.NodeName, nb.Name)
	}
	b = b.str(onnxwire.NodeOpType, nb.Op)
	for _, a := range nb.Attrs {
		ab := pbuf(nil).str(onnxwire.AttrName, a.Name)
		switch a.Type {
		case AttrFloat:
			ab = protowire.AppendFixed32(protowire.AppendTag(ab, onnxwire.AttrF, protowire.Fixed32Type), math.Float32bits(a.F))
		case AttrInt:
			ab = ab.varint(onnxwire.AttrI, uint64(a.I))
		case AttrString:
			ab = ab.bytes(onnxwire.AttrS, a.S)
		case AttrTensor:
			t := a.T
			if c, ok := n.(*Constant); ok {
				t = c.Value
			}
			if t == nil {
				return nil, nb.Errorf(a.Name, "a tensor attribute outside Constant")
			}
			ab = ab.bytes(onnxwire.AttrT, encodeTensor(t, false))
		case AttrFloats:
			for _, f := range a.Floats {
				ab = protowire.AppendFixed32(protowire.AppendTag(ab, onnxwire.AttrFloats, protowire.Fixed32Type), math.Float32bits(f))
			}
		case AttrInts:
			ab = ab.repeated(onnxwire.AttrInts, a.Ints)
		case AttrStrings:
			for _, s := range a.Strings {
				ab = ab.bytes(onnxwire.AttrStrings, s)
			}
		default:
			return nil, nb.Errorf(a.Name, "attribute of type %s", a.Type)
		}
		ab = ab.varint(onnxwire.AttrType, uint64(a.Type))
		b = b.bytes(onnxwire.NodeAttribute, ab)
	}
	return b, nil
}

// encodeTensor writes t as a TensorProto: dims, data_type, the name when withName and not
// empty, and the data in raw_data (little-endian, one byte per Bool).
func encodeTensor(t *Tensor, withName bool) []byte {
	var b pbuf
	b = b.repeated(onnxwire.TensorDims, t.Dims)
	b = b.varint(onnxwire.TensorDataType, uint64(t.DataType))
	if withName && t.Name != "" {
		b = b.str(onnxwire.TensorName, t.Name)
	}
	raw := make([]byte, 0, int64(t.Len())*t.DataType.size())
	switch t.DataType {
	case Float:
		for _, v := range t.Float {
			raw = protowire.AppendFixed32(raw, math.Float32bits(v))
		}
	case Int64:
		for _, v := range t.Int64 {
			raw = protowire.AppendFixed64(raw, uint64(v))
		}
	case Bool:
		for _, v := range t.Bool {
			c := byte(0)
			if v {
				c = 1
			}
			raw = append(raw, c)
		}
	}
	return b.bytes(onnxwire.TensorRawData, raw)
}

// encodeValueInfo writes a ValueInfoProto holding a tensor type.
func encodeValueInfo(v ValueInfo) []byte {
	tt := pbuf(nil).varint(onnxwire.TensorTypeElemType, uint64(v.DataType))
	if v.Shape != nil {
		var shape pbuf
		for _, d := range v.Shape {
			var db pbuf
			switch {
			case d.Value >= 0:
				db = db.varint(onnxwire.DimValue, uint64(d.Value))
			case d.Param != "":
				db = db.str(onnxwire.DimParam, d.Param)
			}
			shape = shape.bytes(onnxwire.ShapeDim, db)
		}
		if len(v.Shape) == 0 {
			shape = pbuf{}
		}
		tt = tt.bytes(onnxwire.TensorTypeShape, shape)
	}
	return pbuf(nil).str(onnxwire.ValueInfoName, v.Name).bytes(onnxwire.ValueInfoType,
		pbuf(nil).bytes(onnxwire.TypeTensorType, tt))
}

// pbuf appends protobuf fields.
type pbuf []byte

func (b pbuf) bytes(n protowire.Number, v []byte) pbuf {
	return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), v)
}

func (b pbuf) str(n protowire.Number, s string) pbuf {
	return protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), s)
}

func (b pbuf) varint(n protowire.Number, v uint64) pbuf {
	return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
}

// repeated appends a repeated int64 field unpacked, one tag per element, as proto2 (which
// onnx.proto is) writes it.
func (b pbuf) repeated(n protowire.Number, v []int64) pbuf {
	for _, x := range v {
		b = b.varint(n, uint64(x))
	}
	return b
}
