package gemm

import "fmt"

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
