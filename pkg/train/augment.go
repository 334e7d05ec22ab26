package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Augment describes random data augmentation with the semantics of Keras'
// ImageDataGenerator as keras-preprocessing 1.1 implements it (the generator
// behind Keras 2.3 and tf.keras 2.0-2.5; the "semantics" below cite its
// get_random_transform and apply_transform, and the golden test compares
// with that code). The zero Augment is the identity and draws no random
// numbers.
//
// Per sample, in this order, Keras draws:
//
//   - an angle uniform in [-RotationRange, RotationRange) degrees;
//   - a vertical shift from HeightShift and a horizontal shift from
//     WidthShift (see ShiftRange);
//   - a horizontal flip with probability 0.5 (if HorizontalFlip), then a
//     vertical flip with probability 0.5 (if VerticalFlip).
//
// The rotation and shift form one affine map about the point (h/2 + 0.5,
// w/2 + 0.5) in (row, column) pixel coordinates, sampled with bilinear
// interpolation (Keras' interpolation_order=1) and fill_mode "nearest"
// (coordinates outside the image take the nearest edge pixel). That point is
// keras-preprocessing's transform_matrix_offset_center, half a pixel past
// the true centre ((h-1)/2, (w-1)/2) on each axis; rotations follow it so
// that they match Keras to the last bit. Shifts do not depend on it, and
// integer shifts without rotation are exact copies. The flips are applied
// after the affine map, as Keras does. Every channel of a sample gets the
// same transform.
//
// Zoom and Brightness follow keras-preprocessing too; Contrast, Blur and
// Noise, which ImageDataGenerator lacks, follow Keras' RandomContrast and
// GaussianNoise layers and torchvision's GaussianBlur (see each field).
// After the flips, per sample, Keras draws the zoom factors (zx, zy) before
// the flips and the brightness factor after them; we then draw the contrast
// factor and the blur's sigma, in that order, and apply: the affine map
// (rotation, shift, zoom), the flips, brightness, contrast, blur, noise. A
// setting that is off draws nothing, so the draws of the other settings do
// not depend on it.
//
// Axis convention: the height shift moves rows and the width shift moves
// columns, as Keras documents and keras-preprocessing implements. Keras 2.6
// and later (keras/preprocessing/image.py, keras-team/keras#17398) centre
// the map at ((h-1)/2, (w-1)/2) but apply it with rows and columns swapped,
// so there height_shift_range moves columns and rotations turn the other way.
type Augment struct {
	// HorizontalFlip mirrors left-right with probability 0.5.
	HorizontalFlip bool
	// VerticalFlip mirrors top-bottom with probability 0.5.
	VerticalFlip bool
	// RotationRange is the largest rotation in degrees, in [0, 360].
	RotationRange float64
	// WidthShift is Keras' width_shift_range (columns).
	WidthShift ShiftRange
	// HeightShift is Keras' height_shift_range (rows).
	HeightShift ShiftRange
	// Zoom is Keras' zoom_range as [lower, upper]: zx (rows) and zy
	// (columns) are drawn independently, uniform in [lower, upper), and the
	// affine map samples the input at zx times the row and zy times the
	// column distance from the centre (keras-preprocessing's zoom_matrix),
	// so a factor above 1 shrinks the item. A float range z is [1-z, 1+z].
	// The zero value, like Keras' [1, 1], draws nothing.
	Zoom [2]float64
	// Brightness is Keras' brightness_range [lower, upper]: one factor b
	// per sample, uniform in [lower, upper), multiplies every value, and the
	// result is clipped to [0, 1], the scaled pixel range. That is PIL's
	// ImageEnhance.Brightness (a blend with black) as keras-preprocessing's
	// apply_brightness_shift uses it, without its side effects: Keras first
	// rescales the image to span 0..255 and truncates it to uint8, and
	// returns values in 0..255 (so a model trained on 0..1 inputs sees
	// others); we keep the scale and the float values.
	Brightness [2]float64
	// Contrast is [lower, upper] for a factor c per sample, uniform in
	// [lower, upper): each channel becomes (x - mean)*c + mean, mean over
	// the channel's pixels, clipped to [0, 1]. That is tf.image.adjust_contrast
	// as Keras' RandomContrast(factor) applies it (its factor f is the range
	// [1-f, 1+f], clipped to its value range), drawn per sample, and
	// torchvision's adjust_contrast for one channel.
	Contrast [2]float64
	// Blur is the sigma range [lower, upper] of torchvision's
	// GaussianBlur(kernel_size=k, sigma=(lower, upper)) with
	// k = 2*ceil(3*upper)+1: sigma uniform in [lower, upper) per sample, a
	// normalised kernel exp(-x^2/(2 sigma^2)) for x in -(k-1)/2..(k-1)/2,
	// applied along rows and columns with reflect padding (torch's "reflect",
	// the edge not repeated), in float64.
	Blur [2]float64
	// Noise is the standard deviation of Keras' GaussianNoise(stddev): each
	// value gets an independent N(0, Noise^2) draw added, with no clipping.
	Noise float64
}

