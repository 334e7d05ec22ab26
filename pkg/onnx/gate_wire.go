package onnx

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// The gate's pass over protobuf bytes before decoding: prescan bounds what the decoder will
// build before it builds anything. (Encode writes the checked model back out.) Field
// numbers are onnx.proto's (ONNX 1.12).

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
