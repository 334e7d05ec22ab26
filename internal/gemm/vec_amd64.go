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

// dot512 is Dot on raw pointers.
//
//go:noescape
func dot512(x, y *float32, n int) float32
