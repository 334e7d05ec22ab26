package photogen

import (
	"math"
	"math/rand/v2"
)

// Form names a kind of picture: one effect on top of a plain base (a
// near-white backdrop, the item upright and whole, JPEG quality 92), or all
// of them at once (Phone).
type Form string

// The forms of the photo benchmark.
const (
	Shop      Form = "shop"       // dark item on white, 1000x1000, tinted, off-centre, JPEG 90 (a web shop)
	ShopNoise Form = "shop-noise" // Shop with sensor noise sigma 3-8
	Backdrop  Form = "backdrop"   // a coloured backdrop
	Gradient  Form = "gradient"   // uneven light: a gradient up to 40% and a vignette up to 30%
	Shadow    Form = "shadow"     // a soft drop shadow, 20-50% deep
	Rotate    Form = "rotate"     // tilted up to 15 degrees
	Scale     Form = "scale"      // 20-90% of the frame, anywhere in it
	Noise     Form = "noise"      // sensor noise sigma 2-10
	Blur      Form = "blur"       // lens blur sigma 0.5-2.5 pixels
	JPEG      Form = "jpeg"       // JPEG quality 70-95
	Texture   Form = "texture"    // a mildly textured backdrop (weave, grain, blotches; 3-8%)
	Phone     Form = "phone"      // everything above at once, as a phone photo on a table
	Exif      Form = "exif"       // Phone, stored rotated or mirrored with the EXIF tag that undoes it
)

// Forms lists every item form, in the benchmark's order.
var Forms = []Form{Shop, ShopNoise, Backdrop, Gradient, Shadow, Rotate, Scale, Noise, Blur, JPEG, Texture, Phone, Exif}

// BlankKind names a kind of picture with no item.
type BlankKind string

// The blank pictures.
const (
	BlankFlat     BlankKind = "flat"     // one colour, white and black included
	BlankGradient BlankKind = "gradient" // a colour under a strong light gradient and vignette
	BlankTexture  BlankKind = "texture"  // a textured surface
	BlankNoise    BlankKind = "noise"    // pure noise, uniform or Gaussian
	BlankTiny     BlankKind = "tiny"     // 1x1 to 6x6 pixels
	BlankTable    BlankKind = "table"    // a phone photo of an empty table: everything Phone has but the item
)

// BlankKinds lists every blank kind.
var BlankKinds = []BlankKind{BlankFlat, BlankGradient, BlankTexture, BlankNoise, BlankTiny, BlankTable}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// canvas draws a phone-like frame size: 480-1024 pixels on the long side, 4:3, 3:4 or square.
func canvas(r *rand.Rand) (int, int) {
	long := 480 + r.IntN(545)
	switch r.IntN(3) {
	case 0:
		return long, long * 3 / 4
	case 1:
		return long * 3 / 4, long
	}
	return long, long
}

// colour draws a backdrop colour: hue anywhere, saturation 0.2-0.7, value 0.45-0.95.
func colour(r *rand.Rand) [3]float64 {
	return hsv(r.Float64()*360, uniform(r, 0.2, 0.7), uniform(r, 0.45, 0.95))
}

func hsv(hue, s, v float64) [3]float64 {
	c := v * s
	hp := hue / 60
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var rgb [3]float64
	switch int(hp) % 6 {
	case 0:
		rgb = [3]float64{c, x, 0}
	case 1:
		rgb = [3]float64{x, c, 0}
	case 2:
		rgb = [3]float64{0, c, x}
	case 3:
		rgb = [3]float64{0, x, c}
	case 4:
		rgb = [3]float64{x, 0, c}
	default:
		rgb = [3]float64{c, 0, x}
	}
	m := v - c
	return [3]float64{rgb[0] + m, rgb[1] + m, rgb[2] + m}
}

// ink draws the item's dark colour: near black, sometimes tinted.
func ink(r *rand.Rand, tint bool) [3]float64 {
	k := uniform(r, 0, 0.12)
	if !tint {
		return [3]float64{k, k, k}
	}
	t := hsv(r.Float64()*360, uniform(r, 0.3, 0.9), uniform(r, 0.1, 0.35))
	return [3]float64{k + t[0], k + t[1], k + t[2]}
}

// place sets a random centre that keeps the item (tilted by s.Angle) inside
// the frame with a small margin, within slack of the middle.
func place(r *rand.Rand, s *Spec, slack float64) {
	short := float64(min(s.Width, s.Height))
	th := math.Abs(s.Angle) * math.Pi / 180
	half := s.Scale * short / 2 * (math.Cos(th) + math.Sin(th)) // half the tilted square's extent
	mx := max(0, 0.5-(half+0.02*short)/float64(s.Width))
	my := max(0, 0.5-(half+0.02*short)/float64(s.Height))
	s.CX = 0.5 + uniform(r, -1, 1)*min(mx, slack)
	s.CY = 0.5 + uniform(r, -1, 1)*min(my, slack)
}

// base is the plain picture the single-effect forms start from.
func base(r *rand.Rand) Spec {
	w, h := canvas(r)
	g := uniform(r, 0.9, 1)
	s := Spec{
		Width: w, Height: h,
		Backdrop: [3]float64{g, g, g},
		Ink:      ink(r, r.IntN(2) == 0),
		Scale:    uniform(r, 0.55, 0.8),
		Quality:  92,
	}
	place(r, &s, 0.05)
	return s
}

