// Package adam is the Adam optimizer's per-parameter update in float32, 16
// lanes at a time with AVX-512 on amd64 (adam_amd64.s) and a portable loop
// elsewhere. The two give the same bits. pkg/train's Adam computes the
// bias-corrected step size and calls Update once per parameter tensor.
package adam

import "math"

// Update applies one Adam update in float32 to the parameters w with
// gradients g and moments m, v (all of len(w)), as tf.keras does:
//
//	m = b1*m + c1*g            (c1 = 1 - beta1)
//	v = b2*v + c2*g*g          (c2 = 1 - beta2)
//	w = w - lr*m / (sqrt(v) + eps)
//
// where lr already includes the bias corrections. Every operation is
// rounded to float32 in this order (no fused multiply-adds), so the AVX-512
// and portable versions give the same bits.
func Update(w, g, m, v []float32, b1, c1, b2, c2, lr, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	if len(w) == 0 {
		return
	}
	if useVec512 {
		adam512(&w[0], &g[0], &m[0], &v[0], len(w), b1, c1, b2, c2, lr, eps)
		return
	}
	adamGo(w, g, m, v, b1, c1, b2, c2, lr, eps)
}

func adamGo(w, g, m, v []float32, b1, c1, b2, c2, lr, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j, gj := range g {
		// The conversions stop the compiler fusing into FMAs.
		mj := float32(b1*m[j]) + float32(c1*gj)
		vj := float32(b2*v[j]) + float32(float32(c2*gj)*gj)
		m[j], v[j] = mj, vj
		// float32(sqrt64(x)) is the correctly rounded float32 square root.
		d := float32(math.Sqrt(float64(vj))) + eps
		w[j] -= float32(lr*mj) / d
	}
}
