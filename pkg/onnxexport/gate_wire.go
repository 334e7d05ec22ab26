package onnxexport

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fmkit/fmkit/internal/onnxpb"
)

// The gate's two passes over protobuf bytes: prescan, which bounds what the decoder will
// build before it builds anything, and encodeGated, which writes the checked model back out
// with nothing but the fields the gate checked. Field numbers are onnx.proto's (ONNX 1.12).

// Bounds of prescan, beside GateOptions.MaxNodes. Each is far beyond what a claimed op
// needs; together they keep a small file from making the decoder build a huge number of
// small objects (a two-byte Dimension message becomes a 48-byte Go struct).
const (
	maxNodeValues    = 1024    // inputs plus outputs of one node
	maxRank          = 64      // dims of one tensor or declared shape
	maxEntries       = 4096    // metadata_props, opset_import, external_data entries, strings of an attribute
	maxVarintElement = 1 << 24 // varint-packed numbers (dims, int64_data, int32_data, ints) in the whole model
)

var errMalformed = errors.New("malformed protobuf")

// scanFields calls fn for each field of the message b; v is the value of a
// length-delimited field and the raw encoding of any other. Malformed input returns
// errMalformed (the decoder reports it properly).
func scanFields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				v = b[:n]
			}
		}
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

// varintCount is the number of values of a repeated varint field occurrence: one, or
// every number of a packed run.
func varintCount(typ protowire.Type, v []byte) int {
	if typ != protowire.BytesType {
		return 1
	}
	n := 0
	for _, c := range v {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// scanner holds prescan's counts.
type scanner struct {
	maxNodes                      int
	nodes, inits, values, entries int
	varints                       int
}

// prescan walks the model's bytes without decoding them and refuses what the decoder must
// not be asked to build: more than maxNodes nodes or initializers, more than 4*maxNodes
// declared values, and constructs no claimed op uses (functions, training information,
// sparse initializers, graph-, type- or sparse-valued attributes, non-tensor types).
func prescan(b []byte, maxNodes int) error {
	s := &scanner{maxNodes: maxNodes}
	err := scanFields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case 7: // graph
			if typ == protowire.BytesType {
				return s.graph(v)
			}
		case 8, 14: // opset_import, metadata_props
			return s.entry("model", "opset_import or metadata_props")
		case 20:
			return &UnsupportedError{Node: "model", Attribute: "training_info", Reason: "training information is not supported"}
		case 25:
			return &UnsupportedError{Node: "model", Attribute: "functions", Reason: "model-local functions are not supported"}
		}
		return nil
	})
	if errors.Is(err, errMalformed) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, c := range []struct {
		n, max int
		what   string
	}{{s.nodes, maxNodes, "nodes"}, {s.inits, maxNodes, "initializers"}, {s.values, 4 * maxNodes, "declared inputs, outputs and value_info"}} {
		if c.n > c.max {
			return &LimitError{Node: "graph", Limit: LimitNodes, Value: float64(c.n), Max: float64(c.max),
				Reason: fmt.Sprintf("%d %s", c.n, c.what)}
		}
	}
	return nil
}

func (s *scanner) entry(place, what string) error {
	if s.entries++; s.entries > maxEntries {
		return &LimitError{Node: place, Limit: LimitNodes, Value: float64(s.entries), Max: maxEntries,
			Reason: fmt.Sprintf("more than %d %s entries", maxEntries, what)}
	}
	return nil
}

func (s *scanner) addVarints(place string, n int) error {
	if s.varints += n; s.varints > maxVarintElement {
		return &LimitError{Node: place, Limit: LimitNodes, Value: float64(s.varints), Max: maxVarintElement,
			Reason: fmt.Sprintf("more than %d integers in dims, int64_data, int32_data and ints", maxVarintElement)}
	}
	return nil
}

func (s *scanner) graph(b []byte) error {
	return scanFields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			s.nodes++
			return s.node(v, s.nodes-1)
		case 5:
			s.inits++
			return s.tensor(v, "graph: initializer "+strconv.Itoa(s.inits-1))
		case 11, 12, 13:
			s.values++
			return s.valueInfo(v)
		case 14:
			return &UnsupportedError{Node: "graph", Attribute: "quantization_annotation", Reason: "quantization annotations are not supported"}
		case 15:
			return &UnsupportedError{Node: "graph", Attribute: "sparse_initializer", Reason: "sparse initializers"}
		}
		return nil
	})
}

