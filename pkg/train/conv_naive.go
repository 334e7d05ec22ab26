package train

// conv2dNaive is the reference convolution every fast path is tested
// against: direct loops, float64 accumulation, no im2col, no threads.
// x (N,C,H,W), w (OC,C,KH,KW), b (OC) -> y (N,OC,OH,OW), before activation.
func conv2dNaive(x []float32, n int, g convGeom, oc int, w, b []float32) []float64 {
	y := make([]float64, n*oc*g.oh*g.ow)
	for i := 0; i < n; i++ {
		for o := 0; o < oc; o++ {
			for oh := 0; oh < g.oh; oh++ {
				for ow := 0; ow < g.ow; ow++ {
					s := float64(b[o])
					for c := 0; c < g.c; c++ {
						for ki := 0; ki < g.kh; ki++ {
							ih := oh*g.sh - g.pt + ki*g.dh
							if ih < 0 || ih >= g.h {
								continue
							}
							for kj := 0; kj < g.kw; kj++ {
								iw := ow*g.sw - g.pl + kj*g.dw
								if iw < 0 || iw >= g.w {
									continue
								}
								s += float64(x[((i*g.c+c)*g.h+ih)*g.w+iw]) * float64(w[((o*g.c+c)*g.kh+ki)*g.kw+kj])
							}
						}
					}
					y[((i*oc+o)*g.oh+oh)*g.ow+ow] = s
				}
			}
		}
	}
	return y
}

// conv2dNaiveBackward is the reference backward pass: dz (N,OC,OH,OW), the
// gradient before the activation -> dx (N,C,H,W), dw (OC,C,KH,KW), db (OC).
func conv2dNaiveBackward(x []float32, n int, g convGeom, oc int, w, dz []float32) (dx, dw, db []float64) {
	dx = make([]float64, n*g.c*g.h*g.w)
	dw = make([]float64, oc*g.c*g.kh*g.kw)
	db = make([]float64, oc)
	for i := 0; i < n; i++ {
		for o := 0; o < oc; o++ {
			for oh := 0; oh < g.oh; oh++ {
				for ow := 0; ow < g.ow; ow++ {
					d := float64(dz[((i*oc+o)*g.oh+oh)*g.ow+ow])
					db[o] += d
					for c := 0; c < g.c; c++ {
						for ki := 0; ki < g.kh; ki++ {
							ih := oh*g.sh - g.pt + ki*g.dh
							if ih < 0 || ih >= g.h {
								continue
							}
							for kj := 0; kj < g.kw; kj++ {
								iw := ow*g.sw - g.pl + kj*g.dw
								if iw < 0 || iw >= g.w {
									continue
								}
								xi := ((i*g.c+c)*g.h+ih)*g.w + iw
								wi := ((o*g.c+c)*g.kh+ki)*g.kw + kj
								dw[wi] += d * float64(x[xi])
								dx[xi] += d * float64(w[wi])
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db
}