// NewSpec draws the spec of one picture of the given form. seed decides
// everything, so a benchmark is the same on every run.
func NewSpec(f Form, seed uint64) Spec {
	r := rand.New(rand.NewPCG(seed, uint64(len(f))*0x100000001b3))
	s := base(r)
	s.NoiseSeed, s.TextureSeed = r.Uint64(), r.Uint64()
	switch f {
	case Shop, ShopNoise:
		g := uniform(r, 0.96, 1)
		s.Width, s.Height = 1000, 1000
		s.Backdrop = [3]float64{g, g, g}
		s.Ink = ink(r, true)
		s.Scale = uniform(r, 0.45, 0.8)
		s.Quality = 90
		place(r, &s, 0.2)
		if f == ShopNoise {
			s.Noise = uniform(r, 3, 8)
		}
	case Backdrop:
		s.Backdrop = colour(r)
	case Gradient:
		s.Backdrop = colour(r)
		s.Gradient = [2]float64{uniform(r, -0.4, 0.4), uniform(r, -0.4, 0.4)}
		s.Vignette = uniform(r, 0, 0.3)
	case Shadow:
		s.ShadowOffset = [2]float64{uniform(r, -0.08, 0.08), uniform(r, 0.02, 0.08)}
		s.ShadowBlur = uniform(r, 0.03, 0.08)
		s.ShadowDepth = uniform(r, 0.2, 0.5)
	case Rotate:
		s.Angle = uniform(r, -15, 15)
		place(r, &s, 0.05)
	case Scale:
		s.Scale = uniform(r, 0.2, 0.9)
		place(r, &s, 0.5)
	case Noise:
		s.Noise = uniform(r, 2, 10)
	case Blur:
		s.Blur = uniform(r, 0.5, 2.5)
	case JPEG:
		s.Quality = 70 + r.IntN(26)
	case Texture:
		s.Backdrop = colour(r)
		s.Texture = uniform(r, 0.03, 0.08)
		s.TextureKind = r.IntN(3)
	case Phone, Exif:
		phone(r, &s)
		if f == Exif {
			s.Orientation = 2 + r.IntN(7)
			s.BigEndianExif = r.IntN(2) == 0
		}
	}
	visible(&s)
	return s
}

func luma(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// visible darkens the ink to at most half the backdrop's luma: a dark item
// on a dark backdrop of nearly its own shade is a picture of nothing.
func visible(s *Spec) {
	if li, lb := luma(s.Ink), luma(s.Backdrop); li > 0.5*lb {
		k := 0.5 * lb / li
		for c := range s.Ink {
			s.Ink[c] *= k
		}
	}
}

// phone sets every effect at once.
func phone(r *rand.Rand, s *Spec) {
	if r.IntN(4) == 0 {
		g := uniform(r, 0.55, 0.95)
		s.Backdrop = [3]float64{g, g, g}
	} else {
		s.Backdrop = colour(r)
	}
	s.Gradient = [2]float64{uniform(r, -0.35, 0.35), uniform(r, -0.35, 0.35)}
	s.Vignette = uniform(r, 0, 0.25)
	if r.IntN(2) == 0 {
		s.ShadowOffset = [2]float64{uniform(r, -0.06, 0.06), uniform(r, 0.02, 0.06)}
		s.ShadowBlur = uniform(r, 0.03, 0.08)
		s.ShadowDepth = uniform(r, 0.15, 0.4)
	}
	s.Angle = uniform(r, -15, 15)
	s.Scale = uniform(r, 0.4, 0.8)
	place(r, s, 0.15)
	s.Noise = uniform(r, 2, 10)
	s.Blur = uniform(r, 0.5, 2)
	s.Quality = 70 + r.IntN(26)
	if r.IntN(2) == 0 {
		s.Texture = uniform(r, 0.02, 0.06)
		s.TextureKind = r.IntN(3)
	}
}

// NewBlank draws the spec of one blank picture of the given kind.
func NewBlank(k BlankKind, seed uint64) Spec {
	r := rand.New(rand.NewPCG(seed, uint64(len(k))*0x9e3779b97f4a7c15+1))
	w, h := canvas(r)
	s := Spec{Width: w, Height: h, Blank: true, Quality: 70 + r.IntN(26), NoiseSeed: r.Uint64(), TextureSeed: r.Uint64()}
	switch k {
	case BlankFlat:
		switch r.IntN(4) {
		case 0:
			s.Backdrop = [3]float64{1, 1, 1}
		case 1:
			s.Backdrop = [3]float64{0, 0, 0}
		default:
			s.Backdrop = colour(r)
		}
		if r.IntN(2) == 0 {
			s.Quality = 0
		}
	case BlankGradient:
		s.Backdrop = colour(r)
		s.Gradient = [2]float64{uniform(r, -0.6, 0.6), uniform(r, -0.6, 0.6)}
		s.Vignette = uniform(r, 0, 0.4)
	case BlankTexture:
		s.Backdrop = colour(r)
		s.Texture = uniform(r, 0.05, 0.15)
		s.TextureKind = r.IntN(3)
		s.Noise = uniform(r, 0, 5)
	case BlankNoise:
		g := uniform(r, 0.3, 0.7)
		s.Backdrop = [3]float64{g, g, g}
		s.Noise = uniform(r, 20, 80)
	case BlankTiny:
		s.Width, s.Height = 1+r.IntN(6), 1+r.IntN(6)
		s.Backdrop = colour(r)
		s.Quality = 0
		s.Noise = uniform(r, 0, 40)
	case BlankTable:
		phone(r, &s)
		s.Blank = true
	}
	return s
}

// Seed derives the seed of picture i of a form (or blank kind) from the
// benchmark's seed, so that every picture is made independently of the rest.
func Seed(seed uint64, form string, i int) uint64 {
	h := uint64(14695981039346656037) // FNV-1a over the form's name
	for _, c := range []byte(form) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return seed*0x9e3779b97f4a7c15 ^ h ^ uint64(i)*0xbf58476d1ce4e5b9
}
