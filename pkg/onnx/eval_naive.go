package onnx

import (
	"fmt"
	"math"
)

// This file is the reference evaluator: the definition of what a lowered Graph computes.
// It favours clarity over speed (naive loops over every index, float64 accumulation,
// no buffer reuse), and faster engines are tested against it.

// EvalNaive runs g on inputs (runtime inputs by name; every one of g.Inputs is required)
// and returns g's outputs in order, each named after its output. It is the reference
// evaluator for the IR: naive loops and float64 accumulation, for tests and for checking
// fast engines, not for speed. Inputs are never modified. Type or shape mismatches are
// reported as *ModelError naming the input or node.
func EvalNaive(g *Graph, inputs map[string]*Tensor) ([]*Tensor, error) {
	values := map[string]*Tensor{}
	for name, t := range g.Initializers {
		values[name] = t
	}
	for _, in := range g.Inputs {
		t, ok := inputs[in.Name]
		if !ok {
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: "not given"}
		}
		if t.DataType != in.DataType {
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name),
				Reason: fmt.Sprintf("type %s, declared %s", t.DataType, in.DataType)}
		}
		if err := in.CheckShape(t.Dims); err != nil {
			return nil, err
		}
		if n, _ := NumElements(t.Dims); n != int64(t.Len()) {
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name),
				Reason: fmt.Sprintf("dims %v do not match its %d elements", t.Dims, t.Len())}
		}
		values[in.Name] = t
	}
	for _, n := range g.Nodes {
		b := n.Base()
		in := make([]*Tensor, len(b.Inputs))
		types := make([]TensorType, len(b.Inputs))
		for i, name := range b.Inputs {
			if name != "" {
				in[i] = values[name]
				types[i] = TensorType{in[i].DataType, in[i].Dims}
			}
		}
		outTypes, err := InferNode(n, types, func(name string) *Tensor { return values[name] })
		if err != nil {
			return nil, err
		}
		out, err := EvalNode(n, in, outTypes)
		if err != nil {
			return nil, err
		}
		for i, name := range b.Outputs {
			if name != "" && i < len(out) {
				out[i].Name = name
				values[name] = out[i]
			}
		}
	}
	res := make([]*Tensor, len(g.Outputs))
	for i, o := range g.Outputs {
		t := *values[o.Name]
		t.Name = o.Name
		res[i] = &t
	}
	return res, nil
}

// EvalNode computes n's outputs with the reference kernels, given the output types
// InferNode found (which checked the inputs).
func EvalNode(n Node, in []*Tensor, types []TensorType) ([]*Tensor, error) {
	b := n.Base()
	newOut := func(i int) *Tensor {
		t := &Tensor{DataType: types[i].DataType, Dims: types[i].Shape}
		switch t.DataType {
		case Float:
			t.Float = make([]float32, prod(t.Dims))
		case Int64:
			t.Int64 = make([]int64, prod(t.Dims))
		case Bool:
			t.Bool = make([]bool, prod(t.Dims))
		}
		return t
	}
	switch n := n.(type) {
	case *Conv:
		y := newOut(0)
		win, _ := n.Window.Resolve(b, len(in[0].Dims)-2, in[1].Dims[2:])
		_, pads, _ := win.OutputShape(b, in[0].Dims)
		var bias []float32
		if in := in[2:]; len(in) > 0 && in[0] != nil {
			bias = in[0].Float
		}
		convNaive(in[0], in[1], bias, win, pads, y)
		return []*Tensor{y}, nil
	case *MaxPool:
		y := newOut(0)
		win, _ := n.Window.Resolve(b, len(in[0].Dims)-2, nil)
		_, pads, _ := win.OutputShape(b, in[0].Dims)
		if err := poolNaive(b, in[0], win, pads, false, false, y); err != nil {
			return nil, err
		}
		return []*Tensor{y}, nil
	case *AveragePool:
		y := newOut(0)
		win, _ := n.Window.Resolve(b, len(in[0].Dims)-2, nil)
		_, pads, _ := win.OutputShape(b, in[0].Dims)
		if err := poolNaive(b, in[0], win, pads, true, n.CountIncludePad, y); err != nil {
			return nil, err
		}
		return []*Tensor{y}, nil
	case *BatchNormalization:
		// Y = (X - mean) / sqrt(var + eps) * scale + B, per channel (axis 1).
		y := newOut(0)
		x := in[0]
		c, inner := x.Dims[1], prod(x.Dims[2:])
		eps := float64(n.Epsilon)
		for i := range x.Float {
			ch := (int64(i) / inner) % c
			mean, vr := float64(in[3].Float[ch]), float64(in[4].Float[ch])
			v := (float64(x.Float[i])-mean)/math.Sqrt(vr+eps)*float64(in[1].Float[ch]) + float64(in[2].Float[ch])
			y.Float[i] = float32(v)
		}
		return []*Tensor{y}, nil
	case *Gemm:
		y := newOut(0)
		gemmNaive(n, in[0], in[1], in[2:], y)
		return []*Tensor{y}, nil
	case *MatMul:
		y := newOut(0)
		matmulNaive(in[0], in[1], y)
		return []*Tensor{y}, nil
	case *Add:
		y := newOut(0)
		idx := make([]int64, len(y.Dims))
		for i := range y.Float {
			unravel(int64(i), y.Dims, idx)
			a := in[0].Float[broadcastOffset(idx, in[0].Dims)]
			c := in[1].Float[broadcastOffset(idx, in[1].Dims)]
			y.Float[i] = a + c // one float32 rounding, as float32 addition
		}
		return []*Tensor{y}, nil
	case *Relu:
		y := newOut(0)
		for i, v := range in[0].Float {
			if v > 0 {
				y.Float[i] = v
			} else if v != v {
				y.Float[i] = v // NaN propagates
			}
		}
		return []*Tensor{y}, nil
	case *Softmax:
		y := newOut(0)
		softmaxNaive(n, in[0], y)
		return []*Tensor{y}, nil
	case *Flatten, *Reshape, *Identity:
		return []*Tensor{copyAs(in[0], types[0].Shape)}, nil
	case *Dropout:
		out := []*Tensor{copyAs(in[0], types[0].Shape)}
		if len(types) > 1 {
			mask := newOut(1)
			for i := range mask.Bool {
				mask.Bool[i] = true
			}
			for i := range mask.Float {
				mask.Float[i] = 1
			}
			out = append(out, mask)
		}
		return out, nil
	case *Constant:
		return []*Tensor{copyAs(n.Value, n.Value.Dims)}, nil
	}
	panic(fmt.Sprintf("onnx: evalNode: unhandled node type %T", n))
}

