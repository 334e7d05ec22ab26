package onnx

// Identity and Dropout (the identity at inference) (ONNX Operators.md): the IR types,
// attribute checks, shape rules and reference evaluation.

// Identity is ONNX Identity (tensor inputs only).
type Identity struct{ NodeBase }

// Dropout is ONNX Dropout in inference mode (opset 1/6/7/10/12/13; is_test=1 before 7): Y = X; the optional mask output is all
// true (Bool from opset 10, ones of X's type before).
type Dropout struct {
	NodeBase
	Ratio float32 // recorded for export; unused in inference

	floatMask bool // opset < 10: the mask has X's type instead of BOOL
}

func lowerIdentity(b NodeBase, r *attrReader, _ *lowerCtx) (Node, error) {
	return &Identity{b}, b.arity(1, 1, 1, 1, r)
}

func lowerDropout(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Dropout{NodeBase: b, Ratio: 0.5, floatMask: ctx.opset < 10}
	maxIn := 1
	isTest := true
	if ctx.opset < 12 {
		n.Ratio = r.float("ratio", 0.5)
		if ctx.opset < 6 {
			r.ints("consumed_inputs")
		}
		if ctx.opset < 7 {
			isTest = r.bool("is_test", false)
		}
	} else {
		r.int("seed", 0) // training only
		maxIn = 3
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := b.checkArity(1, maxIn, 1, 2); err != nil {
		return nil, err
	}
	if !isTest {
		return nil, b.Unsupported("is_test", "is_test=0 (training, before opset 7): only inference is supported")
	}
	if name := b.Input(1); name != "" {
		if t, ok := ctx.consts[name]; ok {
			if t.DataType != Float || len(t.Dims) != 0 {
				return nil, b.Errorf("input 1", "ratio must be a FLOAT scalar, got %s %v", t.DataType, t.Dims)
			}
			n.Ratio = t.Float[0]
		}
	}
	if !(n.Ratio >= 0 && n.Ratio < 1) {
		return nil, b.Errorf("ratio", "= %v, want in [0, 1)", n.Ratio)
	}
	if name := b.Input(2); name != "" {
		t, ok := ctx.consts[name]
		if !ok {
			return nil, b.Unsupported("input 2", "training_mode given as a runtime input (only a constant false is supported)")
		}
		if t.DataType != Bool || len(t.Bool) != 1 {
			return nil, b.Errorf("input 2", "training_mode must be a BOOL scalar, got %s %v", t.DataType, t.Dims)
		}
		if t.Bool[0] {
			return nil, b.Unsupported("input 2", "training_mode=true: only inference is supported")
		}
	}
	return n, nil
}

func (n *Identity) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if !in[0].DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", in[0].DataType)
	}
	return []TensorType{in[0]}, nil
}

func (n *Dropout) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 0, -1); err != nil {
		return nil, err
	}
	out := []TensorType{in[0]}
	if b.Output(1) != "" {
		out = append(out, TensorType{Bool, in[0].Shape})
		if n.maskIsFloat() {
			out[1].DataType = Float
		}
	}
	return out, nil
}

// maskIsFloat reports whether the mask output has X's type (opsets before 10) rather
// than BOOL.
func (n *Dropout) maskIsFloat() bool { return n.floatMask }

func (n *Identity) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return []*Tensor{copyAs(in[0], types[0].Shape)}, nil
}

func (n *Dropout) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	out := []*Tensor{copyAs(in[0], types[0].Shape)}
	if len(types) > 1 {
		mask := newTensor(types[1])
		for i := range mask.Bool {
			mask.Bool[i] = true
		}
		for i := range mask.Float {
			mask.Float[i] = 1
		}
		out = append(out, mask)
	}
	return out, nil
}
