package train

import (
	"fmt"
	"math"

	"github.com/fmkit/fmkit/internal/window"
)

// poolConfig is the window configuration shared by MaxPool2D and AvgPool2D.
// Zero Stride entries mean the window size (Keras' default strides=None).
// Pads are [top, left, bottom, right] and must be smaller than the window
// (the ONNX rule); with Padding PadSame they are computed like Keras.
type poolConfig struct {
	c, h, w, oh, ow int
}

func buildPool(name string, in Shape, kh, kw int, stride *[2]int, pads *[4]int, padding Padding, ceil bool) (poolConfig, error) {
	return buildPoolDilated(name, in, kh, kw, stride, &[2]int{1, 1}, pads, padding, ceil)
}

// buildPoolDilated is buildPool with dilations (zero entries mean 1).
func buildPoolDilated(name string, in Shape, kh, kw int, stride, dil *[2]int, pads *[4]int, padding Padding, ceil bool) (poolConfig, error) {
	var pc poolConfig
	if len(in) != 3 {
		return pc, &ShapeError{Layer: name, Msg: fmt.Sprintf("pooling needs a (C, H, W) input, got %v", in)}
	}
	if kh < 1 || kw < 1 {
		return pc, &ShapeError{Layer: name, Msg: fmt.Sprintf("window %dx%d must be >= 1", kh, kw)}
	}
	if stride[0] == 0 {
		stride[0] = kh
	}
	if stride[1] == 0 {
		stride[1] = kw
	}
	for i := range dil {
		if dil[i] == 0 {
			dil[i] = 1
		}
	}
	if stride[0] < 1 || stride[1] < 1 || dil[0] < 1 || dil[1] < 1 {
		return pc, &ShapeError{Layer: name, Msg: fmt.Sprintf("stride %v and dilation %v must be >= 1", *stride, *dil)}
	}
	pc.c, pc.h, pc.w = in[0], in[1], in[2]
	ph, oh, err := resolvePads(padding, pc.h, kh, stride[0], dil[0], [2]int{pads[0], pads[2]}, ceil)
	if err != nil {
		return pc, &ShapeError{Layer: name, Msg: "height: " + err.Error()}
	}
	pw, ow, err := resolvePads(padding, pc.w, kw, stride[1], dil[1], [2]int{pads[1], pads[3]}, ceil)
	if err != nil {
		return pc, &ShapeError{Layer: name, Msg: "width: " + err.Error()}
	}
	*pads = [4]int{ph[0], pw[0], ph[1], pw[1]}
	if pads[0] >= kh || pads[2] >= kh || pads[1] >= kw || pads[3] >= kw {
		return pc, &ShapeError{Layer: name, Msg: fmt.Sprintf("pads %v must be smaller than the window %dx%d", *pads, kh, kw)}
	}
	pc.oh, pc.ow = oh, ow
	return pc, nil
}

// MaxPool2D takes the maximum over KH x KW windows (Keras MaxPooling2D, ONNX
// MaxPool with dilations 1). Padded positions never win. CeilMode selects the
// ONNX/PyTorch ceil_mode output size. Backward routes each output gradient to
// the first maximal input of its window. A NaN in a window wins (the last
// one, if several), so NaNs propagate as in PyTorch.
type MaxPool2D struct {
	layerBase
	KH, KW   int
	Stride   [2]int
	Pads     [4]int
	Padding  Padding
	CeilMode bool
	// Dilation spaces the window's taps (ONNX MaxPool dilations, PyTorch's dilation);
	// zero entries mean 1.
	Dilation [2]int

	pc    poolConfig
	y, dx []float32
	arg   []int32 // index of each output's maximum within its input plane
	dy    []float32
}

// NewMaxPool2D returns a size x size max pooling with stride size, like
// Keras' MaxPooling2D(size).
func NewMaxPool2D(size int) *MaxPool2D { return &MaxPool2D{KH: size, KW: size} }

// Kind returns "pool".
func (l *MaxPool2D) Kind() string { return "pool" }

// TypeName returns "MaxPooling2D".
func (l *MaxPool2D) TypeName() string { return "MaxPooling2D" }

