package train

import (
	"fmt"
	"slices"
)

// The layers that move values without arithmetic, for imported graphs: Reshape (a view),
// Transpose (a permutation of each sample's axes) and Pad (ONNX Pad's three modes). The
// last two work from an index map built once (out index -> in index, per sample);
// layer_shape_naive.go computes the same from coordinates.

// Reshape gives each sample the shape To (same size): ONNX Reshape, Unsqueeze or Squeeze
// that keep the batch. The layout is row-major, so the output aliases the input and the
// input gradient aliases the output gradient.
type Reshape struct {
	layerBase
	To Shape
}

// Kind returns "reshape".
func (l *Reshape) Kind() string { return "reshape" }

// TypeName returns "Reshape".
func (l *Reshape) TypeName() string { return "Reshape" }

// Params returns nil.
func (l *Reshape) Params() []*Param { return nil }

func (l *Reshape) build(in Shape, _ *RNG) error {
	if len(in) == 0 || len(l.To) == 0 || in.Size() != l.To.Size() || slices.ContainsFunc(l.To, func(d int) bool { return d < 1 }) {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("cannot reshape %v to %v", in, l.To)}
	}
	l.in, l.out = in.Clone(), l.To.Clone()
	return nil
}

func (l *Reshape) clone() Layer { return &Reshape{layerBase: l.cloneBase(), To: l.To.Clone()} }

// Forward returns x itself: x (N, in...) -> y (N, To...).
func (l *Reshape) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	return l.x
}

// Backward returns dy itself.
func (l *Reshape) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	return dy[:l.n*l.out.Size()]
}

// indexMap is what Transpose and Pad share: for each output element of a sample, the
// input element it copies (-1: Pad's constant).
type indexMap struct {
	layerBase
	src   []int32
	value float32
	y, dx []float32
}

func (l *indexMap) forwardMap(x []float32, n int) []float32 {
	l.begin(x, n)
	insz, outsz := l.in.Size(), l.out.Size()
	y := grow(&l.y, n*outsz)
	for s := 0; s < n; s++ {
		xs, ys := l.x[s*insz:(s+1)*insz], y[s*outsz:(s+1)*outsz]
		for o, i := range l.src {
			if i < 0 {
				ys[o] = l.value
			} else {
				ys[o] = xs[i]
			}
		}
	}
	return y
}

func (l *indexMap) backwardMap(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	insz, outsz := l.in.Size(), l.out.Size()
	dx := grow(&l.dx, l.n*insz)
	clear(dx)
	for s := 0; s < l.n; s++ {
		dxs, dys := dx[s*insz:(s+1)*insz], dy[s*outsz:(s+1)*outsz]
		for o, i := range l.src {
			if i >= 0 {
				dxs[i] += dys[o]
			}
		}
	}
	return dx
}

// maxIndexMap bounds the per-sample size of Transpose and Pad (their index maps are int32).
const maxIndexMap = 1 << 28

// Transpose permutes each sample's axes: output axis i is input axis Perm[i] (ONNX
// Transpose with perm [0, 1+Perm[0], ...], the batch staying first).
type Transpose struct {
	indexMap
	Perm []int
}

// Kind returns "transpose".
func (l *Transpose) Kind() string { return "transpose" }

// TypeName returns "Transpose".
func (l *Transpose) TypeName() string { return "Transpose" }

// Params returns nil.
func (l *Transpose) Params() []*Param { return nil }

func (l *Transpose) build(in Shape, _ *RNG) error {
	if len(l.Perm) != len(in) || len(in) == 0 || in.Size() > maxIndexMap {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("perm %v does not fit a sample of %v", l.Perm, in)}
	}
	seen := make([]bool, len(in))
	out := make(Shape, len(in))
	for i, p := range l.Perm {
		if p < 0 || p >= len(in) || seen[p] {
			return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("perm %v is not a permutation", l.Perm)}
		}
		seen[p] = true
		out[i] = in[p]
	}
	l.in, l.out = in.Clone(), out
	strides := make([]int, len(in))
	s := 1
	for d := len(in) - 1; d >= 0; d-- {
		strides[d] = s
		s *= in[d]
	}
	l.src = make([]int32, out.Size())
	idx := make([]int, len(out))
	for o := range l.src {
		unravelInt(o, out, idx)
		off := 0
		for i, p := range l.Perm {
			off += idx[i] * strides[p]
		}
		l.src[o] = int32(off)
	}
	return nil
}

