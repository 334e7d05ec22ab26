// Package gemm provides single-precision general matrix multiplication for the
// native engine's hot paths (convolution via im2col, dense layers).
//
// All matrices are row-major. Sgemm computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// where op(X) is X or its transpose, op(A) is m x k, op(B) is k x n and C is
// m x n. lda, ldb and ldc are the row strides of A, B and C as stored.
//
// # Implementation
//
// The product is blocked in the manner of GotoBLAS and BLIS: k is cut into
// blocks of kc, A into blocks of mc rows (kept in L2), B into panels of
// kc x nr (kept in L1), and a micro-kernel computes one mr x nr tile of C
// in registers. Transposes are handled while packing; panels that are
// already laid out as the kernel reads them (A transposed, a plain A when
// there are few B panels, B not transposed when there are few A panels) are
// read in place, so small and skinny products do little or no packing.
// Ragged edges are packed with zero padding and written with masks.
//
// Kernels, chosen once at start-up from the CPU's features
// (golang.org/x/sys/cpu, which also checks that the OS saves the registers):
//
//   - avx512: 8x32 tile in ZMM registers (AVX-512F), with a 16x16 variant
//     for narrow C (n <= 16);
//   - avx2: 6x16 tile in YMM registers (AVX2 and FMA);
//   - go: a 4x4 register-blocked tile in portable Go, the only kernel on
//     other architectures or with the purego build tag.
//
// # Elementwise helpers
//
// The package also holds the vector loops the engine runs around its
// products, where a scalar Go loop would cost as much as the product itself:
// the bias and ReLU epilogue (AddBias), the ReLU mask and bias gradient
// (ReLUMaskSum, Sum), im2col and col2im blocks (CopyRows, AddRows) and
// matrix-vector rows (Dot). Each has an AVX-512 version (vec_amd64.s) and a
// portable one; where both compute a sum they use the same order, so they
// agree to the bit. The kernels that are not about products live in
// packages named for them: internal/adam (the Adam update) and
// internal/window (max pooling, whole-plane im2col and col2im).
//
// # Invariants
//
// Inputs A and B are never modified, and nothing outside the m x n block of
// C is written (nor, with beta == 0, read). Every element of C is a
// sequential sum over k in a fixed order (one float32 FMA per step in the
// assembly kernels, restarted at each kc block), so the same inputs give the
// same bits on every call. The assembly kernels share kc and therefore agree
// to the bit with each other. (pkg/train splits its layers' work over
// threads itself, by samples or planes, never along k.)
package gemm

import (
	"fmt"
	"strings"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, on
// the calling goroutine. When beta is zero, C need not be initialised (NaNs
// in C are ignored). When alpha is zero or k is zero, A and B are not read.
//
// Sgemm panics (a programmer error) when a dimension is negative, a leading
// dimension is shorter than its row, or a slice is too short for the
// matrix it holds. In steady state it does not allocate.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	p := makePlan(active, transA, transB, m, n, k)
	w := workspaces.Get().(*workspace)
	p.run(w, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	workspaces.Put(w)
}

// checkArgs panics unless the arguments describe valid matrices. The
// assembly kernels do no bounds checking, so this is what keeps them inside
// the slices.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	checkMatrix("A", rowsA, colsA, a, lda)
	checkMatrix("B", rowsB, colsB, b, ldb)
	checkMatrix("C", m, n, c, ldc)
}

func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("gemm: ld%s = %d < max(1, %d columns)", strings.ToLower(name), ld, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("gemm: %s is %dx%d with ld%s = %d and needs %d elements, has %d", name, rows, cols, strings.ToLower(name), ld, need, len(s)))
	}
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// Naive is the reference implementation that every fast path is tested
// against: a plain triple loop accumulating in float64.
func Naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * float32(s)
			} else {
				c[i*ldc+j] = alpha*float32(s) + beta*c[i*ldc+j]
			}
		}
	}
}

// Kernel returns the name of the micro-kernel Sgemm uses on this machine
// ("avx512", "avx2" or "go"), and whether the AVX-512 elementwise helpers
// are in use, for benchmark reports.
func Kernel() (name string, vec512 bool) { return active.name, useVec512 }
