package train

import (
	"fmt"

	"github.com/fmkit/fmkit/internal/gemm"
	"github.com/fmkit/fmkit/internal/window"
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
	dwts        [][]float32 // per thread, the partial weight gradient transposed, (C*KH*KW, OC)
	dbs         [][]float32 // per-thread partial bias gradients (thread 0 writes into B.Grad)
	gidx        []int32     // window.GatherPlanes indices for small maps (see lower)
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
// wide enough to run at full speed even when a sample's output map is tiny
// (conv3's 3x3), while the block stays in L2 (conv2: two samples, 288 x 242
// values, 280 KB). Backward lowers the input again rather than keeping the
// forward pass's blocks: copying from an L2-resident input costs less than
// reading megabytes of saved blocks back from memory.
const convGroupCols = 256

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
	l.growScratchFor(chunks(l.nthreads(), n), min(l.groupSize(), max(n, 1)), backward)
}

// growScratchFor sizes the buffers of t threads for groups of g samples.
func (l *Conv2D) growScratchFor(t, g int, backward bool) {
	cols := g * l.oh * l.ow
	growPer(&l.cols, t, l.c*l.KH*l.KW*cols)
	if l.gidx == nil && l.h*l.w <= 32 && l.oh*l.ow <= 16 && l.Pads == [4]int{} {
		l.gidx = gatherIndices(l.geom())
	}
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
// [lo,hi), as thread tid.
func (l *Conv2D) forwardRange(lo, hi, tid int) {
	insz, outsz := l.in.Size(), l.out.Size()
	l.forwardSamples(l.x[lo*insz:hi*insz], l.y[lo*outsz:hi*outsz], hi-lo, tid)
}

// forwardSamples computes y (n,OC,OH,OW) from x (n,C,H,W) as thread tid.
// Groups of gs samples are lowered side by side into col (C*KH*KW,
// gs*OH*OW); one gemm gives z (OC, gs*OH*OW), which is scattered into y
// with the bias and ReLU fused in.
func (l *Conv2D) forwardSamples(x, y []float32, n, tid int) {
	g := l.geom()
	insz, outsz := l.in.Size(), l.out.Size()
	ckk, ohw := l.c*l.KH*l.KW, l.oh*l.ow
	z := l.zs[tid]
	relu := l.Act == ActReLU
	for s0 := 0; s0 < n; s0 += l.groupSize() {
		gs := min(l.groupSize(), n-s0)
		cols := gs * ohw
		col := l.cols[tid]
		for s := 0; s < gs; s++ {
			l.lower(col[s*ohw:], cols, x[(s0+s)*insz:(s0+s+1)*insz], g)
		}
		if gs == 1 {
			// One sample: the product is y's plane block itself.
			yi := y[s0*outsz : (s0+1)*outsz]
			gemm.Sgemm(false, false, l.Filters, cols, ckk, 1, l.W.Data, ckk, col, cols, 0, yi, cols)
			for oc := 0; oc < l.Filters; oc++ {
				gemm.AddBias(yi[oc*ohw:(oc+1)*ohw], yi[oc*ohw:], l.B.Data[oc], relu)
			}
			continue
		}
		gemm.Sgemm(false, false, l.Filters, cols, ckk, 1, l.W.Data, ckk, col, cols, 0, z, cols)
		for s := 0; s < gs; s++ {
			yi := y[(s0+s)*outsz : (s0+s+1)*outsz]
			for oc := 0; oc < l.Filters; oc++ {
				gemm.AddBias(yi[oc*ohw:(oc+1)*ohw], z[oc*cols+s*ohw:], l.B.Data[oc], relu)
			}
		}
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
	if l.Act == ActSoftmax && !l.logits {
		grow(&l.dz, n*l.out.Size())
	}
	l.dy = dy
	l.needDx = needDx
	t := chunks(l.nthreads(), n)
	l.growScratch(n, true)
	if needDx {
		grow(&l.dx, n*l.in.Size())
	}
	growPer(&l.dwts, t, len(l.W.Data))
	if t > 1 {
		growPer(&l.dbs, t, l.Filters)
	}
	if n == 0 {
		clear(l.W.Grad)
		clear(l.B.Grad)
	}
	parallel(l.group(), l.nthreads(), n, l, opBackward)
	l.dy = nil
	if n > 0 {
		// Reduce the partial gradients in thread order (deterministic
		// for a fixed thread count), transposing dW back.
		ckk := l.c * l.KH * l.KW
		for oc := 0; oc < l.Filters; oc++ {
			row := l.W.Grad[oc*ckk : (oc+1)*ckk]
			for k := range row {
				v := l.dwts[0][k*l.Filters+oc]
				for th := 1; th < t; th++ {
					v += l.dwts[th][k*l.Filters+oc]
				}
				row[k] = v
			}
		}
	}
	for k := 1; k < t; k++ {
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
	dwt, db := l.dwts[tid], l.B.Grad
	if tid > 0 {
		db = l.dbs[tid]
	}
	clear(db)
	dz := l.zs[tid]
	for s0 := lo; s0 < hi; s0 += l.groupSize() {
		gs := min(l.groupSize(), hi-s0)
		cols := gs * ohw
		col := l.cols[tid]
		// Gather the group's gradients before the activation into
		// dz (OC, cols), summing the bias gradient on the way.
		for s := 0; s < gs; s++ {
			i := s0 + s
			l.lower(col[s*ohw:], cols, l.x[i*insz:(i+1)*insz], g)
			yi, dyi := l.y[i*outsz:(i+1)*outsz], l.dy[i*outsz:(i+1)*outsz]
			if l.Act == ActSoftmax && !l.logits {
				dzi := l.dz[i*outsz : (i+1)*outsz]
				softmaxBackwardRows(dzi, yi, dyi, 1, outsz)
				dyi = dzi
			}
			for oc := 0; oc < l.Filters; oc++ {
				dst := dz[oc*cols+s*ohw:][:ohw]
				if l.Act == ActReLU {
					db[oc] += gemm.ReLUMaskSum(dst, yi[oc*ohw:(oc+1)*ohw], dyi[oc*ohw:])
					continue
				}
				copy(dst, dyi[oc*ohw:(oc+1)*ohw])
				db[oc] += gemm.Sum(dst)
			}
		}
		var beta float32 = 1
		if s0 == lo {
			beta = 0
		}
		// dW^T (CKK, OC) += col (CKK, cols) * dz^T (cols, OC): col is
		// read in place and only the smaller dz is transposed into the
		// packed layout (dW = dz col^T would transpose all of col).
		gemm.Sgemm(false, true, ckk, l.Filters, cols, 1, col, cols, dz, cols, beta, dwt, l.Filters)
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

// lower is im2col for one sample, through window.GatherPlanes when the maps
// are small enough (each input plane in two vector registers, each output
// row in one).
func (l *Conv2D) lower(col []float32, ld int, x []float32, g convGeom) {
	if l.gidx != nil && window.GatherPlanes(col, ld, x, g.c, g.h*g.w, l.gidx, g.kh*g.kw, g.oh*g.ow) {
		return
	}
	im2col(col, ld, x, g)
}

// gatherIndices returns, for an unpadded convolution, the index within an
// input plane of every output position's input under each kernel tap: row
// ki*KW+kj holds 16 indices (zero past OH*OW).
func gatherIndices(g convGeom) []int32 {
	idx := make([]int32, 16*g.kh*g.kw)
	for ki := 0; ki < g.kh; ki++ {
		for kj := 0; kj < g.kw; kj++ {
			row := idx[(ki*g.kw+kj)*16:][:16]
			for oh := 0; oh < g.oh; oh++ {
				for ow := 0; ow < g.ow; ow++ {
					row[oh*g.ow+ow] = int32((oh*g.sh+ki*g.dh)*g.w + ow*g.sw + kj*g.dw)
				}
			}
		}
	}
	return idx
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
	if g.plain() && window.Im2ColPlain(col, x, ld, g.c, g.h, g.w, g.kh, g.kw) {
		return
	}
	if g.ow < 8 && g.plain() {
		im2colSmall(col, ld, x, g)
		return
	}
	for c := 0; c < g.c; c++ {
		xc := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			ohLo, ohHi := validRange(g.oh, g.h, g.sh, g.pt, ki*g.dh)
			for kj := 0; kj < g.kw; kj++ {
				row := col[((c*g.kh+ki)*g.kw+kj)*ld:][:ohw]
				owLo, owHi := validRange(g.ow, g.w, g.sw, g.pl, kj*g.dw)
				clear(row[:ohLo*g.ow])
				clear(row[ohHi*g.ow:])
				if g.sw == 1 && ohLo < ohHi && owLo < owHi {
					// Stride 1 along the row: a block copy, with the
					// padded margins cleared.
					ih := ohLo*g.sh - g.pt + ki*g.dh
					iw := owLo - g.pl + kj*g.dw
					if owLo > 0 || owHi < g.ow {
						for oh := ohLo; oh < ohHi; oh++ {
							r := row[oh*g.ow : (oh+1)*g.ow]
							clear(r[:owLo])
							clear(r[owHi:])
						}
					}
					gemm.CopyRows(row[ohLo*g.ow+owLo:], g.ow, xc[ih*g.w+iw:], g.sh*g.w, ohHi-ohLo, owHi-owLo)
					continue
				}
				for oh := ohLo; oh < ohHi; oh++ {
					r := row[oh*g.ow : (oh+1)*g.ow]
					ih := oh*g.sh - g.pt + ki*g.dh
					src := xc[ih*g.w : (ih+1)*g.w]
					clear(r[:owLo])
					clear(r[owHi:])
					iw := owLo*g.sw - g.pl + kj*g.dw
					for ow := owLo; ow < owHi; ow++ {
						r[ow] = src[iw]
						iw += g.sw
					}
				}
			}
		}
	}
}

// plain reports an unpadded, stride-1, undilated convolution.
func (g convGeom) plain() bool {
	return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.pt == 0 && g.pl == 0 &&
		g.oh == g.h-g.kh+1 && g.ow == g.w-g.kw+1
}

// im2colSmall is im2col for a plain convolution with short output rows
// (conv3 of the book's model: 3x3 outputs), where a call per row costs more
// than copying its few values one by one.
func im2colSmall(col []float32, ld int, x []float32, g convGeom) {
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		xc := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := col[((c*g.kh+ki)*g.kw+kj)*ld:][:ohw]
				src := xc[ki*g.w+kj:]
				for oh := 0; oh < g.oh; oh++ {
					d := row[oh*g.ow : (oh+1)*g.ow]
					s := src[oh*g.w : oh*g.w+len(d)]
					for j := range d {
						d[j] = s[j]
					}
				}
			}
		}
	}
}

// col2imSmall is col2im for a plain convolution with short output rows,
// adding each row's few values one by one (see im2colSmall); dx must be
// cleared.
func col2imSmall(dx, dcol []float32, ld int, g convGeom) {
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		xc := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				row := dcol[((c*g.kh+ki)*g.kw+kj)*ld:][:ohw]
				dst := xc[ki*g.w+kj:]
				for oh := 0; oh < g.oh; oh++ {
					s := row[oh*g.ow : (oh+1)*g.ow]
					d := dst[oh*g.w : oh*g.w+len(s)]
					for j := range s {
						d[j] += s[j]
					}
				}
			}
		}
	}
}

