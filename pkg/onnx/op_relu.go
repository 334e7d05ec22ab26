package onnx

// Relu (ONNX Operators.md): the IR type, attribute checks, shape rule and reference
// evaluation.

// Relu is ONNX Relu (opset 1/6/13/14): Y = max(X, 0).
type Relu struct{ NodeBase }

func lowerRelu(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	return &Relu{b}, lowerLegacyUnary(&b, r, ctx)
}

func (n *Relu) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 0, -1); err != nil {
		return nil, err
	}
	return []TensorType{in[0]}, nil
}

func (n *Relu) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	for i, v := range in[0].Float {
		if v > 0 {
			y.Float[i] = v
		} else if v != v {
			y.Float[i] = v // NaN propagates
		}
	}
	return []*Tensor{y}, nil
}
