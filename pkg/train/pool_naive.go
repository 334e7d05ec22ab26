package train

import "math"

// maxPoolNaive is the reference max pooling: x (N,C,H,W) -> y (N,C,OH,OW),
// scanning each window in full with explicit bounds checks.
func maxPoolNaive(x []float32, planes, h, w, oh, ow, kh, kw int, stride [2]int, pads [4]int) []float32 {
	y := make([]float32, planes*oh*ow)
	for p := 0; p < planes; p++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best := float32(math.Inf(-1))
				for a := 0; a < kh; a++ {
					for b := 0; b < kw; b++ {
						ih, iw := i*stride[0]-pads[0]+a, j*stride[1]-pads[1]+b
						if ih >= 0 && ih < h && iw >= 0 && iw < w && x[(p*h+ih)*w+iw] > best {
							best = x[(p*h+ih)*w+iw]
						}
					}
				}
				y[(p*oh+i)*ow+j] = best
			}
		}
	}
	return y
}

// avgPoolNaive is the reference average pooling (PyTorch's divisor rule:
// with countPad, positions in the padding count but those past it do not).
func avgPoolNaive(x []float32, planes, h, w, oh, ow, kh, kw int, stride [2]int, pads [4]int, countPad bool) []float64 {
	y := make([]float64, planes*oh*ow)
	for p := 0; p < planes; p++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				var s float64
				var inside, padded int
				for a := 0; a < kh; a++ {
					for b := 0; b < kw; b++ {
						ih, iw := i*stride[0]-pads[0]+a, j*stride[1]-pads[1]+b
						if ih < h+pads[2] && iw < w+pads[3] {
							padded++
						}
						if ih >= 0 && ih < h && iw >= 0 && iw < w {
							s += float64(x[(p*h+ih)*w+iw])
							inside++
						}
					}
				}
				div := inside
				if countPad {
					div = padded
				}
				if div > 0 {
					y[(p*oh+i)*ow+j] = s / float64(div)
				}
			}
		}
	}
	return y
}
