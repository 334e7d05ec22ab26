package onnx

import "math"

// MaxPool and AveragePool (ONNX Operators.md): the IR types, attribute checks, shape rule,
// reference evaluation and cost.

// MaxPool is ONNX MaxPool (opset 1/8/10/11/12) without the Indices output; padding never
// wins (it acts as -Inf).
//
//	X (N,C,D1..Dn) -> Y (N,C,O1..On)
type MaxPool struct {
	NodeBase
	Window
}

// AveragePool is ONNX AveragePool (opset 1/7/10/11).
//
//	X (N,C,D1..Dn) -> Y (N,C,O1..On)
type AveragePool struct {
	NodeBase
	Window
	// CountIncludePad divides by the whole window, padding included (but never the part of
	// a ceil-mode window beyond the end padding); otherwise by the in-input elements only.
	CountIncludePad bool
}

func lowerMaxPool(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	w := lowerWindow(&b, r, true, ctx.opset >= 10, ctx.opset >= 10)
	order := int64(0)
	if ctx.opset >= 8 {
		order = r.int("storage_order", 0)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if order != 0 {
		return nil, b.Unsupported("storage_order", "storage_order=%d: only 0 (row major) is supported", order)
	}
	maxOut := 2
	if ctx.opset < 8 {
		maxOut = 1
	}
	if err := b.checkArity(1, 1, 1, maxOut); err != nil {
		return nil, err
	}
	if b.Output(1) != "" {
		return nil, b.Unsupported("output 1", "the Indices output is not supported")
	}
	return &MaxPool{NodeBase: b, Window: w}, nil
}

func lowerAveragePool(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	w := lowerWindow(&b, r, true, ctx.opset >= 10, false)
	cip := false
	if ctx.opset >= 7 {
		cip = r.bool("count_include_pad", false)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := b.checkArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return &AveragePool{NodeBase: b, Window: w, CountIncludePad: cip}, nil
}

// inferPool is the shape rule of MaxPool and AveragePool.
func inferPool(b *NodeBase, win Window, in []TensorType) ([]TensorType, error) {
	if err := wantType(b, in, 0, Float, 3, -1); err != nil {
		return nil, err
	}
	x := in[0].Shape
	win, err := win.Resolve(b, len(x)-2, nil)
	if err != nil {
		return nil, err
	}
	out, _, err := win.OutputShape(b, x)
	if err != nil {
		return nil, err
	}
	return []TensorType{{Float, out}}, nil
}

func (n *MaxPool) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	return inferPool(&n.NodeBase, n.Window, in)
}

func (n *AveragePool) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	return inferPool(&n.NodeBase, n.Window, in)
}

func (n *MaxPool) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	b := &n.NodeBase
	y := newTensor(types[0])
	win, _ := n.Window.Resolve(b, len(in[0].Dims)-2, nil)
	_, pads, _ := win.OutputShape(b, in[0].Dims)
	if err := poolNaive(b, in[0], win, pads, false, false, y); err != nil {
		return nil, err
	}
	return []*Tensor{y}, nil
}

func (n *AveragePool) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	b := &n.NodeBase
	y := newTensor(types[0])
	win, _ := n.Window.Resolve(b, len(in[0].Dims)-2, nil)
	_, pads, _ := win.OutputShape(b, in[0].Dims)
	if err := poolNaive(b, in[0], win, pads, true, n.CountIncludePad, y); err != nil {
		return nil, err
	}
	return []*Tensor{y}, nil
}

// poolNaive: x (N,C,D1..Dn) -> y (N,C,O1..On), max or average over each window. For the
// average, the divisor counts the in-input taps, or with countPad also the taps in the
// padding (begin pad and end pad; never taps beyond the end pad that ceil mode adds).
func poolNaive(b *NodeBase, x *Tensor, win Window, pads []int64, avg, countPad bool, y *Tensor) error {
	rank := len(x.Dims) - 2
	planes := x.Dims[0] * x.Dims[1]
	inSp, outSp, kSp := x.Dims[2:], y.Dims[2:], win.KernelShape
	inSize, outSize, kSize := prod(inSp), prod(outSp), prod(kSp)
	o, k := make([]int64, rank), make([]int64, rank)
	for pl := int64(0); pl < planes; pl++ {
		for op := int64(0); op < outSize; op++ {
			unravel(op, outSp, o)
			sum, best := 0.0, math.Inf(-1)
			inCount, padCount := 0, 0
			for kp := int64(0); kp < kSize; kp++ {
				unravel(kp, kSp, k)
				off, inside, inPadded := int64(0), true, true
				for d := 0; d < rank; d++ {
					p := o[d]*win.Strides[d] - pads[d] + k[d]*win.Dilations[d]
					if p < 0 || p >= inSp[d] {
						inside = false
						if p < -pads[d] || p >= inSp[d]+pads[rank+d] {
							inPadded = false
						}
						continue
					}
					off = off*inSp[d] + p
				}
				if !inside {
					if inPadded {
						padCount++
					}
					continue
				}
				v := float64(x.Float[pl*inSize+off])
				inCount++
				sum += v
				if v > best || v != v {
					best = v
				}
			}
			if inCount == 0 {
				return b.Errorf("kernel_shape", "output position %v: the window covers no input element", o)
			}
			if !avg {
				y.Float[pl*outSize+op] = float32(best)
				continue
			}
			count := inCount
			if countPad {
				count += padCount
			}
			y.Float[pl*outSize+op] = float32(sum / float64(count))
		}
	}
	return nil
}

// cost: one operation per window tap and output element.
func (n *MaxPool) cost(in, out []TensorType) (flops, workspace float64) {
	return elems(out[0].Shape) * elems(n.KernelShape), 0
}

// cost: one operation per window tap and output element.
func (n *AveragePool) cost(in, out []TensorType) (flops, workspace float64) {
	return elems(out[0].Shape) * elems(n.KernelShape), 0
}

func (n *MaxPool) checkPads() error     { return checkPoolWindowPads(&n.NodeBase, n.Window) }
func (n *AveragePool) checkPads() error { return checkPoolWindowPads(&n.NodeBase, n.Window) }

// checkPoolWindowPads refuses explicit pads of a pooling node that are not smaller than
// its window, which onnxruntime refuses too (PoolAttributes: "Pad should be smaller than
// kernel"), and the native engine cannot run.
func checkPoolWindowPads(b *NodeBase, w Window) error {
	if w.AutoPad != NotSet {
		return nil
	}
	for i, p := range w.Pads {
		if k := w.KernelShape[i%len(w.KernelShape)]; p >= k {
			return b.Unsupported("pads", "%v: pad %d is not smaller than the window %v", w.Pads, p, w.KernelShape)
		}
	}
	return nil
}
