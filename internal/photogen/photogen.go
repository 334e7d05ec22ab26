// Package photogen turns Fashion-MNIST items into pictures like the ones users
// take of clothes: shop shots on white, phone photos on coloured backdrops
// under uneven light, with soft shadows, a tilt, sensor noise, blur, JPEG
// artefacts, mild textures, EXIF-rotated storage, and pictures of nothing at
// all. It is the photo benchmark's generator (see photobench_test.go in
// pkg/fmnist and testdata/gen/photos for a command that writes the pictures
// out); nothing it makes is committed.
//
// Everything is seeded: the same item, form and seed give the same bytes.
//
// # The picture model
//
// A dataset item is a darkness map a in [0,1] (its pixels over 255). The item
// is placed on the canvas by an affine map (scale, tilt, position) and
// sampled bilinearly, then composited over the backdrop like a dark object in
// a photograph: pixel = light * ((1-a) * backdrop + a * ink), where backdrop
// and ink are RGB reflectances (ink is the item's own dark colour, near black
// and possibly tinted) and light is a smooth illumination field (gradient and
// vignette). A soft shadow darkens the backdrop under an offset, blurred copy
// of the item's footprint; a texture modulates the backdrop. Then come lens
// blur, Gaussian sensor noise, 8-bit quantisation and the encoder (JPEG at a
// quality, or PNG).
package photogen

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
)

// ItemSize is the side of the dataset items Render takes.
const ItemSize = 28

// Spec describes one picture completely; Render draws it. The zero value of
// every effect means "none".
type Spec struct {
	Width, Height int        // canvas size in pixels
	Backdrop      [3]float64 // backdrop reflectance, RGB in [0,1]
	Ink           [3]float64 // the item's darkest colour, RGB in [0,1]
	Scale         float64    // the item's long edge over the canvas's short side
	CX, CY        float64    // the item's centre as a fraction of the canvas
	Angle         float64    // the item's tilt in degrees, counter-clockwise
	Gradient      [2]float64 // light change across the canvas in x and y (0.3: 30% brighter at one side)
	Vignette      float64    // light falloff at the corners (0.3: 30% darker)
	ShadowOffset  [2]float64 // shadow displacement as a fraction of the item's size
	ShadowBlur    float64    // shadow softness as a fraction of the item's size
	ShadowDepth   float64    // how much the shadow darkens the backdrop (0.3: 30%)
	Texture       float64    // backdrop texture amplitude (0.05: +-5%)
	TextureKind   int        // 0 weave, 1 grain, 2 blotches
	TextureSeed   uint64     // phase of the texture
	Blur          float64    // lens blur, Gaussian sigma in pixels
	Noise         float64    // sensor noise sigma in 8-bit levels
	NoiseSeed     uint64     // the noise's own seed
	Quality       int        // JPEG quality 1-100; 0 writes PNG
	Orientation   int        // EXIF orientation to store the pixels under (0 or 1: upright, no tag)
	BigEndianExif bool       // write the EXIF block in Motorola byte order
	Blank         bool       // draw no item at all
}

// Render draws the picture of item (ItemSize*ItemSize bytes, a light object
// on black, as in the dataset) that s describes, upright.
func Render(item []uint8, s Spec) *image.NRGBA {
	w, h := s.Width, s.Height
	n := w * h
	// Item darkness on the canvas, and its footprint for the shadow.
	dark := make([]float32, n)
	if !s.Blank {
		placeItem(dark, w, h, item, s)
	}
	light := make([]float32, n)
	for y := 0; y < h; y++ {
		fy := float64(y)/float64(max(h-1, 1)) - 0.5
		for x := 0; x < w; x++ {
			fx := float64(x)/float64(max(w-1, 1)) - 0.5
			l := 1 + s.Gradient[0]*fx + s.Gradient[1]*fy
			l *= 1 - s.Vignette*2*(fx*fx+fy*fy)
			light[y*w+x] = float32(l)
		}
	}
	back := make([]float32, n) // backdrop modulation: texture and shadow
	for i := range back {
		back[i] = 1
	}
	if s.Texture > 0 {
		addTexture(back, w, h, s)
	}
	if s.ShadowDepth > 0 && !s.Blank {
		addShadow(back, dark, w, h, s)
	}
	planes := [3][]float32{make([]float32, n), make([]float32, n), make([]float32, n)}
	for c := 0; c < 3; c++ {
		bc, ic := float32(s.Backdrop[c]), float32(s.Ink[c])
		p := planes[c]
		for i := range p {
			a := dark[i]
			p[i] = 255 * light[i] * ((1-a)*bc*back[i] + a*ic)
		}
		if s.Blur > 0 {
			gaussBlur(p, w, h, s.Blur)
		}
	}
	rng := rand.New(rand.NewPCG(s.NoiseSeed, 0x9e3779b97f4a7c15))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			v := float64(planes[c][i])
			if s.Noise > 0 {
				v += s.Noise * rng.NormFloat64()
			}
			img.Pix[4*i+c] = uint8(min(max(math.Round(v), 0), 255))
		}
		img.Pix[4*i+3] = 255
	}
	return img
}

