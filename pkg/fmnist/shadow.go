package fmnist

import (
	"image"
	"math"
	"slices"
)

// The constants of the shadow model; doc.go says where they come from.
const (
	// shadowReach is how far from the item, as a fraction of its size,
	// its shadow is fitted; shadowShift the largest offset searched, and
	// shadowSigmas the softnesses tried, both as fractions of its size.
	shadowReach = 0.3
	shadowShift = 0.12
	// shadowMinDepth is the least depth of a shadow taken off, and
	// shadowMinFit the least share of the darkening around the item it
	// must explain.
	shadowMinDepth = 0.06
	shadowMinFit   = 0.85
	shadowMinGain  = 0.4
	// shadowRim is the least blur, in working pixels, of the item's own
	// edge, and shadowRimOut its blur as a share of an output pixel: an
	// edge fades over about one (see halfMaxCrop).
	shadowRim    = 1.2
	shadowRimOut = 0.3
	// shadowMin is the least size of an item, in source pixels an output
	// pixel, whose shadow is looked for.
	shadowMin = 4
	// shadowSlack is the share of the modelled depth by which a pixel
	// beside the item may be darker and still be shadow: the model's
	// error.
	shadowSlack = 0.5
)

var shadowSigmas = [...]float64{0.025, 0.04, 0.06, 0.08, 0.11}

// shadowField is a soft drop shadow's depth (the fraction of the
// backdrop's light it takes away) over the working copy (w x h, f source
// pixels a working pixel).
type shadowField struct {
	d       []float32
	w, h, f int
}

// at returns the depth at source pixel (sx, sy), interpolated bilinearly
// between the working pixels' centres.
func (s *shadowField) at(sx, sy int) float64 {
	ff := float64(s.f)
	x, y := (float64(sx)+0.5)/ff-0.5, (float64(sy)+0.5)/ff-0.5
	x, y = min(max(x, 0), float64(s.w-1)), min(max(y, 0), float64(s.h-1))
	ix, iy := min(int(x), s.w-2), min(int(y), s.h-2)
	if s.w < 2 || s.h < 2 {
		return float64(s.d[0])
	}
	fx, fy := x-float64(ix), y-float64(iy)
	d := s.d
	i := iy*s.w + ix
	return (1-fy)*((1-fx)*float64(d[i])+fx*float64(d[i+1])) + fy*((1-fx)*float64(d[i+s.w])+fx*float64(d[i+s.w+1]))
}

// fitShadow looks for a drop shadow beside the item: the item's silhouette
// shifted and blurred, times a depth, fitted by least squares to how much
// darker than the backdrop the surroundings of the item are (rel, relative
// to the backdrop's light; lowAt(i) is the low threshold there in the same
// units). A shadow so modelled also lies under the item, where it shows
// through the item's light parts; the crop takes its depth away pixel by
// pixel. The silhouette is first the item's strong pixels (strong is the
// mask's 95th percentile of rel), holes filled; it misses the item's faint
// parts, whose shadow the depth then makes up for, so the fit is repeated
// once on every pixel of the mask that is darker than the first shadow
// explains. It returns nil when the shadow is shallower than
// shadowMinDepth, or explains less than shadowMinFit of the darkening
// around the item, or less than shadowMinGain beyond the item's own soft
// edge, whose blur is rimBlur working pixels.
func fitShadow(wk *work, mask []bool, rel []float32, strong float32, lowAt func(i int) float32, rimBlur float64) *shadowField {
	w, h := wk.w, wk.h
	core := make([]bool, w*h)
	for i, on := range mask {
		core[i] = on && rel[i] >= coreFrac*strong
	}
	fillHoles(core, w, h)
	var field *shadowField
	for pass := 0; pass < 2; pass++ {
		sil := core
		if pass == 1 {
			sil = slices.Clone(core)
			for i, on := range mask {
				if on && rel[i]-field.d[i] >= lowAt(i) {
					sil[i] = true
				}
			}
			fillHoles(sil, w, h)
		}
		next := fitSilhouette(wk, sil, rel, rimBlur, pass == 0)
		if next == nil {
			return field
		}
		field = next
	}
	return field
}

