package onnx

import "math"

// GlobalAveragePool and GlobalMaxPool (ONNX Operators.md, opset 1): the IR types, shape
// rule and reference evaluation.

// GlobalAveragePool is ONNX GlobalAveragePool: the mean of each channel's spatial plane.
//
//	X (N,C,D1..Dn) -> Y (N,C,1..1)
type GlobalAveragePool struct{ NodeBase }

// GlobalMaxPool is ONNX GlobalMaxPool: the maximum of each channel's spatial plane.
//
//	X (N,C,D1..Dn) -> Y (N,C,1..1)
type GlobalMaxPool struct{ NodeBase }

func lowerGlobalAveragePool(b NodeBase, r *attrReader, _ *lowerCtx) (Node, error) {
	return &GlobalAveragePool{b}, b.arity(1, 1, 1, 1, r)
}

func lowerGlobalMaxPool(b NodeBase, r *attrReader, _ *lowerCtx) (Node, error) {
	return &GlobalMaxPool{b}, b.arity(1, 1, 1, 1, r)
}

func inferGlobalPool(b *NodeBase, in []TensorType) ([]TensorType, error) {
	if err := wantType(b, in, 0, Float, 3, -1); err != nil {
		return nil, err
	}
	out := make([]int64, len(in[0].Shape))
	copy(out, in[0].Shape[:2])
	for i := 2; i < len(out); i++ {
		out[i] = 1
	}
	return []TensorType{{Float, out}}, nil
}

func (n *GlobalAveragePool) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	return inferGlobalPool(&n.NodeBase, in)
}

func (n *GlobalMaxPool) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	return inferGlobalPool(&n.NodeBase, in)
}

// globalPoolNaive reduces each plane of x (N,C,spatial...) to one value, in float64.
func globalPoolNaive(x *Tensor, t TensorType, avg bool) []*Tensor {
	y := newTensor(t)
	plane := prod(x.Dims[2:])
	for p := range y.Float {
		vs := x.Float[int64(p)*plane : int64(p+1)*plane]
		sum, best := 0.0, math.Inf(-1)
		for _, v := range vs {
			sum += float64(v)
			if float64(v) > best || v != v {
				best = float64(v)
			}
		}
		if avg {
			y.Float[p] = float32(sum / float64(plane))
		} else {
			y.Float[p] = float32(best)
		}
	}
	return []*Tensor{y}
}

func (n *GlobalAveragePool) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return globalPoolNaive(in[0], types[0], true), nil
}

func (n *GlobalMaxPool) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return globalPoolNaive(in[0], types[0], false), nil
}

// cost: one operation per input element.
func (n *GlobalAveragePool) cost(in, out []TensorType) (flops, workspace float64) {
	return elems(in[0].Shape), 0
}

// cost: one operation per input element.
func (n *GlobalMaxPool) cost(in, out []TensorType) (flops, workspace float64) {
	return elems(in[0].Shape), 0
}
