package onnx

import (
	"fmt"
	"strconv"
)

// The op table. Each op family keeps its IR type, attribute checks (its lowering), shape
// rule (infer), reference evaluation (eval) and, where it differs from one operation per
// output element, its cost, together in one op_*.go file. Adding an op is adding such a
// file and its line here (and, for the native engine, its lowering to a layer in
// pkg/onnxexport).

// lowerCtx is what a lowering may consult besides the node: the model's default-domain
// opset and the constant values defined so far (initializers and Constant outputs).
type lowerCtx struct {
	opset  int64
	consts map[string]*Tensor
}

// lowerFunc validates a node of one op against the op's spec and returns its IR node.
type lowerFunc func(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error)

// opTable lists the claimed ops in the order ClaimedOps reports them, each with the
// default-domain opset versions that defined or changed it (ONNX Changelog.md; the
// versions up to MaxOpset) and a note of what of it is supported, for docs/onnx-support.md.
var opTable = []struct {
	op     string
	lower  lowerFunc
	opsets []int64
	attrs  string
}{
	{"Conv", lowerConv, []int64{1, 11}, "kernel_shape, strides, dilations, pads, auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER), group"},
	{"MaxPool", lowerMaxPool, []int64{1, 8, 10, 11, 12}, "kernel_shape, strides, pads, auto_pad, ceil_mode (10), dilations (10), storage_order 0 (8); not the Indices output"},
	{"AveragePool", lowerAveragePool, []int64{1, 7, 10, 11}, "kernel_shape, strides, pads, auto_pad, count_include_pad (7), ceil_mode (10)"},
	{"GlobalAveragePool", lowerGlobalAveragePool, []int64{1}, "-"},
	{"GlobalMaxPool", lowerGlobalMaxPool, []int64{1}, "-"},
	{"ReduceMean", lowerReduce("ReduceMean"), []int64{1, 11, 13, 18}, "axes (attribute before 18, a constant input from 18), keepdims, noop_with_empty_axes (18); FLOAT"},
	{"ReduceMax", lowerReduce("ReduceMax"), []int64{1, 11, 12, 13, 18}, "axes (attribute before 18, a constant input from 18), keepdims, noop_with_empty_axes (18); FLOAT"},
	{"BatchNormalization", lowerBatchNorm, []int64{1, 6, 7, 9, 14, 15}, "epsilon, momentum (ignored), is_test=1 (before 7), spatial=1 (before 9), training_mode=0 (14); inference only: no running-statistics outputs"},
	{"Gemm", lowerGemm, []int64{1, 6, 7, 9, 11, 13}, "alpha, beta, transA, transB, broadcast (before 7); C optional from 11"},
	{"MatMul", lowerMatMul, []int64{1, 9, 13}, "-"},
	{"Add", lowerAdd, []int64{1, 6, 7, 13, 14}, "numpy broadcasting from 7; broadcast and axis before 7"},
	{"Sub", lowerArith("Sub"), []int64{1, 6, 7, 13, 14}, "as Add; FLOAT, and INT64 for shape arithmetic"},
	{"Mul", lowerArith("Mul"), []int64{1, 6, 7, 13, 14}, "as Add; FLOAT, and INT64 for shape arithmetic"},
	{"Div", lowerArith("Div"), []int64{1, 6, 7, 13, 14}, "as Add; FLOAT, and INT64 for shape arithmetic (truncating; a zero divisor refused)"},
	{"Relu", lowerRelu, []int64{1, 6, 13, 14}, "-"},
	{"LeakyRelu", lowerLeakyRelu, []int64{1, 6, 16}, "alpha"},
	{"Elu", lowerElu, []int64{1, 6}, "alpha"},
	{"Sigmoid", lowerSigmoid, []int64{1, 6, 13}, "-"},
	{"Tanh", lowerTanh, []int64{1, 6, 13}, "-"},
	{"Clip", lowerClip, []int64{1, 6, 11, 12, 13}, "min, max (attributes before 11, optional scalar inputs from 11)"},
	{"Pad", lowerPad, []int64{1, 2, 11, 13, 18}, "mode (constant, reflect, edge), paddings (1), pads and value (2), pads, constant_value and axes inputs (11, axes 18)"},
	{"Flatten", lowerFlatten, []int64{1, 9, 11, 13}, "axis"},
	{"Reshape", lowerReshape, []int64{1, 5, 13, 14}, "shape (attribute before 5, input from 5), allowzero (14)"},
	{"Transpose", lowerTranspose, []int64{1, 13}, "perm"},
	{"Unsqueeze", lowerUnsqueeze, []int64{1, 11, 13}, "axes (attribute before 13, input from 13)"},
	{"Squeeze", lowerSqueeze, []int64{1, 11, 13}, "axes (attribute before 13, optional input from 13)"},
	{"Shape", lowerShape, []int64{1, 13, 15}, "start, end (15)"},
	{"Gather", lowerGather, []int64{1, 11, 13}, "axis; INT64 indices"},
	{"Concat", lowerConcat, []int64{1, 4, 11, 13}, "axis"},
	{"Cast", lowerCast, []int64{1, 6, 9, 13}, "to: FLOAT, INT64 or BOOL"},
	{"Softmax", lowerSoftmax, []int64{1, 11, 13}, "axis (the input coerced to 2-D before 13)"},
	{"LogSoftmax", lowerLogSoftmax, []int64{1, 11, 13}, "axis (the input coerced to 2-D before 13)"},
	{"Identity", lowerIdentity, []int64{1, 13, 14, 16}, "tensors only"},
	{"Dropout", lowerDropout, []int64{1, 6, 7, 10, 12, 13}, "ratio, is_test=1 (before 7), seed (12); training_mode a constant false"},
	{"Constant", lowerConstant, []int64{1, 9, 11, 12, 13}, "value, value_float(s), value_int(s) (12); not sparse_value or strings"},
}