// placeItem samples the item's darkness into dark through the inverse of the
// placement map (bilinear, zero outside the item).
func placeItem(dark []float32, w, h int, item []uint8, s Spec) {
	side := float64(min(w, h)) * s.Scale / ItemSize // canvas pixels per item pixel
	th := s.Angle * math.Pi / 180
	cos, sin := math.Cos(th), math.Sin(th)
	cx, cy := s.CX*float64(w), s.CY*float64(h)
	r := side * ItemSize * 0.75 // covers the rotated item
	x0, x1 := max(0, int(cx-r)), min(w, int(cx+r)+1)
	y0, y1 := max(0, int(cy-r)), min(h, int(cy+r)+1)
	at := func(u, v int) float64 {
		if u < 0 || v < 0 || u >= ItemSize || v >= ItemSize {
			return 0
		}
		return float64(item[v*ItemSize+u]) / 255
	}
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			// Canvas to item coordinates: undo the translation, the
			// counter-clockwise tilt (y grows downwards) and the scale.
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			u := (cos*dx-sin*dy)/side + ItemSize/2 - 0.5
			v := (sin*dx+cos*dy)/side + ItemSize/2 - 0.5
			if u < -1 || v < -1 || u > ItemSize || v > ItemSize {
				continue
			}
			iu, iv := int(math.Floor(u)), int(math.Floor(v))
			fu, fv := u-float64(iu), v-float64(iv)
			a := (1-fv)*((1-fu)*at(iu, iv)+fu*at(iu+1, iv)) + fv*((1-fu)*at(iu, iv+1)+fu*at(iu+1, iv+1))
			dark[y*w+x] = float32(a)
		}
	}
}

// addShadow darkens back under the item's footprint, offset and blurred.
func addShadow(back, dark []float32, w, h int, s Spec) {
	size := float64(min(w, h)) * s.Scale
	ox, oy := int(math.Round(s.ShadowOffset[0]*size)), int(math.Round(s.ShadowOffset[1]*size))
	fp := make([]float32, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := x-ox, y-oy
			if sx >= 0 && sy >= 0 && sx < w && sy < h && dark[sy*w+sx] > 0.02 {
				fp[y*w+x] = 1
			}
		}
	}
	gaussBlur(fp, w, h, max(1, s.ShadowBlur*size))
	d := float32(s.ShadowDepth)
	for i, f := range fp {
		back[i] *= 1 - d*f
	}
}

// addTexture multiplies back by 1 + amplitude * pattern.
func addTexture(back []float32, w, h int, s Spec) {
	rng := rand.New(rand.NewPCG(s.TextureSeed, 7))
	amp := float32(s.Texture)
	switch s.TextureKind % 3 {
	case 0: // weave: two crossed fine sinusoids
		p := 3 + 4*rng.Float64()
		ph := rng.Float64() * 2 * math.Pi
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				t := 0.5*math.Sin(2*math.Pi*float64(x)/p+ph) + 0.5*math.Sin(2*math.Pi*float64(y)/p)
				back[y*w+x] *= 1 + amp*float32(t)
			}
		}
	case 1: // wood grain: wavy stripes
		p := 8 + 16*rng.Float64()
		k := 0.01 + 0.02*rng.Float64()
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				t := math.Sin(2*math.Pi*(float64(y)+6*math.Sin(k*float64(x)))/p + 3*math.Sin(0.003*float64(x*y)/p))
				back[y*w+x] *= 1 + amp*float32(t)
			}
		}
	default: // blotches: smoothed white noise
		f := make([]float32, w*h)
		for i := range f {
			f[i] = float32(rng.NormFloat64())
		}
		sigma := 2 + 4*rng.Float64()
		gaussBlur(f, w, h, sigma)
		var ss float64
		for _, v := range f {
			ss += float64(v * v)
		}
		norm := float32(1 / math.Sqrt(ss/float64(len(f))+1e-12))
		for i, v := range f {
			back[i] *= 1 + amp*max(-1.5, min(1.5, v*norm))/1.5
		}
	}
}