// ShiftRange is a Keras width_shift_range or height_shift_range. Keras reads
// the range by its Python type, an int or a float, and so draws differently
// for height_shift_range=3 and height_shift_range=3.0; ShiftRange keeps the
// type. At most one of Int and Float is non-zero; the zero ShiftRange never
// shifts.
type ShiftRange struct {
	// Int is Keras' int range n: k*s whole pixels with k uniform in 0..n-1
	// and s uniform in {-1, +1} (np.random.choice(n) *
	// np.random.choice([-1, 1])). So 3 shifts by -2..2 pixels, 0 twice as
	// often as the others, and 1 never shifts.
	Int int
	// Float is Keras' float range r: a real shift uniform in [-r, r), in
	// pixels when r >= 1 and as a fraction of the image height (or width)
	// when r < 1. So 3.0 shifts by any amount in [-3, 3) pixels, with
	// bilinear interpolation, and 1.0 by any amount in [-1, 1).
	Float float64
}

// IsZero reports whether s never shifts and draws nothing (Keras skips a
// range of 0 or 0.0).
func (s ShiftRange) IsZero() bool { return s.Int == 0 && s.Float == 0 }

// String returns s as the Python literal Keras would be given: "3" for the
// int 3, "3.0" for the float 3, "0" for the zero ShiftRange.
func (s ShiftRange) String() string {
	if s.Float == 0 {
		return strconv.Itoa(s.Int)
	}
	f := strconv.FormatFloat(s.Float, 'g', -1, 64)
	if !strings.ContainsAny(f, ".e") {
		f += ".0"
	}
	return f
}

// validate reports whether s is usable, naming it as key (wshift, hshift).
func (s ShiftRange) validate(key string) error {
	switch {
	case s.Int != 0 && s.Float != 0:
		return fmt.Errorf("train: augmentation %s has both an int range (%d) and a float range (%v), want one", key, s.Int, s.Float)
	case s.Int < 0 || s.Int > MaxAugmentShift:
		return fmt.Errorf("train: augmentation %s = %d, want an int range in [0, %d]", key, s.Int, MaxAugmentShift)
	case math.IsNaN(s.Float) || s.Float < 0 || s.Float > MaxAugmentShift:
		return fmt.Errorf("train: augmentation %s = %v, want a finite float range in [0, %d]", key, s.Float, MaxAugmentShift)
	}
	return nil
}

// draw draws a shift in pixels along an axis of size pixels, as Keras'
// get_random_transform does.
func (s ShiftRange) draw(size int, rng *RNG) float64 {
	switch {
	case s.Int != 0:
		k := rng.Intn(s.Int)
		if rng.Uint64()>>63 != 0 {
			k = -k
		}
		return float64(k)
	case s.Float == 0:
		return 0
	case s.Float < 1:
		return rng.Uniform(-s.Float, s.Float) * float64(size)
	default:
		return rng.Uniform(-s.Float, s.Float)
	}
}

