package fmnist

import (
	"image"
	"math"
	"slices"
)

// The constants of the foreground search; pkg/fmnist/doc.go says where each
// comes from.
const (
	// workMax is the long side of the working copy the item is searched on.
	workMax = 192
	// ringFrac is the width of the border ring the backdrop is modelled
	// from, as a fraction of the working copy's short side.
	ringFrac = 0.03
	// noiseK scales the median absolute deviation of the ring's distances
	// from the backdrop model into the low threshold.
	noiseK = 8
	// lowFloor is the least low threshold, in luma units (0..1): 6/255.
	lowFloor = 6.0 / 255
	// highK and highFloor make the high threshold: a region is an item only
	// if some pixel of it stands out by highK times the low threshold and
	// by highFloor (30/255) at least.
	highK     = 3
	highFloor = 30.0 / 255
	// thinK bounds the distance of the faint pixels of thin lines that the
	// opening removes, in low thresholds.
	thinK = 2
	// minAreaFrac is the least area of an item, as a fraction of the
	// working copy (and at least minArea pixels).
	minAreaFrac = 0.002
	minArea     = 6
	// keepMass and keepGap decide which further regions join the largest:
	// those with at least keepMass of its mass lying within keepGap of its
	// size from its box.
	keepMass = 0.05
	keepGap  = 0.25
	// coreFrac and coreGrow decide which faint outskirts of the item are a
	// shadow (see trimShadow).
	coreFrac   = 0.45
	coreGrow   = 0.05
	shadowFill = 0.5
	shadowSoft = 1.4
	// maxFit bounds the ring pixels the backdrop model is fitted to (an
	// even spread of them: a few thousand determine six coefficients to
	// well below a level).
	maxFit = 2048
	// minCurved is the shortest side of a working copy whose backdrop may
	// be modelled as curved.
	minCurved = 48
	// MinSide is the shortest side an image can have and still show an
	// item.
	MinSide = 8
)

// work is the working copy of an image the item is searched on: luma and,
// for colour images, chroma, each averaged over f x f blocks of the source
// (blocks at the right and bottom edges may be partial), in [0,1] for luma and
// [-1/2,1/2] for chroma.
type work struct {
	w, h, f int
	y       []float32
	cb, cr  []float32 // nil for gray images
}

// workFactor is the block size that brings the long side to workMax or less.
func workFactor(w, h int) int { return max(1, (max(w, h)+workMax-1)/workMax) }

// newWork averages the 16-bit luma plane y (w x h) into f x f blocks, and,
// when img has colour and chroma is true, its chroma too.
func newWork(y []uint16, w, h int, img image.Image, chroma bool) *work {
	f := workFactor(w, h)
	ww, wh := (w+f-1)/f, (h+f-1)/f
	wk := &work{w: ww, h: wh, f: f, y: make([]float32, ww*wh)}
	sums := make([]uint64, ww)
	col := make([]int32, w) // each source column's block
	for x := range col {
		col[x] = int32(x / f)
	}
	for by := 0; by < wh; by++ {
		clear(sums)
		y0, y1 := by*f, min((by+1)*f, h)
		for sy := y0; sy < y1; sy++ {
			for x, v := range y[sy*w : (sy+1)*w] {
				sums[col[x]] += uint64(v)
			}
		}
		for bx, s := range sums {
			n := (y1 - y0) * (min((bx+1)*f, w) - bx*f)
			wk.y[by*ww+bx] = float32(float64(s) / float64(n) / 65535)
		}
	}
	if chroma {
		wk.cb, wk.cr = chromaOf(img, f, ww, wh)
	}
	return wk
}

