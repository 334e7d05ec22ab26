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
