package train

import (
	"fmt"

	"github.com/fmkit/fmkit/internal/gemm"
)

// Conv2D is a 2-D convolution (cross-correlation, as in Keras, PyTorch and
// ONNX Conv with group 1) with a bias and an optional fused activation.
//
// W is (Filters, C, KH, KW) and B is (Filters), the ONNX Conv layout. Zero
// Stride or Dilation entries mean 1. With Padding PadValid or PadSame the
// layer computes Pads when it is built (Keras' rules); with PadExplicit, Pads
// gives [top, left, bottom, right] as in ONNX's pads attribute (which orders
// them [top, left, bottom, right] too: x1_begin, x2_begin, x1_end, x2_end).
// After building, Pads, Stride and Dilation always hold the resolved values.
//
// The fast path lowers groups of samples to a column matrix (im2col) and
// calls gemm.Sgemm; conv2dNaive is the reference it is tested against.
type Conv2D struct {
	layerBase
	Filters  int
	KH, KW   int
	Stride   [2]int // [vertical, horizontal]
	Pads     [4]int // [top, left, bottom, right]
	Dilation [2]int // [vertical, horizontal]
	Padding  Padding
	Act      Activation
	W, B     *Param

	c, h, w, oh, ow int

	y, dz, dx   []float32
	cols, dcols [][]float32 // per thread, (C*KH*KW, group*OH*OW)
	zs          [][]float32 // per thread, (OC, group*OH*OW)
	dws, dbs    [][]float32 // per-thread partial gradients (thread 0 writes into W.Grad, B.Grad)
	logits      bool        // last Forward skipped a softmax activation
	needDx      bool
	dy          []float32 // the gradient during Backward
}

// NewConv2D returns a Conv2D with filters k x k kernels, stride 1, 'valid'
// padding and the given activation (Keras' Conv2D(filters, k, activation=)).
func NewConv2D(filters, k int, act Activation) *Conv2D {
	return &Conv2D{Filters: filters, KH: k, KW: k, Act: act}
}

// Kind returns "conv".
func (l *Conv2D) Kind() string { return "conv" }

// TypeName returns "Conv2D".
func (l *Conv2D) TypeName() string { return "Conv2D" }

// Params returns [W, B].
func (l *Conv2D) Params() []*Param { return []*Param{l.W, l.B} }

func (l *Conv2D) build(in Shape, rng *RNG) error {
	if len(in) != 3 {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("Conv2D needs a (C, H, W) input, got %v", in)}
	}
	if l.Filters < 1 || l.KH < 1 || l.KW < 1 {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("filters %d and kernel %dx%d must be >= 1", l.Filters, l.KH, l.KW)}
	}
	for i := range 2 {
		if l.Stride[i] == 0 {
			l.Stride[i] = 1
		}
		if l.Dilation[i] == 0 {
			l.Dilation[i] = 1
		}
		if l.Stride[i] < 1 || l.Dilation[i] < 1 {
			return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("stride %v and dilation %v must be >= 1", l.Stride, l.Dilation)}
		}
	}
	if l.Act < ActNone || l.Act > ActSoftmax {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("unknown activation %v", l.Act)}
	}
	l.c, l.h, l.w = in[0], in[1], in[2]
	ph, oh, err := resolvePads(l.Padding, l.h, l.KH, l.Stride[0], l.Dilation[0], [2]int{l.Pads[0], l.Pads[2]}, false)
	if err != nil {
		return &ShapeError{Layer: l.name, Msg: "height: " + err.Error()}
	}
	pw, ow, err := resolvePads(l.Padding, l.w, l.KW, l.Stride[1], l.Dilation[1], [2]int{l.Pads[1], l.Pads[3]}, false)
	if err != nil {
		return &ShapeError{Layer: l.name, Msg: "width: " + err.Error()}
	}
	l.Pads = [4]int{ph[0], pw[0], ph[1], pw[1]}
	l.oh, l.ow = oh, ow
	l.in, l.out = in.Clone(), Shape{l.Filters, oh, ow}
	wshape := []int{l.Filters, l.c, l.KH, l.KW}
	if l.W == nil {
		l.W = newParam(wshape, true)
		GlorotUniform(l.W.Data, l.KH*l.KW*l.c, l.KH*l.KW*l.Filters, rng)
	} else if err := checkParam(l.name, "weight", l.W, wshape, true); err != nil {
		return err
	}
	if l.B == nil {
		l.B = newParam([]int{l.Filters}, true)
	} else if err := checkParam(l.name, "bias", l.B, []int{l.Filters}, true); err != nil {
		return err
	}
	l.W.Name, l.B.Name = l.name+".weight", l.name+".bias"
	return nil
}