// chromaOf averages img's chroma (BT.601 Cb and Cr, in [-1/2,1/2]) into
// f x f blocks; it returns nils for an image without colour.
func chromaOf(img image.Image, f, ww, wh int) (cb, cr []float32) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cb, cr = make([]float32, ww*wh), make([]float32, ww*wh)
	cnt := make([]float32, ww*wh)
	colour := false
	if m, ok := img.(*image.YCbCr); ok {
		// Straight from the chroma planes: sample (cx, cy) covers the sx x sy
		// source pixels from (cx*sx, cy*sy) and counts in every block one of
		// them falls in, so every block holds the samples of its pixels.
		sx, sy := 1, 1
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio422:
			sx = 2
		case image.YCbCrSubsampleRatio420:
			sx, sy = 2, 2
		case image.YCbCrSubsampleRatio440:
			sy = 2
		case image.YCbCrSubsampleRatio411:
			sx = 4
		case image.YCbCrSubsampleRatio410:
			sx, sy = 4, 2
		}
		x0, y0 := b.Min.X/sx, b.Min.Y/sy
		cw, ch := (b.Max.X+sx-1)/sx-x0, (b.Max.Y+sy-1)/sy-y0
		// blocks returns the first and last block (of n) that sample c's
		// pixels (s of them from c*s, the picture starting at lo) fall in.
		blocks := func(c, s, lo, size, n int) (int, int) {
			p0, p1 := max(c*s-lo, 0), min(c*s+s-1-lo, size-1)
			return min(p0/f, n-1), min(p1/f, n-1)
		}
		su, sv, sn := make([]uint32, ww*wh), make([]uint32, ww*wh), make([]uint32, ww*wh)
		var or uint8 // any sample off grey sets a bit
		for cy := 0; cy < ch; cy++ {
			by0, by1 := blocks(cy+y0, sy, b.Min.Y, h, wh)
			off := (cy+y0-m.Rect.Min.Y/sy)*m.CStride - m.Rect.Min.X/sx
			us, vs := m.Cb[off+x0:off+x0+cw], m.Cr[off+x0:off+x0+cw:off+x0+cw]
			vs = vs[:len(us)]
			for cx, u := range us {
				v := vs[cx]
				or |= (u ^ 128) | (v ^ 128)
				bx0, bx1 := blocks(cx+x0, sx, b.Min.X, w, ww)
				for by := by0; by <= by1; by++ {
					for bx := bx0; bx <= bx1; bx++ {
						i := by*ww + bx
						su[i] += uint32(u)
						sv[i] += uint32(v)
						sn[i]++
					}
				}
			}
		}
		if or == 0 {
			return nil, nil
		}
		for i := range cb {
			n := float32(sn[i])
			cb[i] = (float32(su[i])/n - 128) / 255
			cr[i] = (float32(sv[i])/n - 128) / 255
		}
		return cb, cr
	}
	add := func(x, y int, u, v float32) {
		i := (y/f)*ww + x/f
		cb[i] += u
		cr[i] += v
		cnt[i]++
	}
	fromRGB := func(r, g, bl float32) (float32, float32) { // r, g, b in [0,1]
		return -0.168736*r - 0.331264*g + 0.5*bl, 0.5*r - 0.418688*g - 0.081312*bl
	}
	switch m := img.(type) {
	case *image.Gray, *image.Gray16:
		return nil, nil
	case *image.NRGBA, *image.RGBA: // the same 8-bit R, G, B, A layout (opaque here)
		pix, stride := rgbaPix(m, b)
		for y := 0; y < h; y++ {
			row := pix[y*stride:]
			for x := 0; x < w; x++ {
				s := row[4*x : 4*x+3 : 4*x+3]
				if s[0] != s[1] || s[1] != s[2] {
					colour = true
				}
				u, v := fromRGB(float32(s[0])/255, float32(s[1])/255, float32(s[2])/255)
				add(x, y, u, v)
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				if r != g || g != bl {
					colour = true
				}
				u, v := fromRGB(float32(r)/65535, float32(g)/65535, float32(bl)/65535)
				add(x, y, u, v)
			}
		}
	}
	if !colour {
		return nil, nil
	}
	for i := range cb {
		cb[i] /= cnt[i]
		cr[i] /= cnt[i]
	}
	return cb, cr
}

