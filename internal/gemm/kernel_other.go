//go:build !amd64 || purego

package gemm

// availableKernels lists the kernels this build can run: only the portable
// one without amd64 assembly.
func availableKernels() []*kernel {
	return []*kernel{kernGo}
}

// transpose8 is never called without the amd64 kernels (kernel.fastPack is
// false for the portable kernel).
func transpose8(dst []float32, ldd int, src []float32, lds int, nblk int) {
	panic("gemm: transpose8 without assembly")
}
