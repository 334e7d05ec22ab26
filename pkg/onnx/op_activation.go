package onnx

import (
	"math"
)

// The elementwise activations besides Relu (ONNX Operators.md: Sigmoid, Tanh, LeakyRelu,
// Elu, Clip): the IR types, attribute checks (opset 1's consumed_inputs included), shape
// rule and reference evaluation. Each maps a FLOAT tensor to one of the same shape.

// Sigmoid is ONNX Sigmoid (opset 1/6/13): Y = 1 / (1 + exp(-X)).
type Sigmoid struct{ NodeBase }

// Tanh is ONNX Tanh (opset 1/6/13): Y = tanh(X).
type Tanh struct{ NodeBase }

// LeakyRelu is ONNX LeakyRelu (opset 1/6/16): Y = X for X >= 0, Alpha * X otherwise.
type LeakyRelu struct {
	NodeBase
	Alpha float32 // default 0.01
}

// Elu is ONNX Elu (opset 1/6): Y = X for X >= 0, Alpha * (exp(X) - 1) otherwise.
type Elu struct {
	NodeBase
	Alpha float32 // default 1
}

// Clip is ONNX Clip (opset 1/6/11/12/13): Y = min(max(X, Min), Max). Before opset 11 the
// bounds are attributes (opset 1: absent means unbounded; opset 6: default -/+FLT_MAX);
// from 11 they are the optional scalar inputs min and max. Min and Max hold the bounds
// known at lowering (attributes or constant inputs); a bound given as a runtime input is
// read when the node runs.
type Clip struct {
	NodeBase
	Min, Max float32
}

// lowerLegacyUnary reads opset 1's consumed_inputs (a legacy memory hint with no meaning
// for the result) and checks one input and one output.
func lowerLegacyUnary(b *NodeBase, r *attrReader, ctx *lowerCtx) error {
	if ctx.opset < 6 {
		r.ints("consumed_inputs")
	}
	return b.arity(1, 1, 1, 1, r)
}

func lowerSigmoid(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	return &Sigmoid{b}, lowerLegacyUnary(&b, r, ctx)
}

func lowerTanh(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	return &Tanh{b}, lowerLegacyUnary(&b, r, ctx)
}

func lowerLeakyRelu(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &LeakyRelu{NodeBase: b, Alpha: r.float("alpha", 0.01)}
	if err := lowerLegacyUnary(&n.NodeBase, r, ctx); err != nil {
		return nil, err
	}
	if !finite32(n.Alpha) {
		return nil, b.Errorf("alpha", "= %v, want a finite value", n.Alpha)
	}
	return n, nil
}

func lowerElu(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Elu{NodeBase: b, Alpha: r.float("alpha", 1)}
	if err := lowerLegacyUnary(&n.NodeBase, r, ctx); err != nil {
		return nil, err
	}
	if !finite32(n.Alpha) {
		return nil, b.Errorf("alpha", "= %v, want a finite value", n.Alpha)
	}
	return n, nil
}

func lowerClip(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Clip{NodeBase: b, Min: float32(math.Inf(-1)), Max: float32(math.Inf(1))}
	if ctx.opset < 11 {
		if ctx.opset >= 6 {
			n.Min, n.Max = -math.MaxFloat32, math.MaxFloat32
		}
		n.Min = r.float("min", n.Min)
		n.Max = r.float("max", n.Max)
		if err := lowerLegacyUnary(&n.NodeBase, r, ctx); err != nil {
			return nil, err
		}
		return n, nil
	}
	if err := b.arity(1, 3, 1, 1, r); err != nil {
		return nil, err
	}
	for i, p := range []*float32{&n.Min, &n.Max} {
		t, ok := ctx.consts[b.Input(i+1)]
		if !ok {
			continue
		}
		if t.DataType != Float || len(t.Float) != 1 || len(t.Dims) > 1 {
			return nil, b.Errorf(clipInputName(i+1), "must be a FLOAT scalar, got %s %v", t.DataType, t.Dims)
		}
		*p = t.Float[0]
	}
	return n, nil
}

func clipInputName(i int) string {
	if i == 1 {
		return "input 1 (min)"
	}
	return "input 2 (max)"
}

func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// inferUnaryFloat is the shape rule of a FLOAT elementwise op: Y like X.
func inferUnaryFloat(b *NodeBase, in []TensorType) ([]TensorType, error) {
	if err := wantType(b, in, 0, Float, 0, -1); err != nil {
		return nil, err
	}
	return []TensorType{in[0]}, nil
}

// mapFloat evaluates an elementwise op in float64, rounding once.
func mapFloat(x *Tensor, t TensorType, f func(float64) float64) []*Tensor {
	y := newTensor(t)
	for i, v := range x.Float {
		y.Float[i] = float32(f(float64(v)))
	}
	return []*Tensor{y}
}

func (n *Sigmoid) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	return inferUnaryFloat(&n.NodeBase, in)
}

func (n *Tanh) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	return inferUnaryFloat(&n.NodeBase, in)
}

func (n *LeakyRelu) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	return inferUnaryFloat(&n.NodeBase, in)
}

func (n *Elu) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	return inferUnaryFloat(&n.NodeBase, in)
}

func (n *Clip) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	for i := 1; i < len(in); i++ {
		if b.Inputs[i] == "" {
			continue
		}
		if err := wantType(b, in, i, Float, 0, 1); err != nil {
			return nil, err
		}
		if len(in[i].Shape) == 1 && in[i].Shape[0] != 1 {
			return nil, b.Errorf(clipInputName(i), "shape %v, want a scalar", in[i].Shape)
		}
	}
	return inferUnaryFloat(b, in)
}

func (n *Sigmoid) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return mapFloat(in[0], types[0], func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }), nil
}

func (n *Tanh) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return mapFloat(in[0], types[0], math.Tanh), nil
}

func (n *LeakyRelu) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	a := float64(n.Alpha)
	return mapFloat(in[0], types[0], func(v float64) float64 {
		if v < 0 {
			return a * v
		}
		return v
	}), nil
}

func (n *Elu) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	a := float64(n.Alpha)
	return mapFloat(in[0], types[0], func(v float64) float64 {
		if v < 0 {
			return a * math.Expm1(v)
		}
		return v
	}), nil
}

// bounds returns the bounds given the node's inputs at run time (a bound input overrides
// the value known at lowering).
func (n *Clip) bounds(in []*Tensor) (lo, hi float32) {
	lo, hi = n.Min, n.Max
	if len(in) > 1 && in[1] != nil {
		lo = in[1].Float[0]
	}
	if len(in) > 2 && in[2] != nil {
		hi = in[2].Float[0]
	}
	return lo, hi
}

func (n *Clip) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	lo, hi := n.bounds(in)
	return mapFloat(in[0], types[0], func(v float64) float64 { return ClipValue(v, float64(lo), float64(hi)) }), nil
}

// ClipValue is Clip's rule for one value: max(v, lo), then min(that, hi) (so hi wins when
// lo > hi, as onnxruntime computes it); a NaN stays NaN.
func ClipValue(v, lo, hi float64) float64 {
	if v < lo {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return v
}

// cost: an estimated ten operations per element for the transcendental ones.
func (n *Sigmoid) cost(in, out []TensorType) (flops, workspace float64) {
	return 10 * elems(out[0].Shape), 0
}

func (n *Tanh) cost(in, out []TensorType) (flops, workspace float64) {
	return 10 * elems(out[0].Shape), 0
}

func (n *Elu) cost(in, out []TensorType) (flops, workspace float64) {
	return 10 * elems(out[0].Shape), 0
}
