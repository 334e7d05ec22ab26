package onnx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
)

func TestTensorRoundTrip(t *testing.T) {
	tests := []*Tensor{
		NewFloat("x", []int64{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25}),
		NewFloat("scalar", []int64{}, []float32{42}),
		NewFloat("empty", []int64{0, 3}, []float32{}),
		NewInt64("shape", []int64{3}, []int64{-1, 0, 1 << 40}),
		{Name: "mask", DataType: Bool, Dims: []int64{3}, Bool: []bool{true, false, true}},
	}
	dir := t.TempDir()
	for _, want := range tests {
		path := filepath.Join(dir, want.Name+".pb")
		if err := WriteTensorFile(path, want); err != nil {
			t.Fatal(err)
		}
		got, err := ReadTensorFile(path)
		if err != nil {
			t.Fatalf("%s: %v", want.Name, err)
		}
		if got.Name != want.Name || got.DataType != want.DataType || !slices.Equal(got.Dims, want.Dims) ||
			!slices.Equal(got.Float, want.Float) && len(want.Float) > 0 || !slices.Equal(got.Int64, want.Int64) ||
			!slices.Equal(got.Bool, want.Bool) {
			t.Errorf("%s: got %+v, want %+v", want.Name, got, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(tests) {
		t.Errorf("%d files in the directory, want %d (temporary files left behind?)", len(entries), len(tests))
	}
}

// TestTensorFromProtoTypedFields reads data from float_data / int64_data / int32_data, as
// older exporters write it.
func TestTensorFromProtoTypedFields(t *testing.T) {
	p := &onnxpb.TensorProto{Name: proto.String("f"), DataType: proto.Int32(1), Dims: []int64{2}, FloatData: []float32{1.5, -2}}
	got, err := TensorFromProto(p)
	if err != nil || !slices.Equal(got.Float, []float32{1.5, -2}) {
		t.Errorf("float_data: %v %v", got, err)
	}
	p = &onnxpb.TensorProto{DataType: proto.Int32(7), Dims: []int64{2}, Int64Data: []int64{5, -1}}
	if got, err = TensorFromProto(p); err != nil || !slices.Equal(got.Int64, []int64{5, -1}) {
		t.Errorf("int64_data: %v %v", got, err)
	}
	p = &onnxpb.TensorProto{DataType: proto.Int32(9), Dims: []int64{2}, Int32Data: []int32{1, 0}}
	if got, err = TensorFromProto(p); err != nil || !slices.Equal(got.Bool, []bool{true, false}) {
		t.Errorf("int32_data bool: %v %v", got, err)
	}
}

// TestTensorFromProtoErrors maps each malformed or unsupported tensor to the field its
// error must name.
func TestTensorFromProtoErrors(t *testing.T) {
	f32 := proto.Int32(1)
	tests := []struct {
		name        string
		p           *onnxpb.TensorProto
		field       string
		unsupported bool
	}{
		{"no type", &onnxpb.TensorProto{Dims: []int64{1}, FloatData: []float32{1}}, "data_type", false},
		{"uint8", &onnxpb.TensorProto{DataType: proto.Int32(2), Dims: []int64{1}, RawData: []byte{1}}, "data_type", true},
		{"double", &onnxpb.TensorProto{DataType: proto.Int32(11), Dims: []int64{1}, DoubleData: []float64{1}}, "data_type", true},
		{"negative dim", &onnxpb.TensorProto{DataType: f32, Dims: []int64{2, -1}}, "dims", false},
		{"overflowing dims", &onnxpb.TensorProto{DataType: f32, Dims: []int64{1 << 32, 1 << 32, 1 << 32}}, "dims", false},
		{"over the cap", &onnxpb.TensorProto{DataType: f32, Dims: []int64{1 << 28, 2}}, "dims", false},
		{"short raw", &onnxpb.TensorProto{DataType: f32, Dims: []int64{2}, RawData: make([]byte, 7)}, "raw_data", false},
		{"long raw", &onnxpb.TensorProto{DataType: f32, Dims: []int64{2}, RawData: make([]byte, 12)}, "raw_data", false},
		{"short float_data", &onnxpb.TensorProto{DataType: f32, Dims: []int64{3}, FloatData: []float32{1}}, "float_data", false},
		{"raw and typed", &onnxpb.TensorProto{DataType: f32, Dims: []int64{1}, FloatData: []float32{1}, RawData: make([]byte, 4)}, "raw_data", false},
		{"wrong field", &onnxpb.TensorProto{DataType: f32, Dims: []int64{1}, Int64Data: []int64{1}}, "data", false},
		{"bool not 0/1", &onnxpb.TensorProto{DataType: proto.Int32(9), Dims: []int64{1}, RawData: []byte{2}}, "raw_data", false},
		{"external", &onnxpb.TensorProto{DataType: f32, Dims: []int64{1},
			DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}, "data_location", true},
		{"segment", &onnxpb.TensorProto{DataType: f32, Dims: []int64{1}, Segment: &onnxpb.TensorProto_Segment{}}, "segment", true},
	}
	for _, tc := range tests {
		tc.p.Name = proto.String(tc.name)
		_, err := TensorFromProto(tc.p)
		var te *TensorError
		if !errors.As(err, &te) {
			t.Errorf("%s: error %v, want a *TensorError", tc.name, err)
			continue
		}
		if te.Field != tc.field || te.Tensor != tc.name || errors.Is(err, ErrUnsupported) != tc.unsupported {
			t.Errorf("%s: %v: field %q (want %q), unsupported %v (want %v)", tc.name, err, te.Field, tc.field,
				errors.Is(err, ErrUnsupported), tc.unsupported)
		}
	}
}

func TestReadTensorFileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "input_0.pb")
	if err := os.WriteFile(path, []byte{0x0a, 0xff}, 0o644); err != nil { // truncated dims field
		t.Fatal(err)
	}
	_, err := ReadTensorFile(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name %s", err, path)
	}
}

func TestCompare(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	tests := []struct {
		name           string
		got, want      []float32
		atol, rtol     float64
		maxAbs, maxRel float64
		ok             bool
	}{
		{"equal", []float32{1, 2}, []float32{1, 2}, 0, 0, 0, 0, true},
		{"within atol", []float32{1.5}, []float32{1}, 0.5, 0, 0.5, 0.5, true},
		{"beyond atol", []float32{1.5}, []float32{1}, 0.4, 0, 0.5, 0.5, false},
		{"rtol scales with want", []float32{110}, []float32{100}, 0, 0.1, 10, 0.1, true},
		{"rtol is not symmetric", []float32{100}, []float32{110}, 0, 0.09, 10, 10.0 / 110, false},
		{"want zero", []float32{1e-6}, []float32{0}, 1e-5, 0, 1e-6, math.Inf(1), true},
		{"equal infinities", []float32{inf}, []float32{inf}, 0, 0, 0, 0, true},
		{"infinity vs finite", []float32{inf}, []float32{1}, 1e9, 1e9, math.Inf(1), math.Inf(1), false},
		{"nan", []float32{nan}, []float32{nan}, 1, 1, math.Inf(1), math.Inf(1), false},
		{"lengths differ", []float32{1}, []float32{1, 2}, 1, 1, math.Inf(1), math.Inf(1), false},
	}
	for _, tc := range tests {
		abs, rel, ok := Compare(tc.got, tc.want, tc.atol, tc.rtol)
		if ok != tc.ok || math.Abs(abs-tc.maxAbs) > 1e-7*math.Max(1, tc.maxAbs) && abs != tc.maxAbs ||
			math.Abs(rel-tc.maxRel) > 1e-7 && rel != tc.maxRel {
			t.Errorf("%s: got (%g, %g, %v), want (%g, %g, %v)", tc.name, abs, rel, ok, tc.maxAbs, tc.maxRel, tc.ok)
		}
	}
}

// TestLoadTestDirOrder checks numeric (not lexical) ordering of data sets and the round
// trip through WriteTestDataSet.
func TestLoadTestDirOrder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{10, 2, 0} {
		in := NewFloat("x", []int64{1}, []float32{float32(n)})
		out := NewFloat("y", []int64{1}, []float32{float32(-n)})
		if err := WriteTestDataSet(filepath.Join(dir, "test_data_set_"+strconv.Itoa(n)), []*Tensor{in}, []*Tensor{out}); err != nil {
			t.Fatal(err)
		}
	}
	tc, err := LoadTestDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var order []float32
	for _, ds := range tc.DataSets {
		order = append(order, ds.Inputs[0].Float[0], -ds.Outputs[0].Float[0])
	}
	if !slices.Equal(order, []float32{0, 0, 2, 2, 10, 10}) {
		t.Errorf("data sets read as %v", order)
	}
	// A gap in the input numbering is an error.
	if err := WriteTensorFile(filepath.Join(dir, "test_data_set_0", "input_2.pb"), NewFloat("z", []int64{}, []float32{1})); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTestDir(dir); err == nil || !strings.Contains(err.Error(), "input_1.pb missing") {
		t.Errorf("gap in inputs: %v", err)
	}
}