// Limits on Augment's ranges. Keras sets none; these keep the integer shift
// drawable and reject specifications that can only be typing mistakes.
const (
	MaxAugmentRotation = 360     // degrees
	MaxAugmentShift    = 1 << 20 // pixels
	MaxAugmentFactor   = 10      // zoom, brightness and contrast factors
	MaxAugmentBlur     = 4       // sigma, pixels (a kernel of at most 25)
	MaxAugmentNoise    = 10      // standard deviation
)

// maxBlurKernel is the largest blur kernel, for MaxAugmentBlur.
const maxBlurKernel = 2*3*MaxAugmentBlur + 1

// Enabled reports whether a draws any transform at all.
func (a Augment) Enabled() bool {
	return a.HorizontalFlip || a.VerticalFlip || a.RotationRange != 0 || !a.WidthShift.IsZero() || !a.HeightShift.IsZero() ||
		a.Zoom != [2]float64{} || a.Brightness != [2]float64{} || a.Contrast != [2]float64{} || a.Blur != [2]float64{} || a.Noise != 0
}

// checkRange validates a [lower, upper] range of Augment named key: off
// (zero), or finite with lo <= hi, lo >= low (or > 0 when positive) and
// hi <= top.
func checkRange(key string, r [2]float64, positive bool, top float64) error {
	if r == [2]float64{} {
		return nil
	}
	lo, hi := r[0], r[1]
	switch {
	case math.IsNaN(lo) || math.IsNaN(hi) || lo > hi || lo < 0 || hi > top || (positive && lo == 0):
		want := "0 <= lower <= upper"
		if positive {
			want = "0 < lower <= upper"
		}
		return fmt.Errorf("train: augmentation %s = [%v, %v], want %s <= %v", key, lo, hi, want, top)
	}
	return nil
}

// Validate reports whether a's ranges are usable: finite, non-negative and
// within MaxAugmentRotation and MaxAugmentShift, each shift either an int
// or a float range.
func (a Augment) Validate() error {
	if v := a.RotationRange; math.IsNaN(v) || v < 0 || v > MaxAugmentRotation {
		return fmt.Errorf("train: augmentation rotate = %v, want a finite value in [0, %v]", v, MaxAugmentRotation)
	}
	if err := a.WidthShift.validate("wshift"); err != nil {
		return err
	}
	if err := a.HeightShift.validate("hshift"); err != nil {
		return err
	}
	for _, r := range []struct {
		key      string
		v        [2]float64
		positive bool
		top      float64
	}{{"zoom", a.Zoom, true, MaxAugmentFactor}, {"brightness", a.Brightness, false, MaxAugmentFactor},
		{"contrast", a.Contrast, false, MaxAugmentFactor}, {"blur", a.Blur, true, MaxAugmentBlur}} {
		if err := checkRange(r.key, r.v, r.positive, r.top); err != nil {
			return err
		}
	}
	if v := a.Noise; math.IsNaN(v) || v < 0 || v > MaxAugmentNoise {
		return fmt.Errorf("train: augmentation noise = %v, want a standard deviation in [0, %v]", v, MaxAugmentNoise)
	}
	return nil
}

