package onnxexport

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/train"
)

// graphModel builds a serialized model: one float input with the given dims, the named
// outputs (type only), initializers and nodes.
func graphModel(t testing.TB, opset int64, in []onnx.Dim, outs []string, inits []*onnx.Tensor, nodes ...*onnxpb.NodeProto) []byte {
	t.Helper()
	g := &onnxpb.GraphProto{Name: proto.String("test"), Node: nodes,
		Input: []*onnxpb.ValueInfoProto{tensorValueInfo("x", onnx.Float, in...)}}
	for _, o := range outs {
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(o), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.Float))}}}})
	}
	for _, it := range inits {
		g.Initializer = append(g.Initializer, it.ToProto())
	}
	ir := int64(7)
	if opset < 13 {
		ir = 6
	}
	b, err := encodeModel(&onnxpb.ModelProto{IrVersion: proto.Int64(ir), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randTensor(rng *rand.Rand, name string, dims ...int64) *onnx.Tensor {
	v := make([]float32, prod(dims))
	for i := range v {
		v[i] = float32(rng.NormFloat64() * 0.3)
	}
	return onnx.NewFloat(name, dims, v)
}

func ints(name string, v ...int64) *onnx.Tensor {
	return onnx.NewInt64(name, []int64{int64(len(v))}, v)
}

func sym() onnx.Dim          { return onnx.Dim{Value: -1, Param: "N"} }
func fixed(v int64) onnx.Dim { return onnx.Dim{Value: v} }
func dims(v ...int64) []onnx.Dim {
	d := []onnx.Dim{sym()}
	for _, x := range v {
		d = append(d, fixed(x))
	}
	return d
}

// importCases are graphs in the forms other exporters write, each imported into the
// native engine and compared with the reference evaluator.
func importCases(t testing.TB) []struct {
	name   string
	model  []byte
	input  []int64
	layers string // the imported model's layer kinds
} {
	rng := rand.New(rand.NewPCG(7, 7))
	r := func(name string, d ...int64) *onnx.Tensor { return randTensor(rng, name, d...) }
	type tc = struct {
		name   string
		model  []byte
		input  []int64
		layers string
	}
	return []tc{
		{"Gemm alpha beta transB=0 broadcast bias, Gemm transB=1 scalar bias", graphModel(t, 13, dims(12), []string{"y"},
			[]*onnx.Tensor{r("b1", 12, 5), r("c1", 1, 5), r("b2", 4, 5), r("c2")},
			node("g1", "Gemm", []string{"x", "b1", "c1"}, []string{"h"}, attrFloat("alpha", 0.5), attrFloat("beta", 2)),
			node("r1", "Relu", []string{"h"}, []string{"hr"}),
			node("g2", "Gemm", []string{"hr", "b2", "c2"}, []string{"z"}, attrInt("transB", 1)),
			node("s", "Softmax", []string{"z"}, []string{"y"}, attrInt("axis", -1))),
			[]int64{3, 12}, "dense dense"},
		{"Constant shape Reshape [0,-1], Identity, Dropout, MatMul+Add, opset-11 Softmax", graphModel(t, 11, dims(2, 3, 4), []string{"y"},
			[]*onnx.Tensor{r("w", 24, 7), r("b", 7)},
			node("c", "Constant", nil, []string{"shape"}, attrTensor("value", ints("", 0, -1))),
			node("rs", "Reshape", []string{"x", "shape"}, []string{"flat"}),
			node("id", "Identity", []string{"flat"}, []string{"flat2"}),
			node("do", "Dropout", []string{"flat2"}, []string{"d", "mask"}, attrFloat("ratio", 0.2)),
			node("mm", "MatMul", []string{"d", "w"}, []string{"mmo"}),
			node("add", "Add", []string{"b", "mmo"}, []string{"z"}),
			node("s", "Softmax", []string{"z"}, []string{"y"}, attrInt("axis", 1))),
			[]int64{3, 2, 3, 4}, "flatten dropout dense"},
		{"Conv asymmetric pads, strides, dilations, bias by Add; MaxPool ceil_mode; AveragePool SAME_LOWER", graphModel(t, 13, dims(2, 9, 8), []string{"y"},
			[]*onnx.Tensor{r("w", 3, 2, 3, 2), r("cb", 1, 3, 1, 1), r("gw", 5, 3*3*4), r("gb", 5)},
			node("conv", "Conv", []string{"x", "w"}, []string{"c"}, attrInts("pads", 0, 1, 2, 0), attrInts("strides", 2, 1), attrInts("dilations", 1, 2)),
			node("add", "Add", []string{"c", "cb"}, []string{"cbias"}),
			node("relu", "Relu", []string{"cbias"}, []string{"cr"}),
			node("mp", "MaxPool", []string{"cr"}, []string{"p"}, attrInts("kernel_shape", 3, 2), attrInts("strides", 2, 2),
				attrInts("pads", 1, 0, 1, 1), attrInt("ceil_mode", 1)),
			node("ap", "AveragePool", []string{"p"}, []string{"a"}, attrInts("kernel_shape", 2, 2), attrString("auto_pad", "SAME_LOWER")),
			node("fl", "Flatten", []string{"a"}, []string{"f"}),
			node("g", "Gemm", []string{"f", "gw", "gb"}, []string{"y"}, attrInt("transB", 1))),
			[]int64{2, 2, 9, 8}, "conv pool avgpool flatten dense"},
		{"Conv SAME_UPPER stride 2, BatchNormalization, AveragePool count_include_pad ceil, Reshape [-1,36]", graphModel(t, 13, dims(1, 7, 7), []string{"y"},
			[]*onnx.Tensor{r("w", 4, 1, 3, 3), r("b", 4), r("scale", 4), r("bias", 4), r("mean", 4),
				onnx.NewFloat("var", []int64{4}, []float32{0.5, 1, 1.5, 2}), ints("shape", -1, 36)},
			node("conv", "Conv", []string{"x", "w", "b"}, []string{"c"}, attrString("auto_pad", "SAME_UPPER"), attrInts("strides", 2, 2), attrInts("kernel_shape", 3, 3)),
			node("bn", "BatchNormalization", []string{"c", "scale", "bias", "mean", "var"}, []string{"n"}, attrFloat("epsilon", 1e-5)),
			node("ap", "AveragePool", []string{"n"}, []string{"a"}, attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2),
				attrInts("pads", 1, 1, 1, 1), attrInt("count_include_pad", 1), attrInt("ceil_mode", 1)),
			node("rs", "Reshape", []string{"a", "shape"}, []string{"f"}),
			node("s", "Softmax", []string{"f"}, []string{"y"})),
			[]int64{3, 1, 7, 7}, "conv bn avgpool flatten softmax"},
		{"opset 9 x.view(x.size(0), -1): Shape, Gather, Unsqueeze, Concat; Pad folded into Conv, zero Pad dropped; LeakyRelu, Tanh, LogSoftmax",
			graphModel(t, 9, dims(1, 6, 6), []string{"y"},
				[]*onnx.Tensor{r("w", 2, 1, 3, 3), r("b", 2), r("w2", 5, 18), r("b2", 5)},
				node("pad", "Pad", []string{"x"}, []string{"p"}, attrInts("pads", 0, 0, 1, 1, 0, 0, 1, 1)),
				node("conv", "Conv", []string{"p", "w", "b"}, []string{"c"}),
				node("lr", "LeakyRelu", []string{"c"}, []string{"l"}, attrFloat("alpha", 0.1)),
				node("pad0", "Pad", []string{"l"}, []string{"z"}, attrInts("pads", 0, 0, 0, 0, 0, 0, 0, 0)),
				node("ap", "AveragePool", []string{"z"}, []string{"a"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)),
				node("shape", "Shape", []string{"a"}, []string{"s"}),
				node("c0", "Constant", nil, []string{"i0"}, attrTensor("value", onnx.NewInt64("", []int64{}, []int64{0}))),
				node("gather", "Gather", []string{"s", "i0"}, []string{"n"}, attrInt("axis", 0)),
				node("unsq", "Unsqueeze", []string{"n"}, []string{"nn"}, attrInts("axes", 0)),
				node("cm1", "Constant", nil, []string{"m1"}, attrTensor("value", ints("", -1))),
				node("cat", "Concat", []string{"nn", "m1"}, []string{"shp"}, attrInt("axis", 0)),
				node("rs", "Reshape", []string{"a", "shp"}, []string{"f"}),
				node("tanh", "Tanh", []string{"f"}, []string{"t"}),
				node("g", "Gemm", []string{"t", "w2", "b2"}, []string{"z2"}, attrInt("transB", 1)),
				node("ls", "LogSoftmax", []string{"z2"}, []string{"y"}, attrInt("axis", 1))),
			[]int64{3, 1, 6, 6}, "conv leakyrelu avgpool flatten tanh dense logsoftmax"},
		{"NHWC two channels: Transpose, grouped Conv, Clip inputs, dilated MaxPool, Sigmoid, GlobalAveragePool, Squeeze, Softmax",
			graphModel(t, 13, dims(8, 8, 2), []string{"y"},
				[]*onnx.Tensor{r("w", 4, 1, 3, 3), onnx.NewFloat("lo", []int64{}, []float32{0}), onnx.NewFloat("hi", []int64{}, []float32{0.3}), ints("axes", 2, 3)},
				node("tr", "Transpose", []string{"x"}, []string{"t"}, attrInts("perm", 0, 3, 1, 2)),
				node("conv", "Conv", []string{"t", "w"}, []string{"c"}, attrInt("group", 2)),
				node("clip", "Clip", []string{"c", "lo", "hi"}, []string{"cl"}),
				node("mp", "MaxPool", []string{"cl"}, []string{"m"}, attrInts("kernel_shape", 2, 2), attrInts("dilations", 2, 2)),
				node("sig", "Sigmoid", []string{"m"}, []string{"s"}),
				node("gap", "GlobalAveragePool", []string{"s"}, []string{"g"}),
				node("sq", "Squeeze", []string{"g", "axes"}, []string{"q"}),
				node("sm", "Softmax", []string{"q"}, []string{"y"})),
			[]int64{2, 8, 8, 2}, "transpose conv clip pool sigmoid avgpool reshape softmax"},
		{"NHWC one channel: Transpose is a view; opset 11 Pad inputs before MaxPool stay a Pad layer; Elu",
			graphModel(t, 11, dims(5, 5, 1), []string{"y"},
				[]*onnx.Tensor{r("w", 2, 1, 3, 3), ints("pads", 0, 0, 1, 0, 0, 0, 0, 1), onnx.NewFloat("v", []int64{}, []float32{0.25}), r("w2", 3, 2*3*3)},
				node("tr", "Transpose", []string{"x"}, []string{"t"}, attrInts("perm", 0, 3, 1, 2)),
				node("conv", "Conv", []string{"t", "w"}, []string{"c"}, attrInts("pads", 1, 1, 1, 1)),
				node("pad", "Pad", []string{"c", "pads", "v"}, []string{"p"}),
				node("mp", "MaxPool", []string{"p"}, []string{"m"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)),
				node("elu", "Elu", []string{"m"}, []string{"e"}, attrFloat("alpha", 0.5)),
				node("fl", "Flatten", []string{"e"}, []string{"f"}),
				node("g", "Gemm", []string{"f", "w2"}, []string{"y"}, attrInt("transB", 1))),
			[]int64{2, 5, 5, 1}, "reshape conv pad pool elu flatten dense"},
		{"(N, 5, 5) input: opset 13 Unsqueeze; (N, 25) MLP input: Reshape to (N, 1, 5, 5)",
			graphModel(t, 13, dims(5, 5), []string{"y"},
				[]*onnx.Tensor{ints("axes", 1), r("w", 2, 1, 3, 3), ints("shape", 0, 18), ints("shape2", -1, 1, 3, 6), r("w2", 18, 4)},
				node("u", "Unsqueeze", []string{"x", "axes"}, []string{"u1"}),
				node("conv", "Conv", []string{"u1", "w"}, []string{"c"}),
				node("relu", "Relu", []string{"c"}, []string{"r1"}),
				node("rs", "Reshape", []string{"r1", "shape"}, []string{"f"}),
				node("rs2", "Reshape", []string{"f", "shape2"}, []string{"f2"}),
				node("rs3", "Reshape", []string{"f2", "shape"}, []string{"f3"}),
				node("mm", "MatMul", []string{"f3", "w2"}, []string{"y"})),
			[]int64{3, 5, 5}, "reshape conv flatten reshape flatten dense"},
		{"opset 6: Add broadcast with axis folded into the Conv bias, BatchNormalization and Dropout is_test, Gemm broadcast",
			graphModel(t, 6, dims(2, 4, 4), []string{"y"},
				[]*onnx.Tensor{r("w", 3, 2, 3, 3), r("cb", 3), r("scale", 3), r("bias", 3), r("mean", 3),
					onnx.NewFloat("var", []int64{3}, []float32{0.5, 1, 2}), r("w2", 4, 12), r("b2", 4), ints("shape", 0, -1)},
				node("conv", "Conv", []string{"x", "w"}, []string{"c"}),
				node("add", "Add", []string{"c", "cb"}, []string{"ca"}, attrInt("broadcast", 1), attrInt("axis", 1)),
				node("bn", "BatchNormalization", []string{"ca", "scale", "bias", "mean", "var"}, []string{"n"}, attrInt("is_test", 1)),
				node("do", "Dropout", []string{"n"}, []string{"d"}, attrInt("is_test", 1)),
				node("rs", "Reshape", []string{"d", "shape"}, []string{"f"}),
				node("g", "Gemm", []string{"f", "w2", "b2"}, []string{"z"}, attrInt("transB", 1), attrInt("broadcast", 1)),
				node("s", "Softmax", []string{"z"}, []string{"y"})),
			[]int64{2, 2, 4, 4}, "conv bn dropout flatten dense"},
		{"in-graph normalisation (x - mean) / std, c - x, Mul per channel after a Conv, an Add with nothing to fold into, Div by a per-element constant",
			graphModel(t, 13, dims(1, 6, 6), []string{"y"},
				[]*onnx.Tensor{onnx.NewFloat("mean", []int64{}, []float32{0.2860}), onnx.NewFloat("std", []int64{1}, []float32{0.3530}),
					onnx.NewFloat("one", []int64{1, 1, 1, 1}, []float32{1}), r("w", 3, 1, 3, 3), r("scale", 3, 1, 1), r("shift", 1, 3, 1, 1),
					r("w2", 4, 3*4*4), onnx.NewFloat("d", []int64{4}, []float32{0.5, -2, 4, 1.5})},
				node("sub", "Sub", []string{"x", "mean"}, []string{"xc"}),
				node("div", "Div", []string{"xc", "std"}, []string{"xn"}),
				node("rsub", "Sub", []string{"one", "xn"}, []string{"xi"}),
				node("conv", "Conv", []string{"xi", "w"}, []string{"c"}),
				node("mul", "Mul", []string{"scale", "c"}, []string{"cm"}),
				node("add", "Add", []string{"cm", "shift"}, []string{"ca"}),
				node("relu", "Relu", []string{"ca"}, []string{"cr"}),
				node("fl", "Flatten", []string{"cr"}, []string{"f"}),
				node("g", "Gemm", []string{"f", "w2"}, []string{"z"}, attrInt("transB", 1)),
				node("div2", "Div", []string{"z", "d"}, []string{"y"})),
			[]int64{3, 1, 6, 6}, "arith arith arith conv arith arith relu flatten dense arith"},
		{"opset 9 flattening by C*H*W: Shape, Gather, Mul on INT64, Concat; legacy-free Mul of a scalar",
			graphModel(t, 9, dims(2, 3, 3), []string{"y"},
				[]*onnx.Tensor{onnx.NewFloat("k", []int64{}, []float32{1.0 / 255}), r("w2", 18, 4)},
				node("mul", "Mul", []string{"x", "k"}, []string{"xs"}),
				node("shape", "Shape", []string{"xs"}, []string{"s"}),
				node("c0", "Constant", nil, []string{"i0"}, attrTensor("value", onnx.NewInt64("", []int64{}, []int64{0}))),
				node("c1", "Constant", nil, []string{"i1"}, attrTensor("value", onnx.NewInt64("", []int64{}, []int64{1}))),
				node("c2", "Constant", nil, []string{"i2"}, attrTensor("value", onnx.NewInt64("", []int64{}, []int64{2}))),
				node("c3", "Constant", nil, []string{"i3"}, attrTensor("value", onnx.NewInt64("", []int64{}, []int64{3}))),
				node("g0", "Gather", []string{"s", "i0"}, []string{"n"}, attrInt("axis", 0)),
				node("g1", "Gather", []string{"s", "i1"}, []string{"ch"}, attrInt("axis", 0)),
				node("g2", "Gather", []string{"s", "i2"}, []string{"hh"}, attrInt("axis", 0)),
				node("g3", "Gather", []string{"s", "i3"}, []string{"ww"}, attrInt("axis", 0)),
				node("m1", "Mul", []string{"ch", "hh"}, []string{"chh"}),
				node("m2", "Mul", []string{"chh", "ww"}, []string{"chw"}),
				node("u0", "Unsqueeze", []string{"n"}, []string{"nn"}, attrInts("axes", 0)),
				node("u1", "Unsqueeze", []string{"chw"}, []string{"cc"}, attrInts("axes", 0)),
				node("cat", "Concat", []string{"nn", "cc"}, []string{"shp"}, attrInt("axis", 0)),
				node("rs", "Reshape", []string{"xs", "shp"}, []string{"f"}),
				node("mm", "MatMul", []string{"f", "w2"}, []string{"y"})),
			[]int64{3, 2, 3, 3}, "arith flatten dense"},
		{"opset 18: ReduceMean over (N, C, L) with axes as an input and keepdims 0, ReduceMax keepdims 1 of (N, C, H, W), a no-op ReduceMax",
			graphModel(t, 18, dims(2, 6, 6), []string{"y"},
				[]*onnx.Tensor{r("w", 3, 2, 3, 3), ints("ax", -1, 2), ints("shape", 0, 3, 1), ints("ax2", 2), r("w2", 3, 4)},
				node("conv", "Conv", []string{"x", "w"}, []string{"c"}),
				node("rmax", "ReduceMax", []string{"c", "ax"}, []string{"m"}),
				node("noop", "ReduceMax", []string{"m"}, []string{"m2"}, attrInt("noop_with_empty_axes", 1)),
				node("rs", "Reshape", []string{"m2", "shape"}, []string{"cl"}),
				node("rmean", "ReduceMean", []string{"cl", "ax2"}, []string{"v"}, attrInt("keepdims", 0)),
				node("mm", "MatMul", []string{"v", "w2"}, []string{"y"})),
			[]int64{3, 2, 6, 6}, "conv pool reshape reshape avgpool reshape dense"},
		{"fixed batch: Reshape [2,12], Gemm without C; two outputs", graphModel(t, 13, []onnx.Dim{fixed(2), fixed(3), fixed(4)}, []string{"f", "y"},
			[]*onnx.Tensor{r("w", 12, 6), ints("shape", 2, 12)},
			node("rs", "Reshape", []string{"x", "shape"}, []string{"f"}),
			node("g", "Gemm", []string{"f", "w"}, []string{"y"})),
			[]int64{2, 3, 4}, "flatten dense"},
	}
}

// TestImportMatchesReference imports graphs in other exporters' forms and checks the
// native engine against the reference evaluator (both float32 results; the native engine
// sums in float32, the reference in float64: 1e-5 absolute plus relative).
func TestImportMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, tc := range importCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			x := randTensor(rng, "x", tc.input...)
			got, err := NativeEngine(tc.model, []*onnx.Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			want, err := naiveEngine(tc.model, []*onnx.Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if !slices.Equal(got[i].Dims, want[i].Dims) {
					t.Fatalf("output %d: dims %v, want %v", i, got[i].Dims, want[i].Dims)
				}
				abs, rel, ok := onnx.Compare(got[i].Float, want[i].Float, 1e-5, 1e-5)
				if !ok {
					t.Errorf("output %d: max abs %g rel %g", i, abs, rel)
				}
			}
			g, err := onnx.DecodeModel(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			m, _, err := importGraph(g, nil, tc.input[1:])
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, l := range m.Layers {
				kinds = append(kinds, l.Kind())
			}
			if got := strings.Join(kinds, " "); got != tc.layers {
				t.Errorf("layers %q, want %q", got, tc.layers)
			}
		})
	}
}

