package gemm_test

import (
	"fmt"

	"github.com/fmkit/fmkit/internal/gemm"
)

// A dense layer's forward pass: y (2x2) = x (2x3) * w^T, with w (2x3) stored
// as (out, in) the way ONNX Gemm's transB = 1 expects.
func ExampleSgemm() {
	x := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	w := []float32{
		1, 0, -1,
		0.5, 0.5, 0.5,
	}
	y := make([]float32, 4)
	gemm.Sgemm(false, true, 2, 2, 3, 1, x, 3, w, 3, 0, y, 2)
	fmt.Println(y)
	// Output: [-2 3 -2 7.5]
}

// SgemmParallel gives the same bits as Sgemm on any number of threads.
func ExampleSgemmParallel() {
	const m, n, k = 64, 300, 50
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%9) * 0.25
	}
	c1 := make([]float32, m*n)
	c4 := make([]float32, m*n)
	gemm.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c1, n)
	gemm.SgemmParallel(4, false, false, m, n, k, 1, a, k, b, n, 0, c4, n)
	same := true
	for i := range c1 {
		same = same && c1[i] == c4[i]
	}
	fmt.Println(c1[0], c1[m*n-1], same)
	// Output: -1.5 -3 true
}