// node scans NodeProto i: its value names, its attributes and their kinds.
func (s *scanner) node(b []byte, i int) error {
	name, op, values, attrs := "", "", 0, 0
	var bad error
	err := scanFields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == 3 && typ == protowire.BytesType:
			name = string(v)
		case num == 4 && typ == protowire.BytesType:
			op = string(v)
		case (num == 1 || num == 2) && typ == protowire.BytesType:
			values++
		case num == 5 && typ == protowire.BytesType:
			attrs++
			if bad == nil {
				bad = s.attribute(v)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	id := "#" + strconv.Itoa(i)
	if name != "" {
		id = strconv.Quote(name)
	}
	switch {
	case values > maxNodeValues:
		return &LimitError{Node: id, Limit: LimitNodes, Value: float64(values), Max: maxNodeValues, Reason: fmt.Sprintf("node %s has %d inputs and outputs", id, values)}
	case attrs > maxAttributes:
		return &LimitError{Node: id, Limit: LimitNodes, Value: float64(attrs), Max: maxAttributes, Reason: fmt.Sprintf("node %s has %d attributes", id, attrs)}
	case bad != nil:
		var ue *UnsupportedError
		if errors.As(bad, &ue) {
			ue.Node, ue.Op = id, op
		}
		return bad
	}
	return nil
}

// attribute scans an AttributeProto; the error's Node is filled in by the caller.
func (s *scanner) attribute(b []byte) error {
	name, kind, strs := "", "", 0
	err := scanFields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case 1:
			name = string(v)
		case 5:
			if typ == protowire.BytesType {
				return s.tensor(v, "attribute tensor")
			}
		case 6, 11:
			kind = "a graph"
		case 10:
			kind = "a list of tensors"
		case 14, 15:
			kind = "a type"
		case 22, 23:
			kind = "a sparse tensor"
		case 8:
			return s.addVarints("graph", varintCount(typ, v))
		case 9:
			strs++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if kind != "" {
		return &UnsupportedError{Attribute: name, Reason: "attribute holds " + kind + ": no supported op takes one"}
	}
	if strs > maxEntries {
		return &LimitError{Node: "graph", Limit: LimitNodes, Value: float64(strs), Max: maxEntries, Reason: fmt.Sprintf("attribute %q has %d strings", name, strs)}
	}
	return nil
}

// tensor scans a TensorProto: its dims, external_data entries and varint-packed data.
func (s *scanner) tensor(b []byte, place string) error {
	dims := 0
	return scanFields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case 1: // dims
			if dims += varintCount(typ, v); dims > maxRank {
				return &UnsupportedError{Node: place, Attribute: "dims", Reason: fmt.Sprintf("more than %d dims", maxRank)}
			}
			return s.addVarints(place, varintCount(typ, v))
		case 5, 7, 11: // int32_data, int64_data, uint64_data
			return s.addVarints(place, varintCount(typ, v))
		case 13: // external_data
			return s.entry(place, "external_data")
		case 6: // string_data
			return s.entry(place, "string_data")
		}
		return nil
	})
}

// valueInfo scans a ValueInfoProto: a tensor type with at most maxRank dims.
func (s *scanner) valueInfo(b []byte) error {
	name := ""
	var bad error
	err := scanFields(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			name = string(v)
		case num == 2 && typ == protowire.BytesType && bad == nil:
			bad = scanFields(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				switch num {
				case 1: // tensor_type
					return scanFields(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
						if num != 2 || typ != protowire.BytesType {
							return nil
						}
						dims := 0
						return scanFields(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
							if dims++; num == 1 && dims > maxRank {
								return errors.New("more than " + strconv.Itoa(maxRank) + " dims")
							}
							return nil
						})
					})
				case 4, 5, 8, 9:
					return errors.New("not a tensor type")
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if bad != nil && !errors.Is(bad, errMalformed) {
		return &UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("value %q", name), Reason: "declared type: " + bad.Error()}
	}
	return nil
}

// modelHeader is what ModelInfo reports from a ModelProto besides the graph.
type modelHeader struct {
	producerName, producerVersion, domain, docString string
	modelVersion                                     int64
	metadata                                         [][2]string
}