// OpSupport describes one claimed op for docs/onnx-support.md.
type OpSupport struct {
	Op string
	// Opsets are the default-domain opset versions that defined or changed the op, up to
	// MaxOpset; every opset from the first up to MaxOpset is accepted.
	Opsets []int64
	// Attributes says which attributes and inputs are supported, and with what limits.
	Attributes string
}

// SupportedOps lists the claimed ops, in the order of ClaimedOps.
func SupportedOps() []OpSupport {
	out := make([]OpSupport, len(opTable))
	for i, e := range opTable {
		out[i] = OpSupport{Op: e.op, Opsets: append([]int64{}, e.opsets...), Attributes: e.attrs}
	}
	return out
}

// opLowerings is opTable by op type.
var opLowerings = func() map[string]lowerFunc {
	m := make(map[string]lowerFunc, len(opTable))
	for _, e := range opTable {
		m[e.op] = e.lower
	}
	return m
}()

// ClaimedOps lists the op types this package lowers, in the order of the Node docs.
var ClaimedOps = func() []string {
	ops := make([]string, len(opTable))
	for i, e := range opTable {
		ops[i] = e.op
	}
	return ops
}()

// infer implements Node for a node not yet lowered: a programmer error.
func (b *NodeBase) infer([]TensorType, func(string) *Tensor) ([]TensorType, error) {
	panic(fmt.Sprintf("onnx: node %s (%s) is not lowered (Graph.Build)", b.ID(), b.Op))
}

// eval implements Node for a node not yet lowered: a programmer error.
func (b *NodeBase) eval([]*Tensor, []TensorType) ([]*Tensor, error) {
	panic(fmt.Sprintf("onnx: node %s (%s) is not lowered (Graph.Build)", b.ID(), b.Op))
}

// wantType checks input i's element type and rank (maxRank < 0: no upper bound).
func wantType(b *NodeBase, in []TensorType, i int, dt DataType, minRank, maxRank int) error {
	t := in[i]
	if t.DataType != dt {
		return b.Errorf("input "+strconv.Itoa(i), "type %s, want %s", t.DataType, dt)
	}
	if len(t.Shape) < minRank || (maxRank >= 0 && len(t.Shape) > maxRank) {
		return b.Errorf("input "+strconv.Itoa(i), "shape %v: rank %d outside %d..%d", t.Shape, len(t.Shape), minRank, maxRank)
	}
	return nil
}
