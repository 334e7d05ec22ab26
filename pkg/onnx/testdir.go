package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// TestCase is a directory in the ONNX backend-test / model-zoo layout:
//
//	dir/model.onnx
//	dir/test_data_set_0/input_0.pb, input_1.pb, ..., output_0.pb, ...
//	dir/test_data_set_1/...
//
// Input i binds to the model's i-th graph input that is not an initializer; output i is
// the expected value of the model's i-th graph output.
type TestCase struct {
	Dir       string
	ModelPath string    // dir/model.onnx
	DataSets  []DataSet // in numeric order of their suffix
}

// DataSet is one test_data_set_N directory: inputs and expected outputs in index order.
type DataSet struct {
	Dir     string
	Inputs  []*Tensor
	Outputs []*Tensor
}

// LoadTestDir reads the test data sets of dir (see TestCase). It does not parse
// model.onnx (use LoadModel), but requires it to exist. Data sets are ordered by their
// number (test_data_set_2 before test_data_set_10); inputs and outputs must be numbered
// contiguously from 0.
func LoadTestDir(dir string) (*TestCase, error) {
	tc := &TestCase{Dir: dir, ModelPath: filepath.Join(dir, "model.onnx")}
	if _, err := os.Stat(tc.ModelPath); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	type numbered struct {
		n    int
		name string
	}
	var sets []numbered
	for _, e := range entries {
		if n, ok := numberedName(e.Name(), "test_data_set_", ""); ok && e.IsDir() {
			sets = append(sets, numbered{n, e.Name()})
		}
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].n < sets[j].n })
	for _, s := range sets {
		ds, err := loadDataSet(filepath.Join(dir, s.name))
		if err != nil {
			return nil, err
		}
		tc.DataSets = append(tc.DataSets, *ds)
	}
	return tc, nil
}

// numberedName parses prefix + decimal + suffix.
func numberedName(name, prefix, suffix string) (int, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) <= len(prefix)+len(suffix) {
		return 0, false
	}
	digits := name[len(prefix) : len(name)-len(suffix)]
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || strconv.Itoa(n) != digits {
		return 0, false
	}
	return n, true
}

func loadDataSet(dir string) (*DataSet, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	ins := map[int]string{}
	outs := map[int]string{}
	for _, e := range entries {
		if n, ok := numberedName(e.Name(), "input_", ".pb"); ok {
			ins[n] = e.Name()
		} else if n, ok := numberedName(e.Name(), "output_", ".pb"); ok {
			outs[n] = e.Name()
		}
	}
	ds := &DataSet{Dir: dir}
	read := func(m map[int]string, kind string) ([]*Tensor, error) {
		ts := make([]*Tensor, len(m))
		for i := range ts {
			name, ok := m[i]
			if !ok {
				return nil, fmt.Errorf("onnx: %s: %s_%d.pb missing (have %d %s files)", dir, kind, i, len(m), kind)
			}
			t, err := ReadTensorFile(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			ts[i] = t
		}
		return ts, nil
	}
	if ds.Inputs, err = read(ins, "input"); err != nil {
		return nil, err
	}
	if ds.Outputs, err = read(outs, "output"); err != nil {
		return nil, err
	}
	return ds, nil
}

// WriteTestDataSet writes inputs and outputs as dir/input_<i>.pb and dir/output_<i>.pb,
// creating dir if needed. Each file is written atomically.
func WriteTestDataSet(dir string, inputs, outputs []*Tensor) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	for i, t := range inputs {
		if err := WriteTensorFile(filepath.Join(dir, fmt.Sprintf("input_%d.pb", i)), t); err != nil {
			return err
		}
	}
	for i, t := range outputs {
		if err := WriteTensorFile(filepath.Join(dir, fmt.Sprintf("output_%d.pb", i)), t); err != nil {
			return err
		}
	}
	return nil
}

// Compare compares got with want element by element under numpy's allclose rule
//
//	|got[i] - want[i]| <= atol + rtol*|want[i]|   for every i
//
// (note the asymmetry: the tolerance scales with want). It returns the largest absolute
// difference, the largest relative difference |got-want|/|want| (+Inf where want is 0 and
// got is not), and whether every element passes. As in numpy's default (equal_nan=False),
// a NaN never passes; equal infinities pass. Slices of different lengths never pass and
// report +Inf differences.
func Compare(got, want []float32, atol, rtol float64) (maxAbs, maxRel float64, ok bool) {
	if len(got) != len(want) {
		return math.Inf(1), math.Inf(1), false
	}
	ok = true
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if g == w { // includes equal infinities
			continue
		}
		d := math.Abs(g - w)
		// Unequal values where either is NaN or infinite never pass (numpy's isclose
		// compares infinities for equality only).
		if math.IsNaN(d) || math.IsInf(d, 0) || d > atol+rtol*math.Abs(w) {
			ok = false
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
		}
		maxAbs = math.Max(maxAbs, d)
		rel := math.Inf(1)
		if w != 0 {
			rel = d / math.Abs(w)
		}
		maxRel = math.Max(maxRel, rel)
	}
	return maxAbs, maxRel, ok
}