// Apply writes to dst an independently transformed copy of each of the n
// samples of src, both laid out NCHW with c channels of h x w. Randomness
// comes from rng only, so equal seeds give equal outputs. src is not
// modified; dst must not overlap it. Apply allocates only with Blur (one
// image plane of scratch per call).
//
// Apply panics if a is invalid (see Validate), if dst or src is shorter
// than n*c*h*w, if they overlap, or if rng is nil and a is enabled: these
// are programmer errors.
func (a Augment) Apply(dst, src []float32, n, c, h, w int, rng *RNG) {
	if n < 0 || c < 0 || h < 0 || w < 0 {
		panic(fmt.Sprintf("train: Augment.Apply: negative shape %dx%dx%dx%d", n, c, h, w))
	}
	size := n * c * h * w
	if len(src) < size || len(dst) < size {
		panic(fmt.Sprintf("train: Augment.Apply: %dx%dx%dx%d needs %d values, src has %d, dst %d", n, c, h, w, size, len(src), len(dst)))
	}
	if size == 0 {
		return
	}
	if &dst[0] == &src[0] {
		panic("train: Augment.Apply: dst and src are the same buffer")
	}
	if !a.Enabled() {
		copy(dst[:size], src[:size])
		return
	}
	if err := a.Validate(); err != nil {
		panic(err.Error())
	}
	if rng == nil {
		panic("train: Augment.Apply: nil RNG")
	}
	stride := c * h * w
	var scratch []float64
	if a.Blur != [2]float64{} {
		scratch = make([]float64, h*w)
	}
	for i := range n {
		p := a.draw(h, w, rng)
		out := dst[i*stride : (i+1)*stride]
		p.apply(out, src[i*stride:(i+1)*stride], c, h, w)
		p.photometric(out, c, h, w, scratch)
		if a.Noise != 0 {
			for j := range out {
				out[j] = float32(float64(out[j]) + a.Noise*rng.NormFloat64())
			}
		}
	}
}

// augParams is one sample's drawn transform (Keras' transform_parameters).
type augParams struct {
	theta        float64 // rotation, degrees
	tx           float64 // row shift, from the height range (Keras' tx)
	ty           float64 // column shift, from the width range (Keras' ty)
	zx, zy       float64 // zoom of rows and columns (Keras' zx, zy); 0 means 1
	flipH, flipV bool
	brightness   float64 // 0: none
	contrast     float64 // 0: none
	blur         float64 // sigma; 0: none
	blurK        int     // kernel size
}

// draw draws one sample's transform, in Keras' order.
func (a Augment) draw(h, w int, rng *RNG) augParams {
	var p augParams
	if a.RotationRange != 0 {
		p.theta = rng.Uniform(-a.RotationRange, a.RotationRange)
	}
	p.tx = a.HeightShift.draw(h, rng)
	p.ty = a.WidthShift.draw(w, rng)
	if a.Zoom != [2]float64{} {
		p.zx = rng.Uniform(a.Zoom[0], a.Zoom[1])
		p.zy = rng.Uniform(a.Zoom[0], a.Zoom[1])
	}
	if a.HorizontalFlip {
		p.flipH = rng.Float64() < 0.5
	}
	if a.VerticalFlip {
		p.flipV = rng.Float64() < 0.5
	}
	if a.Brightness != [2]float64{} {
		p.brightness = rng.Uniform(a.Brightness[0], a.Brightness[1])
	}
	if a.Contrast != [2]float64{} {
		p.contrast = rng.Uniform(a.Contrast[0], a.Contrast[1])
	}
	if a.Blur != [2]float64{} {
		p.blur = rng.Uniform(a.Blur[0], a.Blur[1])
		p.blurK = 2*int(math.Ceil(3*a.Blur[1])) + 1
	}
	return p
}

// zoomed reports whether p zooms.
func (p augParams) zoomed() bool { return (p.zx != 0 && p.zx != 1) || (p.zy != 0 && p.zy != 1) }