// rgbaPix returns the pixels of an NRGBA or RGBA image from b's corner, and
// the row stride.
func rgbaPix(img image.Image, b image.Rectangle) ([]uint8, int) {
	switch m := img.(type) {
	case *image.NRGBA:
		return m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.RGBA:
		return m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	}
	return nil, 0
}

// blur3 smooths the w x h plane p with the 3x3 binomial kernel (edges
// repeated), in place.
func blur3(p []float32, w, h int) {
	if w < 2 || h < 2 {
		return
	}
	tmp := make([]float32, len(p))
	for y := 0; y < h; y++ {
		row := p[y*w : (y+1)*w]
		out := tmp[y*w : (y+1)*w]
		for x := range row {
			out[x] = (row[max(x-1, 0)] + 2*row[x] + row[min(x+1, w-1)]) / 4
		}
	}
	for y := 0; y < h; y++ {
		up, mid, dn := tmp[max(y-1, 0)*w:], tmp[y*w:], tmp[min(y+1, h-1)*w:]
		out := p[y*w : (y+1)*w]
		for x := range out {
			out[x] = (up[x] + 2*mid[x] + dn[x]) / 4
		}
	}
}

// surface is a quadratic c0 + c1 u + c2 v + c3 u^2 + c4 uv + c5 v^2 over the
// working copy, with u and v its coordinates mapped to [-1,1].
type surface [6]float64

func (s *surface) at(u, v float64) float64 {
	return s[0] + s[1]*u + s[2]*v + s[3]*u*u + s[4]*u*v + s[5]*v*v
}

// along fills dst with the surface at (us[i], v) and returns it.
func (s *surface) along(v float64, us, dst []float64) []float64 {
	a, b := s[0]+s[2]*v+s[5]*v*v, s[1]+s[4]*v
	for i, u := range us {
		dst[i] = a + (b+s[3]*u)*u
	}
	return dst
}

// coords maps working pixel (x, y) of a w x h copy to [-1,1]^2.
func coords(x, y, w, h int) (float64, float64) {
	return (2*float64(x)+1)/float64(w) - 1, (2*float64(y)+1)/float64(h) - 1
}

// ring returns the indices of the border ring of a w x h plane, k pixels
// wide, in scanning order.
func ring(w, h, k int) []int32 {
	var idx []int32
	forRing(w, h, k, func(i int) { idx = append(idx, int32(i)) })
	return idx
}

func median32(v []float32) float32 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// mad returns the median absolute deviation of v from m.
func mad(v []float32, m float32) float32 {
	d := make([]float32, len(v))
	for i, x := range v {
		d[i] = float32(math.Abs(float64(x - m)))
	}
	return median32(d)
}

