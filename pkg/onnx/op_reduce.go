package onnx

import (
	"math"
	"slices"
	"sort"
)

// ReduceMean and ReduceMax (ONNX Operators.md): the IR type, attribute checks, shape rule
// and reference evaluation. PyTorch writes x.mean((2, 3)) and x.amax((2, 3)) as these,
// and tf2onnx writes Keras' GlobalAveragePooling2D as a ReduceMean.

// Reduce is ONNX ReduceMean or ReduceMax over FLOAT tensors: the mean (or maximum) over
// Axes, which keepdims keeps as size-1 dims or drops. Axes is nil for all axes (the axes
// attribute or input absent), unless NoopWithEmptyAxes (opset 18), which makes it the
// identity. Axes come from the attribute before opset 18 and from the constant input 1
// from it (ReduceMax: opset 18 too).
type Reduce struct {
	NodeBase
	Op                string // "ReduceMean" or "ReduceMax"
	Axes              []int64
	KeepDims          bool
	NoopWithEmptyAxes bool
}

// lowerReduce returns the lowering of the Reduce op named op.
func lowerReduce(op string) lowerFunc {
	return func(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
		n := &Reduce{NodeBase: b, Op: op, KeepDims: r.int("keepdims", 1) != 0}
		if ctx.opset < 18 {
			n.Axes = r.ints("axes")
			if err := b.arity(1, 1, 1, 1, r); err != nil {
				return nil, err
			}
			if ctx.opset < 11 {
				for _, a := range n.Axes {
					if a < 0 {
						return nil, b.Errorf("axes", "= %v: negative axes need opset 11", n.Axes)
					}
				}
			}
			return n, nil
		}
		n.NoopWithEmptyAxes = r.int("noop_with_empty_axes", 0) != 0
		if err := b.arity(1, 2, 1, 1, r); err != nil {
			return nil, err
		}
		if name := b.Input(1); name != "" {
			t, ok := ctx.consts[name]
			if !ok {
				return nil, b.Unsupported("input 1", "axes %q are computed at run time: fmkit needs constant axes", name)
			}
			if t.DataType != Int64 || len(t.Dims) != 1 {
				return nil, b.Errorf("input 1", "axes must be a 1-D INT64 tensor, got %s %v", t.DataType, t.Dims)
			}
			n.Axes = slices.Clone(t.Int64)
		}
		return n, nil
	}
}

// Reduced returns the axes reduced over a value of the given rank, normalised (0..rank-1)
// and sorted; nil means none (the identity).
func (n *Reduce) Reduced(rank int) ([]int, error) {
	if len(n.Axes) == 0 {
		if n.NoopWithEmptyAxes {
			return nil, nil
		}
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	var out []int
	for _, a := range n.Axes {
		ax, err := NormAxis(&n.NodeBase, "axes", a, rank, false)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, ax) {
			return nil, n.Errorf("axes", "= %v: axis %d appears twice", n.Axes, a)
		}
		out = append(out, ax)
	}
	sort.Ints(out)
	return out, nil
}

func (n *Reduce) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 0, -1); err != nil {
		return nil, err
	}
	axes, err := n.Reduced(len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	var out []int64
	for i, d := range in[0].Shape {
		switch {
		case !slices.Contains(axes, i):
			out = append(out, d)
		case d == 0:
			return nil, b.Errorf("input 0", "shape %v: axis %d is empty, nothing to reduce", in[0].Shape, i)
		case n.KeepDims:
			out = append(out, 1)
		}
	}
	if out == nil {
		out = []int64{}
	}
	return []TensorType{{Float, out}}, nil
}

func (n *Reduce) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	x := in[0]
	axes, err := n.Reduced(len(x.Dims))
	if err != nil {
		return nil, err
	}
	y := newTensor(types[0])
	// kept is x's shape with the reduced axes at size 1: the output's layout whatever keepdims.
	kept := slices.Clone(x.Dims)
	for _, a := range axes {
		kept[a] = 1
	}
	acc := make([]float64, len(y.Float))
	for i := range acc {
		if n.Op == "ReduceMax" {
			acc[i] = math.Inf(-1)
		}
	}
	idx := make([]int64, len(x.Dims))
	for i, v := range x.Float {
		unravel(int64(i), x.Dims, idx)
		o := broadcastOffset(idx, kept)
		if n.Op == "ReduceMax" {
			if float64(v) > acc[o] || v != v {
				acc[o] = float64(v)
			}
		} else {
			acc[o] += float64(v)
		}
	}
	count := float64(1)
	for _, a := range axes {
		count *= float64(x.Dims[a])
	}
	for i, s := range acc {
		if n.Op == "ReduceMean" {
			s /= count
		}
		y.Float[i] = float32(s)
	}
	return []*Tensor{y}, nil
}
