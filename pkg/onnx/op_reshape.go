package onnx

// Flatten and Reshape (ONNX Operators.md): the IR types, attribute checks, shape rules and
// reference evaluation (a copy under the new shape).

// Flatten is ONNX Flatten (opset 1/9/11/13): Y is 2-D, (d0*..*d(Axis-1), dAxis*..*dn).
// Axis is normalized to [0, rank] at lowering when the rank is known, else at run time.
type Flatten struct {
	NodeBase
	Axis int64 // as written; negative counts from the end (opset >= 11)
}

// Reshape is ONNX Reshape (opset 1/5/13/14; the shape an attribute before 5). In the shape input, -1 is inferred (at most
// one) and 0 copies the input's dimension unless AllowZero, where 0 is a real zero.
type Reshape struct {
	NodeBase
	AllowZero bool
	// Shape is the shape input's value when it is a constant (initializer or Constant
	// node); nil when it is only known at run time.
	Shape []int64
}

func lowerFlatten(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	axis := r.int("axis", 1)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if axis < 0 && ctx.opset < 11 {
		return nil, b.Errorf("axis", "= %d: negative axes need opset 11", axis)
	}
	if err := b.checkArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return &Flatten{NodeBase: b, Axis: axis}, nil
}

func lowerReshape(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	if ctx.opset < 5 {
		// Opset 1: the shape is an attribute.
		r.ints("consumed_inputs")
		if !r.has("shape") {
			r.fail("shape", "required attribute is missing")
		}
		shape := r.ints("shape")
		if err := b.arity(1, 1, 1, 1, r); err != nil {
			return nil, err
		}
		n := &Reshape{NodeBase: b}
		t := NewInt64("", []int64{int64(len(shape))}, shape)
		if err := CheckReshapeShape(&n.NodeBase, t, false); err != nil {
			return nil, err
		}
		n.Shape = shape
		return n, nil
	}
	allowZero := false
	if ctx.opset >= 14 {
		allowZero = r.bool("allowzero", false)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := b.checkArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	n := &Reshape{NodeBase: b, AllowZero: allowZero}
	if t, ok := ctx.consts[b.Inputs[1]]; ok {
		if err := CheckReshapeShape(&n.NodeBase, t, allowZero); err != nil {
			return nil, err
		}
		n.Shape = append([]int64{}, t.Int64...)
	}
	return n, nil
}

// CheckReshapeShape validates the shape input of Reshape on its own (without the data's
// shape): 1-D INT64, values >= -1, at most one -1, and not both 0 and -1 under allowzero.
func CheckReshapeShape(b *NodeBase, t *Tensor, allowZero bool) error {
	if t.DataType != Int64 || len(t.Dims) != 1 {
		return b.Errorf("input 1", "shape must be a 1-D INT64 tensor, got %s %v", t.DataType, t.Dims)
	}
	neg, zero := 0, false
	for i, v := range t.Int64 {
		switch {
		case v < -1:
			return b.Errorf("input 1", "shape[%d] = %d, want >= -1", i, v)
		case v == -1:
			neg++
		case v == 0:
			zero = true
		}
	}
	if neg > 1 {
		return b.Errorf("input 1", "shape %v has more than one -1", t.Int64)
	}
	if allowZero && zero && neg > 0 {
		return b.Errorf("input 1", "shape %v has both 0 and -1 with allowzero=1", t.Int64)
	}
	return nil
}

func (n *Flatten) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	x := in[0].Shape
	axis, err := NormAxis(b, "axis", n.Axis, len(x), true)
	if err != nil {
		return nil, err
	}
	return []TensorType{{in[0].DataType, []int64{prod(x[:axis]), prod(x[axis:])}}}, nil
}

func (n *Reshape) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if b.Input(1) != "" {
		if err := wantType(b, in, 1, Int64, 1, 1); err != nil {
			return nil, err
		}
	}
	shape := n.Shape
	if shape == nil {
		t := value(b.Inputs[1])
		if t == nil {
			return nil, b.Errorf("input 1", "the shape is not a constant; it is only known at run time")
		}
		if err := CheckReshapeShape(b, t, n.AllowZero); err != nil {
			return nil, err
		}
		shape = t.Int64
	}
	out, err := reshapeShape(b, in[0].Shape, shape, n.AllowZero)
	if err != nil {
		return nil, err
	}
	return []TensorType{{in[0].DataType, out}}, nil
}

func (n *Flatten) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return []*Tensor{copyAs(in[0], types[0].Shape)}, nil
}

func (n *Reshape) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return []*Tensor{copyAs(in[0], types[0].Shape)}, nil
}

// reshapeShape applies Reshape's 0 and -1 rules to shape for an input of shape x.
func reshapeShape(b *NodeBase, x, shape []int64, allowZero bool) ([]int64, error) {
	out := make([]int64, len(shape))
	known, neg := int64(1), -1
	for i, v := range shape {
		switch {
		case v == 0 && !allowZero:
			if i >= len(x) {
				return nil, b.Errorf("input 1", "shape[%d] = 0 copies a dimension the input %v does not have", i, x)
			}
			out[i] = x[i]
		case v == -1:
			neg = i
			continue
		default:
			out[i] = v
		}
		if out[i] != 0 && known > MaxTensorBytes/out[i] {
			return nil, b.Errorf("input 1", "shape %v is too large", shape)
		}
		known *= out[i]
	}
	total := prod(x)
	if neg >= 0 {
		if known == 0 || total%known != 0 {
			return nil, b.Errorf("input 1", "cannot infer -1 in shape %v for input %v", shape, x)
		}
		out[neg] = total / known
		known = total
	}
	if known != total {
		return nil, b.Errorf("input 1", "shape %v (%d elements) does not match input %v (%d elements)", shape, known, x, total)
	}
	return out, nil
}
