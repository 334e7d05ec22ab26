package onnx

import "fmt"

// Constant (ONNX Operators.md): the IR type, attribute checks, shape rule and reference
// evaluation.

// Constant is ONNX Constant: a tensor value (attribute value, value_float(s) or
// value_int(s)).
type Constant struct {
	NodeBase
	Value *Tensor
}

func lowerConstant(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	for _, name := range []string{"sparse_value", "value_string", "value_strings"} {
		if r.has(name) {
			return nil, b.Unsupported(name, "constant of this kind is not supported")
		}
	}
	if len(r.m) != 1 {
		return nil, b.Errorf("value", "exactly one value attribute is required, got %d attributes", len(r.m))
	}
	var t *Tensor
	var err error
	switch {
	case r.has("value"):
		t, _, err = r.tensor("value")
		if err != nil {
			return nil, fmt.Errorf("node %s (Constant): attribute value: %w", b.ID(), err)
		}
	case ctx.opset >= 12 && r.has("value_float"):
		t = NewFloat("", []int64{}, []float32{r.float("value_float", 0)})
	case ctx.opset >= 12 && r.has("value_floats"):
		v := r.floats("value_floats")
		t = NewFloat("", []int64{int64(len(v))}, v)
	case ctx.opset >= 12 && r.has("value_int"):
		t = NewInt64("", []int64{}, []int64{r.int("value_int", 0)})
	case ctx.opset >= 12 && r.has("value_ints"):
		v := r.ints("value_ints")
		t = NewInt64("", []int64{int64(len(v))}, v)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, b.Errorf("value", "the value attribute holds no tensor")
	}
	if err := b.checkArity(0, 0, 1, 1); err != nil {
		return nil, err
	}
	t.Name = b.Outputs[0]
	return &Constant{NodeBase: b, Value: t}, nil
}

func (n *Constant) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	return []TensorType{{n.Value.DataType, n.Value.Dims}}, nil
}

func (n *Constant) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return []*Tensor{copyAs(n.Value, n.Value.Dims)}, nil
}