func (l *Transpose) clone() Layer {
	c := &Transpose{Perm: slices.Clone(l.Perm)}
	c.layerBase = l.cloneBase()
	c.src = l.src // read only
	return c
}

// Forward: x (N, d...) -> y (N, d[Perm[0]], d[Perm[1]], ...).
func (l *Transpose) Forward(x []float32, n int, training bool) []float32 { return l.forwardMap(x, n) }

// Backward scatters dy back to the input positions.
func (l *Transpose) Backward(dy []float32, needDx bool) []float32 { return l.backwardMap(dy, needDx) }

// FillMode is how Pad fills the padding.
type FillMode int

// The fill modes of ONNX Pad.
const (
	FillConstant FillMode = iota // Value
	FillReflect                  // mirrored at the border, the border not repeated
	FillEdge                     // the border value repeated
)

// Pad pads each sample: Pads holds a begin pad for every axis, then an end pad for every
// axis (ONNX's order, the batch axis left out); a negative pad removes elements.
//
//	x (N, d1..dk) -> y (N, d1+b1+e1, ..., dk+bk+ek)
type Pad struct {
	indexMap
	Pads  []int
	Mode  FillMode
	Value float32
}

// Kind returns "pad".
func (l *Pad) Kind() string { return "pad" }

// TypeName returns "Pad".
func (l *Pad) TypeName() string { return "Pad" }

// Params returns nil.
func (l *Pad) Params() []*Param { return nil }

func (l *Pad) build(in Shape, _ *RNG) error {
	k := len(in)
	if k == 0 || len(l.Pads) != 2*k {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("pads %v do not fit a sample of %v", l.Pads, in)}
	}
	out := make(Shape, k)
	for i, d := range in {
		lo, hi := l.Pads[i], l.Pads[k+i]
		out[i] = d + lo + hi
		if out[i] < 1 || out[i] > maxIndexMap {
			return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("pads %v leave axis %d of %v with %d elements", l.Pads, i, in, out[i])}
		}
		if l.Mode != FillConstant && (lo < 0 || hi < 0 || (l.Mode == FillReflect && (lo >= d || hi >= d))) {
			return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("pads %v do not fit mode %d on axis %d of %v", l.Pads, l.Mode, i, in)}
		}
	}
	if out.Size() > maxIndexMap {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("padded sample %v is too large", out)}
	}
	l.in, l.out = in.Clone(), out
	l.value = l.Value
	l.src = make([]int32, out.Size())
	idx := make([]int, k)
	for o := range l.src {
		unravelInt(o, out, idx)
		off := 0
		for d := 0; d < k; d++ {
			s := padSource(l.Mode, idx[d], l.Pads[d], in[d])
			if s < 0 {
				off = -1
				break
			}
			off = off*in[d] + s
		}
		l.src[o] = int32(off)
	}
	return nil
}

func (l *Pad) clone() Layer {
	c := &Pad{Pads: slices.Clone(l.Pads), Mode: l.Mode, Value: l.Value}
	c.layerBase = l.cloneBase()
	c.src, c.value = l.src, l.value // src is read only
	return c
}

// Forward: x (N, d...) -> y (N, d+b+e ...).
func (l *Pad) Forward(x []float32, n int, training bool) []float32 { return l.forwardMap(x, n) }

// Backward sums dy into the input positions each output copied (the edge and the
// reflected values collect several).
func (l *Pad) Backward(dy []float32, needDx bool) []float32 { return l.backwardMap(dy, needDx) }

// padSource maps coordinate o of a padded axis (begin pad lo, input size d) to the input
// coordinate it copies, or -1 for the constant.
func padSource(mode FillMode, o, lo, d int) int {
	i := o - lo
	if i >= 0 && i < d {
		return i
	}
	switch mode {
	case FillEdge:
		return min(max(i, 0), d-1)
	case FillReflect:
		if i < 0 {
			return -i
		}
		return 2*(d-1) - i
	}
	return -1
}

// unravelInt writes the row-major multi-index of offset i in shape into idx.
func unravelInt(i int, shape Shape, idx []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
}