// fitSurface models plane p (w x h) over the ring pixels idx, robustly.
// The constant model is the densest level (see densest): the median when most
// of the ring is backdrop, and still the backdrop's level when an item spread
// over many levels covers more. The quadratic is fitted by least squares to
// the whole ring, then three times more to the pixels within 2.5 robust
// deviations of the previous fit (and within tol0, three times the ring's
// noise and at least 2/255), so that a lighting gradient is followed from the
// start and an item covering part of the ring is trimmed away. The quadratic
// is kept only when a tenth more ring pixels agree with it than with the
// constant within tol0, or, when neither model explains half the ring within
// tol0 (a texture), within 2.5 deviations of the quadratic's residuals: a
// flat backdrop keeps its exact level, an item covering the ring cannot bend
// the model; a ring a quarter of which repeats one level exactly (a
// rendered picture, a clipped white) is flat. It returns the model and the
// ring pixels agreeing with it. A copy under minCurved pixels a side is too
// small for a lighting gradient to show, and its ring (a pixel or two wide)
// is mostly item when the item touches the border: it is flat.
func fitSurface(p []float32, w, h int, idx []int32, noise float32) (surface, []int32) {
	vals := make([]float32, len(idx))
	for i, j := range idx {
		vals[i] = p[j]
	}
	tol0 := max(3*noise, 2.0/255)
	m := densest(vals, tol0)
	flat := surface{float64(m)}
	resid := func(s *surface) []float32 {
		r := make([]float32, len(idx))
		for i, j := range idx {
			u, v := coords(int(j)%w, int(j)/w, w, h)
			r[i] = p[j] - float32(s.at(u, v))
		}
		return r
	}
	agree := func(r []float32, tol float32) []int32 {
		var in []int32
		for i, d := range r {
			if d <= tol && d >= -tol {
				in = append(in, idx[i])
			}
		}
		return in
	}
	exact := 0 // a rendered or clipped backdrop repeats one level exactly
	for _, v := range vals {
		if v == m {
			exact++
		}
	}
	q, ok := leastSquares(p, w, h, idx, 6)
	if !ok || min(w, h) < minCurved || 4*exact >= len(idx) {
		return flat, agree(resid(&flat), tol0)
	}
	var scale float32
	for range 3 {
		r := resid(&q)
		scale = 1.4826 * mad(r, 0)
		in := agree(r, max(2.5*scale, tol0))
		if len(in) < 12 {
			break
		}
		if s, ok := leastSquares(p, w, h, in, 6); ok {
			q = s
		}
	}
	rq, rc := resid(&q), resid(&flat)
	inQ, inC := agree(rq, tol0), agree(rc, tol0)
	switch {
	case float64(len(inQ)) > 1.1*float64(len(inC)):
		return q, inQ
	case 2*len(inC) >= len(idx):
		return flat, inC
	}
	// Neither explains half the ring within the noise (a texture): compare
	// within the quadratic's own spread.
	tol := max(tol0, 2.5*1.4826*mad(rq, 0))
	if inQ, inC = agree(rq, tol), agree(rc, tol); float64(len(inQ)) > 1.1*float64(len(inC)) {
		return q, inQ
	}
	return flat, inC
}

// densest returns the level most values lie near: the median of the values
// within tol of the fullest window of width 3 tol. It is the median when most
// values are the backdrop, and still the backdrop's level when an item
// covers more than half of the ring but spreads over many levels.
func densest(vals []float32, tol float32) float32 {
	s := slices.Clone(vals)
	slices.Sort(s)
	best, bi, bj := -1, 0, 0
	j := 0
	for i := range s {
		for j < len(s) && s[j] <= s[i]+3*tol {
			j++
		}
		if j-i > best {
			best, bi, bj = j-i, i, j
		}
	}
	return s[bi+(bj-bi)/2]
}

// ringNoise estimates the noise of plane p along the ring pixels idx (in
// scanning order): the median absolute difference of consecutive pixels,
// scaled to a Gaussian's deviation (1.4826 / sqrt 2).
func ringNoise(p []float32, idx []int32) float32 {
	if len(idx) < 2 {
		return 0
	}
	step := max(1, (len(idx)-1)/maxFit)
	d := make([]float32, 0, (len(idx)-1)/step+1)
	for i := 0; i+1 < len(idx); i += step {
		d = append(d, float32(math.Abs(float64(p[idx[i+1]]-p[idx[i]]))))
	}
	return 1.0484 * median32(d)
}

// strided returns every n-th element of idx, at most max of them, evenly
// spread.
func strided(idx []int32, max int) []int32 {
	if len(idx) <= max {
		return idx
	}
	out := make([]int32, max)
	for i := range out {
		out[i] = idx[i*len(idx)/max]
	}
	return out
}

