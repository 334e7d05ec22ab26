package onnx

import "math"

// Softmax and LogSoftmax (ONNX Operators.md; their meaning changed at opset 13): the IR
// types, attribute checks, shape rule, reference evaluation and cost.

// Softmax is ONNX Softmax. From opset 13 it normalizes along Axis alone (default -1);
// before (Coerce2D), the input is viewed as 2-D (d0*..*d(Axis-1), dAxis*..*dn) and each
// row is normalized (default Axis 1).
type Softmax struct {
	NodeBase
	Axis     int64
	Coerce2D bool
}

// LogSoftmax is ONNX LogSoftmax (opset 1/11/13): the logarithm of Softmax, with the same
// axis rules (Coerce2D before opset 13), computed as x - max - log(sum(exp(x - max))).
type LogSoftmax struct {
	NodeBase
	Axis     int64
	Coerce2D bool
}

func lowerLogSoftmax(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n, err := lowerSoftmax(b, r, ctx)
	if err != nil {
		return nil, err
	}
	s := n.(*Softmax)
	return &LogSoftmax{NodeBase: s.NodeBase, Axis: s.Axis, Coerce2D: s.Coerce2D}, nil
}

func (n *LogSoftmax) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	s := Softmax{NodeBase: n.NodeBase, Axis: n.Axis, Coerce2D: n.Coerce2D}
	return s.infer(in, value)
}

func (n *LogSoftmax) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	softmaxNaive(&Softmax{Axis: n.Axis, Coerce2D: n.Coerce2D}, in[0], y, true)
	return []*Tensor{y}, nil
}

// cost: an estimated five operations per element.
func (n *LogSoftmax) cost(in, out []TensorType) (flops, workspace float64) {
	return 5 * elems(out[0].Shape), 0
}

// SoftmaxGroups returns how a softmax over axis of a value of shape x (Coerce2D or not)
// splits it: outer groups, each of dim elements spaced inner apart.
func SoftmaxGroups(x []int64, axis int64, coerce2D bool) (outer, dim, inner int64) {
	a := int(axis)
	if a < 0 {
		a += len(x)
	}
	outer, dim, inner = prod(x[:a]), x[a], prod(x[a+1:])
	if coerce2D {
		dim, inner = prod(x[a:]), 1
	}
	return outer, dim, inner
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
	// Negative axes are accepted at every opset: the spec names them from opset 11, but
	// ONNX's own legacy backend test test_log_softmax_lastdim (opset 6) uses axis -1, and
	// onnxruntime runs it.
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
	softmaxNaive(n, in[0], y, false)
	return []*Tensor{y}, nil
}

// softmaxNaive: y = exp(x - max) / sum(exp(x - max)) over the softmax groups: the
// elements along Axis (opset >= 13), or each row of the 2-D view (Coerce2D); with log,
// y = x - max - log(sum(exp(x - max))).
func softmaxNaive(n *Softmax, x, y *Tensor, log bool) {
	outer, dim, inner := SoftmaxGroups(x.Dims, n.Axis, n.Coerce2D)
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
				if log {
					y.Float[at(i)] = float32(float64(x.Float[at(i)]) - mx - math.Log(sum))
					continue
				}
				y.Float[at(i)] = float32(math.Exp(float64(x.Float[at(i)])-mx) / sum)
			}
		}
	}
}

// cost: an estimated five operations per element.
func (n *Softmax) cost(in, out []TensorType) (flops, workspace float64) {
	return 5 * elems(out[0].Shape), 0
}
