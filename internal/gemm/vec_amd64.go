//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// useVec512 selects the AVX-512 elementwise helpers (vec_amd64.s).
var useVec512 = cpu.X86.HasAVX512F

// addBias512 sets dst[i] = src[i] + b for i < n.
//
//go:noescape
func addBias512(dst, src *float32, n int, b float32)

// addBiasReLU512 sets dst[i] = max(src[i] + b, 0) for i < n (NaN stays NaN).
//
//go:noescape
func addBiasReLU512(dst, src *float32, n int, b float32)

// reluMaskSum512 is ReLUMaskSum on n elements.
//
//go:noescape
func reluMaskSum512(dz, y, dy *float32, n int) float32

// sum512 is Sum on n elements.
//
//go:noescape
func sum512(x *float32, n int) float32

// copyRows512 is CopyRows on raw pointers.
//
//go:noescape
func copyRows512(dst, src *float32, rows, width, lddst, ldsrc int)

// addRows512 is AddRows on raw pointers.
//
//go:noescape
func addRows512(dst, src *float32, rows, width, lddst, ldsrc int)

// adam512 is AdamUpdate on raw pointers.
//
//go:noescape
func adam512(w, grad, mom, vel *float32, n int, b1, c1, b2, c2, lr, eps float32)

// maxPool2x2Plane512 is MaxPool2x2 on raw pointers; false means a NaN or
// an infinity was seen and the plane must be redone.
//
//go:noescape
func maxPool2x2Plane512(y *float32, arg *int32, x *float32, w, oh, ow int) bool

// dot512 is Dot on raw pointers.
//
//go:noescape
func dot512(x, y *float32, n int) float32

// gatherPlanes512 is GatherPlanes on raw pointers.
//
//go:noescape
func gatherPlanes512(dst *float32, ld int, src *float32, planes, hw int, idx *int32, nidx, width int)

// col2imPlain512 is Col2ImPlain on raw pointers.
//
//go:noescape
func col2imPlain512(dx, dcol *float32, ld, c, h, w, kh, kw, oh, ow int)

// im2colPlain512 is Im2ColPlain on raw pointers.
//
//go:noescape
func im2colPlain512(col, x *float32, ld, c, h, w, kh, kw, oh, ow int)