// photometric applies p's brightness, contrast and blur to one sample
// (c x h x w) in place; scratch holds h*w values when p blurs.
func (p augParams) photometric(x []float32, c, h, w int, scratch []float64) {
	hw := h * w
	if p.brightness != 0 {
		for i, v := range x {
			x[i] = float32(min(max(p.brightness*float64(v), 0), 1))
		}
	}
	if p.contrast != 0 {
		for ch := range c {
			plane := x[ch*hw : (ch+1)*hw]
			var mean float64
			for _, v := range plane {
				mean += float64(v)
			}
			mean /= float64(hw)
			for i, v := range plane {
				plane[i] = float32(min(max((float64(v)-mean)*p.contrast+mean, 0), 1))
			}
		}
	}
	if p.blur != 0 {
		var kern [maxBlurKernel]float64
		k := kern[:p.blurK]
		half := p.blurK / 2
		var sum float64
		for i := range k {
			d := float64(i-half) / p.blur
			k[i] = math.Exp(-0.5 * d * d)
			sum += k[i]
		}
		for i := range k {
			k[i] /= sum
		}
		for ch := range c {
			plane := x[ch*hw : (ch+1)*hw]
			// Along rows into scratch, then along columns back.
			for r := range h {
				for col := range w {
					var v float64
					for i, kv := range k {
						v += kv * float64(plane[r*w+reflectIndex(col+i-half, w)])
					}
					scratch[r*w+col] = v
				}
			}
			for r := range h {
				for col := range w {
					var v float64
					for i, kv := range k {
						v += kv * scratch[reflectIndex(r+i-half, h)*w+col]
					}
					plane[r*w+col] = float32(v)
				}
			}
		}
	}
}