// Params returns nil: pooling has no parameters.
func (l *MaxPool2D) Params() []*Param { return nil }

func (l *MaxPool2D) build(in Shape, _ *RNG) error {
	pc, err := buildPoolDilated(l.name, in, l.KH, l.KW, &l.Stride, &l.Dilation, &l.Pads, l.Padding, l.CeilMode)
	if err != nil {
		return err
	}
	l.pc = pc
	l.in, l.out = in.Clone(), Shape{pc.c, pc.oh, pc.ow}
	return nil
}

func (l *MaxPool2D) clone() Layer {
	return &MaxPool2D{layerBase: l.cloneBase(), KH: l.KH, KW: l.KW, Stride: l.Stride, Pads: l.Pads,
		Padding: l.Padding, CeilMode: l.CeilMode, Dilation: l.Dilation, pc: l.pc}
}

// Forward computes the window maxima.
func (l *MaxPool2D) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	grow(&l.y, n*l.out.Size())
	growInt32(&l.arg, n*l.out.Size())
	parallel(l.group(), l.nthreads(), n*l.pc.c, l, opForward)
	return l.y
}

// Backward scatters dy to the maxima.
func (l *MaxPool2D) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	l.dy = dy
	grow(&l.dx, l.n*l.in.Size())
	parallel(l.group(), l.nthreads(), l.n*l.pc.c, l, opBackward)
	l.dy = nil
	return l.dx
}

func (l *MaxPool2D) run(op, lo, hi, _ int) {
	pc := l.pc
	hw, ohw := pc.h*pc.w, pc.oh*pc.ow
	for p := lo; p < hi; p++ {
		if op == opBackward {
			// dy (N,C,OH,OW) -> dx (N,C,H,W), plane p.
			dx := l.dx[p*hw : (p+1)*hw]
			clear(dx)
			dy, arg := l.dy[p*ohw:(p+1)*ohw], l.arg[p*ohw:(p+1)*ohw]
			for o, g := range dy {
				dx[arg[o]] += g
			}
			continue
		}
		// x (N,C,H,W) -> y (N,C,OH,OW), plane p.
		l.forwardPlane(l.y[p*ohw:(p+1)*ohw], l.arg[p*ohw:(p+1)*ohw], l.x[p*hw:(p+1)*hw])
	}
}

// forwardPlane pools one plane x (H,W) into y (OH,OW), writing each
// output's arg-max index within the plane to arg.
func (l *MaxPool2D) forwardPlane(y []float32, arg []int32, x []float32) {
	pc := l.pc
	if l.Dilation != [2]int{1, 1} {
		l.forwardPlaneDilated(y, arg, x)
		return
	}
	if l.KH == 2 && l.KW == 2 && l.Stride == [2]int{2, 2} && l.Pads == [4]int{} && 2*pc.oh <= pc.h && 2*pc.ow <= pc.w {
		if !window.MaxPool2x2(y, arg, x, pc.w, pc.oh, pc.ow) {
			maxPool2x2(y, arg, x, pc)
		}
		return
	}
	for oh := 0; oh < pc.oh; oh++ {
		h0 := oh*l.Stride[0] - l.Pads[0]
		h1 := min(h0+l.KH, pc.h)
		h0 = max(h0, 0)
		for ow := 0; ow < pc.ow; ow++ {
			w0 := ow*l.Stride[1] - l.Pads[1]
			w1 := min(w0+l.KW, pc.w)
			w0 = max(w0, 0)
			best, bi := float32(math.Inf(-1)), int32(h0*pc.w+w0)
			for ih := h0; ih < h1; ih++ {
				row := x[ih*pc.w:]
				for iw := w0; iw < w1; iw++ {
					if v := row[iw]; v > best || v != v {
						best, bi = v, int32(ih*pc.w+iw)
					}
				}
			}
			y[oh*pc.ow+ow], arg[oh*pc.ow+ow] = best, bi
		}
	}
}