func (l *Conv2D) clone() Layer {
	c := &Conv2D{layerBase: l.cloneBase(), Filters: l.Filters, KH: l.KH, KW: l.KW, Stride: l.Stride, Pads: l.Pads,
		Dilation: l.Dilation, Padding: l.Padding, Act: l.Act, W: l.W.clone(), B: l.B.clone(),
		c: l.c, h: l.h, w: l.w, oh: l.oh, ow: l.ow}
	return c
}

func (l *Conv2D) geom() convGeom {
	return convGeom{c: l.c, h: l.h, w: l.w, kh: l.KH, kw: l.KW, sh: l.Stride[0], sw: l.Stride[1],
		pt: l.Pads[0], pl: l.Pads[1], dh: l.Dilation[0], dw: l.Dilation[1], oh: l.oh, ow: l.ow}
}

const (
	opForward = iota
	opBackward
	opBackward2
)

// convGroupCols is the target width of one im2col block: samples are lowered
// together, up to about this many output columns, so that each gemm call is
// wide enough to run at full speed even when a sample's output map is tiny.
const convGroupCols = 2048

// group returns how many samples are lowered together.
func (l *Conv2D) groupSize() int { return max(1, convGroupCols/(l.oh*l.ow)) }

// Forward computes the convolution, adds the bias and applies Act.
func (l *Conv2D) Forward(x []float32, n int, training bool) []float32 {
	return l.forward(x, n, false)
}

// forward with logits set skips a softmax activation (Model.Logits).
func (l *Conv2D) forward(x []float32, n int, logits bool) []float32 {
	l.begin(x, n)
	l.logits = logits && l.Act == ActSoftmax
	y := grow(&l.y, n*l.out.Size())
	l.growScratch(n, false)
	parallel(l.group(), l.nthreads(), n, l, opForward)
	if l.Act == ActSoftmax && !l.logits {
		softmaxRows(y, n, l.out.Size())
	}
	return y
}

// growScratch sizes the per-thread buffers for a batch of n.
func (l *Conv2D) growScratch(n int, backward bool) {
	t := chunks(l.nthreads(), n)
	g := min(l.groupSize(), max(n, 1))
	cols := g * l.oh * l.ow
	growPer(&l.cols, t, l.c*l.KH*l.KW*cols)
	growPer(&l.zs, t, l.Filters*cols)
	if backward && l.needDx {
		growPer(&l.dcols, t, l.c*l.KH*l.KW*cols)
	}
}

func (l *Conv2D) run(op, lo, hi, tid int) {
	switch op {
	case opForward:
		l.forwardRange(lo, hi, tid)
	case opBackward:
		l.backwardRange(lo, hi, tid)
	}
}

// forwardRange: x (N,C,H,W), w (OC,C,KH,KW) -> y (N,OC,OH,OW), samples
// [lo,hi). Groups of gs samples are lowered side by side into
// col (C*KH*KW, gs*OH*OW); one gemm gives z (OC, gs*OH*OW), which is
// scattered into y with the bias and ReLU fused in.
func (l *Conv2D) forwardRange(lo, hi, tid int) {
	g := l.geom()
	insz, outsz := l.in.Size(), l.out.Size()
	ckk, ohw := l.c*l.KH*l.KW, l.oh*l.ow
	col, z := l.cols[tid], l.zs[tid]
	relu := l.Act == ActReLU
	for s0 := lo; s0 < hi; s0 += l.groupSize() {
		gs := min(l.groupSize(), hi-s0)
		cols := gs * ohw
		for s := 0; s < gs; s++ {
			im2col(col[s*ohw:], cols, l.x[(s0+s)*insz:(s0+s+1)*insz], g)
		}
		gemm.Sgemm(false, false, l.Filters, cols, ckk, 1, l.W.Data, ckk, col, cols, 0, z, cols)
		for s := 0; s < gs; s++ {
			yi := l.y[(s0+s)*outsz : (s0+s+1)*outsz]
			for oc := 0; oc < l.Filters; oc++ {
				addBiasAct(yi[oc*ohw:(oc+1)*ohw], z[oc*cols+s*ohw:][:ohw], l.B.Data[oc], relu)
			}
		}
	}
}