// gaussBlur blurs the w x h plane p in place with a Gaussian of the given
// sigma (edges repeated): an exact separable kernel for small sigmas, three
// box passes of matching variance (Wells, 1986) for large ones.
func gaussBlur(p []float32, w, h int, sigma float64) {
	if sigma <= 3 {
		r := int(math.Ceil(3 * sigma))
		k := make([]float32, 2*r+1)
		var sum float64
		for i := -r; i <= r; i++ {
			v := math.Exp(-float64(i*i) / (2 * sigma * sigma))
			k[i+r] = float32(v)
			sum += v
		}
		for i := range k {
			k[i] /= float32(sum)
		}
		separable(p, w, h, func(src, dst []float32) {
			n := len(src)
			for x := range dst {
				var s float32
				if x >= r && x+r < n {
					win := src[x-r : x+r+1]
					for j, kj := range k {
						s += kj * win[j]
					}
				} else {
					for j := -r; j <= r; j++ {
						s += k[j+r] * src[min(max(x+j, 0), n-1)]
					}
				}
				dst[x] = s
			}
		})
		return
	}
	// Three boxes of width 2r+1 have variance 3*((2r+1)^2-1)/12 = r(r+1).
	r := max(1, int(math.Round((math.Sqrt(1+4*sigma*sigma)-1)/2)))
	for pass := 0; pass < 3; pass++ {
		separable(p, w, h, func(src, dst []float32) {
			n := len(src)
			var s float32
			for j := -r; j <= r; j++ {
				s += src[min(max(j, 0), n-1)]
			}
			inv := 1 / float32(2*r+1)
			for x := range dst {
				dst[x] = s * inv
				s += src[min(x+r+1, n-1)] - src[max(x-r, 0)]
			}
		})
	}
}

// separable runs line (src to dst) over every row, then every column, of p.
func separable(p []float32, w, h int, line func(src, dst []float32)) {
	src, dst := make([]float32, max(w, h)), make([]float32, max(w, h))
	for y := 0; y < h; y++ {
		row := p[y*w : (y+1)*w]
		copy(src, row)
		line(src[:w], dst[:w])
		copy(row, dst[:w])
	}
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			src[y] = p[y*w+x]
		}
		line(src[:h], dst[:h])
		for y := 0; y < h; y++ {
			p[y*w+x] = dst[y]
		}
	}
}

// Encode renders s (item may be nil for a blank) and encodes it as s asks:
// stored under s.Orientation with the EXIF tag that turns it upright, as
// JPEG at s.Quality or as PNG.
func Encode(item []uint8, s Spec) ([]byte, error) {
	img := Render(item, s)
	stored := image.Image(img)
	if s.Orientation > 1 {
		stored = Store(img, s.Orientation)
	}
	var b bytes.Buffer
	if s.Quality == 0 {
		if s.Orientation > 1 {
			return nil, fmt.Errorf("photogen: EXIF orientation needs JPEG")
		}
		err := png.Encode(&b, stored)
		return b.Bytes(), err
	}
	if err := jpeg.Encode(&b, stored, &jpeg.Options{Quality: s.Quality}); err != nil {
		return nil, err
	}
	if s.Orientation > 1 {
		return WithOrientation(b.Bytes(), s.Orientation, s.BigEndianExif)
	}
	return b.Bytes(), nil
}

// Store returns the pixels a camera stores for an upright picture shown
// under EXIF orientation o: the inverse of the transform o says to apply.
func Store(img *image.NRGBA, o int) *image.NRGBA {
	inv := [9]int{0, 1, 2, 3, 4, 5, 8, 7, 6} // 6 and 8 are each other's inverse; the rest self-inverse
	return Orient(img, inv[o])
}

// Orient applies EXIF orientation o (1-8) to img, as a viewer does
// (TIFF 6.0 / Exif 2.3, tag 0x0112): 2 mirror left-right, 3 turn 180,
// 4 mirror top-bottom, 5 transpose, 6 turn 90 clockwise, 7 transverse,
// 8 turn 90 counter-clockwise.
func Orient(img *image.NRGBA, o int) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			default:
				dx, dy = x, y
			}
			copy(out.Pix[out.PixOffset(dx, dy):out.PixOffset(dx, dy)+4], img.Pix[img.PixOffset(b.Min.X+x, b.Min.Y+y):])
		}
	}
	return out
}

// WithOrientation inserts an APP1 Exif segment holding one IFD0 entry,
// Orientation = o, right after the JPEG's SOI marker.
func WithOrientation(jpg []byte, o int, bigEndian bool) ([]byte, error) {
	if len(jpg) < 2 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		return nil, fmt.Errorf("photogen: not a JPEG")
	}
	var t []byte
	put16 := func(v uint16) {
		if bigEndian {
			t = append(t, byte(v>>8), byte(v))
		} else {
			t = append(t, byte(v), byte(v>>8))
		}
	}
	put32 := func(v uint32) {
		if bigEndian {
			t = append(t, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		} else {
			t = append(t, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
	}
	if bigEndian {
		t = append(t, 'M', 'M')
	} else {
		t = append(t, 'I', 'I')
	}
	put16(42)
	put32(8) // IFD0 right after the header
	put16(1) // one entry
	put16(0x0112)
	put16(3) // SHORT
	put32(1)
	put16(uint16(o))
	put16(0)
	put32(0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), t...)
	out := make([]byte, 0, len(jpg)+len(seg)+4)
	out = append(out, 0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...), nil
}

// Gray returns the dataset item as an image.
func Gray(item []uint8) *image.Gray {
	return &image.Gray{Pix: item, Stride: ItemSize, Rect: image.Rect(0, 0, ItemSize, ItemSize)}
}
