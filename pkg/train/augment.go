package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Augment describes random data augmentation with the semantics of Keras'
// ImageDataGenerator (keras-preprocessing 1.1, the generator behind
// tf.keras.preprocessing.image; the "semantics" below cite its
// get_random_transform and apply_transform). The zero Augment is the
// identity and draws no random numbers.
//
// Per sample, in this order, Keras draws:
//
//   - an angle uniform in [-RotationRange, RotationRange) degrees;
//   - a vertical shift from HeightShift and a horizontal shift from
//     WidthShift, each by the rules below;
//   - a horizontal flip with probability 0.5 (if HorizontalFlip), then a
//     vertical flip with probability 0.5 (if VerticalFlip).
//
// A shift range r is read as Keras reads width_shift_range and
// height_shift_range:
//
//   - r = 0: no shift;
//   - r an integer >= 1 (Keras int): k*s pixels with k uniform in 0..r-1 and s
//     uniform in {-1, +1} (np.random.choice(r) * np.random.choice([-1, 1])),
//     so r = 3 shifts by -2..2 whole pixels, 0 twice as often as the others,
//     and r = 1 never shifts (a whole-number float such as 3.0 counts as
//     the integer 3);
//   - 0 < r < 1: a real shift uniform in [-r, r) times the image height (or
//     width);
//   - r > 1 and not an integer: a real shift uniform in [-r, r) pixels.
//
// The rotation and shift form one affine map about the image centre
// ((h-1)/2, (w-1)/2), sampled with bilinear interpolation (Keras'
// interpolation_order=1) and fill_mode "nearest" (coordinates outside the
// image take the nearest edge pixel). Integer shifts without rotation are
// therefore exact copies. The flips are applied after the affine map, as
// Keras does. Every channel of a sample gets the same transform.
//
// Axis convention: the height shift moves rows and the width shift moves
// columns, as documented by Keras and as keras-preprocessing <= 1.1.2
// (scipy.ndimage) implements it. Newer tf.keras (whose transform swaps the
// axes, see keras-team/keras#17398) moves rows with width_shift_range
// instead; for the book's square 28x28 images with equal ranges the two are
// the same distribution.
type Augment struct {
	// HorizontalFlip mirrors left-right with probability 0.5.
	HorizontalFlip bool
	// VerticalFlip mirrors top-bottom with probability 0.5.
	VerticalFlip bool
	// RotationRange is the largest rotation in degrees, in [0, 360].
	RotationRange float64
	// WidthShift is Keras' width_shift_range (columns), see above.
	WidthShift float64
	// HeightShift is Keras' height_shift_range (rows), see above.
	HeightShift float64
}

// Limits on Augment's ranges. Keras sets none; these keep the integer shift
// drawable and reject specifications that can only be typing mistakes.
const (
	MaxAugmentRotation = 360     // degrees
	MaxAugmentShift    = 1 << 20 // pixels
)

// Enabled reports whether a draws any transform at all.
func (a Augment) Enabled() bool {
	return a.HorizontalFlip || a.VerticalFlip || a.RotationRange != 0 || a.WidthShift != 0 || a.HeightShift != 0
}

// Validate reports whether a's ranges are usable: finite, non-negative and
// within MaxAugmentRotation and MaxAugmentShift.
func (a Augment) Validate() error {
	check := func(name string, v, limit float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > limit {
			return fmt.Errorf("train: augmentation %s = %v, want a finite value in [0, %v]", name, v, limit)
		}
		return nil
	}
	if err := check("rotate", a.RotationRange, MaxAugmentRotation); err != nil {
		return err
	}
	if err := check("wshift", a.WidthShift, MaxAugmentShift); err != nil {
		return err
	}
	return check("hshift", a.HeightShift, MaxAugmentShift)
}

// Apply writes to dst an independently transformed copy of each of the n
// samples of src, both laid out NCHW with c channels of h x w. Randomness
// comes from rng only, so equal seeds give equal outputs. src is not
// modified; dst must not overlap it. Apply does not allocate.
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
	for i := range n {
		p := a.draw(h, w, rng)
		p.apply(dst[i*stride:(i+1)*stride], src[i*stride:(i+1)*stride], c, h, w)
	}
}

// augParams is one sample's drawn transform (Keras' transform_parameters).
type augParams struct {
	theta        float64 // rotation, degrees
	tx           float64 // row shift, from the height range (Keras' tx)
	ty           float64 // column shift, from the width range (Keras' ty)
	flipH, flipV bool
}

// draw draws one sample's transform, in Keras' order.
func (a Augment) draw(h, w int, rng *RNG) augParams {
	var p augParams
	if a.RotationRange != 0 {
		p.theta = rng.Uniform(-a.RotationRange, a.RotationRange)
	}
	p.tx = augDrawShift(a.HeightShift, h, rng)
	p.ty = augDrawShift(a.WidthShift, w, rng)
	if a.HorizontalFlip {
		p.flipH = rng.Float64() < 0.5
	}
	if a.VerticalFlip {
		p.flipV = rng.Float64() < 0.5
	}
	return p
}

// augIsIntegral reports whether v is a whole number.
func augIsIntegral(v float64) bool { return v == math.Trunc(v) }

// augDrawShift draws a shift in pixels for range r along an axis of size
// pixels, by the rules in Augment's documentation.
func augDrawShift(r float64, size int, rng *RNG) float64 {
	switch {
	case r == 0:
		return 0
	case r >= 1 && augIsIntegral(r):
		k := rng.Intn(int(r))
		if rng.Uint64()>>63 != 0 {
			k = -k
		}
		return float64(k)
	case r < 1:
		return rng.Uniform(-r, r) * float64(size)
	default:
		return rng.Uniform(-r, r)
	}
}

// apply writes the transform of one sample (c x h x w) of src to dst.
func (p augParams) apply(dst, src []float32, c, h, w int) {
	hw := h * w
	if p.theta == 0 && augIsIntegral(p.tx) && augIsIntegral(p.ty) {
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
// offset * (rotation * shift) * reset, as Keras' apply_affine_transform and
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
	or, oc := float64(h)/2-0.5, float64(w)/2-0.5
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
var augmentKeys = []string{"hflip", "vflip", "rotate", "wshift", "hshift"}

// augmentAliases maps the Keras argument names to the short keys.
var augmentAliases = map[string]string{
	"horizontal_flip":    "hflip",
	"vertical_flip":      "vflip",
	"rotation_range":     "rotate",
	"width_shift_range":  "wshift",
	"height_shift_range": "hshift",
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
//	wshift=R      width_shift_range (integer: whole pixels; < 1: fraction)
//	hshift=R      height_shift_range, likewise
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
			v, err := strconv.ParseFloat(val, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fail("%s value %q is not a finite number", key, val)
			}
			limit := float64(MaxAugmentShift)
			if key == "rotate" {
				limit = MaxAugmentRotation
			}
			if v < 0 || v > limit {
				return fail("%s value %v is outside [0, %v]", key, v, limit)
			}
			switch key {
			case "rotate":
				a.RotationRange = v
			case "wshift":
				a.WidthShift = v
			default:
				a.HeightShift = v
			}
		case "none":
			return fail("none cannot be combined with other items")
		default:
			return fail("unknown key %q (want one of %s)", key, strings.Join(augmentKeys, ", "))
		}
	}
	return a, nil
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
	num := func(key string, v float64) {
		if v != 0 {
			parts = append(parts, key+"="+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	num("rotate", a.RotationRange)
	num("wshift", a.WidthShift)
	num("hshift", a.HeightShift)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}
