package adam

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fmkit/fmkit/internal/vectest"
)

// TestUpdate checks the vector update against the portable one bit for
// bit and both against the formula in float64.
func TestUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const b1, b2, lr, eps = 0.9, 0.999, 0.001 * 0.3, 1e-7
	for _, n := range vectest.Lengths {
		w0, g := vectest.Input(r, n, false), vectest.Input(r, n, false)
		m0, v0 := vectest.Input(r, n, false), vectest.Input(r, n, false)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		w1, m1, v1 := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		w2, m2, v2 := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		Update(w1, g, m1, v1, b1, 1-b1, b2, 1-b2, lr, eps)
		adamGo(w2, g, m2, v2, b1, 1-b1, b2, 1-b2, lr, eps)
		for i := range w0 {
			if !vectest.SameBits(w1[i], w2[i]) || !vectest.SameBits(m1[i], m2[i]) || !vectest.SameBits(v1[i], v2[i]) {
				t.Fatalf("n=%d [%d]: vector (%g %g %g), portable (%g %g %g)", n, i, w1[i], m1[i], v1[i], w2[i], m2[i], v2[i])
			}
			m := b1*float64(m0[i]) + (1-b1)*float64(g[i])
			v := b2*float64(v0[i]) + (1-b2)*float64(g[i])*float64(g[i])
			w := float64(w0[i]) - lr*m/(math.Sqrt(v)+eps)
			if math.Abs(float64(w1[i])-w) > 1e-6 || math.Abs(float64(m1[i])-m) > 1e-6 || math.Abs(float64(v1[i])-v) > 1e-6 {
				t.Fatalf("n=%d [%d]: got (%g %g %g), float64 (%g %g %g)", n, i, w1[i], m1[i], v1[i], w, m, v)
			}
		}
	}
}