// forwardPlaneDilated is forwardPlane for a dilated window: tap (a, b) of
// output (oh, ow) reads input (oh*sh - pt + a*dh, ow*sw - pl + b*dw).
func (l *MaxPool2D) forwardPlaneDilated(y []float32, arg []int32, x []float32) {
	pc := l.pc
	for oh := 0; oh < pc.oh; oh++ {
		for ow := 0; ow < pc.ow; ow++ {
			best, bi := float32(math.Inf(-1)), int32(-1)
			for a := 0; a < l.KH; a++ {
				ih := oh*l.Stride[0] - l.Pads[0] + a*l.Dilation[0]
				if ih < 0 || ih >= pc.h {
					continue
				}
				for b := 0; b < l.KW; b++ {
					iw := ow*l.Stride[1] - l.Pads[1] + b*l.Dilation[1]
					if iw < 0 || iw >= pc.w {
						continue
					}
					if v := x[ih*pc.w+iw]; v > best || v != v || bi < 0 {
						best, bi = v, int32(ih*pc.w+iw)
					}
				}
			}
			if bi < 0 {
				bi = 0 // a window in the padding only; its gradient goes to element 0 (never with ONNX's pads)
			}
			y[oh*pc.ow+ow], arg[oh*pc.ow+ow] = best, bi
		}
	}
}

// maxPool2x2 is the common 2x2, stride 2, unpadded case of MaxPool2D's
// forward kernel for one plane: x (H,W) -> y (OH,OW) and the arg-max,
// written to compile without data-dependent branches; a window holding a NaN
// (rare, and predictable) takes the general rule, in which a NaN wins.
func maxPool2x2(y []float32, arg []int32, x []float32, pc poolConfig) {
	for oh := 0; oh < pc.oh; oh++ {
		r0 := x[2*oh*pc.w : (2*oh+1)*pc.w]
		r1 := x[(2*oh+1)*pc.w : (2*oh+2)*pc.w]
		yr, ar := y[oh*pc.ow:(oh+1)*pc.ow], arg[oh*pc.ow:(oh+1)*pc.ow]
		base := int32(2 * oh * pc.w)
		for ow := range yr {
			j := 2 * ow
			a, b, c, d := r0[j], r0[j+1], r1[j], r1[j+1]
			i0 := base + int32(j)
			// Float values go through max (MAXSS), indices through
			// integer conditional moves: no unpredictable branches.
			// Strict comparisons keep the first maximum on ties.
			i01 := i0
			if b > a {
				i01 = i0 + 1
			}
			i23 := i0 + int32(pc.w)
			if d > c {
				i23++
			}
			m01, m23 := max(a, b), max(c, d)
			best, bi := max(m01, m23), i01
			if m23 > m01 {
				bi = i23
			}
			if a != a || b != b || c != c || d != d {
				best, bi = maxNaN(a, b, c, d, i0, int32(pc.w))
			}
			yr[ow], ar[ow] = best, bi
		}
	}
}

// maxNaN returns the last NaN of a 2x2 window and its index, as the general
// loop would.
func maxNaN(a, b, c, d float32, i0, w int32) (float32, int32) {
	switch {
	case d != d:
		return d, i0 + w + 1
	case c != c:
		return c, i0 + w
	case b != b:
		return b, i0 + 1
	}
	return a, i0
}

// AvgPool2D averages over KH x KW windows (Keras AveragePooling2D, ONNX
// AveragePool). With CountIncludePad the divisor counts padded positions
// (but not positions beyond the padding that ceil_mode may add, as in
// PyTorch and onnxruntime); otherwise only the input positions.
type AvgPool2D struct {
	layerBase
	KH, KW          int
	Stride          [2]int
	Pads            [4]int
	Padding         Padding
	CeilMode        bool
	CountIncludePad bool

	pc    poolConfig
	y, dx []float32
	dy    []float32
}

// NewAvgPool2D returns a size x size average pooling with stride size.
func NewAvgPool2D(size int) *AvgPool2D { return &AvgPool2D{KH: size, KW: size} }

// Kind returns "avgpool".
func (l *AvgPool2D) Kind() string { return "avgpool" }

// TypeName returns "AveragePooling2D".
func (l *AvgPool2D) TypeName() string { return "AveragePooling2D" }