// fitSilhouette fits the shadow of silhouette sil (see fitShadow).
// Only the first fit (test) must pass the thresholds; the second refines
// it.
func fitSilhouette(wk *work, sil []bool, rel []float32, rimBlur float64, test bool) *shadowField {
	w, h := wk.w, wk.h
	var cb image.Rectangle
	for i, on := range sil {
		if on {
			cb = cb.Union(image.Rect(i%w, i/w, i%w+1, i/w+1))
		}
	}
	size := float64(max(cb.Dx(), cb.Dy()))
	if size < 8 {
		return nil
	}
	// The fit's pixels: around the item, not on it.
	near := dilateN(sil, w, h, max(1, int(math.Round(shadowReach*size))))
	edge := dilateN(sil, w, h, 1)
	var fit []int32
	var rr float64
	for i := range near {
		if near[i] && !edge[i] && (i/w)%2 == 0 && (i%w)%2 == 0 { // a pixel in four is enough
			fit = append(fit, int32(i))
			rr += float64(rel[i]) * float64(rel[i])
		}
	}
	if len(fit) < 16 || rr == 0 {
		return nil
	}
	plane := make([]float32, w*h)
	for i, on := range sil {
		if on {
			plane[i] = 1
		}
	}
	// The item's own soft edge darkens its surroundings too: a rim term,
	// the silhouette blurred by rimBlur working pixels in place, is
	// fitted beside the shadow, and the shadow must explain what it
	// leaves.
	rim := gaussBlur(plane, w, h, rimBlur)
	var qq, qr float64
	for _, j := range fit {
		q := float64(rim[j])
		qq += q * q
		qr += q * float64(rel[j])
	}
	rimErr := rr
	if qq > 0 {
		e := max(qr/qq, 0)
		rimErr = rr - 2*e*qr + e*e*qq
	}
	if test && rimErr < shadowMinGain*rr {
		return nil // no shadow could explain shadowMinGain beyond the rim
	}
	// Along an axis the item spans from edge to edge, its shadow would
	// fall outside the picture: no offset is looked for there (what
	// darkens beside such an item, as in a catalog picture, is its own).
	shift := int(math.Ceil(shadowShift * size))
	shiftX, shiftY := shift, shift
	if cb.Min.X == 0 && cb.Max.X == w {
		shiftX = 0
	}
	if cb.Min.Y == 0 && cb.Max.Y == h {
		shiftY = 0
	}
	step := max(1, int(size/25))
	best := struct {
		err, depth float64
		sigma      int
		ox, oy     int
		blur       []float32
	}{err: math.Inf(1)}
	for si, sf := range shadowSigmas {
		b := gaussBlur(plane, w, h, sf*size)
		try := func(ox, oy int) {
			var sr, ss, sq float64
			for _, j := range fit {
				x, y := int(j)%w-ox, int(j)/w-oy
				if x < 0 || y < 0 || x >= w || y >= h {
					continue
				}
				s := float64(b[y*w+x])
				sr += s * float64(rel[j])
				ss += s * s
				sq += s * float64(rim[j])
			}
			if ss == 0 {
				return
			}
			// Least squares in the depth d and the rim's weight e, both
			// at least 0.
			d, e := 0.0, 0.0
			if det := ss*qq - sq*sq; test && det > 0 {
				d, e = (sr*qq-qr*sq)/det, (qr*ss-sr*sq)/det
			}
			if d <= 0 || e < 0 {
				d, e = max(sr/ss, 0), 0
			}
			d = min(d, 0.9)
			err := rr + d*d*ss + e*e*qq - 2*d*sr - 2*e*qr + 2*d*e*sq
			if err < best.err {
				best.err, best.depth, best.sigma, best.ox, best.oy, best.blur = err, d, si, ox, oy, b
			}
		}
		for oy := -shiftY; oy <= shiftY; oy += step {
			for ox := -shiftX; ox <= shiftX; ox += step {
				try(ox, oy)
			}
		}
		// Refine around the best of this softness, pixel by pixel.
		if best.sigma == si && step > 1 {
			cx, cy := best.ox, best.oy
			for oy := max(cy-step+1, -shiftY); oy < min(cy+step, shiftY+1); oy++ {
				for ox := max(cx-step+1, -shiftX); ox < min(cx+step, shiftX+1); ox++ {
					try(ox, oy)
				}
			}
		}
	}
	gain := (rimErr - best.err) / rr // the share the shadow explains beyond the rim
	if best.blur == nil || best.depth < shadowMinDepth || test && (1-best.err/rr < shadowMinFit || gain < shadowMinGain) {
		return nil
	}
	sf := &shadowField{d: make([]float32, w*h), w: w, h: h, f: wk.f}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := x-best.ox, y-best.oy
			if sx >= 0 && sy >= 0 && sx < w && sy < h {
				sf.d[y*w+x] = float32(best.depth) * best.blur[sy*w+sx]
			}
		}
	}
	return sf
}

