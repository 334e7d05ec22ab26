package onnx

import "slices"

// Gemm (ONNX Operators.md): the IR type, attribute checks, shape rule, reference
// evaluation and cost.

// Gemm is ONNX Gemm (opset 1/6/7/9/11/13; broadcast before 7): Y = Alpha * A' * B' + Beta * C, where A' is A or
// its transpose, likewise B'. C is optional (opset >= 11) and broadcasts to (M,N).
//
//	A (M,K) or (K,M), B (K,N) or (N,K), C broadcastable to (M,N) -> Y (M,N)
type Gemm struct {
	NodeBase
	Alpha, Beta    float32
	TransA, TransB bool

	exactC bool // opset < 7 with broadcast=0: C is (M, N)
}

func lowerGemm(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Gemm{NodeBase: b}
	n.Alpha = r.float("alpha", 1)
	n.Beta = r.float("beta", 1)
	n.TransA = r.bool("transA", false)
	n.TransB = r.bool("transB", false)
	if ctx.opset < 7 {
		// Before opset 7 C broadcasts only with broadcast=1; otherwise it must be (M, N).
		n.exactC = !r.bool("broadcast", false)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	minIn := 3
	if ctx.opset >= 11 {
		minIn = 2
	}
	if err := b.checkArity(minIn, 3, 1, 1); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Gemm) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 2, 2); err != nil {
		return nil, err
	}
	if err := wantType(b, in, 1, Float, 2, 2); err != nil {
		return nil, err
	}
	m, k := in[0].Shape[0], in[0].Shape[1]
	if n.TransA {
		m, k = k, m
	}
	k2, nn := in[1].Shape[0], in[1].Shape[1]
	if n.TransB {
		k2, nn = nn, k2
	}
	if k != k2 {
		return nil, b.Errorf("input 1", "A' is (%d,%d) but B' is (%d,%d)", m, k, k2, nn)
	}
	if b.Input(2) != "" {
		if err := wantType(b, in, 2, Float, 0, 2); err != nil {
			return nil, err
		}
		if n.exactC && !slices.Equal(in[2].Shape, []int64{m, nn}) {
			return nil, b.Errorf("input 2", "C %v, want (%d,%d) (broadcast=0)", in[2].Shape, m, nn)
		}
		if _, err := BroadcastShapes(in[2].Shape, []int64{m, nn}); err != nil || !unidirectional(in[2].Shape, []int64{m, nn}) {
			return nil, b.Errorf("input 2", "C %v does not broadcast to (%d,%d)", in[2].Shape, m, nn)
		}
	}
	return []TensorType{{Float, []int64{m, nn}}}, nil
}

func (n *Gemm) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	y := newTensor(types[0])
	gemmNaive(n, in[0], in[1], in[2:], y)
	return []*Tensor{y}, nil
}

// gemmNaive: Y (M,N) = alpha * A' (M,K) * B' (K,N) + beta * C (broadcast to (M,N)).
func gemmNaive(n *Gemm, a, bt *Tensor, rest []*Tensor, y *Tensor) {
	m, nn := y.Dims[0], y.Dims[1]
	k := a.Dims[1]
	if n.TransA {
		k = a.Dims[0]
	}
	at := func(i, j int64) float64 { // A'[i][j]
		if n.TransA {
			return float64(a.Float[j*a.Dims[1]+i])
		}
		return float64(a.Float[i*a.Dims[1]+j])
	}
	bAt := func(i, j int64) float64 { // B'[i][j]
		if n.TransB {
			return float64(bt.Float[j*bt.Dims[1]+i])
		}
		return float64(bt.Float[i*bt.Dims[1]+j])
	}
	var c *Tensor
	if len(rest) > 0 {
		c = rest[0]
	}
	idx := make([]int64, 2)
	for i := int64(0); i < m; i++ {
		for j := int64(0); j < nn; j++ {
			sum := 0.0
			for p := int64(0); p < k; p++ {
				sum += at(i, p) * bAt(p, j)
			}
			v := float64(n.Alpha) * sum
			if c != nil {
				idx[0], idx[1] = i, j
				v += float64(n.Beta) * float64(c.Float[broadcastOffset(idx, c.Dims)])
			}
			y.Float[i*nn+j] = float32(v)
		}
	}
}

// unidirectional reports whether c broadcasts to target without changing target.
func unidirectional(c, target []int64) bool {
	out, err := BroadcastShapes(c, target)
	if err != nil || len(out) != len(target) {
		return false
	}
	for i := range out {
		if out[i] != target[i] {
			return false
		}
	}
	return true
}

// cost: two operations per inner-product term and output element, plus the bias.
func (n *Gemm) cost(in, out []TensorType) (flops, workspace float64) {
	y := elems(out[0].Shape)
	a := in[0].Shape // A (M, K), or (K, M) with transA
	if n.TransA {
		return 2*y*float64(a[0]) + y, 0
	}
	return 2*y*float64(a[1]) + y, 0
}
