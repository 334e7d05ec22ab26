package train

import (
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
)

// Enabled reports whether a draws any transform at all.
func (a Augment) Enabled() bool {
	return a.HorizontalFlip || a.VerticalFlip || a.RotationRange != 0 || !a.WidthShift.IsZero() || !a.HeightShift.IsZero()
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
	return a.HeightShift.validate("hshift")
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
	p.tx = a.HeightShift.draw(h, rng)
	p.ty = a.WidthShift.draw(w, rng)
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
//	wshift=R      width_shift_range, typed as Python types the literal:
//	              "3" is the int 3 (whole pixels -2..2), "3.0" and "2.5"
//	              are floats (real pixels), "0.1" a fraction of the width
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
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}
