//go:build amd64 && !purego

package window

import "golang.org/x/sys/cpu"

// useVec512 selects the AVX-512 kernels (window_amd64.s), on the same test
// as internal/gemm's vector helpers.
var useVec512 = cpu.X86.HasAVX512F

// maxPool2x2Plane512 is MaxPool2x2 on raw pointers; false means a NaN or
// an infinity was seen and the plane must be redone.
//
//go:noescape
func maxPool2x2Plane512(y *float32, arg *int32, x *float32, w, oh, ow int) bool

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
