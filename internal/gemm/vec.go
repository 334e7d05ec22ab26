package gemm

import (
	"fmt"
	"math"
)

// Elementwise helpers that the engine runs around its products: the bias and
// ReLU epilogue of a convolution or dense layer, and the ReLU mask and bias
// gradient of their backward pass. On amd64 with AVX-512 they run 16 lanes
// at a time (vec_amd64.s); elsewhere the portable versions below run.
//
// Sums use 16 lane accumulators (element j goes to lane j mod 16) reduced by
// a fixed tree (lane i += lane i+8, then i+4, i+2, i+1), in every
// implementation, so they give the same bits with or without AVX-512.

// AddBias sets dst[i] = src[i] + b for i < len(dst), followed by ReLU when
// relu is set: negative values become +0; a NaN or a -0 passes through. dst
// and src may be the same slice; src must be at least as long as dst.
func AddBias(dst, src []float32, b float32, relu bool) {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return
	}
	if useVec512 {
		if relu {
			addBiasReLU512(&dst[0], &src[0], len(dst), b)
		} else {
			addBias512(&dst[0], &src[0], len(dst), b)
		}
		return
	}
	addBiasGo(dst, src, b, relu)
}

func addBiasGo(dst, src []float32, b float32, relu bool) {
	src = src[:len(dst)]
	if relu {
		for i, v := range src {
			v += b
			if v < 0 { // a NaN or -0 passes, as with VMAXPS(0, v)
				v = 0
			}
			dst[i] = v
		}
		return
	}
	for i, v := range src {
		dst[i] = v + b
	}
}

// ReLUMaskSum sets dz[i] = dy[i] where y[i] > 0 and +0 elsewhere (y is a
// ReLU's output, so this is the gradient before the ReLU), for
// i < len(y), and returns the sum of dz in the lane order described above.
// dz and dy may be the same slice.
func ReLUMaskSum(dz, y, dy []float32) float32 {
	dz, dy = dz[:len(y)], dy[:len(y)]
	if len(y) == 0 {
		return 0
	}
	if useVec512 {
		return reluMaskSum512(&dz[0], &y[0], &dy[0], len(y))
	}
	return reluMaskSumGo(dz, y, dy)
}

func reluMaskSumGo(dz, y, dy []float32) float32 {
	dz, dy = dz[:len(y)], dy[:len(y)]
	var acc [16]float32
	for i, v := range y {
		g := dy[i]
		if !(v > 0) {
			g = 0
		}
		dz[i] = g
		acc[i&15] += g
	}
	return reduce16(&acc)
}

// Sum returns the sum of x in the lane order described above.
func Sum(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	if useVec512 {
		return sum512(&x[0], len(x))
	}
	return sumGo(x)
}

func sumGo(x []float32) float32 {
	var acc [16]float32
	for i, v := range x {
		acc[i&15] += v
	}
	return reduce16(&acc)
}

func reduce16(acc *[16]float32) float32 {
	for w := 8; w >= 1; w /= 2 {
		for i := 0; i < w; i++ {
			acc[i] += acc[i+w]
		}
	}
	return acc[0]
}

// CopyRows copies a rows x width block: dst[r*lddst+j] = src[r*ldsrc+j] for
// r < rows, j < width. It is im2col's inner loop, where rows are often
// shorter than a call to memmove is worth. The blocks must not overlap.
func CopyRows(dst []float32, lddst int, src []float32, ldsrc int, rows, width int) {
	if !checkRows("CopyRows", dst, lddst, src, ldsrc, rows, width) {
		return
	}
	if useVec512 {
		copyRows512(&dst[0], &src[0], rows, width, lddst, ldsrc)
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*lddst:r*lddst+width], src[r*ldsrc:r*ldsrc+width])
	}
}

// AddRows adds a rows x width block: dst[r*lddst+j] += src[r*ldsrc+j] for
// r < rows, j < width (col2im's inner loop). The blocks must not overlap.
func AddRows(dst []float32, lddst int, src []float32, ldsrc int, rows, width int) {
	if !checkRows("AddRows", dst, lddst, src, ldsrc, rows, width) {
		return
	}
	if useVec512 {
		addRows512(&dst[0], &src[0], rows, width, lddst, ldsrc)
		return
	}
	for r := 0; r < rows; r++ {
		d, s := dst[r*lddst:r*lddst+width], src[r*ldsrc:r*ldsrc+width]
		for j := range d {
			d[j] += s[j]
		}
	}
}