// leastSquares fits the first terms (3 or 6) of a surface to p over idx.
func leastSquares(p []float32, w, h int, idx []int32, terms int) (surface, bool) {
	var a [6][7]float64
	for _, j := range idx {
		u, v := coords(int(j)%w, int(j)/w, w, h)
		basis := [6]float64{1, u, v, u * u, u * v, v * v}
		for r := 0; r < terms; r++ {
			for c := 0; c < terms; c++ {
				a[r][c] += basis[r] * basis[c]
			}
			a[r][terms] += basis[r] * float64(p[j])
		}
	}
	// Gaussian elimination with partial pivoting.
	for c := 0; c < terms; c++ {
		piv := c
		for r := c + 1; r < terms; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		if math.Abs(a[piv][c]) < 1e-9 {
			return surface{}, false
		}
		a[c], a[piv] = a[piv], a[c]
		for r := 0; r < terms; r++ {
			if r == c {
				continue
			}
			k := a[r][c] / a[c][c]
			for cc := c; cc <= terms; cc++ {
				a[r][cc] -= k * a[c][cc]
			}
		}
	}
	var s surface
	for r := 0; r < terms; r++ {
		s[r] = a[r][terms] / a[r][r]
	}
	return s, true
}

// segmentation is what the foreground search found.
type segmentation struct {
	backY, backCb, backCr surface // the backdrop model, per channel
	mask                  []bool  // the item's pixels on the working copy
	box                   image.Rectangle
	dark                  bool         // the item is darker than its backdrop
	shadow                float32      // the depth of a shadow beside the item (relative difference), 0 if none
	field                 *shadowField // a drop shadow's depth, where the shadow model found one (then shadow is 0)
	reason                string       // non-empty: no item
}

// segment finds the item on the working copy: models the backdrop from the
// border ring, measures every pixel's distance from it, thresholds with
// hysteresis, closes small gaps and keeps the main region and its near
// neighbours.
func segment(wk *work) *segmentation {
	w, h := wk.w, wk.h
	sg := &segmentation{}
	blur3(wk.y, w, h)
	if wk.cb != nil {
		blur3(wk.cb, w, h)
		blur3(wk.cr, w, h)
	}
	k := max(1, int(math.Round(ringFrac*float64(min(w, h)))))
	idx := ring(w, h, k)
	fit := strided(idx, maxFit)
	var in []int32
	sg.backY, in = fitSurface(wk.y, w, h, fit, ringNoise(wk.y, idx))
	if wk.cb != nil {
		sg.backCb, _ = fitSurface(wk.cb, w, h, in, ringNoise(wk.cb, idx))
		sg.backCr, _ = fitSurface(wk.cr, w, h, in, ringNoise(wk.cr, idx))
	}
	// Distances from the backdrop, and the signed luma difference.
	dist := make([]float32, w*h)
	diff := make([]float32, w*h)
	us := make([]float64, w) // each column's coordinate
	for x := range us {
		us[x], _ = coords(x, 0, w, h)
	}
	by, bcb, bcr := make([]float64, w), make([]float64, w), make([]float64, w)
	for y := 0; y < h; y++ {
		_, v := coords(0, y, w, h)
		sg.backY.along(v, us, by)
		if wk.cb != nil {
			sg.backCb.along(v, us, bcb)
			sg.backCr.along(v, us, bcr)
		}
		for x := 0; x < w; x++ {
			i := y*w + x
			dy := wk.y[i] - float32(by[x])
			d2 := dy * dy
			if wk.cb != nil {
				du, dv := wk.cb[i]-float32(bcb[x]), wk.cr[i]-float32(bcr[x])
				d2 += du*du + dv*dv
			}
			dist[i] = float32(math.Sqrt(float64(d2)))
			diff[i] = dy
		}
	}
	rd := make([]float32, len(in))
	for i, j := range in {
		rd[i] = dist[j]
	}
	med := median32(rd)
	low := max(lowFloor, med+noiseK*mad(rd, med))
	high := max(highFloor, highK*low)

	fg := make([]bool, w*h)
	for i, d := range dist {
		fg[i] = d >= low
	}
	fg = closeMask(fg, w, h)
	// Thin, faint lines reaching out of the item are the backdrop's
	// texture (wood grain, a weave's ridge) joined to it: a 3x3 opening
	// takes those of the faint pixels off; a strap or handle is darker.
	opened := dilateN(erode(fg, w, h), w, h, 1)
	for i, on := range fg {
		if on && !opened[i] && dist[i] < thinK*low {
			fg[i] = false
		}
	}
	labels := labelMask(fg, w, h)
	comps := components(labels, dist, w)
	minA := max(minArea, int(minAreaFrac*float64(w*h)))
	main := -1
	for i, c := range comps {
		if c.peak >= high && c.area >= minA && (main < 0 || c.mass > comps[main].mass) {
			main = i
		}
	}
	if main < 0 {
		sg.reason = "nothing in the picture stands out from its backdrop"
		if len(comps) > 0 {
			sg.reason = "only faint or tiny marks stand out from its backdrop"
		}
		return sg
	}
	mb := comps[main].box
	gap := int(math.Ceil(keepGap * float64(max(mb.Dx(), mb.Dy()))))
	near := mb.Inset(-gap)
	keep := make([]bool, len(comps))
	box := image.Rectangle{}
	for i, c := range comps {
		if i == main || (c.peak >= high && c.mass >= keepMass*comps[main].mass && c.box.Overlaps(near)) {
			keep[i] = true
			box = box.Union(c.box)
		}
	}
	sg.mask = make([]bool, w*h)
	var sum float64
	var n int
	for i, l := range labels {
		if l >= 0 && keep[l] {
			sg.mask[i] = true
			sum += float64(diff[i])
			n++
		}
	}
	sg.box = box
	sg.dark = sum < 0
	// Shadows are cut from photographs, where the item spans many source
	// pixels an output pixel; a small picture's faint outskirts are its own.
	if long := max(box.Dx(), box.Dy()) * wk.f; long >= shadowMin*Size {
		rel, strong := relPlane(sg, diff, w, h)
		lowAt := func(i int) float32 { // the low threshold relative to the backdrop's light
			u, v := coords(i%w, i/w, w, h)
			room := float32(sg.backY.at(u, v))
			if !sg.dark {
				room = 1 - room
			}
			return low / max(room, 1.0/16)
		}
		rimBlur := max(shadowRim, shadowRimOut*float64(long)/Size/float64(wk.f))
		if sg.field = fitShadow(wk, sg.mask, rel, strong, lowAt, rimBlur); sg.field != nil {
			sg.dropShadow(rel, strong, low)
		} else if long >= refineMin*Size {
			sg.trimShadow(wk, rel, strong)
		}
	}
	return sg
}

