package train

// denseNaive is the reference for Dense: x (N,In), w (U,In), b (U) ->
// y (N,U) before activation, float64 accumulation.
func denseNaive(x []float32, n, in, u int, w, b []float32) []float64 {
	y := make([]float64, n*u)
	for i := 0; i < n; i++ {
		for j := 0; j < u; j++ {
			s := float64(b[j])
			for k := 0; k < in; k++ {
				s += float64(x[i*in+k]) * float64(w[j*in+k])
			}
			y[i*u+j] = s
		}
	}
	return y
}

// denseNaiveBackward: dz (N,U) -> dx (N,In), dw (U,In), db (U).
func denseNaiveBackward(x []float32, n, in, u int, w, dz []float32) (dx, dw, db []float64) {
	dx, dw, db = make([]float64, n*in), make([]float64, u*in), make([]float64, u)
	for i := 0; i < n; i++ {
		for j := 0; j < u; j++ {
			d := float64(dz[i*u+j])
			db[j] += d
			for k := 0; k < in; k++ {
				dw[j*in+k] += d * float64(x[i*in+k])
				dx[i*in+k] += d * float64(w[j*in+k])
			}
		}
	}
	return dx, dw, db
}
