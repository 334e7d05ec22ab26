// Package vectest holds the test inputs and comparisons that the vector
// kernels' tests share (internal/gemm, internal/adam, internal/window): one
// copy, so that every kernel is tried on the same awkward values.
package vectest

import (
	"math"
	"math/rand/v2"
)

// Input returns n values in [-1, 1) with a few special values (zeros of
// both signs, a NaN when withNaN) planted.
func Input(r *rand.Rand, n int, withNaN bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*r.Float32() - 1
	}
	if n > 3 {
		x[1] = 0
		x[2] = float32(math.Copysign(0, -1))
	}
	if withNaN && n > 5 {
		x[n-2] = float32(math.NaN())
	}
	return x
}

// SameBits reports whether a and b are the same float32, bit for bit, or
// both NaN.
func SameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// Lengths are the vector lengths the kernels are tried at: empty, around
// the 16-lane width and its multiples, and a few real layer sizes.
var Lengths = []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 121, 676, 1000}