// Params returns nil: pooling has no parameters.
func (l *AvgPool2D) Params() []*Param { return nil }

func (l *AvgPool2D) build(in Shape, _ *RNG) error {
	pc, err := buildPool(l.name, in, l.KH, l.KW, &l.Stride, &l.Pads, l.Padding, l.CeilMode)
	if err != nil {
		return err
	}
	l.pc = pc
	l.in, l.out = in.Clone(), Shape{pc.c, pc.oh, pc.ow}
	return nil
}

func (l *AvgPool2D) clone() Layer {
	return &AvgPool2D{layerBase: l.cloneBase(), KH: l.KH, KW: l.KW, Stride: l.Stride, Pads: l.Pads,
		Padding: l.Padding, CeilMode: l.CeilMode, CountIncludePad: l.CountIncludePad, pc: l.pc}
}

// window returns the clipped window of output (oh, ow) and its divisor.
func (l *AvgPool2D) window(oh, ow int) (h0, h1, w0, w1 int, div float32) {
	pc := l.pc
	h0 = oh*l.Stride[0] - l.Pads[0]
	w0 = ow*l.Stride[1] - l.Pads[1]
	h1 = min(h0+l.KH, pc.h+l.Pads[2])
	w1 = min(w0+l.KW, pc.w+l.Pads[3])
	padded := (h1 - h0) * (w1 - w0)
	h0, w0 = max(h0, 0), max(w0, 0)
	h1, w1 = min(h1, pc.h), min(w1, pc.w)
	if l.CountIncludePad {
		return h0, h1, w0, w1, float32(padded)
	}
	return h0, h1, w0, w1, float32((h1 - h0) * (w1 - w0))
}

// Forward computes the window means.
func (l *AvgPool2D) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	grow(&l.y, n*l.out.Size())
	parallel(l.group(), l.nthreads(), n*l.pc.c, l, opForward)
	return l.y
}

// Backward spreads each output gradient evenly over its window.
func (l *AvgPool2D) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	l.dy = dy
	grow(&l.dx, l.n*l.in.Size())
	parallel(l.group(), l.nthreads(), l.n*l.pc.c, l, opBackward)
	l.dy = nil
	return l.dx
}

func (l *AvgPool2D) run(op, lo, hi, _ int) {
	pc := l.pc
	hw, ohw := pc.h*pc.w, pc.oh*pc.ow
	for p := lo; p < hi; p++ {
		if op == opBackward {
			// dy (N,C,OH,OW) -> dx (N,C,H,W), plane p.
			dx, dy := l.dx[p*hw:(p+1)*hw], l.dy[p*ohw:(p+1)*ohw]
			clear(dx)
			for oh := 0; oh < pc.oh; oh++ {
				for ow := 0; ow < pc.ow; ow++ {
					h0, h1, w0, w1, div := l.window(oh, ow)
					if div == 0 {
						continue
					}
					g := dy[oh*pc.ow+ow] / div
					for ih := h0; ih < h1; ih++ {
						row := dx[ih*pc.w:]
						for iw := w0; iw < w1; iw++ {
							row[iw] += g
						}
					}
				}
			}
			continue
		}
		// x (N,C,H,W) -> y (N,C,OH,OW), plane p.
		l.forwardPlane(l.y[p*ohw:(p+1)*ohw], l.x[p*hw:(p+1)*hw])
	}
}

// forwardPlane averages one plane x (H,W) into y (OH,OW).
func (l *AvgPool2D) forwardPlane(y, x []float32) {
	pc := l.pc
	for oh := 0; oh < pc.oh; oh++ {
		for ow := 0; ow < pc.ow; ow++ {
			h0, h1, w0, w1, div := l.window(oh, ow)
			var s float32
			for ih := h0; ih < h1; ih++ {
				for _, v := range x[ih*pc.w+w0 : ih*pc.w+w1] {
					s += v
				}
			}
			if div == 0 {
				y[oh*pc.ow+ow] = 0
				continue
			}
			y[oh*pc.ow+ow] = s / div
		}
	}
}
