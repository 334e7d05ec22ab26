package fmnist

import (
	"math"
)

// The constants of the tilt correction; doc.go says where they come from.
const (
	// deskewMax is the largest tilt corrected, in degrees, and deskewMin
	// the least.
	deskewMax = 25.0
	deskewMin = 3.0
	// edgeMin is the least Sobel gradient (luma units, 0..1, on the
	// blurred working copy) an edge pixel needs to vote, and edgeSmooth
	// the deviation, in degrees, of the Gaussian the vote is smoothed
	// with.
	edgeMin    = 0.02
	edgeSmooth = 2.0
	// deskewWiden is how much wider than upright the item's bounding box
	// may be after the turn.
	deskewWiden = 0.03
)

// tilt returns the tilt of the item in mask (w x h) on the working luma
// plane p, in radians: the turn that stands its edges straight. The
// dataset's items stand upright, and their outlines and seams run mostly
// upright and level (a shirt's sides and hem, a trouser leg, a bag's
// frame, a shoe's sole), so the item's edges, each voting with its
// strength for its direction folded into a quarter turn, pile up at the
// tilt; a soft shadow's edges are weak and hardly vote. The turn is taken
// only when it is between deskewMin and deskewMax, and when it widens the
// item's bounding box by deskewWiden at most: a shoe's sloping upper, or a
// diagonal print, makes a pile of its own, but turning an upright item by
// it grows the box that standing straight makes smallest.
func tilt(p []float32, mask []bool, w, h int, widen float64) float64 {
	region := dilateN(mask, w, h, 2) // the item's outline, just outside
	var hist [90]float64             // one-degree bins over [-45, 45)
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if !region[i] {
				continue
			}
			gx := float64(p[i-w+1] + 2*p[i+1] + p[i+w+1] - p[i-w-1] - 2*p[i-1] - p[i+w-1])
			gy := float64(p[i+w-1] + 2*p[i+w] + p[i+w+1] - p[i-w-1] - 2*p[i-w] - p[i-w+1])
			m := math.Hypot(gx, gy)
			if m < edgeMin {
				continue
			}
			a := math.Mod(math.Atan2(gy, gx)*180/math.Pi+360+45, 90) // folded, shifted to [0, 90)
			k := int(a)
			fr := a - float64(k)
			hist[k%90] += m * (1 - fr)
			hist[(k+1)%90] += m * fr
		}
	}
	var sm [90]float64
	for k := range sm {
		for d := -4; d <= 4; d++ {
			sm[k] += hist[(k+d+90)%90] * math.Exp(-float64(d*d)/(2*edgeSmooth*edgeSmooth))
		}
	}
	best := 0
	for k := range sm {
		if sm[k] > sm[best] {
			best = k
		}
	}
	if sm[best] == 0 {
		return 0
	}
	// The peak between bins, from the parabola through it and its
	// neighbours.
	l, c, r := sm[(best+89)%90], sm[best], sm[(best+1)%90]
	deg := float64(best) - 45
	if den := l - 2*c + r; den < 0 {
		deg += 0.5 * (l - r) / den
	}
	// Edges at deg (y growing downwards) stand straight in the frame
	// turned by deg: that turn is the tilt.
	th := deg * math.Pi / 180
	if math.Abs(deg) < deskewMin || math.Abs(deg) > deskewMax || boxArea(mask, w, h, th) > (1+widen)*boxArea(mask, w, h, 0) {
		return 0
	}
	return th
}

// boxArea is the area of the bounding box of mask (w x h) in the frame
// turned by th, where source point (x, y) lands at (c x + s y, -s x + c y).
// Only the left and right ends of each row can bound it, so only their
// corners are turned.
func boxArea(mask []bool, w, h int, th float64) float64 {
	c, s := math.Cos(th), math.Sin(th)
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for y := 0; y < h; y++ {
		row := mask[y*w : (y+1)*w]
		l, r := -1, -1
		for x, on := range row {
			if on {
				if l < 0 {
					l = x
				}
				r = x
			}
		}
		if l < 0 {
			continue
		}
		for _, pt := range [4][2]float64{{float64(l), float64(y)}, {float64(l), float64(y + 1)}, {float64(r + 1), float64(y)}, {float64(r + 1), float64(y + 1)}} {
			u, v := c*pt[0]+s*pt[1], -s*pt[0]+c*pt[1]
			x0, x1, y0, y1 = min(x0, u), max(x1, u), min(y0, v), max(y1, v)
		}
	}
	if x0 > x1 {
		return 0
	}
	return (x1 - x0) * (y1 - y0)
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