// addBiasAct sets dst = src + b, followed by ReLU if relu is set, in one pass.
func addBiasAct(dst, src []float32, b float32, relu bool) {
	src = src[:len(dst)]
	if relu {
		for j, v := range src {
			dst[j] = max(v+b, 0) // branch-free, unlike an if
		}
		return
	}
	for j, v := range src {
		dst[j] = v + b
	}
}

// actBackward sets dz to the gradient before the activation.
func actBackward(act Activation, logits bool, dz, y, dy []float32, rows, w int) {
	switch {
	case act == ActReLU:
		reluMask(dz, y, dy)
	case act == ActSoftmax && !logits:
		softmaxBackwardRows(dz, y, dy, rows, w)
	default:
		copy(dz, dy[:len(dz)])
	}
}

// Backward computes dW, dB and (if needDx) dx.
func (l *Conv2D) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	n := l.n
	grow(&l.dz, n*l.out.Size())
	l.dy = dy
	l.needDx = needDx
	t := chunks(l.nthreads(), n)
	l.growScratch(n, true)
	if needDx {
		grow(&l.dx, n*l.in.Size())
	}
	if t > 1 {
		growPer(&l.dws, t, len(l.W.Data))
		growPer(&l.dbs, t, l.Filters)
	}
	if n == 0 {
		clear(l.W.Grad)
		clear(l.B.Grad)
	}
	parallel(l.group(), l.nthreads(), n, l, opBackward)
	l.dy = nil
	// Reduce the partial gradients in thread order: deterministic for a
	// fixed thread count.
	for k := 1; k < t; k++ {
		addTo(l.W.Grad, l.dws[k])
		addTo(l.B.Grad, l.dbs[k])
	}
	if !needDx {
		return nil
	}
	return l.dx
}

func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// backwardRange: dy (N,OC,OH,OW), x (N,C,H,W) -> dW (OC,C,KH,KW), dB (OC),
// dx (N,C,H,W), samples [lo,hi) as thread tid, in the groups of
// forwardRange: dz (OC, gs*OH*OW) is gathered from the samples' gradients
// before the activation, dW += dz col^T, dcol = W^T dz, and col2im spreads
// dcol back over each sample's dx.
func (l *Conv2D) backwardRange(lo, hi, tid int) {
	g := l.geom()
	insz, outsz := l.in.Size(), l.out.Size()
	ckk, ohw := l.c*l.KH*l.KW, l.oh*l.ow
	dw, db := l.W.Grad, l.B.Grad
	if tid > 0 {
		dw, db = l.dws[tid], l.dbs[tid]
	}
	clear(db)
	col, dz := l.cols[tid], l.zs[tid]
	for s0 := lo; s0 < hi; s0 += l.groupSize() {
		gs := min(l.groupSize(), hi-s0)
		cols := gs * ohw
		for s := 0; s < gs; s++ {
			i := s0 + s
			im2col(col[s*ohw:], cols, l.x[i*insz:(i+1)*insz], g)
			dzi := l.dz[i*outsz : (i+1)*outsz]
			actBackward(l.Act, l.logits, dzi, l.y[i*outsz:(i+1)*outsz], l.dy[i*outsz:(i+1)*outsz], 1, outsz)
			for oc := 0; oc < l.Filters; oc++ {
				copy(dz[oc*cols+s*ohw:][:ohw], dzi[oc*ohw:(oc+1)*ohw])
			}
		}
		var beta float32 = 1
		if s0 == lo {
			beta = 0
		}
		// dW (OC, CKK) += dz (OC, cols) * col^T (cols, CKK)
		gemm.Sgemm(false, true, l.Filters, ckk, cols, 1, dz, cols, col, cols, beta, dw, ckk)
		for oc := 0; oc < l.Filters; oc++ {
			var sum float32
			for _, v := range dz[oc*cols : oc*cols+cols] {
				sum += v
			}
			db[oc] += sum
		}
		if l.needDx {
			dcol := l.dcols[tid]
			// dcol (CKK, cols) = W^T (CKK, OC) * dz (OC, cols)
			gemm.Sgemm(true, false, ckk, cols, l.Filters, 1, l.W.Data, ckk, dz, cols, 0, dcol, cols)
			for s := 0; s < gs; s++ {
				col2im(l.dx[(s0+s)*insz:(s0+s+1)*insz], dcol[s*ohw:], cols, g)
			}
		}
	}
}

