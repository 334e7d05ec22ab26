package onnxexport

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/fmkit/fmkit/pkg/train"
)

// Engine runs a serialized ONNX model on inputs bound to the graph's runtime inputs in
// order and returns the graph's outputs in order. NativeEngine is the train engine's
// implementation; pkg/runtime can supply an onnxruntime one without an import cycle.
type Engine func(model []byte, inputs []*Tensor) ([]*Tensor, error)

// NativeEngine imports model (see Import) and runs it with the train engine. The native
// engine takes one runtime input: the first input is the one the model runs on, and any
// further inputs (a backend test's W or B given as input_1.pb, ...) are bound as
// constants, as if they were initializers. Where the graph declares symbolic per-sample
// dimensions, inputs[0]'s shape fills them in. The model passes the gate first, with the
// default GateOptions and the inputs' shapes.
func NativeEngine(model []byte, inputs []*Tensor) ([]*Tensor, error) {
	return NativeEngineWith(GateOptions{})(model, inputs)
}

// NativeEngineWith returns NativeEngine with the gate's options opts.
func NativeEngineWith(opts GateOptions) Engine {
	return func(model []byte, inputs []*Tensor) ([]*Tensor, error) {
		shapes := make([][]int64, len(inputs))
		values := make([]*Tensor, len(inputs))
		for i, t := range inputs {
			shapes[i] = t.Dims
			if i > 0 {
				values[i] = t // bound as constants below
			}
		}
		gd, err := gate(model, shapes, values, opts, false)
		if err != nil {
			return nil, err
		}
		return runNative(gd.Graph, inputs)
	}
}