func headerOf(mp *onnxpb.ModelProto) modelHeader {
	h := modelHeader{producerName: mp.GetProducerName(), producerVersion: mp.GetProducerVersion(),
		domain: mp.GetDomain(), docString: mp.GetDocString(), modelVersion: mp.GetModelVersion()}
	for _, p := range mp.GetMetadataProps() {
		h.metadata = append(h.metadata, [2]string{p.GetKey(), p.GetValue()})
	}
	return h
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

func (b pbuf) packed(n protowire.Number, v []int64) pbuf {
	var p []byte
	for _, x := range v {
		p = protowire.AppendVarint(p, uint64(x))
	}
	return b.bytes(n, p)
}

// encodeGated writes the model the gate checked: mp's header, metadata and the default
// domain's opset; and the graph g with its nodes in order, each attribute reduced to the
// value of its type, every tensor re-encoded from its decoded data (raw_data, no external
// data), and the declared inputs and outputs as lowered. Everything else is left out.
func encodeGated(mp *onnxpb.ModelProto, g *Graph) ([]byte, error) {
	var gb pbuf
	gp := mp.GetGraph()
	for i, np := range gp.GetNode() {
		nb, err := encodeNode(np, g.Nodes[i])
		if err != nil {
			return nil, err
		}
		gb = gb.bytes(1, nb)
	}
	gb = gb.str(2, g.Name)
	for _, tp := range gp.GetInitializer() {
		gb = gb.bytes(5, encodeTensor(g.Initializers[tp.GetName()], true))
	}
	inputs := map[string]ValueInfo{}
	for _, in := range g.Inputs {
		inputs[in.Name] = in
	}
	for _, vi := range gp.GetInput() {
		in, ok := inputs[vi.GetName()]
		if t, isInit := g.Initializers[vi.GetName()]; !ok && isInit {
			in = ValueInfo{Name: t.Name, DataType: t.DataType, Shape: make([]Dim, len(t.Dims))}
			for i, d := range t.Dims {
				in.Shape[i] = Dim{Value: d}
			}
		}
		gb = gb.bytes(11, encodeValueInfo(in))
	}
	for _, out := range g.Outputs {
		gb = gb.bytes(12, encodeValueInfo(out))
	}

	var mb pbuf
	mb = mb.varint(1, uint64(g.IRVersion))
	if mp.ProducerName != nil {
		mb = mb.str(2, mp.GetProducerName())
	}
	if mp.ProducerVersion != nil {
		mb = mb.str(3, mp.GetProducerVersion())
	}
	if mp.Domain != nil {
		mb = mb.str(4, mp.GetDomain())
	}
	if mp.ModelVersion != nil {
		mb = mb.varint(5, uint64(mp.GetModelVersion()))
	}
	mb = mb.bytes(7, gb)
	mb = mb.bytes(8, pbuf(nil).varint(2, uint64(g.Opset)))
	for _, p := range mp.GetMetadataProps() {
		mb = mb.bytes(14, pbuf(nil).str(1, p.GetKey()).str(2, p.GetValue()))
	}
	if len(mb) > MaxModelBytes {
		return nil, &ModelError{Node: "model", Reason: fmt.Sprintf("with its external data inlined the model would be %d bytes, over the %d-byte cap of a protobuf message", len(mb), MaxModelBytes)}
	}
	return mb, nil
}

// encodeNode writes NodeProto np, which lowered to n: its value names, name, op type and
// attributes (a Constant's tensor from its decoded value).
func encodeNode(np *onnxpb.NodeProto, n Node) ([]byte, error) {
	var b pbuf
	for _, s := range np.GetInput() {
		b = b.str(1, s)
	}
	for _, s := range np.GetOutput() {
		b = b.str(2, s)
	}
	if np.Name != nil {
		b = b.str(3, np.GetName())
	}
	b = b.str(4, np.GetOpType())
	for _, a := range np.GetAttribute() {
		t := attrType(a)
		ab := pbuf(nil).str(1, a.GetName()).varint(20, uint64(t))
		switch t {
		case onnxpb.AttributeProto_FLOAT:
			ab = protowire.AppendFixed32(protowire.AppendTag(ab, 2, protowire.Fixed32Type), math.Float32bits(a.GetF()))
		case onnxpb.AttributeProto_INT:
			ab = ab.varint(3, uint64(a.GetI()))
		case onnxpb.AttributeProto_STRING:
			ab = ab.bytes(4, a.GetS())
		case onnxpb.AttributeProto_TENSOR:
			c, ok := n.(*Constant)
			if !ok {
				return nil, n.Base().errorf(a.GetName(), "a tensor attribute outside Constant")
			}
			ab = ab.bytes(5, encodeTensor(c.Value, false))
		case onnxpb.AttributeProto_FLOATS:
			var p []byte
			for _, f := range a.GetFloats() {
				p = protowire.AppendFixed32(p, math.Float32bits(f))
			}
			ab = ab.bytes(7, p)
		case onnxpb.AttributeProto_INTS:
			ab = ab.packed(8, a.GetInts())
		case onnxpb.AttributeProto_STRINGS:
			for _, s := range a.GetStrings() {
				ab = ab.bytes(9, s)
			}
		default:
			return nil, n.Base().errorf(a.GetName(), "attribute of type %s", t)
		}
		b = b.bytes(5, ab)
	}
	return b, nil
}

// encodeTensor writes t as a TensorProto: dims, data_type, the name when withName, and the
// data in raw_data (little-endian, one byte per Bool).
func encodeTensor(t *Tensor, withName bool) []byte {
	var b pbuf
	if len(t.Dims) > 0 {
		b = b.packed(1, t.Dims)
	}
	b = b.varint(2, uint64(t.DataType))
	if withName {
		b = b.str(8, t.Name)
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
	return b.bytes(9, raw)
}

// encodeValueInfo writes a ValueInfoProto holding a tensor type.
func encodeValueInfo(v ValueInfo) []byte {
	tt := pbuf(nil).varint(1, uint64(v.DataType))
	if v.Shape != nil {
		var shape pbuf
		for _, d := range v.Shape {
			var db pbuf
			switch {
			case d.Value >= 0:
				db = db.varint(1, uint64(d.Value))
			case d.Param != "":
				db = db.str(2, d.Param)
			}
			shape = shape.bytes(1, db)
		}
		if len(v.Shape) == 0 {
			shape = pbuf{}
		}
		tt = tt.bytes(2, shape)
	}
	return pbuf(nil).str(1, v.Name).bytes(2, pbuf(nil).bytes(1, tt))
}
