package fmnist

import "image"

// tap is one source pixel's weight in an output pixel of an area resize.
type tap struct {
	j int   // source index along the axis
	w int64 // overlap, in units of 1/m of a source pixel (m = output size)
}

// areaTaps returns, for each of m output pixels resampling n source pixels,
// the source pixels it overlaps and by how much. Scaled by m, source pixel j
// spans [j*m, (j+1)*m) and output pixel i spans [i*n, (i+1)*n), so every
// weight is an integer and each output's weights sum to n.
func areaTaps(n, m int) [][]tap {
	taps := make([][]tap, m)
	for i := range taps {
		lo, hi := int64(i)*int64(n), int64(i+1)*int64(n)
		for j := int(lo / int64(m)); j < n && int64(j)*int64(m) < hi; j++ {
			s, e := max(lo, int64(j)*int64(m)), min(hi, int64(j+1)*int64(m))
			if e > s {
				taps[i] = append(taps[i], tap{j, e - s})
			}
		}
	}
	return taps
}

// areaResize resamples the box of the 16-bit plane v (row stride w) to
// ow x oh bytes by area averaging, after mapping the background level bg to 0
// and stretching [bg, 65535] to [0, 65535]. It runs along the box's longer
// side first, so the intermediate buffer holds at most 28 x (shorter side)
// values.
//
// Exactness: sums are integers; the result is round-half-up of
// sum / (cw*ch*257) (times the stretch), so a 28-pixel box at bg 0 copies
// its bytes unchanged.
func areaResize(v []uint16, w int, box image.Rectangle, bg uint16, ow, oh int) []uint8 {
	cw, ch := box.Dx(), box.Dy()
	tx, ty := areaTaps(cw, ow), areaTaps(ch, oh)
	at := func(x, y int) int64 { // background-subtracted value at box coordinates
		s := int64(v[(box.Min.Y+y)*w+box.Min.X+x]) - int64(bg)
		return max(s, 0)
	}
	out := make([]uint8, ow*oh)
	// den = cw*ch*(65535-bg)/255 (the stretch folded in): out = 255*sum/(cw*ch*(65535-bg)).
	num := int64(255)
	den := int64(cw) * int64(ch) * (65535 - int64(bg))
	round := func(sum int64) uint8 {
		// Split to stay inside int64: sum <= cw*ch*65535 < 2^32*2^16 for 50 MP.
		q := (sum*num + den/2) / den
		return uint8(min(q, 255))
	}
	if cw >= ch {
		// Horizontal first: tmp is ch x ow.
		tmp := make([]int64, ch*ow)
		for y := 0; y < ch; y++ {
			for i, ts := range tx {
				var s int64
				for _, t := range ts {
					s += t.w * at(t.j, y)
				}
				tmp[y*ow+i] = s
			}
		}
		for o, ts := range ty {
			for i := 0; i < ow; i++ {
				var s int64
				for _, t := range ts {
					s += t.w * tmp[t.j*ow+i]
				}
				out[o*ow+i] = round(s)
			}
		}
		return out
	}
	// Vertical first: tmp is oh x cw.
	tmp := make([]int64, oh*cw)
	for o, ts := range ty {
		for x := 0; x < cw; x++ {
			var s int64
			for _, t := range ts {
				s += t.w * at(x, t.j)
			}
			tmp[o*cw+x] = s
		}
	}
	for o := 0; o < oh; o++ {
		for i, ts := range tx {
			var s int64
			for _, t := range ts {
				s += t.w * tmp[o*cw+t.j]
			}
			out[o*ow+i] = round(s)
		}
	}
	return out
}
