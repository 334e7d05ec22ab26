//go:build amd64 && !purego

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kernel8x32 computes one 8x32 tile with AVX-512F (kernel_avx512_amd64.s).
// Strides are in elements. The caller guarantees that all 8 rows of A and
// all 32 columns of B are readable for k steps and that the first mr rows and
// nr columns of C are writable.
//
//go:noescape
func kernel8x32(k int, a *float32, rsa int, csa int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)

// kernel6x16 is the AVX2/FMA counterpart of kernel8x32 for a 6x16 tile
// (kernel_avx2_amd64.s).
//
//go:noescape
func kernel6x16(k int, a *float32, rsa int, csa int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)

// kernel16x16 is the AVX-512 kernel for narrow C (n <= 16): a 16x16 tile
// (kernel_avx512n_amd64.s).
//
//go:noescape
func kernel16x16(k int, a *float32, rsa int, csa int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)

func microAVX512N(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mr, nr int) {
	kernel16x16(k, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, alpha, beta, mr, nr)
}

func microAVX512(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mr, nr int) {
	kernel8x32(k, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, alpha, beta, mr, nr)
}

func microAVX2(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mr, nr int) {
	kernel6x16(k, unsafe.SliceData(a), rsa, csa, unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, alpha, beta, mr, nr)
}

// transpose8x8s transposes nblk 8x8 blocks with AVX (transpose_amd64.s):
// dst[(8t+q)*ldd + r] = src[r*lds + 8t + q] for t < nblk and r, q < 8.
//
//go:noescape
func transpose8x8s(dst *float32, ldd int, src *float32, lds int, nblk int)

// transpose8 is transpose8x8s on slices, bounds-checked.
func transpose8(dst []float32, ldd int, src []float32, lds int, nblk int) {
	if nblk <= 0 {
		return
	}
	_ = dst[(8*nblk-1)*ldd+7]
	_ = src[7*lds+8*nblk-1]
	transpose8x8s(unsafe.SliceData(dst), ldd, unsafe.SliceData(src), lds, nblk)
}

// The asm kernels share kc, so every element gets the same FMA chain and
// the same bits from any of them (TestKernelsAgree).
var (
	kernAVX512N = &kernel{name: "avx512-narrow", mr: 16, nr: 16, kc: 256, mc: 256, fn: microAVX512N, fastPack: true}
	kernAVX512  = &kernel{name: "avx512", mr: 8, nr: 32, kc: 256, mc: 256, fn: microAVX512, fastPack: true, narrow: kernAVX512N}
	kernAVX2    = &kernel{name: "avx2", mr: 6, nr: 16, kc: 256, mc: 240, fn: microAVX2, fastPack: true}
)

// availableKernels lists the kernels this CPU can run, fastest first.
// x/sys/cpu reports AVX2 and AVX-512 only when the OS saves their registers.
func availableKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernAVX512, kernAVX512N)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernAVX2)
	}
	return append(ks, kernGo)
}
