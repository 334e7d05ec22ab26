package onnx

// Conv (ONNX Operators.md, Conv): the IR type, attribute checks, shape rule, reference
// evaluation and cost.

// Conv is ONNX Conv (opset 1/11): Y = X * W + B, cross-correlation. With Group g the
// channels split into g groups; output channel m sees input group m / (M/g) only.
//
//	X (N,C,D1..Dn), W (M,C/g,k1..kn), B (M) optional -> Y (N,M,O1..On)
type Conv struct {
	NodeBase
	Window
	Group int64
}

func lowerConv(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	w := lowerWindow(&b, r, false, false, true)
	group := r.int("group", 1)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if group < 1 {
		return nil, b.Errorf("group", "= %d, want >= 1", group)
	}
	if err := b.checkArity(2, 3, 1, 1); err != nil {
		return nil, err
	}
	if wt, ok := ctx.consts[b.Inputs[1]]; ok {
		if len(wt.Dims) < 3 {
			return nil, b.Errorf("input 1", "W has shape %v, want (M, C, k1, ..., kn)", wt.Dims)
		}
		if w.KernelShape == nil && w.Strides == nil { // nothing told the rank yet
			w.fillDefaults(len(wt.Dims) - 2)
		}
		if w.KernelShape == nil {
			w.KernelShape = append([]int64{}, wt.Dims[2:]...)
		}
	}
	if w.Strides != nil && w.KernelShape != nil && len(w.KernelShape) != len(w.Strides) {
		return nil, b.Errorf("kernel_shape", "W has %d spatial axes, attributes have %d", len(w.KernelShape), len(w.Strides))
	}
	return &Conv{NodeBase: b, Window: w, Group: group}, nil
}

func (n *Conv) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if err := wantType(b, in, 0, Float, 3, -1); err != nil {
		return nil, err
	}
	x := in[0].Shape
	if err := wantType(b, in, 1, Float, len(x), len(x)); err != nil {
		return nil, err
	}
	w := in[1].Shape
	if w[1]*n.Group != x[1] || w[0]%n.Group != 0 {
		return nil, b.Errorf("input 1", "W %v has %d input channels per group, X %v has %d, group=%d", w, w[1], x, x[1], n.Group)
	}
	if b.Input(2) != "" {
		if err := wantType(b, in, 2, Float, 1, 1); err != nil {
			return nil, err
		}
		if in[2].Shape[0] != w[0] {
			return nil, b.Errorf("input 2", "B %v, want (%d)", in[2].Shape, w[0])
		}
	}
	win, err := n.Window.Resolve(b, len(x)-2, w[2:])
	if err != nil {
		return nil, err
	}
	out, _, err := win.OutputShape(b, x)
	if err != nil {
		return nil, err
	}
	out[1] = w[0]
	return []TensorType{{Float, out}}, nil
}

func (n *Conv) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	b := &n.NodeBase
	y := newTensor(types[0])
	win, _ := n.Window.Resolve(b, len(in[0].Dims)-2, in[1].Dims[2:])
	_, pads, _ := win.OutputShape(b, in[0].Dims)
	var bias []float32
	if in := in[2:]; len(in) > 0 && in[0] != nil {
		bias = in[0].Float
	}
	convNaive(in[0], in[1], bias, win, pads, n.Group, y)
	return []*Tensor{y}, nil
}

// convNaive: x (N,C,D1..Dn), w (M,C/group,k1..kn), bias (M) or nil -> y (N,M,O1..On).
// Input position along axis i of output o and kernel tap k: o*stride - padBegin + k*dilation.
func convNaive(x, w *Tensor, bias []float32, win Window, pads []int64, group int64, y *Tensor) {
	rank := len(x.Dims) - 2
	nb, c, m := x.Dims[0], w.Dims[1], w.Dims[0]
	cAll, mPer := x.Dims[1], m/group
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
						xv := x.Float[(n*cAll+(mo/mPer)*c+ci)*inSize+off]
						wv := w.Float[(mo*c+ci)*kSize+kp]
						sum += float64(xv) * float64(wv)
					}
				}
				y.Float[(n*m+mo)*outSize+op] = float32(sum)
			}
		}
	}
}

// cost: two operations per weight of a filter and output element, plus the bias; the
// workspace is the im2col matrix (one column per output position and sample, one row per
// weight of a filter).
func (n *Conv) cost(in, out []TensorType) (flops, workspace float64) {
	y := elems(out[0].Shape)
	w := in[1].Shape
	perOut := elems(w[1:]) // C * k1 * ... * kn
	flops = 2*y*perOut + y
	spatial := float64(1)
	if x := out[0].Shape; len(x) > 2 {
		spatial = elems(x[2:])
	}
	return flops, 4 * perOut * spatial
}