// fillHoles sets every pixel of m (w x h) that the outside cannot reach
// through unset pixels (4-connected).
func fillHoles(m []bool, w, h int) {
	out := make([]bool, len(m))
	var stack []int32
	push := func(i int) {
		if !m[i] && !out[i] {
			out[i] = true
			stack = append(stack, int32(i))
		}
	}
	for x := 0; x < w; x++ {
		push(x)
		push((h-1)*w + x)
	}
	for y := 0; y < h; y++ {
		push(y * w)
		push(y*w + w - 1)
	}
	for len(stack) > 0 {
		i := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		x, y := i%w, i/w
		if x > 0 {
			push(i - 1)
		}
		if x < w-1 {
			push(i + 1)
		}
		if y > 0 {
			push(i - w)
		}
		if y < h-1 {
			push(i + w)
		}
	}
	for i := range m {
		m[i] = !out[i]
	}
}

// gaussBlur returns p (w x h) blurred by a Gaussian of deviation sigma
// pixels, with zero beyond the edges, as three box blurs in each direction
// (their widths as in Kovesi, "Fast almost-Gaussian filtering", 2010): in
// time independent of sigma, and close enough for a shadow's softness.
func gaussBlur(p []float32, w, h int, sigma float64) []float32 {
	const n = 3
	wl := int(math.Sqrt(12*sigma*sigma/n + 1))
	if wl%2 == 0 {
		wl--
	}
	wl = max(wl, 1)
	m := int(math.Round((12*sigma*sigma - n*float64(wl*wl) - 4*n*float64(wl) - 3*n) / (-4*float64(wl) - 4)))
	out := slices.Clone(p)
	line := make([]float32, max(w, h))
	res := make([]float32, max(w, h))
	for pass := 0; pass < n; pass++ {
		k := wl
		if pass >= m {
			k = wl + 2
		}
		r := k / 2
		for y := 0; y < h; y++ {
			boxLine(out[y*w:(y+1)*w], res[:w], r)
			copy(out[y*w:(y+1)*w], res[:w])
		}
		for x := 0; x < w; x++ {
			for y := 0; y < h; y++ {
				line[y] = out[y*w+x]
			}
			boxLine(line[:h], res[:h], r)
			for y := 0; y < h; y++ {
				out[y*w+x] = res[y]
			}
		}
	}
	return out
}

// boxLine sets dst[i] to the mean of src over [i-r, i+r], zero beyond
// src's ends.
func boxLine(src, dst []float32, r int) {
	n := len(src)
	inv := 1 / float32(2*r+1)
	var sum float32
	for j := 0; j < min(r, n); j++ {
		sum += src[j]
	}
	for i := 0; i < n; i++ {
		if j := i + r; j < n {
			sum += src[j]
		}
		if j := i - r - 1; j >= 0 {
			sum -= src[j]
		}
		dst[i] = sum * inv
	}
}

// relPlane is every working pixel's difference from the backdrop in the
// item's direction, relative to the light the backdrop reflects (see
// relative), and the 95th percentile of it over the mask.
func relPlane(sg *segmentation, diff []float32, w, h int) ([]float32, float32) {
	rel := make([]float32, w*h)
	for i := range rel {
		u, v := coords(i%w, i/w, w, h)
		b := float32(sg.backY.at(u, v))
		d, room := -diff[i], b
		if !sg.dark {
			d, room = diff[i], 1-b
		}
		rel[i] = max(d, 0) / max(room, 1.0/16)
	}
	var vals []float32
	for i, on := range sg.mask {
		if on && i%7 == 0 { // an even sample is enough for a percentile
			vals = append(vals, rel[i])
		}
	}
	if len(vals) == 0 {
		return rel, 0
	}
	slices.Sort(vals)
	return rel, vals[len(vals)*95/100]
}
