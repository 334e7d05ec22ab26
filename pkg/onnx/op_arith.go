package onnx

import (
	"fmt"
	"math"
)

// Sub, Mul and Div (ONNX Operators.md): the IR type, attribute checks, shape rule and
// reference evaluation. They broadcast exactly as Add does (op_add.go), at every opset:
// numpy broadcasting from opset 7, the broadcast and axis attributes before.

// Arith is ONNX Sub, Mul or Div. Its broadcasting (the embedded Add's Legacy, Broadcast
// and Axis, and Operand1Shape) is Add's; Op says which operation it computes. FLOAT
// tensors are computed with one float32 rounding per element; INT64 tensors (shape
// arithmetic, e.g. C*H*W for a flattening Reshape) exactly, Div truncating toward zero and
// refusing a zero divisor.
type Arith struct {
	Add
	Op string // "Sub", "Mul" or "Div"
}

// lowerArith returns the lowering of the Arith op named op.
func lowerArith(op string) lowerFunc {
	return func(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
		n, err := lowerAdd(b, r, ctx)
		if err != nil {
			return nil, err
		}
		return &Arith{Add: *n.(*Add), Op: op}, nil
	}
}

func (n *Arith) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	dt := in[0].DataType
	if dt != Float && dt != Int64 {
		return nil, b.Errorf("input 0", "type %s, want FLOAT or INT64", dt)
	}
	if in[1].DataType != dt {
		return nil, b.Errorf("input 1", "type %s, want %s like input 0", in[1].DataType, dt)
	}
	return n.inferBroadcast(in, dt)
}

func (n *Arith) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	idx := make([]int64, len(y.Dims))
	bs, err := n.Operand1Shape(in[0].Dims, in[1].Dims)
	if err != nil {
		return nil, err
	}
	for i := range max(len(y.Float), len(y.Int64)) {
		unravel(int64(i), y.Dims, idx)
		ia, ic := broadcastOffset(idx, in[0].Dims), broadcastOffset(idx, bs)
		if y.DataType == Float {
			y.Float[i] = arithFloat(n.Op, in[0].Float[ia], in[1].Float[ic])
			continue
		}
		v, err := arithInt(n.Op, in[0].Int64[ia], in[1].Int64[ic])
		if err != nil {
			return nil, n.NodeBase.Errorf("inputs", "%v", err)
		}
		y.Int64[i] = v
	}
	return []*Tensor{y}, nil
}

// arithFloat is one float32 operation, rounded once.
func arithFloat(op string, a, c float32) float32 {
	switch op {
	case "Sub":
		return a - c
	case "Mul":
		return a * c
	}
	return a / c
}

// arithInt is one int64 operation; Div truncates toward zero, as C and onnxruntime do.
func arithInt(op string, a, c int64) (int64, error) {
	switch op {
	case "Sub":
		return a - c, nil
	case "Mul":
		return a * c, nil
	}
	if c == 0 {
		return 0, fmt.Errorf("integer division of %d by zero", a)
	}
	if a == math.MinInt64 && c == -1 {
		return 0, fmt.Errorf("integer division %d / -1 overflows", a)
	}
	return a / c, nil
}
