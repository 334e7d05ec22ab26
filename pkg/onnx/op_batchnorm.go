package onnx

import (
	"math"
	"strconv"
)

// BatchNormalization (ONNX Operators.md), inference mode: the IR type, attribute checks,
// shape rule and reference evaluation.

// BatchNormalization is ONNX BatchNormalization in inference mode (opset 1/6/7/9/14/15; is_test=1 before 7,
// spatial=1 before 9):
//
//	Y = (X - mean) / sqrt(var + Epsilon) * scale + B
//	X (N,C,D1..Dn), scale, B, mean, var (C) -> Y like X
type BatchNormalization struct {
	NodeBase
	Epsilon float32
}

func lowerBatchNorm(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	eps := r.float("epsilon", 1e-5)
	r.float("momentum", 0.9) // training only
	spatial := true
	if ctx.opset < 9 {
		spatial = r.bool("spatial", true)
	}
	if ctx.opset < 6 {
		r.ints("consumed_inputs")
	}
	isTest := true
	if ctx.opset < 7 {
		isTest = r.bool("is_test", false)
	}
	training := false
	if ctx.opset >= 14 {
		training = r.bool("training_mode", false)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if !spatial {
		return nil, b.Unsupported("spatial", "spatial=0 (per-activation statistics) is not supported")
	}
	if training {
		return nil, b.Unsupported("training_mode", "training_mode=1: only inference is supported")
	}
	if !isTest {
		return nil, b.Unsupported("is_test", "is_test=0 (training, before opset 7): only inference is supported")
	}
	maxOut := 5
	if ctx.opset >= 14 {
		maxOut = 3
	}
	if err := b.checkArity(5, 5, 1, maxOut); err != nil {
		return nil, err
	}
	for i := 1; i < len(b.Outputs); i++ {
		if b.Outputs[i] != "" {
			return nil, b.Unsupported("output "+strconv.Itoa(i), "running statistics outputs (training) are not supported")
		}
	}
	if !(eps >= 0) {
		return nil, b.Errorf("epsilon", "= %v, want >= 0", eps)
	}
	return &BatchNormalization{NodeBase: b, Epsilon: eps}, nil
}

func (n *BatchNormalization) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 2, -1); err != nil {
		return nil, err
	}
	c := in[0].Shape[1]
	for i := 1; i < 5; i++ {
		if err := wantType(b, in, i, Float, 1, 1); err != nil {
			return nil, err
		}
		if in[i].Shape[0] != c {
			return nil, b.Errorf("input "+strconv.Itoa(i), "shape %v, want (%d)", in[i].Shape, c)
		}
	}
	return []TensorType{in[0]}, nil
}

func (n *BatchNormalization) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	// Y = (X - mean) / sqrt(var + eps) * scale + B, per channel (axis 1).
	y := newTensor(types[0])
	x := in[0]
	c, inner := x.Dims[1], prod(x.Dims[2:])
	eps := float64(n.Epsilon)
	for i := range x.Float {
		ch := (int64(i) / inner) % c
		mean, vr := float64(in[3].Float[ch]), float64(in[4].Float[ch])
		v := (float64(x.Float[i])-mean)/math.Sqrt(vr+eps)*float64(in[1].Float[ch]) + float64(in[2].Float[ch])
		y.Float[i] = float32(v)
	}
	return []*Tensor{y}, nil
}

// cost: an estimated five operations per element.
func (n *BatchNormalization) cost(in, out []TensorType) (flops, workspace float64) {
	return 5 * elems(out[0].Shape), 0
}
