package onnx

import (
	"fmt"
	"strconv"
)

// Graph is a validated, typed form of an ONNX model: its main graph, restricted to the ops
// this package claims (see the Node implementations), and the model's header and metadata.
// It is produced by DecodeModel or LoadModel, or built node by node and checked by Build;
// Encode writes it. Its nodes are in topological order and every value name is defined once.
type Graph struct {
	Name         string
	Opset        int64              // version of the default ("" / "ai.onnx") domain
	IRVersion    int64              // ModelProto.ir_version
	Inputs       []ValueInfo        // runtime inputs, in order (graph inputs that are not initializers)
	Outputs      []ValueInfo        // graph outputs, in order
	Initializers map[string]*Tensor // constant inputs by name (including overridable ones)
	Nodes        []Node

	// InitializerOrder lists the initializers' names in the order the model declares them
	// (Encode writes them so); nil means sorted by name.
	InitializerOrder []string
	// InputOrder lists every declared graph input in order, initializers declared as
	// inputs (IR < 4 style) included; nil means Inputs alone.
	InputOrder []string

	// The ModelProto header.
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Metadata        []MetadataEntry // metadata_props, in order
}

// MetadataEntry is one metadata_props entry of a model.
type MetadataEntry struct {
	Key, Value string
}

// MetadataMap returns the metadata as a map (a later entry wins over an earlier one with
// the same key).
func (g *Graph) MetadataMap() map[string]string {
	m := make(map[string]string, len(g.Metadata))
	for _, e := range g.Metadata {
		m[e.Key] = e.Value
	}
	return m
}

// ValueInfo is the declared type of a graph input or output.
type ValueInfo struct {
	Name     string
	DataType DataType
	Shape    []Dim // nil when the rank is unknown
}

// Dim is one dimension of a declared shape: a fixed size (Value >= 0), a symbolic one
// (Param, e.g. "N", with Value -1), or unknown (Value -1, Param "").
type Dim struct {
	Value int64
	Param string
}

// String returns the size, the parameter name, or "?".
func (d Dim) String() string {
	switch {
	case d.Value >= 0:
		return strconv.FormatInt(d.Value, 10)
	case d.Param != "":
		return d.Param
	}
	return "?"
}

// Node is one lowered ONNX node: one of the IR types of the op_*.go files (*Conv, *MaxPool,
// *Pad, *Shape, ...; ClaimedOps lists the op types), or a bare *NodeBase not yet lowered.
type Node interface {
	// Base returns the fields every node has.
	Base() *NodeBase

	// infer is the op's shape rule: the output types from the input types (zero for an
	// absent optional input); value gives a constant input's value, or nil.
	infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error)
	// eval is the op's reference evaluation, given the types infer found.
	eval(in []*Tensor, types []TensorType) ([]*Tensor, error)
}

// NodeBase holds what every node has: its identity, its value names and its attributes
// as written. A bare *NodeBase is a node not yet lowered (see Build).
type NodeBase struct {
	Name    string   // NodeProto.name; may be empty
	Index   int      // position in the graph
	Op      string   // op type, e.g. "Conv"
	Inputs  []string // value names; "" marks an omitted optional input
	Outputs []string // value names; "" marks an omitted optional output
	// Attrs are the attributes as the model writes them, in order; the typed fields of
	// each op are read from them, and Encode writes them back.
	Attrs []Attribute

	domain string // NodeProto.domain, checked by lowering
}

// Base implements Node.
func (b *NodeBase) Base() *NodeBase { return b }

// ID names the node for messages: its name, or "#<index>" when it has none.
func (b *NodeBase) ID() string {
	if b.Name != "" {
		return strconv.Quote(b.Name)
	}
	return "#" + strconv.Itoa(b.Index)
}

// Input returns the i-th input name, or "" if absent.
func (b *NodeBase) Input(i int) string {
	if i < len(b.Inputs) {
		return b.Inputs[i]
	}
	return ""
}

// Output returns the i-th output name, or "" if absent.
func (b *NodeBase) Output(i int) string {
	if i < len(b.Outputs) {
		return b.Outputs[i]
	}
	return ""
}

// Errorf returns an *InvalidError naming the node and the attribute (or input) at fault.
func (b *NodeBase) Errorf(attr, format string, args ...any) error {
	return &InvalidError{Node: b.ID(), Op: b.Op, Attribute: attr, Reason: fmt.Sprintf(format, args...)}
}

// Unsupported returns an *UnsupportedError naming the node and the attribute (or input)
// at fault.
func (b *NodeBase) Unsupported(attr, format string, args ...any) error {
	return &UnsupportedError{Node: b.ID(), Op: b.Op, Attribute: attr, Reason: fmt.Sprintf(format, args...)}
}
