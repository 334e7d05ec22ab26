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

// Node is one lowered ONNX node: *Conv, *MaxPool, *AveragePool, *BatchNormalization,
// *Gemm, *MatMul, *Add, *Relu, *Flatten, *Reshape, *Softmax, *Identity, *Dropout or
// *Constant.
type Node interface {
	// Base returns the fields every node has.
	Base() *NodeBase
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

// Errorf returns a *ModelError naming the node and the attribute (or input) at fault.
func (b *NodeBase) Errorf(attr, format string, args ...any) error {
	return &ModelError{Node: b.ID(), Op: b.Op, Attribute: attr, Reason: fmt.Sprintf(format, args...)}
}

// Unsupported returns an *UnsupportedError naming the node and the attribute (or input)
// at fault.
func (b *NodeBase) Unsupported(attr, format string, args ...any) error {
	return &UnsupportedError{Node: b.ID(), Op: b.Op, Attribute: attr, Reason: fmt.Sprintf(format, args...)}
}

// AutoPad is the auto_pad attribute of Conv and the pooling ops.
type AutoPad int

// The auto_pad values (ONNX Operators.md, Conv/MaxPool/AveragePool).
const (
	NotSet    AutoPad = iota // explicit pads (default)
	Valid                    // no padding
	SameUpper                // output = ceil(input/stride); an odd total pad puts the extra at the end
	SameLower                // as SameUpper, with the extra pad at the beginning
)

// String returns the ONNX spelling, e.g. "SAME_UPPER".
func (a AutoPad) String() string {
	switch a {
	case NotSet:
		return "NOTSET"
	case Valid:
		return "VALID"
	case SameUpper:
		return "SAME_UPPER"
	case SameLower:
		return "SAME_LOWER"
	}
	return "AutoPad(" + strconv.Itoa(int(a)) + ")"
}

// Window is the sliding-window geometry shared by Conv, MaxPool and AveragePool. All
// slices have one entry per spatial axis (Pads two: all beginnings, then all ends); they
// are filled with the defaults (strides 1, dilations 1, pads 0) by lowering, except
// KernelShape, which Conv may leave nil (then it is W's spatial shape).
type Window struct {
	KernelShape []int64
	Strides     []int64
	Dilations   []int64
	Pads        []int64 // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; ignored unless AutoPad == NotSet
	AutoPad     AutoPad
	CeilMode    bool // pooling only: round the output size up (see WindowOutput)
}

// Conv is ONNX Conv (opset 1/11): Y = X * W + B, cross-correlation, group 1.
//
//	X (N,C,D1..Dn), W (M,C,k1..kn), B (M) optional -> Y (N,M,O1..On)
type Conv struct {
	NodeBase
	Window
}

// MaxPool is ONNX MaxPool (opset 8/10/11/12) without the Indices output; padding never
// wins (it acts as -Inf).
//
//	X (N,C,D1..Dn) -> Y (N,C,O1..On)
type MaxPool struct {
	NodeBase
	Window
}

// AveragePool is ONNX AveragePool (opset 7/10/11).
//
//	X (N,C,D1..Dn) -> Y (N,C,O1..On)
type AveragePool struct {
	NodeBase
	Window
	// CountIncludePad divides by the whole window, padding included (but never the part of
	// a ceil-mode window beyond the end padding); otherwise by the in-input elements only.
	CountIncludePad bool
}

// BatchNormalization is ONNX BatchNormalization in inference mode (opset 7/9/14/15):
//
//	Y = (X - mean) / sqrt(var + Epsilon) * scale + B
//	X (N,C,D1..Dn), scale, B, mean, var (C) -> Y like X
type BatchNormalization struct {
	NodeBase
	Epsilon float32
}

// Gemm is ONNX Gemm (opset 7/9/11/13): Y = Alpha * A' * B' + Beta * C, where A' is A or
// its transpose, likewise B'. C is optional (opset >= 11) and broadcasts to (M,N).
//
//	A (M,K) or (K,M), B (K,N) or (N,K), C broadcastable to (M,N) -> Y (M,N)
type Gemm struct {
	NodeBase
	Alpha, Beta    float32
	TransA, TransB bool
}

// MatMul is ONNX MatMul (opset 1/9/13): numpy.matmul, with batch broadcasting and 1-D
// operands promoted and then squeezed.
type MatMul struct{ NodeBase }

// Add is ONNX Add (opset 7/13/14) with multidirectional (numpy) broadcasting.
type Add struct{ NodeBase }

// Relu is ONNX Relu (opset 6/13/14): Y = max(X, 0).
type Relu struct{ NodeBase }

// Flatten is ONNX Flatten (opset 1/9/11/13): Y is 2-D, (d0*..*d(Axis-1), dAxis*..*dn).
// Axis is normalized to [0, rank] at lowering when the rank is known, else at run time.
type Flatten struct {
	NodeBase
	Axis int64 // as written; negative counts from the end (opset >= 11)
}

// Reshape is ONNX Reshape (opset 5/13/14). In the shape input, -1 is inferred (at most
// one) and 0 copies the input's dimension unless AllowZero, where 0 is a real zero.
type Reshape struct {
	NodeBase
	AllowZero bool
	// Shape is the shape input's value when it is a constant (initializer or Constant
	// node); nil when it is only known at run time.
	Shape []int64
}

// Softmax is ONNX Softmax. From opset 13 it normalizes along Axis alone (default -1);
// before (Coerce2D), the input is viewed as 2-D (d0*..*d(Axis-1), dAxis*..*dn) and each
// row is normalized (default Axis 1).
type Softmax struct {
	NodeBase
	Axis     int64
	Coerce2D bool
}

// Identity is ONNX Identity (tensor inputs only).
type Identity struct{ NodeBase }

// Dropout is ONNX Dropout in inference mode: Y = X; the optional mask output is all
// true (Bool from opset 10, ones of X's type before).
type Dropout struct {
	NodeBase
	Ratio float32 // recorded for export; unused in inference

	floatMask bool // opset < 10: the mask has X's type instead of BOOL
}

// Constant is ONNX Constant: a tensor value (attribute value, value_float(s) or
// value_int(s)).
type Constant struct {
	NodeBase
	Value *Tensor
}

// ClaimedOps lists the op types this package lowers, in the order of the Node docs.
var ClaimedOps = []string{"Conv", "MaxPool", "AveragePool", "BatchNormalization", "Gemm",
	"MatMul", "Add", "Relu", "Flatten", "Reshape", "Softmax", "Identity", "Dropout", "Constant"}