// dropShadow takes the pixels that the shadow field explains off the mask:
// those, beyond the item's strong pixels and their rim, that are darker
// than the shadow there by less than the low threshold (in luma units).
// What is left and not joined to the item's strong pixels goes too.
func (sg *segmentation) dropShadow(rel []float32, strong float32, low float32) {
	w, h := sg.field.w, sg.field.h
	core := make([]bool, w*h)
	for i, on := range sg.mask {
		core[i] = on && rel[i] >= coreFrac*strong
	}
	rim := dilateN(core, w, h, 1)
	for i, on := range sg.mask {
		if !on || rim[i] {
			continue
		}
		u, v := coords(i%w, i/w, w, h)
		room := float32(sg.backY.at(u, v))
		if !sg.dark {
			room = 1 - room
		}
		if (rel[i]-(1+shadowSlack)*sg.field.d[i])*max(room, 1.0/16) < low {
			sg.mask[i] = false
		}
	}
	labels := labelMask(sg.mask, w, h)
	joined := map[int32]bool{}
	for i, l := range labels {
		if l >= 0 && core[i] {
			joined[l] = true
		}
	}
	box := image.Rectangle{}
	for i, l := range labels {
		if l >= 0 && !joined[l] {
			sg.mask[i] = false
		}
		if sg.mask[i] {
			box = box.Union(image.Rect(i%w, i/w, i%w+1, i/w+1))
		}
	}
	sg.box = box
}

