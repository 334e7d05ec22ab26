package onnx

import (
	"slices"
	"strconv"
)

// Pad (ONNX Operators.md, Pad; opsets 1, 2, 11, 13 and 18): the IR type, attribute checks,
// shape rule and reference evaluation.

// PadMode is Pad's mode attribute.
type PadMode int

// The Pad modes (ONNX Pad: "constant", "reflect", "edge"; "wrap" came with opset 19).
const (
	PadConstant PadMode = iota // the padding holds Value
	PadReflect                 // mirrored at the border, the border itself not repeated
	PadEdge                    // the border value repeated
)

// String returns the ONNX spelling.
func (m PadMode) String() string {
	switch m {
	case PadConstant:
		return "constant"
	case PadReflect:
		return "reflect"
	case PadEdge:
		return "edge"
	}
	return "PadMode(" + strconv.Itoa(int(m)) + ")"
}

// Pad is ONNX Pad on a FLOAT tensor. Opset 1 gives the pads as the attribute paddings,
// opsets 2-10 as the attribute pads and the value as the attribute value; from opset 11
// pads and constant_value are inputs, and from 18 an optional axes input says which axes
// the pads are for. Pads are [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; a negative
// pad removes elements.
//
//	X (d1..dn) -> Y (d1+b1+e1, ..., dn+bn+en)
type Pad struct {
	NodeBase
	Mode PadMode
	// Pads, Value and Axes are what lowering knows: the attributes, or the constant inputs.
	// Pads is nil when the pads are only known at run time; Axes nil means every axis.
	Pads  []int64
	Value float32
	Axes  []int64
}

func lowerPad(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Pad{NodeBase: b}
	switch s := r.str("mode", "constant"); s {
	case "constant":
		n.Mode = PadConstant
	case "reflect":
		n.Mode = PadReflect
	case "edge":
		n.Mode = PadEdge
	default:
		r.fail("mode", "= %q, want constant, reflect or edge", s)
	}
	if ctx.opset < 11 {
		name := "pads"
		if ctx.opset < 2 {
			name = "paddings"
		}
		if !r.has(name) {
			r.fail(name, "required attribute is missing")
		}
		n.Pads = r.ints(name)
		n.Value = r.float("value", 0)
		if err := b.arity(1, 1, 1, 1, r); err != nil {
			return nil, err
		}
		if len(n.Pads)%2 != 0 {
			return nil, b.Errorf(name, "has %d entries, want 2 per axis", len(n.Pads))
		}
		return n, nil
	}
	maxIn := 3
	if ctx.opset >= 18 {
		maxIn = 4
	}
	if err := b.arity(2, maxIn, 1, 1, r); err != nil {
		return nil, err
	}
	if t, ok := ctx.consts[b.Inputs[1]]; ok {
		if t.DataType != Int64 || len(t.Dims) != 1 || len(t.Int64)%2 != 0 {
			return nil, b.Errorf("input 1", "pads must be a 1-D INT64 tensor of 2 values per axis, got %s %v", t.DataType, t.Dims)
		}
		n.Pads = slices.Clone(t.Int64)
	}
	if t, ok := ctx.consts[b.Input(2)]; ok {
		if t.DataType != Float || len(t.Float) != 1 || len(t.Dims) > 1 {
			return nil, b.Errorf("input 2", "constant_value must be a FLOAT scalar, got %s %v", t.DataType, t.Dims)
		}
		n.Value = t.Float[0]
	}
	if name := b.Input(3); name != "" {
		t, ok := ctx.consts[name]
		if !ok {
			return nil, b.Unsupported("input 3", "axes given at run time (only constant axes are supported)")
		}
		if t.DataType != Int64 || len(t.Dims) != 1 {
			return nil, b.Errorf("input 3", "axes must be a 1-D INT64 tensor, got %s %v", t.DataType, t.Dims)
		}
		n.Axes = slices.Clone(t.Int64)
	}
	return n, nil
}

// Resolve returns the pads for every axis of a rank-rank input, [begin..., end...], from
// pads (n.Pads, or the value of the pads input) and n.Axes.
func (n *Pad) Resolve(rank int, pads []int64) ([]int64, error) {
	b := &n.NodeBase
	if n.Axes == nil {
		if len(pads) != 2*rank {
			return nil, b.Errorf("pads", "has %d entries, the input has rank %d", len(pads), rank)
		}
		return pads, nil
	}
	if len(pads) != 2*len(n.Axes) {
		return nil, b.Errorf("pads", "has %d entries for %d axes", len(pads), len(n.Axes))
	}
	full := make([]int64, 2*rank)
	seen := make([]bool, rank)
	for i, a := range n.Axes {
		ax, err := NormAxis(b, "input 3", a, rank, false)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, b.Errorf("input 3", "axis %d given twice", a)
		}
		seen[ax] = true
		full[ax], full[rank+ax] = pads[i], pads[len(n.Axes)+i]
	}
	return full, nil
}