// convGeom describes one sample's convolution geometry.
type convGeom struct {
	c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow int
}

// validRange returns the output positions [lo, hi) whose input coordinate
// o*s - p + k*d lies in [0, n).
func validRange(out, n, s, p, kd int) (lo, hi int) {
	// need o*s >= p - kd  and  o*s <= n - 1 + p - kd
	a := p - kd
	if a > 0 {
		lo = (a + s - 1) / s
	}
	b := n - 1 + p - kd
	if b < 0 {
		return 0, 0
	}
	hi = min(b/s+1, out)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// im2col: x (C,H,W) -> col (C*KH*KW, OH*OW) with row stride ld; padded
// positions are zero.
func im2col(col []float32, ld int, x []float32, g convGeom) {
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		xc := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			ohLo, ohHi := validRange(g.oh, g.h, g.sh, g.pt, ki*g.dh)
			for kj := 0; kj < g.kw; kj++ {
				row := col[((c*g.kh+ki)*g.kw+kj)*ld:][:ohw]
				owLo, owHi := validRange(g.ow, g.w, g.sw, g.pl, kj*g.dw)
				clear(row[:ohLo*g.ow])
				clear(row[ohHi*g.ow:])
				for oh := ohLo; oh < ohHi; oh++ {
					r := row[oh*g.ow : (oh+1)*g.ow]
					ih := oh*g.sh - g.pt + ki*g.dh
					src := xc[ih*g.w : (ih+1)*g.w]
					clear(r[:owLo])
					clear(r[owHi:])
					iw := owLo*g.sw - g.pl + kj*g.dw
					if g.sw == 1 {
						copy(r[owLo:owHi], src[iw:])
						continue
					}
					for ow := owLo; ow < owHi; ow++ {
						r[ow] = src[iw]
						iw += g.sw
					}
				}
			}
		}
	}
}

// col2im: dcol (C*KH*KW, OH*OW) with row stride ld -> dx (C,H,W), summing
// overlapping windows; dx is overwritten.
func col2im(dx, dcol []float32, ld int, g convGeom) {
	clear(dx[:g.c*g.h*g.w])
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		xc := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			ohLo, ohHi := validRange(g.oh, g.h, g.sh, g.pt, ki*g.dh)
			for kj := 0; kj < g.kw; kj++ {
				row := dcol[((c*g.kh+ki)*g.kw+kj)*ld:][:ohw]
				owLo, owHi := validRange(g.ow, g.w, g.sw, g.pl, kj*g.dw)
				for oh := ohLo; oh < ohHi; oh++ {
					r := row[oh*g.ow : (oh+1)*g.ow]
					ih := oh*g.sh - g.pt + ki*g.dh
					dst := xc[ih*g.w : (ih+1)*g.w]
					iw := owLo*g.sw - g.pl + kj*g.dw
					for ow := owLo; ow < owHi; ow++ {
						dst[iw] += r[ow]
						iw += g.sw
					}
				}
			}
		}
	}
}