// trimShadow cuts a soft shadow off the mask. A shadow darkens the
// backdrop by a fraction of what the item does, and falls beside it: it
// widens the mask beyond the box of the item's strong pixels (those
// differing from the backdrop by coreFrac of the 95th percentile of the
// mask's relative differences, or more) on one side, or two adjacent ones,
// as a solid band. So a side is cut back to that box (grown by coreGrow of
// its size) when the mask reaches beyond it there, not on the opposite
// side, and fills at least shadowFill of the band. The faint parts of an
// item reach out on opposite sides (light fabric around a dark print) or
// thinly (a bag's handle, a sandal's strap) and stay.
func (sg *segmentation) trimShadow(wk *work, rel []float32, strong float32) {
	w := wk.w
	if strong == 0 {
		return
	}
	cb := image.Rectangle{}
	for i, on := range sg.mask {
		if on && rel[i] >= coreFrac*strong {
			cb = cb.Union(image.Rect(i%w, i/w, i%w+1, i/w+1))
		}
	}
	mb := sg.box
	grow := max(2, int(math.Round(coreGrow*float64(max(cb.Dx(), cb.Dy())))))
	// How far the mask reaches beyond the strong box: left, top, right, bottom.
	reach := [4]int{cb.Min.X - mb.Min.X, cb.Min.Y - mb.Min.Y, mb.Max.X - cb.Max.X, mb.Max.Y - cb.Max.Y}
	bands := [4]image.Rectangle{
		image.Rect(mb.Min.X, cb.Min.Y, cb.Min.X, cb.Max.Y), image.Rect(cb.Min.X, mb.Min.Y, cb.Max.X, cb.Min.Y),
		image.Rect(cb.Max.X, cb.Min.Y, mb.Max.X, cb.Max.Y), image.Rect(cb.Min.X, cb.Max.Y, cb.Max.X, mb.Max.Y),
	}
	keep := mb
	cut := false
	var levels []float32 // the shadow's depth in its bands
	for s := 0; s < 4; s++ {
		if reach[s] <= grow || reach[(s+2)%4] > grow {
			continue
		}
		band, on := bands[s], 0
		for y := band.Min.Y; y < band.Max.Y; y++ {
			for x := band.Min.X; x < band.Max.X; x++ {
				if sg.mask[y*w+x] {
					on++
				}
			}
		}
		if float64(on) < shadowFill*float64(band.Dx()*band.Dy()) || !softEdge(rel, w, band, s, float64(max(cb.Dx(), cb.Dy()))/Size) {
			continue
		}
		cut = true
		for y := band.Min.Y; y < band.Max.Y; y++ {
			for x := band.Min.X; x < band.Max.X; x++ {
				if sg.mask[y*w+x] {
					levels = append(levels, rel[y*w+x])
				}
			}
		}
		switch s {
		case 0:
			keep.Min.X = cb.Min.X - grow
		case 1:
			keep.Min.Y = cb.Min.Y - grow
		case 2:
			keep.Max.X = cb.Max.X + grow
		case 3:
			keep.Max.Y = cb.Max.Y + grow
		}
	}
	if !cut {
		return
	}
	// The shadow also falls beside the item within its box (between legs
	// and sleeves, under straps): the crop takes away its depth.
	slices.Sort(levels)
	sg.shadow = min(levels[len(levels)*9/10], coreFrac*strong)
	box := image.Rectangle{}
	for i, on := range sg.mask {
		if on && !image.Pt(i%w, i/w).In(keep) {
			sg.mask[i] = false
		}
		if sg.mask[i] {
			box = box.Union(image.Rect(i%w, i/w, i%w+1, i/w+1))
		}
	}
	sg.box = box
}