// reflectIndex maps i to [0, n) by reflection about the edges without
// repeating them (torch's "reflect" padding: -1 is 1, n is n-2), for any i.
func reflectIndex(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// augIsIntegral reports whether v is a whole number.
func augIsIntegral(v float64) bool { return v == math.Trunc(v) }

// apply writes the transform of one sample (c x h x w) of src to dst.
func (p augParams) apply(dst, src []float32, c, h, w int) {
	hw := h * w
	if p.theta == 0 && augIsIntegral(p.tx) && augIsIntegral(p.ty) && !p.zoomed() {
		// A whole-pixel translation: bilinear weights are exactly 0 and 1,
		// so this is a copy with edge clamping.
		dr, dc := int(p.tx), int(p.ty)
		// Without a horizontal flip, output columns [lo, hi) read input
		// columns [lo+dc, hi+dc) in one copy; the rest repeat an edge.
		lo, hi := augClampIndex(-dc, w+1), augClampIndex(w-dc, w+1)
		for ch := range c {
			in, out := src[ch*hw:(ch+1)*hw], dst[ch*hw:(ch+1)*hw]
			for r := range h {
				sr := r
				if p.flipV {
					sr = h - 1 - r
				}
				sr = augClampIndex(sr+dr, h)
				srow, drow := in[sr*w:(sr+1)*w], out[r*w:(r+1)*w]
				if p.flipH {
					for col := range drow {
						drow[col] = srow[augClampIndex(w-1-col+dc, w)]
					}
					continue
				}
				for col := range lo {
					drow[col] = srow[0]
				}
				if lo < hi {
					copy(drow[lo:hi], srow[lo+dc:hi+dc])
				}
				for col := hi; col < w; col++ {
					drow[col] = srow[w-1]
				}
			}
		}
		return
	}
	m := p.matrix(h, w)
	for r := range h {
		fr := float64(r)
		if p.flipV {
			fr = float64(h - 1 - r)
		}
		for col := range w {
			fc := float64(col)
			if p.flipH {
				fc = float64(w - 1 - col)
			}
			// Output (row, col) samples input (y, x) = M (row, col, 1).
			y := m[0][0]*fr + m[0][1]*fc + m[0][2]
			x := m[1][0]*fr + m[1][1]*fc + m[1][2]
			y0, x0 := math.Floor(y), math.Floor(x)
			wy, wx := y-y0, x-x0
			r0, c0 := augClampCoord(y0, h), augClampCoord(x0, w)
			r1, c1 := augClampCoord(y0+1, h), augClampCoord(x0+1, w)
			w00 := (1 - wy) * (1 - wx)
			w01 := (1 - wy) * wx
			w10 := wy * (1 - wx)
			w11 := wy * wx
			i00, i01, i10, i11 := r0*w+c0, r0*w+c1, r1*w+c0, r1*w+c1
			for ch := range c {
				s := src[ch*hw : (ch+1)*hw]
				v := w00*float64(s[i00]) + w01*float64(s[i01]) + w10*float64(s[i10]) + w11*float64(s[i11])
				dst[ch*hw+r*w+col] = float32(v)
			}
		}
	}
}

// matrix returns the 3x3 map from output (row, col, 1) to input coordinates:
// offset * (rotation * shift * zoom) * reset, as Keras' apply_affine_transform and
// transform_matrix_offset_center build it, in float64.
func (p augParams) matrix(h, w int) [3][3]float64 {
	t := [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	if p.theta != 0 {
		th := p.theta * math.Pi / 180
		cos, sin := math.Cos(th), math.Sin(th)
		t = [3][3]float64{{cos, -sin, 0}, {sin, cos, 0}, {0, 0, 1}}
	}
	if p.tx != 0 || p.ty != 0 {
		t = augMul3(t, [3][3]float64{{1, 0, p.tx}, {0, 1, p.ty}, {0, 0, 1}})
	}
	if p.zoomed() {
		zx, zy := p.zx, p.zy
		if zx == 0 {
			zx = 1
		}
		if zy == 0 {
			zy = 1
		}
		t = augMul3(t, [3][3]float64{{zx, 0, 0}, {0, zy, 0}, {0, 0, 1}})
	}
	or, oc := float64(h)/2+0.5, float64(w)/2+0.5 // Keras' centre, see Augment
	offset := [3][3]float64{{1, 0, or}, {0, 1, oc}, {0, 0, 1}}
	reset := [3][3]float64{{1, 0, -or}, {0, 1, -oc}, {0, 0, 1}}
	return augMul3(augMul3(offset, t), reset)
}

// augMul3 returns a*b for 3x3 matrices.
func augMul3(a, b [3][3]float64) [3][3]float64 {
	var m [3][3]float64
	for i := range 3 {
		for j := range 3 {
			m[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j] + a[i][2]*b[2][j]
		}
	}
	return m
}

// augClampIndex clamps i to [0, n-1] (fill_mode "nearest").
func augClampIndex(i, n int) int {
	if i < 0 {
		return 0
	}
	if i >= n {
		return n - 1
	}
	return i
}

// augClampCoord converts a floored coordinate to an index clamped to [0, n-1].
// It compares in float64 first so that huge coordinates cannot overflow int.
func augClampCoord(v float64, n int) int {
	if v <= 0 {
		return 0
	}
	if v >= float64(n-1) {
		return n - 1
	}
	return int(v)
}

// augmentKeys are the specification keys, in canonical order.
var augmentKeys = []string{"hflip", "vflip", "rotate", "wshift", "hshift", "zoom", "brightness", "contrast", "blur", "noise"}

// augmentAliases maps the Keras argument names to the short keys.
var augmentAliases = map[string]string{
	"horizontal_flip":    "hflip",
	"vertical_flip":      "vflip",
	"rotation_range":     "rotate",
	"width_shift_range":  "wshift",
	"height_shift_range": "hshift",
	"zoom_range":         "zoom",
	"brightness_range":   "brightness",
}

// AugmentSpecError reports a malformed augmentation specification: the
// specification, the byte offset of the offending item in it, the item and
// what is wrong.
type AugmentSpecError struct {
	Spec   string // the whole specification
	Offset int    // byte offset of Item in Spec
	Item   string // the offending item
	Reason string // what is wrong
}

// Error implements the error interface.
func (e *AugmentSpecError) Error() string {
	return fmt.Sprintf("augmentation spec %q: item %q at byte %d: %s", e.Spec, e.Item, e.Offset, e.Reason)
}

// ParseAugment parses a comma-separated augmentation specification such as
// "hflip,vflip,rotate=10,wshift=0.1,hshift=3". Keys:
//
//	hflip         random horizontal flip (Keras horizontal_flip=True)
//	vflip         random vertical flip (vertical_flip=True)
//	rotate=DEG    rotation_range in degrees, 0..360
//	wshift=R      width_shift_range, typed as Python types the literal:
//	              "3" is the int 3 (whole pixels -2..2), "3.0" and "2.5"
//	              are floats (real pixels), "0.1" a fraction of the width
//	hshift=R      height_shift_range, likewise
//	zoom=Z        zoom_range: a float Z is [1-Z, 1+Z], LO:HI the range itself
//	brightness=LO:HI  brightness_range (a range, as Keras requires)
//	contrast=F    contrast factors [1-F, 1+F] (RandomContrast(F)), or LO:HI
//	blur=S        Gaussian blur of sigma S, or of a sigma drawn from LO:HI
//	noise=STD     Gaussian noise of standard deviation STD (GaussianNoise)
//
// The Keras argument names (horizontal_flip, rotation_range, ...) are
// accepted as aliases. "" and "none" give the zero (identity) Augment. Each
// key may appear once. String gives the canonical form back.
func ParseAugment(spec string) (Augment, error) {
	var a Augment
	trimmed := strings.TrimSpace(spec)
	if trimmed == "" || trimmed == "none" {
		return a, nil
	}
	seen := map[string]bool{}
	off := 0
	for _, raw := range strings.Split(spec, ",") {
		item := strings.TrimSpace(raw)
		itemOff := off + len(raw) - len(strings.TrimLeftFunc(raw, unicode.IsSpace))
		off += len(raw) + 1
		fail := func(format string, args ...any) (Augment, error) {
			return Augment{}, &AugmentSpecError{Spec: spec, Offset: itemOff, Item: item, Reason: fmt.Sprintf(format, args...)}
		}
		if item == "" {
			return fail("empty item")
		}
		key, val, hasVal := strings.Cut(item, "=")
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		if alias, ok := augmentAliases[key]; ok {
			key = alias
		}
		if seen[key] {
			return fail("%s given twice", key)
		}
		seen[key] = true
		switch key {
		case "hflip", "vflip":
			on := true
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return fail("%s takes no value or a boolean, got %q", key, val)
				}
				on = b
			}
			if key == "hflip" {
				a.HorizontalFlip = on
			} else {
				a.VerticalFlip = on
			}
		case "rotate", "wshift", "hshift":
			if !hasVal || val == "" {
				return fail("%s needs a value, as in %s=%s", key, key, map[string]string{"rotate": "10", "wshift": "0.1", "hshift": "3"}[key])
			}
			if key != "rotate" {
				r, err := parseShiftRange(val)
				if err != nil {
					return fail("%s %v", key, err)
				}
				if key == "wshift" {
					a.WidthShift = r
				} else {
					a.HeightShift = r
				}
				continue
			}
			v, err := strconv.ParseFloat(val, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fail("rotate value %q is not a finite number", val)
			}
			if v < 0 || v > MaxAugmentRotation {
				return fail("rotate value %v is outside [0, %v]", v, MaxAugmentRotation)
			}
			a.RotationRange = v
		case "zoom", "brightness", "contrast", "blur", "noise":
			if !hasVal || val == "" {
				return fail("%s needs a value, as in %s=%s", key, key, map[string]string{"zoom": "0.1", "brightness": "0.8:1.2", "contrast": "0.2", "blur": "0.1:1", "noise": "0.05"}[key])
			}
			if err := a.setRange(key, val); err != nil {
				return fail("%v", err)
			}
		case "none":
			return fail("none cannot be combined with other items")
		default:
			return fail("unknown key %q (want one of %s)", key, strings.Join(augmentKeys, ", "))
		}
	}
	return a, nil
}

