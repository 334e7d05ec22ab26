package onnx

import "fmt"

// Add (ONNX Operators.md) with numpy broadcasting: the IR type, attribute checks, shape
// rule and reference evaluation, and the broadcasting helpers Gemm and MatMul share.

// Add is ONNX Add (opset 7/13/14) with multidirectional (numpy) broadcasting.
type Add struct{ NodeBase }

func lowerAdd(b NodeBase, r *attrReader, _ *lowerCtx) (Node, error) {
	return &Add{b}, b.arity(2, 2, 1, 1, r)
}

func (n *Add) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 0, -1); err != nil {
		return nil, err
	}
	if err := wantType(b, in, 1, Float, 0, -1); err != nil {
		return nil, err
	}
	out, err := BroadcastShapes(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, b.Errorf("inputs", "%v", err)
	}
	return []TensorType{{Float, out}}, nil
}

func (n *Add) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	idx := make([]int64, len(y.Dims))
	for i := range y.Float {
		unravel(int64(i), y.Dims, idx)
		a := in[0].Float[broadcastOffset(idx, in[0].Dims)]
		c := in[1].Float[broadcastOffset(idx, in[1].Dims)]
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
