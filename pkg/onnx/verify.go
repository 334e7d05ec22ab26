package onnx

import (
	"fmt"
	"math"
	"slices"
)

// Engine runs a serialized ONNX model on inputs bound to the graph's runtime inputs in
// order and returns the graph's outputs in order. onnxexport.NativeEngine is the train
// engine's implementation; pkg/runtime supplies an onnxruntime one.
type Engine func(model []byte, inputs []*Tensor) ([]*Tensor, error)

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
	// Reason says why the output could not be compared element by element: the engine
	// gave another type or shape ("got float[1 5], want float[1 10]"), or no such output.
	// Such an output is a mismatch (OK false, MaxAbs and MaxRel +Inf); Reason is "" for
	// one that was compared.
	Reason string
}

// Verify runs dir/model.onnx with engine on every dir/test_data_set_*/input_*.pb and
// compares the results with output_*.pb, under DefaultVerifyAtol and DefaultVerifyRtol.
// It fails (an error, not a report) when the directory or a tensor cannot be read or the
// engine fails. An output of another type or shape than expected, or one the engine did
// not give, is a mismatch in the report (OutputDiff.Reason says which), not an error: the
// model ran, and computed something else.
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
		return nil, fmt.Errorf("onnx: %s: no test_data_set_* directories", dir)
	}
	model, err := readFileCapped(tc.ModelPath, MaxModelBytes)
	if err != nil {
		return nil, err
	}
	r := &VerifyReport{Dir: dir, Model: tc.ModelPath, Atol: atol, Rtol: rtol, OK: true}
	for _, ds := range tc.DataSets {
		got, err := engine(model, ds.Inputs)
		if err != nil {
			return nil, fmt.Errorf("onnx: %s: %w", ds.Dir, err)
		}
		dr := DataSetReport{Dir: ds.Dir}
		for i, want := range ds.Outputs {
			d := OutputDiff{Index: i, Name: want.Name, Dims: slices.Clone(want.Dims), OK: true}
			if i >= len(got) {
				d.OK, d.Reason = false, fmt.Sprintf("missing: the engine gave %d outputs, %d expected", len(got), len(ds.Outputs))
			} else if g := got[i]; g.DataType != want.DataType || !slices.Equal(g.Dims, want.Dims) {
				d.OK, d.Reason = false, fmt.Sprintf("got %s%v, want %s%v", g.DataType, g.Dims, want.DataType, want.Dims)
			}
			if !d.OK {
				d.MaxAbs, d.MaxRel = math.Inf(1), math.Inf(1)
				r.MaxAbs, r.MaxRel, r.OK = d.MaxAbs, d.MaxRel, false
				dr.Outputs = append(dr.Outputs, d)
				continue
			}
			g := got[i]
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
