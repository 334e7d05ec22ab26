package fmnist

import (
	"math"
)

// The constants of the tilt correction; doc.go says where they come from.
const (
	// deskewMax is the largest tilt searched for, in degrees, and
	// deskewStep the search's step.
	deskewMax  = 25.0
	deskewStep = 0.5
	// deskewMin is the least tilt corrected, in degrees, and deskewGain
	// the least reduction of the bounding box's area that the correction
	// must bring. Measured on the photo benchmark: of 300 upright shop
	// pictures, 291 have their smallest box within 3 degrees of upright and
	// the other 9 gain less than 4%; a tilted item gains from 2% (a coat,
	// whose outline changes little as it turns) to 30% (trousers).
	deskewMin  = 3.0
	deskewGain = 0.03
)

// tilt returns the tilt of the item in mask (w x h) in radians: the angle
// that, turned back, makes its bounding box smallest (the box of a
// Fashion-MNIST item is its upright extent: the dataset's items stand
// straight). It returns 0 when no turn within deskewMax shrinks the box by
// deskewGain or the best turn is below deskewMin. Only the left and right
// ends of each row matter for a bounding box, so those are the points
// turned.
func tilt(mask []bool, w, h int) float64 {
	var px, py []float64
	for y := 0; y < h; y++ {
		row := mask[y*w : (y+1)*w]
		x0, x1 := -1, -1
		for x, on := range row {
			if on {
				if x0 < 0 {
					x0 = x
				}
				x1 = x
			}
		}
		if x0 < 0 {
			continue
		}
		for _, c := range [4][2]float64{{float64(x0), float64(y)}, {float64(x0), float64(y + 1)}, {float64(x1 + 1), float64(y)}, {float64(x1 + 1), float64(y + 1)}} {
			px, py = append(px, c[0]), append(py, c[1])
		}
	}
	if len(px) == 0 {
		return 0
	}
	area := func(th float64) float64 {
		c, s := math.Cos(th), math.Sin(th)
		x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for i := range px {
			x, y := c*px[i]+s*py[i], -s*px[i]+c*py[i]
			x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
		}
		return (x1 - x0) * (y1 - y0)
	}
	a0 := area(0)
	best, bestA := 0.0, a0
	for d := -deskewMax; d <= deskewMax+1e-9; d += deskewStep {
		if a := area(d * math.Pi / 180); a < bestA-1e-9 {
			best, bestA = d, a
		}
	}
	// A best turn at the end of the search is no tilt but a diagonal shape.
	if math.Abs(best) < deskewMin || math.Abs(best) >= deskewMax-deskewStep/2 || bestA > (1-deskewGain)*a0 {
		return 0
	}
	return best * math.Pi / 180
}

// turned is the item's frame after the tilt th is turned back: source
// point (x, y) lands at (c x + s y, -s x + c y) there, and the item's
// upright box in that frame is [x0, x1) x [y0, y1) (in source pixels).
type turned struct {
	c, s           float64
	x0, y0, x1, y1 float64
}

// turnedBox finds the item's box in the frame turned by th, from the
// working mask (f source pixels a working pixel).
func turnedBox(mask []bool, w, h, f int, th float64) turned {
	t := turned{c: math.Cos(th), s: math.Sin(th), x0: math.Inf(1), y0: math.Inf(1), x1: math.Inf(-1), y1: math.Inf(-1)}
	ff := float64(f)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !mask[y*w+x] {
				continue
			}
			for _, c := range [4][2]float64{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				sx, sy := (float64(x)+c[0])*ff, (float64(y)+c[1])*ff
				u, v := t.c*sx+t.s*sy, -t.s*sx+t.c*sy
				t.x0, t.x1, t.y0, t.y1 = min(t.x0, u), max(t.x1, u), min(t.y0, v), max(t.y1, v)
			}
		}
	}
	return t
}

// source maps a point of the turned frame back to source coordinates.
func (t *turned) source(u, v float64) (float64, float64) {
	return t.c*u - t.s*v, t.s*u + t.c*v
}

// deskewGrid samples the item, turned upright, from the relative-intensity
// plane v (vw x vh, whose pixel (0,0) is source pixel (ox, oy)), into a grid
// whose long side is at most 4*Size pixels, with step src pixels a cell:
// the plane is first averaged over k x k blocks so that the bilinear sampling
// after it reduces by less than two, which keeps it free of aliasing.
func deskewGrid(v []uint16, vw, vh, ox, oy int, t turned) ([]uint16, int, int) {
	bw, bh := t.x1-t.x0, t.y1-t.y0
	step := max(1, max(bw, bh)/(4*Size))
	gw, gh := max(1, int(math.Round(bw/step))), max(1, int(math.Round(bh/step)))
	k := max(1, int(step/1.5))
	// Block-average the plane by k.
	kw, kh := (vw+k-1)/k, (vh+k-1)/k
	blk := make([]float64, kw*kh)
	cnt := make([]float64, kw*kh)
	for y := 0; y < vh; y++ {
		for x := 0; x < vw; x++ {
			i := (y/k)*kw + x/k
			blk[i] += float64(v[y*vw+x])
			cnt[i]++
		}
	}
	for i := range blk {
		blk[i] /= cnt[i]
	}
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= kw || y >= kh {
			return 0
		}
		return blk[y*kw+x]
	}
	out := make([]uint16, gw*gh)
	for j := 0; j < gh; j++ {
		for i := 0; i < gw; i++ {
			u := t.x0 + (float64(i)+0.5)*bw/float64(gw)
			w := t.y0 + (float64(j)+0.5)*bh/float64(gh)
			sx, sy := t.source(u, w)
			// Into block coordinates (block centres at k*(i+0.5)).
			bx, by := (sx-float64(ox))/float64(k)-0.5, (sy-float64(oy))/float64(k)-0.5
			ix, iy := int(math.Floor(bx)), int(math.Floor(by))
			fx, fy := bx-float64(ix), by-float64(iy)
			val := (1-fy)*((1-fx)*at(ix, iy)+fx*at(ix+1, iy)) + fy*((1-fx)*at(ix, iy+1)+fx*at(ix+1, iy+1))
			out[j*gw+i] = uint16(min(max(math.Round(val), 0), 65535))
		}
	}
	return out, gw, gh
}
