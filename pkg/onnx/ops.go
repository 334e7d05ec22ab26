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

// opTable lists the claimed ops in the order ClaimedOps reports them.
var opTable = []struct {
	op    string
	lower lowerFunc
}{
	{"Conv", lowerConv},
	{"MaxPool", lowerMaxPool},
	{"AveragePool", lowerAveragePool},
	{"BatchNormalization", lowerBatchNorm},
	{"Gemm", lowerGemm},
	{"MatMul", lowerMatMul},
	{"Add", lowerAdd},
	{"Relu", lowerRelu},
	{"Flatten", lowerFlatten},
	{"Reshape", lowerReshape},
	{"Softmax", lowerSoftmax},
	{"Identity", lowerIdentity},
	{"Dropout", lowerDropout},
	{"Constant", lowerConstant},
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
