package onnx

import "fmt"

// MatMul (ONNX Operators.md, numpy.matmul): the IR type, attribute checks, shape rule,
// reference evaluation and cost.

// MatMul is ONNX MatMul (opset 1/9/13): numpy.matmul, with batch broadcasting and 1-D
// operands promoted and then squeezed.
type MatMul struct{ NodeBase }

func lowerMatMul(b NodeBase, r *attrReader, _ *lowerCtx) (Node, error) {
	return &MatMul{b}, b.arity(2, 2, 1, 1, r)
}

func (n *MatMul) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 1, -1); err != nil {
		return nil, err
	}
	if err := wantType(b, in, 1, Float, 1, -1); err != nil {
		return nil, err
	}
	out, _, _, _, _, err := matmulShapes(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, b.Errorf("inputs", "%v", err)
	}
	return []TensorType{{Float, out}}, nil
}

func (n *MatMul) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	matmulNaive(in[0], in[1], y)
	return []*Tensor{y}, nil
}

// matmulShapes returns numpy.matmul's output shape for a and b, with the batch shape and
// the matrix sizes m, k, n.
func matmulShapes(a, b []int64) (out, batch []int64, m, k, n int64, err error) {
	aa, bb := a, b
	if len(a) == 1 {
		aa = []int64{1, a[0]}
	}
	if len(b) == 1 {
		bb = []int64{b[0], 1}
	}
	m, k = aa[len(aa)-2], aa[len(aa)-1]
	k2 := bb[len(bb)-2]
	n = bb[len(bb)-1]
	if k != k2 {
		return nil, nil, 0, 0, 0, fmt.Errorf("MatMul of %v and %v: inner sizes %d and %d differ", a, b, k, k2)
	}
	batch, err = BroadcastShapes(aa[:len(aa)-2], bb[:len(bb)-2])
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	out = append([]int64{}, batch...)
	if len(a) > 1 {
		out = append(out, m)
	}
	if len(b) > 1 {
		out = append(out, n)
	}
	return out, batch, m, k, n, nil
}

// matmulNaive: numpy.matmul of a and b into y, broadcasting the batch dimensions.
func matmulNaive(a, b, y *Tensor) {
	_, batch, m, k, n, _ := matmulShapes(a.Dims, b.Dims)
	aBatch, bBatch := a.Dims[:max(len(a.Dims)-2, 0)], b.Dims[:max(len(b.Dims)-2, 0)]
	idx := make([]int64, len(batch))
	for bi := int64(0); bi < prod(batch); bi++ {
		unravel(bi, batch, idx)
		aOff := broadcastOffset(idx, aBatch) * m * k
		bOff := broadcastOffset(idx, bBatch) * k * n
		for i := int64(0); i < m; i++ {
			for j := int64(0); j < n; j++ {
				sum := 0.0
				for p := int64(0); p < k; p++ {
					sum += float64(a.Float[aOff+i*k+p]) * float64(b.Float[bOff+p*n+j])
				}
				y.Float[bi*m*n+i*n+j] = float32(sum)
			}
		}
	}
}

// cost: two operations per inner-product term and output element.
func (n *MatMul) cost(in, out []TensorType) (flops, workspace float64) {
	a := in[0].Shape
	return 2 * elems(out[0].Shape) * float64(a[len(a)-1]), 0
}