// softEdge tells whether the band beyond side s (0 left, 1 top, 2 right, 3
// bottom) of the item's strong box fades out softly, as a shadow does: its
// mean relative difference, going outward, falls from 80% to 20% of its level
// at the box over at least shadowSoft item pixels (px working pixels each).
// An item's own edge falls within a fraction of one (a sharp photograph, or
// an interpolated pixel); a soft shadow's over its blur, several.
func softEdge(rel []float32, w int, band image.Rectangle, s int, px float64) bool {
	n := band.Dx()
	if s == 1 || s == 3 {
		n = band.Dy()
	}
	prof := make([]float64, n) // the mean across the band at each distance from the box
	for t := 0; t < n; t++ {
		var sum float64
		var cnt int
		switch s {
		case 0, 2:
			x := band.Max.X - 1 - t
			if s == 2 {
				x = band.Min.X + t
			}
			for y := band.Min.Y; y < band.Max.Y; y++ {
				sum += float64(rel[y*w+x])
				cnt++
			}
		default:
			y := band.Max.Y - 1 - t
			if s == 3 {
				y = band.Min.Y + t
			}
			for x := band.Min.X; x < band.Max.X; x++ {
				sum += float64(rel[y*w+x])
				cnt++
			}
		}
		prof[t] = sum / float64(max(cnt, 1))
	}
	if n == 0 || prof[0] <= 0 {
		return false
	}
	t80, t20 := -1, n
	for t, p := range prof {
		if t80 < 0 && p <= 0.8*prof[0] {
			t80 = t
		}
		if p <= 0.2*prof[0] {
			t20 = t
			break
		}
	}
	return t80 >= 0 && float64(t20-t80) >= shadowSoft*px
}

// component is one connected region of the foreground.
type component struct {
	area       int
	peak, mass float32 // the largest distance, and the sum of distances
	box        image.Rectangle
}

// labelMask labels the 8-connected regions of m (w x h) 0, 1, ... in
// scanning order; -1 marks the background.
func labelMask(m []bool, w, h int) []int32 {
	lab := make([]int32, len(m))
	for i := range lab {
		lab[i] = -1
	}
	var n int32
	var stack []int32
	for i, on := range m {
		if !on || lab[i] >= 0 {
			continue
		}
		lab[i] = n
		stack = append(stack[:0], int32(i))
		for len(stack) > 0 {
			j := int(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			x, y := j%w, j/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					k := ny*w + nx
					if m[k] && lab[k] < 0 {
						lab[k] = n
						stack = append(stack, int32(k))
					}
				}
			}
		}
		n++
	}
	return lab
}

// components measures the regions labelMask labelled.
func components(lab []int32, dist []float32, w int) []component {
	var cs []component
	for i, l := range lab {
		if l < 0 {
			continue
		}
		for int(l) >= len(cs) {
			cs = append(cs, component{})
		}
		c := &cs[l]
		x, y := i%w, i/w
		px := image.Rect(x, y, x+1, y+1)
		if c.area == 0 {
			c.box = px
		} else {
			c.box = c.box.Union(px)
		}
		c.area++
		c.peak = max(c.peak, dist[i])
		c.mass += dist[i]
	}
	return cs
}

// closeMask closes m with a 3x3 square: dilation then erosion, which joins
// regions one or two pixels apart and fills pinholes. Pixels outside the
// image count as background for the dilation and as foreground for the
// erosion, so closing never shrinks the mask at the border.
func closeMask(m []bool, w, h int) []bool {
	return erode(dilateN(m, w, h, 1), w, h)
}

// erode shrinks m with a 3x3 square (pixels outside the image count as
// set), as a row pass and a column pass (a square is separable).
func erode(m []bool, w, h int) []bool {
	tmp := make([]bool, len(m))
	out := make([]bool, len(m))
	for y := 0; y < h; y++ {
		r, t := m[y*w:(y+1)*w], tmp[y*w:(y+1)*w]
		for x := range r {
			t[x] = r[x] && (x == 0 || r[x-1]) && (x+1 == w || r[x+1])
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			out[i] = tmp[i] && (y == 0 || tmp[i-w]) && (y+1 == h || tmp[i+w])
		}
	}
	return out
}