// parseShiftRange reads a shift range typed as the Python literal would be:
// digits alone make an int range, any other number a float range. The error
// says what is wrong with val, for ParseAugment to place.
func parseShiftRange(val string) (ShiftRange, error) {
	if i, err := strconv.ParseInt(val, 10, 64); err == nil {
		if i < 0 || i > MaxAugmentShift {
			return ShiftRange{}, fmt.Errorf("value %d is outside [0, %d]", i, MaxAugmentShift)
		}
		return ShiftRange{Int: int(i)}, nil
	}
	v, err := strconv.ParseFloat(val, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return ShiftRange{}, fmt.Errorf("value %q is not a finite number", val)
	}
	if v < 0 || v > MaxAugmentShift {
		return ShiftRange{}, fmt.Errorf("value %v is outside [0, %d]", v, MaxAugmentShift)
	}
	return ShiftRange{Float: v}, nil
}

// String returns the canonical specification of a, which ParseAugment reads
// back to an equal value; the zero Augment gives "none".
func (a Augment) String() string {
	var parts []string
	if a.HorizontalFlip {
		parts = append(parts, "hflip")
	}
	if a.VerticalFlip {
		parts = append(parts, "vflip")
	}
	if a.RotationRange != 0 {
		parts = append(parts, "rotate="+strconv.FormatFloat(a.RotationRange, 'g', -1, 64))
	}
	if !a.WidthShift.IsZero() {
		parts = append(parts, "wshift="+a.WidthShift.String())
	}
	if !a.HeightShift.IsZero() {
		parts = append(parts, "hshift="+a.HeightShift.String())
	}
	for _, r := range []struct {
		key string
		v   [2]float64
	}{{"zoom", a.Zoom}, {"brightness", a.Brightness}, {"contrast", a.Contrast}, {"blur", a.Blur}} {
		if r.v != [2]float64{} {
			parts = append(parts, r.key+"="+fmtFloat(r.v[0])+":"+fmtFloat(r.v[1]))
		}
	}
	if a.Noise != 0 {
		parts = append(parts, "noise="+fmtFloat(a.Noise))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// setRange parses the value of a range key (zoom, brightness, contrast,
// blur) or of noise into a, checking it.
func (a *Augment) setRange(key, val string) error {
	num := func(s string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s value %q is not a finite number", key, s)
		}
		return v, nil
	}
	lo, hi, isRange := strings.Cut(val, ":")
	var r [2]float64
	var err error
	if r[0], err = num(lo); err != nil {
		return err
	}
	switch {
	case isRange:
		if key == "noise" {
			return fmt.Errorf("noise takes one standard deviation, not a range %q", val)
		}
		if r[1], err = num(hi); err != nil {
			return err
		}
	case key == "brightness":
		return fmt.Errorf("brightness takes a range LO:HI (Keras' brightness_range is a pair), got %q", val)
	case key == "zoom" || key == "contrast":
		if r[0] < 0 || r[0] >= 1 {
			return fmt.Errorf("%s %v: a single value F means [1-F, 1+F] and must be in [0, 1); give LO:HI for other ranges", key, r[0])
		}
		r = [2]float64{1 - r[0], 1 + r[0]}
	case key == "blur":
		r[1] = r[0]
	}
	switch key {
	case "noise":
		a.Noise = r[0]
	case "zoom":
		if r == [2]float64{1, 1} {
			r = [2]float64{} // Keras draws nothing for [1, 1]
		}
		a.Zoom = r
	case "brightness":
		a.Brightness = r
	case "contrast":
		a.Contrast = r
	case "blur":
		a.Blur = r
	}
	b := *a
	if err := b.Validate(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "train: augmentation "))
	}
	return nil
}

// MarshalJSON writes a as its canonical specification string (String), so
// that a Config's JSON records the augmentation as a person would type it.
func (a Augment) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON reads a specification string written by MarshalJSON (or
// any ParseAugment accepts).
func (a *Augment) UnmarshalJSON(b []byte) error {
	var spec string
	if err := json.Unmarshal(b, &spec); err != nil {
		return err
	}
	v, err := ParseAugment(spec)
	if err != nil {
		return err
	}
	*a = v
	return nil
}
