//go:build amd64 && !purego

package adam

import "golang.org/x/sys/cpu"

// useVec512 selects the AVX-512 update (adam_amd64.s), on the same test as
// internal/gemm's vector helpers.
var useVec512 = cpu.X86.HasAVX512F

// adam512 is Update on raw pointers.
//
//go:noescape
func adam512(w, grad, mom, vel *float32, n int, b1, c1, b2, c2, lr, eps float32)
