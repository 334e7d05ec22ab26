package train

// transposeNaive is the reference of Transpose for one sample: y[o] = x at the input
// coordinates of o, computed from coordinates without the index map.
func transposeNaive(x []float32, in Shape, perm []int) []float32 {
	out := make(Shape, len(in))
	for i, p := range perm {
		out[i] = in[p]
	}
	y := make([]float32, out.Size())
	o := make([]int, len(out))
	c := make([]int, len(in))
	for k := range y {
		unravelInt(k, out, o)
		for i, p := range perm {
			c[p] = o[i]
		}
		off := 0
		for d := range in {
			off = off*in[d] + c[d]
		}
		y[k] = x[off]
	}
	return y
}

// padNaive is the reference of Pad for one sample, by the rules of numpy.pad: constant,
// reflect (mirror without the border) or edge (nearest border value).
func padNaive(x []float32, in Shape, pads []int, mode FillMode, value float32) []float32 {
	k := len(in)
	out := make(Shape, k)
	for i := range in {
		out[i] = in[i] + pads[i] + pads[k+i]
	}
	y := make([]float32, out.Size())
	o := make([]int, k)
	for j := range y {
		unravelInt(j, out, o)
		off, inside := 0, true
		for d := 0; d < k; d++ {
			i := o[d] - pads[d]
			switch {
			case i >= 0 && i < in[d]:
			case mode == FillEdge && i < 0:
				i = 0
			case mode == FillEdge:
				i = in[d] - 1
			case mode == FillReflect && i < 0:
				i = -i
			case mode == FillReflect:
				i = in[d] - 1 - (i - (in[d] - 1))
			default:
				inside = false
			}
			off = off*in[d] + i
		}
		if inside {
			y[j] = x[off]
		} else {
			y[j] = value
		}
	}
	return y
}