// checkRows panics unless both blocks fit their slices; it reports whether
// there is anything to do.
func checkRows(fn string, dst []float32, lddst int, src []float32, ldsrc int, rows, width int) bool {
	if rows < 0 || width < 0 || lddst < width || ldsrc < width {
		panic(fmt.Sprintf("gemm: %s: rows %d, width %d, strides %d and %d", fn, rows, width, lddst, ldsrc))
	}
	if rows == 0 || width == 0 {
		return false
	}
	if (rows-1)*lddst+width > len(dst) || (rows-1)*ldsrc+width > len(src) {
		panic(fmt.Sprintf("gemm: %s: %dx%d block with strides %d, %d exceeds slices of %d, %d", fn, rows, width, lddst, ldsrc, len(dst), len(src)))
	}
	return true
}

// AdamUpdate applies one Adam update in float32 to the parameters w with
// gradients g and moments m, v (all of len(w)), as tf.keras does:
//
//	m = b1*m + c1*g            (c1 = 1 - beta1)
//	v = b2*v + c2*g*g          (c2 = 1 - beta2)
//	w = w - lr*m / (sqrt(v) + eps)
//
// where lr already includes the bias corrections. Every operation is
// rounded to float32 in this order (no fused multiply-adds), so the AVX-512
// and portable versions give the same bits.
func AdamUpdate(w, g, m, v []float32, b1, c1, b2, c2, lr, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	if len(w) == 0 {
		return
	}
	if useVec512 {
		adam512(&w[0], &g[0], &m[0], &v[0], len(w), b1, c1, b2, c2, lr, eps)
		return
	}
	adamGo(w, g, m, v, b1, c1, b2, c2, lr, eps)
}

func adamGo(w, g, m, v []float32, b1, c1, b2, c2, lr, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j, gj := range g {
		// The conversions stop the compiler fusing into FMAs.
		mj := float32(b1*m[j]) + float32(c1*gj)
		vj := float32(b2*v[j]) + float32(float32(c2*gj)*gj)
		m[j], v[j] = mj, vj
		// float32(sqrt64(x)) is the correctly rounded float32 square root.
		d := float32(math.Sqrt(float64(vj))) + eps
		w[j] -= float32(lr*mj) / d
	}
}

// MaxPool2x2 runs a 2x2, stride-2, unpadded max pooling over one plane
// x (H, W) with row width w, writing y (oh, ow) and, for each output, the
// index in x of its window's first maximum (top-left, top-right,
// bottom-left, bottom-right order). It needs 2*oh <= H and 2*ow <= w. It
// returns false, having written part of the plane, when it cannot decide
// the result exactly as the caller's portable kernel would (a NaN or an
// infinity in the plane) or has no vector kernel; the caller then runs its
// own kernel.
func MaxPool2x2(y []float32, arg []int32, x []float32, w, oh, ow int) bool {
	if !useVec512 || oh == 0 || ow == 0 {
		return oh == 0 || ow == 0
	}
	if 2*ow > w || len(y) < oh*ow || len(arg) < oh*ow || len(x) < (2*oh-1)*w+2*ow {
		panic(fmt.Sprintf("gemm: MaxPool2x2: %dx%d outputs over rows of %d need %d inputs and %d outputs; have %d, %d, %d", oh, ow, w, (2*oh-1)*w+2*ow, oh*ow, len(x), len(y), len(arg)))
	}
	return maxPool2x2Plane512(&y[0], &arg[0], &x[0], w, oh, ow)
}

// Dot returns the dot product of x and y[:len(x)]: a matrix-vector product's
// row, where a GEMM tile would compute 15 wasted columns. Products are
// rounded to float32 and summed in four sets of 16 lanes (element j of each
// 64-element block to set (j/16) mod 4, the remainder after the last full
// block to set 0), which are added as (0+1)+(2+3) and reduced by the lane
// tree above; the AVX-512 and portable versions give the same bits.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	if len(x) == 0 {
		return 0
	}
	if useVec512 {
		return dot512(&x[0], &y[0], len(x))
	}
	return dotGo(x, y)
}

func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var acc [4][16]float32
	n64 := len(x) &^ 63
	for i := 0; i < n64; i++ {
		acc[(i>>4)&3][i&15] += float32(x[i] * y[i])
	}
	for i := n64; i < len(x); i++ {
		acc[0][i&15] += float32(x[i] * y[i])
	}
	for l := range acc[0] {
		acc[0][l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l])
	}
	return reduce16(&acc[0])
}

