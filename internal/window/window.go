// Package window holds the vector kernels of the engine's sliding-window
// layers: 2x2 max pooling, and im2col and col2im for the small, unpadded,
// stride-1 maps of the book's convolutions. They are AVX-512 assembly on
// amd64 (window_amd64.s). Each reports whether it ran; where it did not (no
// AVX-512, a shape it does not cover, or for MaxPool2x2 a NaN or an
// infinity in the plane) the caller runs its own portable kernel, which
// pkg/train keeps beside every call and tests these against.
package window

import "fmt"

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
		panic(fmt.Sprintf("window: MaxPool2x2: %dx%d outputs over rows of %d need %d inputs and %d outputs; have %d, %d, %d", oh, ow, w, (2*oh-1)*w+2*ow, oh*ow, len(x), len(y), len(arg)))
	}
	return maxPool2x2Plane512(&y[0], &arg[0], &x[0], w, oh, ow)
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
		panic(fmt.Sprintf("window: GatherPlanes: hw %d, width %d, ld %d, nidx %d, %d indices", hw, width, ld, nidx, len(idx)))
	}
	if planes == 0 {
		return true
	}
	if len(src) < planes*hw || len(dst) < (planes*nidx-1)*ld+width {
		panic(fmt.Sprintf("window: GatherPlanes: %d planes of %d need %d values and %d rows of %d, have %d and %d", planes, hw, planes*hw, planes*nidx, ld, len(src), len(dst)))
	}
	for _, v := range idx[:16*nidx] {
		if v < 0 || int(v) >= hw {
			panic(fmt.Sprintf("window: GatherPlanes: index %d outside a plane of %d", v, hw))
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
		panic(fmt.Sprintf("window: Col2ImPlain: c %d, %dx%d input, %dx%d kernel, ld %d", c, h, w, kh, kw, ld))
	}
	if c == 0 {
		return true
	}
	if len(dx) < c*h*w || len(dcol) < (c*kh*kw-1)*ld+oh*ow {
		panic(fmt.Sprintf("window: Col2ImPlain: dx has %d values, needs %d; dcol has %d, needs %d", len(dx), c*h*w, len(dcol), (c*kh*kw-1)*ld+oh*ow))
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
		panic(fmt.Sprintf("window: Im2ColPlain: c %d, %dx%d input, %dx%d kernel, ld %d", c, h, w, kh, kw, ld))
	}
	if c == 0 {
		return true
	}
	if len(x) < c*h*w || len(col) < (c*kh*kw-1)*ld+oh*ow {
		panic(fmt.Sprintf("window: Im2ColPlain: x has %d values, needs %d; col has %d, needs %d", len(x), c*h*w, len(col), (c*kh*kw-1)*ld+oh*ow))
	}
	im2colPlain512(&col[0], &x[0], ld, c, h, w, kh, kw, oh, ow)
	return true
}