// col2im: dcol (C*KH*KW, OH*OW) with row stride ld -> dx (C,H,W), summing
// overlapping windows; dx is overwritten.
func col2im(dx, dcol []float32, ld int, g convGeom) {
	if g.plain() && window.Col2ImPlain(dx, dcol, ld, g.c, g.h, g.w, g.kh, g.kw) {
		return
	}
	clear(dx[:g.c*g.h*g.w])
	if g.ow < 8 && g.plain() {
		col2imSmall(dx, dcol, ld, g)
		return
	}
	ohw := g.oh * g.ow
	for c := 0; c < g.c; c++ {
		xc := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			ohLo, ohHi := validRange(g.oh, g.h, g.sh, g.pt, ki*g.dh)
			for kj := 0; kj < g.kw; kj++ {
				row := dcol[((c*g.kh+ki)*g.kw+kj)*ld:][:ohw]
				owLo, owHi := validRange(g.ow, g.w, g.sw, g.pl, kj*g.dw)
				if g.sw == 1 && ohLo < ohHi && owLo < owHi {
					ih := ohLo*g.sh - g.pt + ki*g.dh
					iw := owLo - g.pl + kj*g.dw
					gemm.AddRows(xc[ih*g.w+iw:], g.sh*g.w, row[ohLo*g.ow+owLo:], g.ow, ohHi-ohLo, owHi-owLo)
					continue
				}
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
