package onnx

import (
	"fmt"
)

// This file is the reference evaluator: the definition of what a lowered Graph computes.
// It favours clarity over speed (naive loops over every index, float64 accumulation,
// no buffer reuse), and faster engines are tested against it.

// EvalNaive runs g on inputs (runtime inputs by name; every one of g.Inputs is required)
// and returns g's outputs in order, each named after its output. It is the reference
// evaluator for the IR: naive loops and float64 accumulation, for tests and for checking
// fast engines, not for speed. Inputs are never modified. Type or shape mismatches are
// reported as *InvalidError naming the input or node.
func EvalNaive(g *Graph, inputs map[string]*Tensor) ([]*Tensor, error) {
	values := map[string]*Tensor{}
	types := map[string]TensorType{}
	for name, t := range g.Initializers {
		values[name] = t
		types[name] = TensorType{t.DataType, t.Dims}
	}
	for _, in := range g.Inputs {
		t, ok := inputs[in.Name]
		if !ok {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: "not given"}
		}
		if t.DataType != in.DataType {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name),
				Reason: fmt.Sprintf("type %s, declared %s", t.DataType, in.DataType)}
		}
		if err := in.CheckShape(t.Dims); err != nil {
			return nil, err
		}
		if n, _ := NumElements(t.Dims); n != int64(t.Len()) {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name),
				Reason: fmt.Sprintf("dims %v do not match its %d elements", t.Dims, t.Len())}
		}
		values[in.Name] = t
		types[in.Name] = TensorType{t.DataType, t.Dims}
	}
	err := walk(g, types, values, func(n Node, _ []TensorType, in []*Tensor, outTypes []TensorType) ([]*Tensor, error) {
		out, err := n.eval(in, outTypes)
		if err != nil {
			return nil, err
		}
		for i, name := range n.Base().Outputs {
			if name != "" && i < len(out) {
				out[i].Name = name
			}
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	res := make([]*Tensor, len(g.Outputs))
	for i, o := range g.Outputs {
		t := *values[o.Name]
		t.Name = o.Name
		res[i] = &t
	}
	return res, nil
}

// EvalNode computes n's outputs with its op's reference evaluation, given the output
// types InferNode found (which checked the inputs).
func EvalNode(n Node, in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return n.eval(in, types)
}

// newTensor returns a zero tensor of type t.
func newTensor(t TensorType) *Tensor {
	y := &Tensor{DataType: t.DataType, Dims: t.Shape}
	switch y.DataType {
	case Float:
		y.Float = make([]float32, prod(y.Dims))
	case Int64:
		y.Int64 = make([]int64, prod(y.Dims))
	case Bool:
		y.Bool = make([]bool, prod(y.Dims))
	}
	return y
}

// copyAs returns a deep copy of t with the given dims (same element count).
func copyAs(t *Tensor, dims []int64) *Tensor {
	return &Tensor{DataType: t.DataType, Dims: append([]int64{}, dims...),
		Float: append([]float32(nil), t.Float...), Int64: append([]int64(nil), t.Int64...),
		Bool: append([]bool(nil), t.Bool...)}
}