// runNative is NativeEngine on the gated graph g.
func runNative(g *Graph, inputs []*Tensor) ([]*Tensor, error) {
	if len(inputs) != len(g.Inputs) {
		return nil, &ModelError{Node: "graph", Attribute: "input", Reason: fmt.Sprintf("%d inputs given, the model has %d", len(inputs), len(g.Inputs))}
	}
	if len(inputs) == 0 {
		return nil, &UnsupportedError{Node: "graph", Attribute: "input", Reason: "no runtime input: the native engine takes exactly one"}
	}
	bound := map[string]*Tensor{}
	for i, in := range g.Inputs {
		t := inputs[i]
		if t.DataType != in.DataType {
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: fmt.Sprintf("given %s, declared %s", t.DataType, in.DataType)}
		}
		if err := in.checkShape(t.Dims); err != nil {
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
		return nil, &UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("input %q", g.Inputs[0].Name),
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
func RunImported(m *train.Model, info *ModelInfo, x *Tensor) ([]*Tensor, error) {
	if x.DataType != Float || len(x.Dims) < 1 {
		return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: fmt.Sprintf("given %s%v, want FLOAT (n, %v)", x.DataType, x.Dims, m.InputShape)}
	}
	n := int(x.Dims[0])
	if n == 0 {
		return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: fmt.Sprintf("shape %v holds no sample (batch 0): the native engine needs at least one", x.Dims)}
	}
	if !slices.Equal(x.Dims[1:], shapeInt64(m.InputShape)) || len(x.Float) != n*m.InputShape.Size() {
		return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: fmt.Sprintf("shape %v, want (n, %v)", x.Dims, m.InputShape)}
	}
	if n > 0 && n*m.InputShape.Size()/n != m.InputShape.Size() {
		return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", info.Input), Reason: "too large"}
	}
	outs := make([]*Tensor, len(info.Outputs))
	mk := func(i int, shape train.Shape, data []float32) {
		dims := append([]int64{int64(n)}, shapeInt64(shape)...)
		outs[i] = NewFloat(info.Outputs[i].Name, dims, slices.Clone(data[:n*shape.Size()]))
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

// Default tolerances of Verify: an output passes when |got - want| <= atol + rtol*|want|
// for every element (numpy's allclose). float32 engines that sum in different orders
// differ by a few ulps of the largest partial sums; 1e-5 absolute plus 1e-4 relative
// leaves room for that on probabilities and logits of order 1 to 100.
const (
	DefaultVerifyAtol = 1e-5
	DefaultVerifyRtol = 1e-4
)

// VerifyReport is the result of Verify on one model directory.
type VerifyReport struct {
	Dir        string
	Model      string // dir/model.onnx
	Atol, Rtol float64
	DataSets   []DataSetReport
	// MaxAbs and MaxRel are the largest differences over every data set and output.
	MaxAbs, MaxRel float64
	// OK reports whether every output of every data set passed.
	OK bool
}

// DataSetReport holds the comparison of one test_data_set_N directory.
type DataSetReport struct {
	Dir     string
	Outputs []OutputDiff
}

// OutputDiff compares one output with its expected value.
type OutputDiff struct {
	Index  int
	Name   string  // the expected tensor's name, or the engine's output name
	Dims   []int64 // its shape
	MaxAbs float64 // largest |got - want|
	MaxRel float64 // largest |got - want| / |want| (+Inf where want is 0 and got is not)
	OK     bool    // every element within atol + rtol*|want|
}

// Verify runs dir/model.onnx with engine on every dir/test_data_set_*/input_*.pb and
// compares the results with output_*.pb, under DefaultVerifyAtol and DefaultVerifyRtol.
// It fails (an error, not a report) when the directory or a tensor cannot be read, the
// engine fails, or an output's type or shape differs from the expected one.
func Verify(dir string, engine Engine) (*VerifyReport, error) {
	return VerifyTolerance(dir, engine, DefaultVerifyAtol, DefaultVerifyRtol)
}

// VerifyTolerance is Verify with the given tolerances.
func VerifyTolerance(dir string, engine Engine, atol, rtol float64) (*VerifyReport, error) {
	tc, err := LoadTestDir(dir)
	if err != nil {
		return nil, err
	}
	if len(tc.DataSets) == 0 {
		return nil, fmt.Errorf("onnxexport: %s: no test_data_set_* directories", dir)
	}
	model, err := readFileCapped(tc.ModelPath, MaxModelBytes)
	if err != nil {
		return nil, err
	}
	r := &VerifyReport{Dir: dir, Model: tc.ModelPath, Atol: atol, Rtol: rtol, OK: true}
	for _, ds := range tc.DataSets {
		got, err := engine(model, ds.Inputs)
		if err != nil {
			return nil, fmt.Errorf("onnxexport: %s: %w", ds.Dir, err)
		}
		if len(got) < len(ds.Outputs) {
			return nil, fmt.Errorf("onnxexport: %s: the engine gave %d outputs, %d expected", ds.Dir, len(got), len(ds.Outputs))
		}
		dr := DataSetReport{Dir: ds.Dir}
		for i, want := range ds.Outputs {
			g := got[i]
			if g.DataType != want.DataType || !slices.Equal(g.Dims, want.Dims) {
				return nil, fmt.Errorf("onnxexport: %s: output %d (%q): got %s%v, want %s%v",
					ds.Dir, i, want.Name, g.DataType, g.Dims, want.DataType, want.Dims)
			}
			d := OutputDiff{Index: i, Name: want.Name, Dims: slices.Clone(want.Dims), OK: true}
			if d.Name == "" {
				d.Name = g.Name
			}
			switch want.DataType {
			case Float:
				d.MaxAbs, d.MaxRel, d.OK = Compare(g.Float, want.Float, atol, rtol)
			case Int64:
				d.OK = slices.Equal(g.Int64, want.Int64)
			case Bool:
				d.OK = slices.Equal(g.Bool, want.Bool)
			}
			if !d.OK && d.MaxAbs == 0 {
				d.MaxAbs, d.MaxRel = math.Inf(1), math.Inf(1)
			}
			r.MaxAbs, r.MaxRel = math.Max(r.MaxAbs, d.MaxAbs), math.Max(r.MaxRel, d.MaxRel)
			r.OK = r.OK && d.OK
			dr.Outputs = append(dr.Outputs, d)
		}
		r.DataSets = append(r.DataSets, dr)
	}
	return r, nil
}
