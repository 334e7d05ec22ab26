package onnxexport

import (
	"fmt"
	"slices"
	"sort"

	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/train"
)

// NativeEngine imports model (see Import) and runs it with the train engine. The native
// engine takes one runtime input: the first input is the one the model runs on, and any
// further inputs (a backend test's W or B given as input_1.pb, ...) are bound as
// constants, as if they were initializers. Where the graph declares symbolic per-sample
// dimensions, inputs[0]'s shape fills them in. The model passes the gate first, with the
// default GateOptions and the inputs' shapes.
func NativeEngine(model []byte, inputs []*onnx.Tensor) ([]*onnx.Tensor, error) {
	return NativeEngineWith(onnx.GateOptions{})(model, inputs)
}

// NativeEngineWith returns NativeEngine with the gate's options opts.
func NativeEngineWith(opts onnx.GateOptions) onnx.Engine {
	return func(model []byte, inputs []*onnx.Tensor) ([]*onnx.Tensor, error) {
		shapes := make([][]int64, len(inputs))
		values := make([]*onnx.Tensor, len(inputs))
		for i, t := range inputs {
			shapes[i] = t.Dims
			if i > 0 {
				values[i] = t // bound as constants below
			}
		}
		gd, err := onnx.GateGraph(model, shapes, values, opts)
		if err != nil {
			return nil, err
		}
		return runNative(gd.Graph, inputs)
	}
}

// runNative is NativeEngine on the gated graph g.
func runNative(g *onnx.Graph, inputs []*onnx.Tensor) ([]*onnx.Tensor, error) {
	if len(inputs) != len(g.Inputs) {
		return nil, &onnx.InvalidError{Node: "graph", Attribute: "input", Reason: fmt.Sprintf("%d inputs given, the model has %d", len(inputs), len(g.Inputs))}
	}
	if len(inputs) == 0 {
		return nil, &onnx.UnsupportedError{Node: "graph", Attribute: "input", Reason: "no runtime input: the native engine takes exactly one"}
	}
	bound := map[string]*onnx.Tensor{}
	for i, in := range g.Inputs {
		t := inputs[i]
		if t.DataType != in.DataType {
			return nil, &onnx.InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: fmt.Sprintf("given %s, declared %s", t.DataType, in.DataType)}
		}
		if err := in.CheckShape(t.Dims); err != nil {
			return nil, err
		}
		if i > 0 {
			c := *t
			c.Name = in.Name
			bound[in.Name] = &c
		}
	}
	x := inputs[0]
	if len(x.Dims) < 2 {
		return nil, &onnx.UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("input %q", g.Inputs[0].Name),
			Reason: fmt.Sprintf("shape %v: the native engine needs a batch dimension and at least one more, (N, d1, ..., dk)", x.Dims)}
	}
	m, info, err := importGraph(g, bound, x.Dims[1:])
	if err != nil {
		return nil, err
	}
	return RunImported(m, info, x)
}

// RunImported runs an imported model on x, float32 (n, per-sample shape...), and returns
// the graph's outputs as info places them, each (n, its per-sample shape...) and named
// after its graph output.
func RunImported(m *train.Model, info *ModelInfo, x *onnx.Tensor) ([]*onnx.Tensor, error) {
	if x.DataType != onnx.Float || len(x.Dims) < 1 {
		return nil, &onnx.InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: fmt.Sprintf("given %s%v, want FLOAT (n, %v)", x.DataType, x.Dims, m.InputShape)}
	}
	n := int(x.Dims[0])
	if n == 0 {
		return nil, &onnx.InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: fmt.Sprintf("shape %v holds no sample (batch 0): the native engine needs at least one", x.Dims)}
	}
	if !slices.Equal(x.Dims[1:], shapeInt64(m.InputShape)) || len(x.Float) != n*m.InputShape.Size() {
		return nil, &onnx.InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: fmt.Sprintf("shape %v, want (n, %v)", x.Dims, m.InputShape)}
	}
	if n > 0 && n*m.InputShape.Size()/n != m.InputShape.Size() {
		return nil, &onnx.InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: "too large"}
	}
	outs := make([]*onnx.Tensor, len(info.Outputs))
	mk := func(i int, shape train.Shape, data []float32) {
		dims := append([]int64{int64(n)}, shapeInt64(shape)...)
		outs[i] = onnx.NewFloat(info.Outputs[i].Name, dims, slices.Clone(data[:n*shape.Size()]))
	}
	// Outputs inside the model: run layer by layer and copy each at its place.
	order := make([]int, 0, len(info.Outputs))
	for i, o := range info.Outputs {
		if o.Logits {
			last := m.Layers[len(m.Layers)-1]
			mk(i, last.OutShape(), m.Logits(x.Float, n, false))
			continue
		}
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool { return info.Outputs[order[a]].Layers < info.Outputs[order[b]].Layers })
	y, done := x.Float, 0
	shape := m.InputShape
	for _, i := range order {
		for ; done < info.Outputs[i].Layers; done++ {
			l := m.Layers[done]
			y = l.Forward(y, n, false)
			shape = l.OutShape()
		}
		mk(i, shape, y)
	}
	return outs, nil
}