// pads returns the pads of every axis for an input of rank rank, given the value lookup.
func (n *Pad) pads(rank int, value func(string) *Tensor) ([]int64, error) {
	b := &n.NodeBase
	p := n.Pads
	if p == nil {
		t := value(b.Inputs[1])
		if t == nil {
			return nil, b.Errorf("input 1", "the pads are not a constant; they are only known at run time")
		}
		if t.DataType != Int64 || len(t.Dims) != 1 {
			return nil, b.Errorf("input 1", "pads must be a 1-D INT64 tensor, got %s %v", t.DataType, t.Dims)
		}
		p = t.Int64
	}
	return n.Resolve(rank, p)
}

func (n *Pad) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 0, -1); err != nil {
		return nil, err
	}
	if b.Input(1) != "" {
		if err := wantType(b, in, 1, Int64, 1, 1); err != nil {
			return nil, err
		}
	}
	if b.Input(2) != "" {
		if err := wantType(b, in, 2, Float, 0, 1); err != nil {
			return nil, err
		}
	}
	x := in[0].Shape
	pads, err := n.pads(len(x), value)
	if err != nil {
		return nil, err
	}
	out, err := n.OutputShape(x, pads)
	if err != nil {
		return nil, err
	}
	return []TensorType{{Float, out}}, nil
}

// OutputShape returns the padded shape of x, checking the pads against the mode: the
// result must not be negative (nor 0 beyond MaxTensorBytes), reflect needs pads smaller
// than the axis, edge a non-empty axis, and neither takes pads of both signs on one axis
// (onnxruntime crops first there, numpy after).
func (n *Pad) OutputShape(x, pads []int64) ([]int64, error) {
	b := &n.NodeBase
	rank := len(x)
	out := make([]int64, rank)
	for i, d := range x {
		lo, hi := pads[i], pads[rank+i]
		const limit = MaxTensorBytes
		if lo > limit || hi > limit || lo < -limit || hi < -limit {
			return nil, b.Errorf("pads", "%v: pad out of range", pads)
		}
		out[i] = d + lo + hi
		if out[i] < 0 {
			return nil, b.Errorf("pads", "%v: axis %d of %v would have %d elements", pads, i, x, out[i])
		}
		if n.Mode == PadConstant || (lo == 0 && hi == 0) {
			continue
		}
		if (lo < 0 && hi > 0) || (lo > 0 && hi < 0) {
			return nil, b.Unsupported("pads", "%v: mode %s with pads of both signs on axis %d", pads, n.Mode, i)
		}
		if d == 0 {
			return nil, b.Errorf("pads", "mode %s pads the empty axis %d", n.Mode, i)
		}
		if n.Mode == PadReflect && (lo >= d || hi >= d) {
			return nil, b.Unsupported("pads", "%v: mode reflect with a pad not smaller than axis %d (%d)", pads, i, d)
		}
	}
	if _, err := NumElements(out); err != nil {
		return nil, b.Errorf("pads", "%v: output %v: %v", pads, out, err)
	}
	return out, nil
}

// PadSource maps coordinate o of a padded axis (begin pad lo, input size d) to the input
// coordinate it copies, or -1 for a constant pad.
func PadSource(mode PadMode, o, lo, d int64) int64 {
	i := o - lo
	if i >= 0 && i < d {
		return i
	}
	switch mode {
	case PadEdge:
		return min(max(i, 0), d-1)
	case PadReflect:
		if i < 0 {
			return -i
		}
		return 2*(d-1) - i
	}
	return -1
}

func (n *Pad) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	x := in[0]
	rank := len(x.Dims)
	pads, err := n.pads(rank, func(string) *Tensor { return in[1] })
	if err != nil {
		return nil, err
	}
	value := n.Value
	if len(in) > 2 && in[2] != nil {
		value = in[2].Float[0]
	}
	y := newTensor(types[0])
	o := make([]int64, rank)
	for k := range y.Float {
		unravel(int64(k), y.Dims, o)
		off, inside := int64(0), true
		for d := 0; d < rank; d++ {
			s := PadSource(n.Mode, o[d], pads[d], x.Dims[d])
			if s < 0 {
				inside = false
				break
			}
			off = off*x.Dims[d] + s
		}
		if inside {
			y.Float[k] = x.Float[off]
		} else {
			y.Float[k] = value
		}
	}
	return []*Tensor{y}, nil
}