// GatherPlanes fills rows of dst from small planes: for each of planes
// planes of hw values, consecutive in src, and each k < nidx, row
// plane*nidx + k of dst (rows ld values apart) gets width values, value o
// being the plane's value idx[k*16+o]. hw must be at most 32 and width at
// most 16; idx holds nidx rows of 16 indices, each below hw (the unused
// ones too). It is im2col for maps of at most 32 pixels (conv3 of the
// book's model: 5x5 in, 3x3 out), where a copy per output row costs more
// than the data it moves. It returns false, doing nothing, where the vector
// kernel is not available.
func GatherPlanes(dst []float32, ld int, src []float32, planes, hw int, idx []int32, nidx, width int) bool {
	if !useVec512 {
		return false
	}
	if hw < 1 || hw > 32 || width < 1 || width > 16 || ld < width || nidx < 1 || planes < 0 || len(idx) < 16*nidx {
		panic(fmt.Sprintf("gemm: GatherPlanes: hw %d, width %d, ld %d, nidx %d, %d indices", hw, width, ld, nidx, len(idx)))
	}
	if planes == 0 {
		return true
	}
	if len(src) < planes*hw || len(dst) < (planes*nidx-1)*ld+width {
		panic(fmt.Sprintf("gemm: GatherPlanes: %d planes of %d need %d values and %d rows of %d, have %d and %d", planes, hw, planes*hw, planes*nidx, ld, len(src), len(dst)))
	}
	for _, v := range idx[:16*nidx] {
		if v < 0 || int(v) >= hw {
			panic(fmt.Sprintf("gemm: GatherPlanes: index %d outside a plane of %d", v, hw))
		}
	}
	gatherPlanes512(&dst[0], ld, &src[0], planes, hw, &idx[0], nidx, width)
	return true
}

// Col2ImPlain is col2im for a stride-1, unpadded, undilated convolution
// with input rows of at most 16 values: dx (c, h, w) is overwritten with
// the sums of the column matrix dcol (c*kh*kw rows, ld apart, each holding
// an oh x ow map, oh = h-kh+1, ow = w-kw+1) over overlapping windows. Each
// element is summed from zero in the order (ki, kj) ascending, as a
// row-by-row col2im does, so the bits match. It returns false, doing
// nothing, where the vector kernel is not available or w > 16.
func Col2ImPlain(dx, dcol []float32, ld, c, h, w, kh, kw int) bool {
	if !useVec512 || w > 16 {
		return false
	}
	oh, ow := h-kh+1, w-kw+1
	if c < 0 || kh < 1 || kw < 1 || oh < 1 || ow < 1 || ld < oh*ow {
		panic(fmt.Sprintf("gemm: Col2ImPlain: c %d, %dx%d input, %dx%d kernel, ld %d", c, h, w, kh, kw, ld))
	}
	if c == 0 {
		return true
	}
	if len(dx) < c*h*w || len(dcol) < (c*kh*kw-1)*ld+oh*ow {
		panic(fmt.Sprintf("gemm: Col2ImPlain: dx has %d values, needs %d; dcol has %d, needs %d", len(dx), c*h*w, len(dcol), (c*kh*kw-1)*ld+oh*ow))
	}
	col2imPlain512(&dx[0], &dcol[0], ld, c, h, w, kh, kw, oh, ow)
	return true
}

// Im2ColPlain is im2col for a stride-1, unpadded, undilated convolution
// with output rows of at most 16 values: x (c, h, w) is lowered into col,
// c*kh*kw rows ld apart, row (ch, ki, kj) holding the oh x ow map
// x[ch][oy+ki][ox+kj] (oh = h-kh+1, ow = w-kw+1). It returns false, doing
// nothing, where the vector kernel is not available or ow > 16.
func Im2ColPlain(col, x []float32, ld, c, h, w, kh, kw int) bool {
	oh, ow := h-kh+1, w-kw+1
	if !useVec512 || ow > 16 {
		return false
	}
	if c < 0 || kh < 1 || kw < 1 || oh < 1 || ow < 1 || ld < oh*ow {
		panic(fmt.Sprintf("gemm: Im2ColPlain: c %d, %dx%d input, %dx%d kernel, ld %d", c, h, w, kh, kw, ld))
	}
	if c == 0 {
		return true
	}
	if len(x) < c*h*w || len(col) < (c*kh*kw-1)*ld+oh*ow {
		panic(fmt.Sprintf("gemm: Im2ColPlain: x has %d values, needs %d; col has %d, needs %d", len(x), c*h*w, len(col), (c*kh*kw-1)*ld+oh*ow))
	}
	im2colPlain512(&col[0], &x[0], ld, c, h, w, kh, kw, oh, ow)
	return true
}
