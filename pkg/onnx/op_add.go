package onnx

import (
	"fmt"
	"slices"
)

// Add (ONNX Operators.md) with numpy broadcasting: the IR type, attribute checks, shape
// rule and reference evaluation, and the broadcasting helpers Gemm and MatMul share.

// Add is ONNX Add with multidirectional (numpy) broadcasting (opset 7/13/14), or, before
// opset 7 (Legacy), with the attributes broadcast and axis: without broadcast both
// inputs have one shape; with it, B's shape matches A's from Axis on (default: A's last
// axes) and B repeats over the rest.
type Add struct {
	NodeBase
	Legacy    bool
	Broadcast bool
	Axis      *int64
}

func lowerAdd(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Add{NodeBase: b, Legacy: ctx.opset < 7}
	if n.Legacy {
		if ctx.opset < 6 {
			r.ints("consumed_inputs")
		}
		n.Broadcast = r.bool("broadcast", false)
		if r.has("axis") {
			a := r.int("axis", 0)
			n.Axis = &a
		}
	}
	return n, b.arity(2, 2, 1, 1, r)
}

// Operand1Shape returns the shape of B (input 1) as numpy broadcasting sees it: b itself
// from opset 7, and before, b followed by the size-1 axes that align it at Axis of a.
func (n *Add) Operand1Shape(a, b []int64) ([]int64, error) {
	if !n.Legacy {
		return b, nil
	}
	nb := &n.NodeBase
	if !n.Broadcast {
		if !slices.Equal(a, b) {
			return nil, nb.Errorf("broadcast", "shapes %v and %v differ and broadcast is 0", a, b)
		}
		return b, nil
	}
	axis := int64(len(a) - len(b))
	if n.Axis != nil {
		axis = *n.Axis
		if axis < 0 {
			axis += int64(len(a))
		}
	}
	if axis < 0 || axis+int64(len(b)) > int64(len(a)) {
		return nil, nb.Errorf("axis", "B %v does not fit A %v at axis %d", b, a, axis)
	}
	for i, d := range b {
		if d != a[axis+int64(i)] && d != 1 {
			return nil, nb.Errorf("axis", "B %v does not match A %v at axis %d", b, a, axis)
		}
	}
	out := slices.Clone(b)
	for i := axis + int64(len(b)); i < int64(len(a)); i++ {
		out = append(out, 1)
	}
	return out, nil
}

func (n *Add) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 0, -1); err != nil {
		return nil, err
	}
	if err := wantType(b, in, 1, Float, 0, -1); err != nil {
		return nil, err
	}
	return n.inferBroadcast(in, Float)
}

// inferBroadcast is the shape rule Add, Sub, Mul and Div share, for inputs of type dt
// already checked: the broadcast of A and B (B aligned at Axis before opset 7, when only
// B may repeat).
func (n *Add) inferBroadcast(in []TensorType, dt DataType) ([]TensorType, error) {
	b := &n.NodeBase
	bs, err := n.Operand1Shape(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	out, err := BroadcastShapes(in[0].Shape, bs)
	if err != nil {
		return nil, b.Errorf("inputs", "%v", err)
	}
	if n.Legacy && !slices.Equal(out, in[0].Shape) {
		return nil, b.Errorf("inputs", "B %v broadcasts A %v: before opset 7 only B repeats", in[1].Shape, in[0].Shape)
	}
	return []TensorType{{dt, out}}, nil
}

func (n *Add) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	idx := make([]int64, len(y.Dims))
	bs, err := n.Operand1Shape(in[0].Dims, in[1].Dims)
	if err != nil {
		return nil, err
	}
	for i := range y.Float {
		unravel(int64(i), y.Dims, idx)
		a := in[0].Float[broadcastOffset(idx, in[0].Dims)]
		c := in[1].Float[broadcastOffset(idx, bs)]
		y.Float[i] = a + c // one float32 rounding, as float32 addition
	}
	return []*Tensor{y}, nil
}

// BroadcastShapes returns the numpy (multidirectional) broadcast of a and b.
func BroadcastShapes(a, b []int64) ([]int64, error) {
	n := max(len(a), len(b))
	out := make([]int64, n)
	for i := 0; i < n; i++ {
		da, db := int64(1), int64(1)
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// unravel writes the row-major multi-index of flat offset i in shape into idx.
func unravel(i int64, shape, idx []int64) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
}

// broadcastOffset returns the flat offset in a tensor of shape s of the element that
// numpy broadcasting pairs with output index idx (s aligned right; size-1 dims repeat).
func broadcastOffset(idx, s []int64) int64 {
	off := int64(0)
	shift := len(idx) - len(s)
	for d := range s {
		i := idx[shift+d]
		if s[d] == 1 {
			i = 0
		}
		off = off*s[d] + i
	}
	return off
}
