package onnx

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fmkit/fmkit/internal/onnxwire"
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
	err := onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case onnxwire.ModelGraph:
			if typ == protowire.BytesType {
				return s.graph(v)
			}
		case onnxwire.ModelOpsetImport, onnxwire.ModelMetadataProps:
			return s.entry("model", "opset_import or metadata_props")
		case onnxwire.ModelTrainingInfo:
			return &UnsupportedError{Node: "model", Attribute: "training_info", Reason: "training information is not supported"}
		case onnxwire.ModelFunctions:
			return &UnsupportedError{Node: "model", Attribute: "functions", Reason: "model-local functions are not supported"}
		}
		return nil
	})
	if errors.Is(err, onnxwire.ErrMalformed) {
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
	return onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case onnxwire.GraphNode:
			s.nodes++
			return s.node(v, s.nodes-1)
		case onnxwire.GraphInitializer:
			s.inits++
			return s.tensor(v, "graph: initializer "+strconv.Itoa(s.inits-1))
		case onnxwire.GraphInput, onnxwire.GraphOutput, onnxwire.GraphValueInfo:
			s.values++
			return s.valueInfo(v)
		case onnxwire.GraphQuantization:
			return &UnsupportedError{Node: "graph", Attribute: "quantization_annotation", Reason: "quantization annotations are not supported"}
		case onnxwire.GraphSparseInitializer:
			return &UnsupportedError{Node: "graph", Attribute: "sparse_initializer", Reason: "sparse initializers"}
		}
		return nil
	})
}

// node scans NodeProto i: its value names, its attributes and their kinds.
func (s *scanner) node(b []byte, i int) error {
	name, op, values, attrs := "", "", 0, 0
	var bad error
	err := onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == onnxwire.NodeName && typ == protowire.BytesType:
			name = string(v)
		case num == onnxwire.NodeOpType && typ == protowire.BytesType:
			op = string(v)
		case (num == onnxwire.NodeInput || num == onnxwire.NodeOutput) && typ == protowire.BytesType:
			values++
		case num == onnxwire.NodeAttribute && typ == protowire.BytesType:
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
	err := onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case onnxwire.AttrName:
			name = string(v)
		case onnxwire.AttrT:
			if typ == protowire.BytesType {
				return s.tensor(v, "attribute tensor")
			}
		case onnxwire.AttrG, onnxwire.AttrGraphs:
			kind = "a graph"
		case onnxwire.AttrTensors:
			kind = "a list of tensors"
		case onnxwire.AttrTP, onnxwire.AttrTypeProtos:
			kind = "a type"
		case onnxwire.AttrSparse, onnxwire.AttrSparses:
			kind = "a sparse tensor"
		case onnxwire.AttrInts:
			return s.addVarints("graph", varintCount(typ, v))
		case onnxwire.AttrStrings:
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
	return onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case onnxwire.TensorDims:
			if dims += varintCount(typ, v); dims > maxRank {
				return &UnsupportedError{Node: place, Attribute: "dims", Reason: fmt.Sprintf("more than %d dims", maxRank)}
			}
			return s.addVarints(place, varintCount(typ, v))
		case onnxwire.TensorInt32Data, onnxwire.TensorInt64Data, onnxwire.TensorUint64Data:
			return s.addVarints(place, varintCount(typ, v))
		case onnxwire.TensorExternalData:
			return s.entry(place, "external_data")
		case onnxwire.TensorStringData:
			return s.entry(place, "string_data")
		}
		return nil
	})
}

// valueInfo scans a ValueInfoProto: a tensor type with at most maxRank dims.
func (s *scanner) valueInfo(b []byte) error {
	name := ""
	var bad error
	err := onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == onnxwire.ValueInfoName && typ == protowire.BytesType:
			name = string(v)
		case num == onnxwire.ValueInfoType && typ == protowire.BytesType && bad == nil:
			bad = onnxwire.Walk(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				switch num {
				case onnxwire.TypeTensorType:
					return onnxwire.Walk(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
						if num != onnxwire.TensorTypeShape || typ != protowire.BytesType {
							return nil
						}
						dims := 0
						return onnxwire.Walk(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
							if dims++; num == onnxwire.ShapeDim && dims > maxRank {
								return errors.New("more than " + strconv.Itoa(maxRank) + " dims")
							}
							return nil
						})
					})
				case onnxwire.TypeSequenceType, onnxwire.TypeMapType, onnxwire.TypeSparseTensorType, onnxwire.TypeOptionalType:
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
	if bad != nil && !errors.Is(bad, onnxwire.ErrMalformed) {
		return &UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("value %q", name), Reason: "declared type: " + bad.Error()}
	}
	return nil
}
