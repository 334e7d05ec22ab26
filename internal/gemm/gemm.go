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
// Invariants: inputs A and B are never modified; the result for a given
// (m, n, k, inputs) is the same whatever the number of threads, because work
// is never split along k between threads.
package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var impl gonum.Implementation

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices.
// When beta is zero, C need not be initialised (NaNs in C are ignored).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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
