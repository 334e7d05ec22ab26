package onnx

import "math"

// Softmax (ONNX Operators.md; its meaning changed at opset 13): the IR type, attribute
// checks, shape rule, reference evaluation and cost.

// Softmax is ONNX Softmax. From opset 13 it normalizes along Axis alone (default -1);
// before (Coerce2D), the input is viewed as 2-D (d0*..*d(Axis-1), dAxis*..*dn) and each
// row is normalized (default Axis 1).
type Softmax struct {
	NodeBase
	Axis     int64
	Coerce2D bool
}

func lowerSoftmax(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Softmax{NodeBase: b, Coerce2D: ctx.opset < 13}
	def := int64(-1)
	if n.Coerce2D {
		def = 1
	}
	n.Axis = r.int("axis", def)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if n.Axis < 0 && ctx.opset < 11 {
		return nil, b.Errorf("axis", "= %d: negative axes need ctx.opset 11", n.Axis)
	}
	if err := b.checkArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Softmax) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 1, -1); err != nil {
		return nil, err
	}
	if _, err := NormAxis(b, "axis", n.Axis, len(in[0].Shape), false); err != nil {
		return nil, err
	}
	return []TensorType{in[0]}, nil
}

func (n *Softmax) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	softmaxNaive(n, in[0], y)
	return []*Tensor{y}, nil
}

// softmaxNaive: y = exp(x - max) / sum(exp(x - max)) over the softmax groups: the
// elements along Axis (opset >= 13), or each row of the 2-D view (Coerce2D).
func softmaxNaive(n *Softmax, x, y *Tensor) {
	axis := int(n.Axis)
	if axis < 0 {
		axis += len(x.Dims)
	}
	outer, dim, inner := prod(x.Dims[:axis]), x.Dims[axis], prod(x.Dims[axis+1:])
	if n.Coerce2D {
		dim, inner = prod(x.Dims[axis:]), 1
	}
	for o := int64(0); o < outer; o++ {
		for in := int64(0); in < inner; in++ {
			at := func(i int64) int64 { return (o*dim+i)*inner + in }
			mx := math.Inf(-1)
			for i := int64(0); i < dim; i++ {
				mx = math.Max(mx, float64(x.Float[at(i)]))
			}
			sum := 0.0
			for i := int64(0); i < dim; i++ {
				sum += math.Exp(float64(x.Float[at(i)]) - mx)
			}
			for i := int64(0); i < dim; i++ {
				y.Float[at(i)] = float32(math.Exp(float64(x.Float[at(i)])-mx) / sum)
			}
		}
	}
}

// cost: an estimated five operations per element.
func (n *Softmax) cost(in, out []TensorType) (flops, workspace float64) {
	return 5 * elems(out[0].Shape), 0
}