// TestImportErrors: every model the native engine cannot run is refused with an error
// naming the node, op and attribute, of the right kind.
func TestImportErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	r := func(name string, d ...int64) *onnx.Tensor { return randTensor(rng, name, d...) }
	nanW := r("w", 4, 3)
	nanW.Float[5] = float32(math.NaN())
	infW := r("w", 2, 1, 3, 3)
	infW.Float[0] = float32(math.Inf(-1))
	two := graphModel(t, 13, dims(3), []string{"y"}, nil, node("add", "Add", []string{"x", "x2"}, []string{"y"}))
	{ // a second runtime input
		mp := decodeProto(t, two)
		mp.Graph.Input = append(mp.Graph.Input, tensorValueInfo("x2", onnx.Float, dims(3)...))
		two, _ = encodeModel(mp)
	}
	const unsup, invalid = true, false
	for _, tc := range []struct {
		name        string
		model       []byte
		unsupported bool
		want        string
	}{
		{"transpose of the batch", graphModel(t, 13, dims(2, 3), []string{"y"}, nil,
			node("t", "Transpose", []string{"x"}, []string{"y"}, attrInts("perm", 1, 0, 2))), unsup, `node "t" (Transpose): perm: unsupported: [1 0 2] moves the batch axis`},
		{"Pad of the batch", graphModel(t, 13, dims(2, 3), []string{"y"}, []*onnx.Tensor{ints("p", 1, 0, 0, 0, 0, 0)},
			node("p", "Pad", []string{"x", "p"}, []string{"y"})), unsup, "pads the batch axis"},
		{"view from arithmetic on the batch size", graphModel(t, 13, dims(2, 3), []string{"y"}, []*onnx.Tensor{ints("i", 0), ints("m", -1)},
			node("s", "Shape", []string{"x"}, []string{"s"}),
			node("g", "Gather", []string{"s", "i"}, []string{"n"}),
			node("c", "Concat", []string{"m", "n"}, []string{"shp"}, attrInt("axis", 0)),
			node("rs", "Reshape", []string{"x", "shp"}, []string{"y"})), unsup, "the batch size at position [1]"},
		{"3-D conv", graphModel(t, 13, dims(1, 4, 4, 4), []string{"y"}, []*onnx.Tensor{r("w", 2, 1, 3, 3, 3)},
			node("c", "Conv", []string{"x", "w"}, []string{"y"})), unsup, "3-D convolution"},
		{"input rank does not match the conv", graphModel(t, 13, dims(28, 28), []string{"y"}, []*onnx.Tensor{r("w", 4, 1, 3, 3)},
			node("c", "Conv", []string{"x", "w"}, []string{"y"})), invalid, `node "c" (Conv): input 1: shape [4 1 3 3]: rank 4 outside 3..3`},
		{"input without batch", graphModel(t, 13, []onnx.Dim{sym()}, []string{"y"}, nil,
			node("r", "Relu", []string{"x"}, []string{"y"})), unsup, "rank 1: the native engine needs a batch dimension"},
		{"symbolic feature dim", graphModel(t, 13, []onnx.Dim{sym(), {Value: -1, Param: "C"}}, []string{"y"}, nil,
			node("r", "Relu", []string{"x"}, []string{"y"})), unsup, "dim 1 is C: only the batch dimension (dim 0) may be dynamic"},
		{"NaN weight", graphModel(t, 13, dims(3), []string{"y"}, []*onnx.Tensor{nanW},
			node("g", "Gemm", []string{"x", "w"}, []string{"y"}, attrInt("transB", 1))), invalid, `initializer "w" (B) holds NaN at element 5`},
		{"Inf weight", graphModel(t, 13, dims(1, 5, 5), []string{"y"}, []*onnx.Tensor{infW},
			node("c", "Conv", []string{"x", "w"}, []string{"y"})), invalid, `initializer "w" (W) holds -Inf at element 0`},
		{"two runtime inputs", two, unsup, `2 runtime inputs ["x" "x2"]: the native engine takes exactly one`},
		{"branch", graphModel(t, 13, dims(3), []string{"y"}, nil,
			node("a", "Relu", []string{"x"}, []string{"h"}),
			node("b", "Relu", []string{"x"}, []string{"y"})), unsup, `node "b" (Relu): input 0: unsupported: value "x" feeds more than one node`},
		{"reshape fixing the batch", graphModel(t, 13, dims(2, 3), []string{"y"}, []*onnx.Tensor{ints("s", 1, -1)},
			node("rs", "Reshape", []string{"x", "s"}, []string{"y"})), unsup, "Reshape to [1 -1] does not keep the batch"},
		{"reshape to (N)", graphModel(t, 13, dims(2, 3), []string{"y"}, []*onnx.Tensor{ints("s", -1)},
			node("rs", "Reshape", []string{"x", "s"}, []string{"y"})), unsup, "Reshape to [-1] does not keep the batch"},
		{"flatten axis 2", graphModel(t, 13, dims(2, 3), []string{"y"}, nil,
			node("f", "Flatten", []string{"x"}, []string{"y"}, attrInt("axis", 2))), unsup, `node "f" (Flatten): axis: unsupported: axis 2 merges the batch`},
		{"softmax over the batch", graphModel(t, 13, dims(4), []string{"y"}, nil,
			node("s", "Softmax", []string{"x"}, []string{"y"}, attrInt("axis", 0))), unsup, "axis 0 normalises over the batch"},
		{"softmax over a middle axis", graphModel(t, 13, dims(4, 5), []string{"y"}, nil,
			node("s", "Softmax", []string{"x"}, []string{"y"}, attrInt("axis", 1))), unsup, "axis 1 of a rank-3 value is not the last"},
		{"transA", graphModel(t, 13, []onnx.Dim{fixed(3), fixed(3)}, []string{"y"}, []*onnx.Tensor{r("w", 3, 2)},
			node("g", "Gemm", []string{"x", "w"}, []string{"y"}, attrInt("transA", 1))), unsup, "transA=1"},
		{"Gemm bias along the batch", graphModel(t, 13, []onnx.Dim{fixed(3), fixed(4)}, []string{"y"}, []*onnx.Tensor{r("w", 4, 5), r("c", 3, 5)},
			node("g", "Gemm", []string{"x", "w", "c"}, []string{"y"})), unsup, "C [3 5] varies along the batch"},
		{"ReduceMean over the channels", graphModel(t, 13, dims(2, 3, 3), []string{"y"}, nil,
			node("m", "ReduceMean", []string{"x"}, []string{"y"}, attrInts("axes", 1))), unsup, "reduces the spatial axes"},
		{"ReduceMean with axes computed at run time", graphModel(t, 18, dims(2, 3, 3), []string{"y"}, nil,
			node("s", "Shape", []string{"x"}, []string{"ax"}),
			node("m", "ReduceMean", []string{"x", "ax"}, []string{"y"})), unsup, "computed at run time"},
		{"the chain's value as a divisor", graphModel(t, 13, dims(3), []string{"y"}, []*onnx.Tensor{r("c", 3)},
			node("d", "Div", []string{"c", "x"}, []string{"y"})), unsup, "the chain's value is the divisor"},
		{"a constant that varies along a fixed batch", graphModel(t, 13, []onnx.Dim{fixed(2), fixed(3)}, []string{"y"}, []*onnx.Tensor{r("c", 2, 3)},
			node("m", "Mul", []string{"x", "c"}, []string{"y"})), unsup, "differs across the batch"},
		{"a constant that broadcasts the value", graphModel(t, 13, dims(3), []string{"y"}, []*onnx.Tensor{r("c", 4, 1, 3)},
			node("s", "Sub", []string{"x", "c"}, []string{"y"})), unsup, "the native engine keeps the value's shape"},
		{"a runtime operand", graphModel(t, 13, dims(3), []string{"y"}, nil,
			node("m", "Mul", []string{"x", "x"}, []string{"y"})), unsup, "takes the chain's value \"x\" twice"},
		{"INT64 division by zero in shape arithmetic", graphModel(t, 13, dims(4), []string{"y"}, []*onnx.Tensor{ints("a", 0, 8), ints("z", 1, 0)},
			node("d", "Div", []string{"a", "z"}, []string{"s"}),
			node("r", "Reshape", []string{"x", "s"}, []string{"y"})), invalid, "division of 8 by zero"},
		{"unsupported op", graphModel(t, 13, dims(3), []string{"y"}, nil,
			node("s", "HardSigmoid", []string{"x"}, []string{"y"})), unsup, `op type "HardSigmoid" is not supported`},
		{"pool pads as large as the window", graphModel(t, 13, dims(1, 6, 6), []string{"y"}, nil,
			node("p", "MaxPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2, 2), attrInts("pads", 2, 0, 0, 0))), unsup, "smaller than the window"},
		{"an identity graph", graphModel(t, 13, dims(3), []string{"y"}, nil,
			node("i", "Identity", []string{"x"}, []string{"y"})), unsup, "at least one layer"},
		{"dropout mask as output", graphModel(t, 9, dims(3), []string{"y", "mask"}, nil, // opset 9: a FLOAT mask, as graphModel declares
			node("d", "Dropout", []string{"x"}, []string{"y", "mask"})), unsup, "secondary output"},
		{"weights computed at run time", graphModel(t, 13, []onnx.Dim{fixed(3), fixed(3)}, []string{"y"}, nil,
			node("m", "MatMul", []string{"x", "x"}, []string{"y"})), unsup, "takes the chain's value \"x\" twice"},
		{"not a model", []byte("not an onnx file"), invalid, "protobuf"},
	} {
		_, _, err := Import(tc.model)
		if err == nil {
			t.Errorf("%s: imported", tc.name)
			continue
		}
		if errors.Is(err, onnx.ErrUnsupported) != tc.unsupported || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v (unsupported %v)\nwant %q (unsupported %v)", tc.name, err, errors.Is(err, onnx.ErrUnsupported), tc.want, tc.unsupported)
		}
	}
}

const (
	torchBookDir     = "../../testdata/onnx/torch_book"
	torchVariantsDir = "../../testdata/onnx/torch_variants"
)

// TestImportTorch imports PyTorch's exports (testdata/gen/onnx/torch_book.py) and checks
// the native engine against torch's own outputs on real test images within 1e-5
// (absolute; both are float32 engines summing in different orders).
func TestImportTorch(t *testing.T) {
	for _, tc := range []struct {
		dir    string
		layers string
	}{
		{torchBookDir, "conv pool conv pool conv flatten dense dense"},
		{torchVariantsDir, "conv pool bn avgpool flatten dense"},
	} {
		m, info, err := ImportFile(filepath.Join(tc.dir, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, l := range m.Layers {
			kinds = append(kinds, l.Kind())
		}
		if got := strings.Join(kinds, " "); got != tc.layers {
			t.Errorf("%s: layers %q, want %q", tc.dir, got, tc.layers)
		}
		if info.ProducerName != "pytorch" || info.Input != "input" || len(info.Outputs) != 1 || info.Outputs[0].Name != "probabilities" {
			t.Errorf("%s: info %+v", tc.dir, info)
		}
		r, err := onnx.VerifyTolerance(tc.dir, NativeEngine, 1e-5, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			t.Errorf("%s: native vs torch: max abs %g, max rel %g", tc.dir, r.MaxAbs, r.MaxRel)
		}
		t.Logf("%s: native vs torch on %v: max abs %.3g, max rel %.3g", tc.dir, r.DataSets[0].Outputs[0].Dims, r.MaxAbs, r.MaxRel)
		r, err = onnx.VerifyTolerance(tc.dir, naiveEngine, 1e-5, 0)
		if err != nil || !r.OK {
			t.Errorf("%s: reference evaluator vs torch: %+v %v", tc.dir, r, err)
		}
	}
}

// FuzzImport: Import must never panic, whatever the bytes; what it accepts must build a
// model that runs.
func FuzzImport(f *testing.F) {
	// Small seeds only: the fuzzer mutates and re-runs them thousands of times a second,
	// which a 670 KB model (torch_book) slows to a crawl.
	for _, p := range []string{"../../testdata/onnx/tiny.onnx", torchVariantsDir + "/model.onnx"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, tc := range importCases(f) {
		f.Add(tc.model)
	}
	// The PyTorch zoo's smaller models: Pad, shape arithmetic, layouts, activations.
	zoo, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "onnx", "torch_zoo", "*", "model.onnx"))
	for _, p := range zoo {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	if m, err := train.BuildModel("c4k3-bn-p2-a2s1-x0.5-f-d10", train.Shape{1, 8, 8}, train.NewRNG(1)); err == nil {
		if b, err := Export(m, ExportOptions{Logits: true}); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, info, err := Import(b)
		if err != nil {
			if m != nil || info != nil {
				t.Fatal("results with an error")
			}
			return
		}
		weights := 0
		for _, p := range m.Params() {
			weights += p.Size()
		}
		if m.InputShape.Size() > 1<<12 || weights > 1<<16 || len(m.Layers) > 32 {
			return // too large to run quickly; Import itself was exercised
		}
		x := onnx.NewFloat("x", append([]int64{1}, shapeInt64(m.InputShape)...), make([]float32, m.InputShape.Size()))
		if _, err := RunImported(m, info, x); err != nil {
			t.Fatal(err)
		}
	})
}

var benchModel *train.Model

// BenchmarkExportBook measures exporting the book model (167,114 parameters).
func BenchmarkExportBook(b *testing.B) {
	m := train.BookModel(train.NewRNG(1))
	for b.Loop() {
		out, err := Export(m, ExportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

// BenchmarkImportBook measures importing the exported book model.
func BenchmarkImportBook(b *testing.B) {
	data, err := Export(train.BookModel(train.NewRNG(1)), ExportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m, _, err := Import(data)
		if err != nil {
			b.Fatal(err)
		}
		benchModel = m
	}
}