// copyAs returns a deep copy of t with the given dims (same element count).
func copyAs(t *Tensor, dims []int64) *Tensor {
	return &Tensor{DataType: t.DataType, Dims: append([]int64{}, dims...),
		Float: append([]float32(nil), t.Float...), Int64: append([]int64(nil), t.Int64...),
		Bool: append([]bool(nil), t.Bool...)}
}

// unravel writes the row-major multi-index of flat offset i in shape into idx.
func unravel(i int64, shape, idx []int64) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
}

// broadcastOffset returns the flat offset in a tensor of shape s of the element that
// numpy broadcasting pairs with output index idx (s aligned right; size-1 dims repeat).
func broadcastOffset(idx, s []int64) int64 {
	off := int64(0)
	shift := len(idx) - len(s)
	for d := range s {
		i := idx[shift+d]
		if s[d] == 1 {
			i = 0
		}
		off = off*s[d] + i
	}
	return off
}

// convNaive: x (N,C,D1..Dn), w (M,C,k1..kn), bias (M) or nil -> y (N,M,O1..On).
// Input position along axis i of output o and kernel tap k: o*stride - padBegin + k*dilation.
func convNaive(x, w *Tensor, bias []float32, win Window, pads []int64, y *Tensor) {
	rank := len(x.Dims) - 2
	nb, c, m := x.Dims[0], x.Dims[1], w.Dims[0]
	inSp, outSp, kSp := x.Dims[2:], y.Dims[2:], w.Dims[2:]
	inSize, outSize, kSize := prod(inSp), prod(outSp), prod(kSp)
	o, k := make([]int64, rank), make([]int64, rank)
	for n := int64(0); n < nb; n++ {
		for mo := int64(0); mo < m; mo++ {
			for op := int64(0); op < outSize; op++ {
				unravel(op, outSp, o)
				sum := 0.0
				if bias != nil {
					sum = float64(bias[mo])
				}
				for ci := int64(0); ci < c; ci++ {
					for kp := int64(0); kp < kSize; kp++ {
						unravel(kp, kSp, k)
						off, inside := int64(0), true
						for d := 0; d < rank; d++ {
							p := o[d]*win.Strides[d] - pads[d] + k[d]*win.Dilations[d]
							if p < 0 || p >= inSp[d] {
								inside = false
								break
							}
							off = off*inSp[d] + p
						}
						if !inside {
							continue
						}
						xv := x.Float[(n*c+ci)*inSize+off]
						wv := w.Float[(mo*c+ci)*kSize+kp]
						sum += float64(xv) * float64(wv)
					}
				}
				y.Float[(n*m+mo)*outSize+op] = float32(sum)
			}
		}
	}
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

// softmaxNaive: y = exp(x - max) / sum(exp(x - max)) over the softmax groups: the
// elements along Axis (opset >= 13), or each row of the 2-D view (Coerce2D).
func softmaxNaive(n *Softmax, x, y *Tensor) {
	axis := int(n.Axis)
	if axis < 0 {
		axis += len(x.Dims)
	}
	outer, dim, inner := prod(x.Dims[:axis]), x.Dims[axis], prod(x.Dims[axis+1:])
	if n.Coerce2D {
		dim, inner = prod(x.Dims[axis:]), 1
	}
	for o := int64(0); o < outer; o++ {
		for in := int64(0); in < inner; in++ {
			at := func(i int64) int64 { return (o*dim+i)*inner + in }
			mx := math.Inf(-1)
			for i := int64(0); i < dim; i++ {
				mx = math.Max(mx, float64(x.Float[at(i)]))
			}
			sum := 0.0
			for i := int64(0); i < dim; i++ {
				sum += math.Exp(float64(x.Float[at(i)]) - mx)
			}
			for i := int64(0); i < dim; i++ {
				y.Float[at(i)] = float32(math.Exp(float64(x.Float[at(i)])-mx) / sum)
			}
		}
	}
}
