package onnx

// knownValues returns the values of n's outputs where they follow from what is known, for
// the shape rules of later nodes (a Reshape's shape, a Pad's pads): a Constant's value,
// Shape's from its input's type, and the evaluation of a node whose inputs are all known
// (constant) when it is cheap (at most foldMaxElements outputs and foldMaxFLOPs). nil when
// not known.
func knownValues(n Node, in []TensorType, vals []*Tensor, out []TensorType, constant bool, outElems, flops float64) ([]*Tensor, error) {
	switch n := n.(type) {
	case *Constant:
		return []*Tensor{n.Value}, nil
	case *Shape:
		return []*Tensor{n.valueOf(in)}, nil
	}
	if constant && outElems <= foldMaxElements && flops <= foldMaxFLOPs {
		return n.eval(vals, out)
	}
	return nil, nil
}

// allKnown reports whether every input of n has a known value.
func allKnown(n Node, vals []*Tensor) bool {
	for i, name := range n.Base().Inputs {
		if name != "" && vals[i] == nil {
			return false
		}
	}
	return true
}

// walk passes values through g's nodes in order: the one loop that InferShapes, EvalNaive
// and the gate's estimates share. types holds the type of every value defined so far and
// values the values known (either may start with the initializers and inputs; values may
// be nil). For each node walk gathers its inputs' types and known values, infers its
// output types with the op's shape rule (known values serve, e.g., Reshape's shape), calls
// visit, and records the output types and the values visit returns (a nil or missing
// entry: not known).
func walk(g *Graph, types map[string]TensorType, values map[string]*Tensor,
	visit func(n Node, in []TensorType, vals []*Tensor, out []TensorType) ([]*Tensor, error)) error {
	lookup := func(name string) *Tensor { return values[name] }
	for _, n := range g.Nodes {
		b := n.Base()
		in := make([]TensorType, len(b.Inputs))
		vals := make([]*Tensor, len(b.Inputs))
		for i, name := range b.Inputs {
			if name != "" {
				in[i] = types[name]
				vals[i] = values[name]
			}
		}
		out, err := n.infer(in, lookup)
		if err != nil {
			return err
		}
		res, err := visit(n, in, vals, out)
		if err != nil {
			return err
		}
		for i, name := range b.Outputs {
			if name == "" || i >= len(out) {
				continue
			}
			types[name] = out[i]
			if i < len(res) && res[i] != nil {
				values[name] = res[i]
			}
		}
	}
	return nil
}
