package onnx

import (
	"fmt"
)

// TensorType is the static type of a value: its element type and shape.
type TensorType struct {
	DataType DataType
	Shape    []int64
}

// String returns e.g. "FLOAT[1 3 5 5]".
func (t TensorType) String() string { return fmt.Sprintf("%s%v", t.DataType, t.Shape) }

// InferShapes computes the type of every value of g, given the concrete shapes of its
// runtime inputs (by name; an input missing from the map takes its declared shape, which
// must then be fully static). It checks element types and shapes op by op and fails with
// an *InvalidError naming the node at fault. Small constant subgraphs are folded on the way
// (Shape's output follows from its input's type), so a Reshape whose shape is computed
// from them is known; one whose shape is only known at run time fails.
func (g *Graph) InferShapes(inputs map[string][]int64) (map[string]TensorType, error) {
	types := map[string]TensorType{}
	for name, t := range g.Initializers {
		types[name] = TensorType{t.DataType, t.Dims}
	}
	for _, in := range g.Inputs {
		shape, ok := inputs[in.Name]
		if !ok {
			if in.Shape == nil {
				return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: "no shape given and none declared"}
			}
			shape = make([]int64, len(in.Shape))
			for i, d := range in.Shape {
				if d.Value < 0 {
					return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name),
						Reason: fmt.Sprintf("dim %d is %s: give a concrete shape", i, d)}
				}
				shape[i] = d.Value
			}
		}
		if err := in.CheckShape(shape); err != nil {
			return nil, err
		}
		types[in.Name] = TensorType{in.DataType, shape}
	}
	values := map[string]*Tensor{}
	for name, t := range g.Initializers {
		values[name] = t
	}
	err := walk(g, types, values, func(n Node, in []TensorType, vals []*Tensor, out []TensorType) ([]*Tensor, error) {
		var outElems float64
		for _, t := range out {
			outElems += elems(t.Shape)
		}
		flops, _ := nodeCost(n, in, out)
		return knownValues(n, in, vals, out, allKnown(n, vals), outElems, flops)
	})
	if err != nil {
		return nil, err
	}
	return types, nil
}

// CheckShape checks a concrete shape against the declared one.
func (v ValueInfo) CheckShape(shape []int64) error {
	place := fmt.Sprintf("input %q", v.Name)
	if _, err := NumElements(shape); err != nil {
		return &InvalidError{Node: "graph", Attribute: place, Reason: err.Error()}
	}
	if v.Shape == nil {
		return nil
	}
	if len(shape) != len(v.Shape) {
		return &InvalidError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("shape %v has rank %d, declared %d", shape, len(shape), len(v.Shape))}
	}
	for i, d := range v.Shape {
		if d.Value >= 0 && d.Value != shape[i] {
			return &InvalidError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("shape %v: dim %d is declared %d", shape, i, d.Value)}
		}
	}
	return nil
}

// InferNode computes the output types of n from its input types (zero TensorType for an
// absent optional input) with its op's shape rule. value returns a runtime value by name,
// or nil when only static types are known (used for Reshape's shape input).
func InferNode(n Node, in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	return n.infer(in, value)
}

// NormAxis maps axis into [0, rank) (or [0, rank] when inclusive, as Flatten allows).
func NormAxis(b *NodeBase, attr string, axis int64, rank int, inclusive bool) (int, error) {
	hi := int64(rank)
	if !inclusive {
		hi--
	}
	if axis < -int64(rank) || axis > hi {
		return 0, b.Errorf(attr, "= %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

func prod(d []int64) int64 {
	p := int64(1)
	for _, v := range d {
		p *= v
	}
	return p
}
