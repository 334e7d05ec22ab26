package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// augTestImage returns a c x h x w image whose values are all distinct
// (ch*10000 + row*100 + col), so that every output pixel tells which input
// pixel it came from.
func augTestImage(c, h, w int) []float32 {
	img := make([]float32, c*h*w)
	for ch := range c {
		for r := range h {
			for col := range w {
				img[(ch*h+r)*w+col] = float32(ch*10000 + r*100 + col)
			}
		}
	}
	return img
}

func TestAugmentZeroIsIdentity(t *testing.T) {
	const n, c, h, w = 3, 2, 5, 7
	src := augTestImage(n*c, h, w)
	dst := make([]float32, len(src))
	rng := NewRNG(1)
	before := rng.State()
	var a Augment
	if a.Enabled() {
		t.Fatal("zero Augment reports Enabled")
	}
	a.Apply(dst, src, n, c, h, w, rng)
	if !slices.Equal(dst, src) {
		t.Error("zero Augment changed the data")
	}
	if rng.State() != before {
		t.Error("zero Augment drew random numbers")
	}
	// Ranges of 0 and flips switched off are the identity too.
	(Augment{RotationRange: 0, WidthShift: ShiftRange{}}).Apply(dst, src, n, c, h, w, nil)
	if !slices.Equal(dst, src) {
		t.Error("disabled Augment changed the data")
	}
}

func TestAugmentFlipsAreExactMirrors(t *testing.T) {
	for _, size := range [][2]int{{4, 6}, {5, 7}, {28, 28}} {
		h, w := size[0], size[1]
		src := augTestImage(2, h, w)
		dst := make([]float32, len(src))
		augParams{flipH: true}.apply(dst, src, 2, h, w)
		for ch := range 2 {
			for r := range h {
				for col := range w {
					if got, want := dst[(ch*h+r)*w+col], src[(ch*h+r)*w+w-1-col]; got != want {
						t.Fatalf("%dx%d hflip (%d,%d,%d) = %v, want %v", h, w, ch, r, col, got, want)
					}
				}
			}
		}
		augParams{flipV: true}.apply(dst, src, 2, h, w)
		for ch := range 2 {
			for r := range h {
				for col := range w {
					if got, want := dst[(ch*h+r)*w+col], src[(ch*h+h-1-r)*w+col]; got != want {
						t.Fatalf("%dx%d vflip (%d,%d,%d) = %v, want %v", h, w, ch, r, col, got, want)
					}
				}
			}
		}
	}
}

func TestAugmentShiftsLiteral(t *testing.T) {
	// Hand-computed: output (r, c) takes input (r+tx, c+ty), clamped to the
	// edge (fill_mode "nearest"); fractional shifts interpolate linearly.
	src3x4 := []float32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
	}
	tests := []struct {
		name string
		p    augParams
		h, w int
		src  []float32
		want []float32
	}{
		{"rows +1 cols -2", augParams{tx: 1, ty: -2}, 3, 4, src3x4, []float32{
			5, 5, 5, 6,
			9, 9, 9, 10,
			9, 9, 9, 10,
		}},
		{"rows -1 cols +3", augParams{tx: -1, ty: 3}, 3, 4, src3x4, []float32{
			4, 4, 4, 4,
			4, 4, 4, 4,
			8, 8, 8, 8,
		}},
		{"far outside clamps", augParams{tx: 100, ty: -100}, 3, 4, src3x4, []float32{
			9, 9, 9, 9,
			9, 9, 9, 9,
			9, 9, 9, 9,
		}},
		{"half-pixel row shift", augParams{tx: 0.5}, 3, 2, []float32{
			0, 100,
			10, 110,
			20, 120,
		}, []float32{
			5, 105,
			15, 115,
			20, 120,
		}},
		{"shift then hflip", augParams{ty: 1, flipH: true}, 3, 4, src3x4, []float32{
			4, 4, 3, 2,
			8, 8, 7, 6,
			12, 12, 11, 10,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]float32, len(tt.src))
			tt.p.apply(dst, tt.src, 1, tt.h, tt.w)
			if !slices.Equal(dst, tt.want) {
				t.Errorf("got  %v\nwant %v", dst, tt.want)
			}
		})
	}
}

// shiftOf finds the whole-pixel shift k (along rows if rows, else columns)
// for which out is exactly src shifted by k with edge clamping, or reports
// false.
func shiftOf(out, src []float32, h, w int, rows bool) (int, bool) {
	limit := w
	if rows {
		limit = h
	}
	for k := -limit + 1; k < limit; k++ {
		p := augParams{ty: float64(k)}
		if rows {
			p = augParams{tx: float64(k)}
		}
		ref := make([]float32, len(src))
		p.apply(ref, src, 1, h, w)
		if slices.Equal(ref, out) {
			return k, true
		}
	}
	return 0, false
}

func TestAugmentIntegerShiftDistribution(t *testing.T) {
	// Keras' height_shift_range=3 draws np.random.choice(3) * np.random.choice([-1, 1]):
	// shifts -2..2, with P(0) = 1/3 and P(k) = 1/6 for k != 0.
	const n, h, w = 6000, 8, 5
	for _, rows := range []bool{true, false} {
		a := Augment{HeightShift: ShiftRange{Int: 3}}
		if !rows {
			a = Augment{WidthShift: ShiftRange{Int: 3}}
		}
		one := augTestImage(1, h, w)
		src := make([]float32, 0, n*h*w)
		for range n {
			src = append(src, one...)
		}
		dst := make([]float32, len(src))
		a.Apply(dst, src, n, 1, h, w, NewRNG(42))
		counts := map[int]int{}
		for i := range n {
			k, ok := shiftOf(dst[i*h*w:(i+1)*h*w], one, h, w, rows)
			if !ok {
				t.Fatalf("%v: sample %d is not a whole-pixel shift along the expected axis", a, i)
			}
			counts[k]++
		}
		keys := make([]int, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []int{-2, -1, 0, 1, 2}) {
			t.Fatalf("%v: drawn shifts %v, want exactly -2..2", a, keys)
		}
		for k, c := range counts {
			p := 1.0 / 6
			if k == 0 {
				p = 1.0 / 3
			}
			sd := math.Sqrt(n * p * (1 - p))
			if math.Abs(float64(c)-n*p) > 5*sd {
				t.Errorf("%v: shift %d drawn %d times of %d, want about %.0f (5 sd = %.0f)", a, k, c, n, n*p, 5*sd)
			}
		}
	}
}

func TestAugmentDrawShiftRanges(t *testing.T) {
	tests := []struct {
		r        ShiftRange
		size     int
		lo, hi   float64 // shifts lie in [lo, hi]
		integral bool
	}{
		{ShiftRange{Int: 3}, 28, -2, 2, true},
		{ShiftRange{Int: 1}, 28, 0, 0, true},
		{ShiftRange{Float: 0.1}, 28, -2.8, 2.8, false},
		{ShiftRange{Float: 0.5}, 10, -5, 5, false},
		{ShiftRange{Float: 2.5}, 28, -2.5, 2.5, false},
		// Keras' float 3.0 and 1.0 draw real shifts, unlike the ints 3 and 1.
		{ShiftRange{Float: 3}, 28, -3, 3, false},
		{ShiftRange{Float: 1}, 28, -1, 1, false},
	}
	for _, tt := range tests {
		rng := NewRNG(7)
		sawFraction := false
		for range 2000 {
			v := tt.r.draw(tt.size, rng)
			if v < tt.lo || v > tt.hi {
				t.Fatalf("range %v size %d: drew %v outside [%v, %v]", tt.r, tt.size, v, tt.lo, tt.hi)
			}
			if v != math.Trunc(v) {
				sawFraction = true
			}
		}
		if sawFraction == tt.integral {
			t.Errorf("range %v: fractional shifts drawn = %v, want %v", tt.r, sawFraction, !tt.integral)
		}
	}
	rng := NewRNG(7)
	before := rng.State()
	if v := (ShiftRange{}).draw(28, rng); v != 0 || rng.State() != before {
		t.Errorf("range 0 drew %v or consumed randomness", v)
	}
}

func TestAugmentRotateRightAngles(t *testing.T) {
	// Keras' rotation matrix [[cos, -sin], [sin, cos]] on (row, col) about
	// its centre o = n/2 + 0.5 (see Augment): input = R (output - o) + o, so
	// +90 degrees samples input (2o-col, row) = (n+1-col, row), clamped to
	// the edge: a transpose, a horizontal flip and a shift by two columns
	// (about the true centre (n-1)/2 it would be (n-1-col, row), no shift).
	// cos(pi/2) is 6e-17, not 0, so the
	// sampling positions are off by ~1e-15 pixel and a neighbour leaks in
	// with that weight: invisible in float32 except beside zero, hence the
	// absolute tolerance of 1e-9 (values here are at most ~3000).
	for _, n := range []int{5, 6, 28} {
		src := augTestImage(1, n, n)
		dst := make([]float32, len(src))
		tests := []struct {
			theta float64
			from  func(r, c int) (int, int)
		}{
			{90, func(r, c int) (int, int) { return augClampIndex(n+1-c, n), r }},
			{-90, func(r, c int) (int, int) { return c, augClampIndex(n+1-r, n) }},
			{180, func(r, c int) (int, int) { return augClampIndex(n+1-r, n), augClampIndex(n+1-c, n) }},
		}
		for _, tt := range tests {
			augParams{theta: tt.theta}.apply(dst, src, 1, n, n)
			for r := range n {
				for c := range n {
					sr, sc := tt.from(r, c)
					if got, want := dst[r*n+c], src[sr*n+sc]; math.Abs(float64(got-want)) > 1e-9 {
						t.Fatalf("n=%d theta=%v: (%d,%d) = %v, want input (%d,%d) = %v", n, tt.theta, r, c, got, sr, sc, want)
					}
				}
			}
		}
	}
}

func TestAugmentFlipsFollowAffine(t *testing.T) {
	// Keras applies the affine map first and the flips after it.
	const h, w = 7, 9
	src := augTestImage(1, h, w)
	for _, p := range []augParams{
		{theta: 23, tx: 1.25, ty: -0.5, flipH: true},
		{theta: -41, tx: -2, ty: 3, flipV: true},
		{theta: 90, flipH: true, flipV: true},
	} {
		got := make([]float32, len(src))
		p.apply(got, src, 1, h, w)
		mid := make([]float32, len(src))
		augParams{theta: p.theta, tx: p.tx, ty: p.ty}.apply(mid, src, 1, h, w)
		want := make([]float32, len(src))
		augParams{flipH: p.flipH, flipV: p.flipV}.apply(want, mid, 1, h, w)
		if !slices.Equal(got, want) {
			t.Errorf("%+v differs from affine-then-flip", p)
		}
	}
}

// augGolden is testdata/augment_golden.json, written by
// testdata/gen/augment_golden.py from keras-preprocessing's
// ImageDataGenerator.
type augGolden struct {
	Draws struct {
		N, Seed    int
		Shape      []int // rows, cols, channels
		Generators []struct {
			Name, Keras, Spec string
			Params            map[string]augDrawSummary
		}
	}
	Photometric struct {
		Brightness []struct {
			Factor        float64
			H, W          int
			Input, Output []float32
		}
		Contrast []struct {
			Factor        float64
			C, H, W       int
			Input, Output []float32
		}
		Blur []struct {
			Sigma         float64
			Kernel        int
			C, H, W       int
			Input, Output []float32
		}
	}
	Cases []struct {
		Name    string
		C, H, W int
		Theta   float64
		Tx, Ty  float64
		ZX, ZY  float64
		FlipH   bool `json:"flip_h"`
		FlipV   bool `json:"flip_v"`
		Input   []float32
		Output  []float32
	}
}

// ulpDiff returns the distance between a and b in float32 units in the last
// place (both finite).
func ulpDiff(a, b float32) int64 {
	ord := func(f float32) int64 {
		i := int64(int32(math.Float32bits(f)))
		if i < 0 {
			i = math.MinInt32 - i
		}
		return i
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

func TestAugmentMatchesReference(t *testing.T) {
	// Reference: Keras' matrix sampled by PyTorch's grid_sample (bilinear,
	// border padding) in float64, rounded to float32. Our arithmetic differs
	// from the reference's only in float64 rounding (~1e-16 of the values),
	// which can move a float32 result by at most one ulp, or, for results
	// that should be 0 but pick up a 1e-16 residue from a neighbour, by
	// ~1e-16 absolute; the check allows either.
	g := readAugGolden(t)
	for _, tc := range g.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			size := tc.C * tc.H * tc.W
			if len(tc.Input) != size || len(tc.Output) != size {
				t.Fatalf("golden case has %d/%d values, want %d", len(tc.Input), len(tc.Output), size)
			}
			dst := make([]float32, size)
			augParams{theta: tc.Theta, tx: tc.Tx, ty: tc.Ty, zx: tc.ZX, zy: tc.ZY, flipH: tc.FlipH, flipV: tc.FlipV}.apply(dst, tc.Input, tc.C, tc.H, tc.W)
			exact := 0
			for i := range dst {
				d := ulpDiff(dst[i], tc.Output[i])
				if d > 1 && math.Abs(float64(dst[i]-tc.Output[i])) > 1e-12 {
					t.Fatalf("value %d = %v, reference %v (%d ulp apart)", i, dst[i], tc.Output[i], d)
				}
				if d == 0 {
					exact++
				}
			}
			if exact < size*95/100 {
				t.Errorf("only %d of %d values bit-identical to the reference", exact, size)
			}
		})
	}
}

// augDrawSummary summarises the draws of one transform parameter: Counts
// per value when Keras' draws were whole numbers, else their moments.
type augDrawSummary struct {
	Counts    map[string]int
	N         int
	Mean, Var float64
	Min, Max  float64
}

func readAugGolden(t *testing.T) augGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "augment_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g augGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 || len(g.Draws.Generators) == 0 || g.Draws.N == 0 || len(g.Draws.Shape) != 3 {
		t.Fatal("augment_golden.json lacks cases or draws")
	}
	return g
}

func TestAugmentDrawsMatchKeras(t *testing.T) {
	// Each generator's specification is parsed and drawn from as often as
	// Keras' get_random_transform was, and the distributions compared. Both
	// sides are seeded, so the comparison is deterministic; the bounds are
	// six standard errors of the difference of two independent samples of
	// that size (for the variance, of uniform draws: var(s^2) = 4/5 sigma^4 / n),
	// far below what a wrong rule moves: int 3 against float 3.0 changes the
	// variance from 5/3 to 3, P(0) from 1/3 to 0; swapped axes change a
	// fraction's scale from 28 to 20.
	g := readAugGolden(t)
	n, h, w := g.Draws.N, g.Draws.Shape[0], g.Draws.Shape[1]
	for _, gen := range g.Draws.Generators {
		t.Run(gen.Name, func(t *testing.T) {
			a, err := ParseAugment(gen.Spec)
			if err != nil {
				t.Fatalf("spec %q (Keras %s): %v", gen.Spec, gen.Keras, err)
			}
			rng := NewRNG(uint64(g.Draws.Seed))
			vals := map[string][]float64{}
			b2f := func(b bool) float64 {
				if b {
					return 1
				}
				return 0
			}
			for range n {
				p := a.draw(h, w, rng)
				vals["theta"] = append(vals["theta"], p.theta)
				vals["tx"] = append(vals["tx"], p.tx)
				vals["ty"] = append(vals["ty"], p.ty)
				one := func(z float64) float64 { // Keras reports 1 for no zoom
					if z == 0 {
						return 1
					}
					return z
				}
				vals["zx"] = append(vals["zx"], one(p.zx))
				vals["zy"] = append(vals["zy"], one(p.zy))
				if a.Brightness != [2]float64{} { // Keras reports None without a range
					vals["brightness"] = append(vals["brightness"], p.brightness)
				}
				vals["flip_h"] = append(vals["flip_h"], b2f(p.flipH))
				vals["flip_v"] = append(vals["flip_v"], b2f(p.flipV))
			}
			if len(gen.Params) != len(vals) {
				t.Fatalf("golden has %d parameters, want %d", len(gen.Params), len(vals))
			}
			for name, want := range gen.Params {
				got, ok := vals[name]
				if !ok {
					t.Fatalf("golden parameter %q is unknown", name)
				}
				if want.Counts != nil {
					compareAugCounts(t, gen.Spec+" "+name, got, want.Counts, n)
				} else {
					compareAugMoments(t, gen.Spec+" "+name, got, want)
				}
			}
		})
	}
}

// compareAugCounts checks that the whole-number draws got have the
// frequencies Keras' draws had.
func compareAugCounts(t *testing.T, what string, got []float64, want map[string]int, n int) {
	t.Helper()
	counts := map[string]int{}
	for _, v := range got {
		if v != math.Trunc(v) {
			t.Fatalf("%s: drew %v, Keras draws only whole numbers %v", what, v, want)
		}
		counts[fmt.Sprint(int(v))]++
	}
	for k := range counts {
		if _, ok := want[k]; !ok {
			t.Fatalf("%s: drew %s, which Keras never drew (%v)", what, k, want)
		}
	}
	for k, wc := range want {
		p := float64(wc) / float64(n)
		tol := 6 * math.Sqrt(2*p*(1-p)/float64(n))
		if d := math.Abs(float64(counts[k])/float64(n) - p); d > tol {
			t.Errorf("%s: value %s drawn %d times of %d, Keras %d (difference %.4f > %.4f)", what, k, counts[k], n, wc, d, tol)
		}
	}
}

// compareAugMoments checks that the real-valued draws got have the range,
// mean and variance Keras' draws had.
func compareAugMoments(t *testing.T, what string, got []float64, want augDrawSummary) {
	t.Helper()
	var sum, lo, hi float64 = 0, math.Inf(1), math.Inf(-1)
	whole := true
	for _, v := range got {
		sum += v
		lo, hi = min(lo, v), max(hi, v)
		whole = whole && v == math.Trunc(v)
	}
	if whole {
		t.Fatalf("%s: drew only whole numbers, Keras draws real ones", what)
	}
	n := float64(len(got))
	mean := sum / n
	var ss float64
	for _, v := range got {
		ss += (v - mean) * (v - mean)
	}
	variance := ss / n
	span := want.Max - want.Min
	if lo < want.Min-span/1000 || hi > want.Max+span/1000 || hi-lo < span*0.99 {
		t.Errorf("%s: drew within [%v, %v], Keras within [%v, %v]", what, lo, hi, want.Min, want.Max)
	}
	if tol := 6 * math.Sqrt(2*want.Var/n); math.Abs(mean-want.Mean) > tol {
		t.Errorf("%s: mean %v, Keras %v (tolerance %v)", what, mean, want.Mean, tol)
	}
	if tol := 6 * math.Sqrt(2*0.8/n) * want.Var; math.Abs(variance-want.Var) > tol {
		t.Errorf("%s: variance %v, Keras %v (tolerance %v)", what, variance, want.Var, tol)
	}
}

func TestAugmentGoldenCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python with Keras' generator and PyTorch; skipped with -short")
	}
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy, scipy, torch, keras_preprocessing").Run(); err != nil {
		t.Skipf("%s with numpy, scipy, torch and keras_preprocessing unavailable (make setup installs them): %v", python, err)
	}
	out := filepath.Join(t.TempDir(), "augment_golden.json")
	if msg, err := exec.Command(python, filepath.Join("testdata", "gen", "augment_golden.py"), out).CombinedOutput(); err != nil {
		t.Fatalf("generator failed: %v\n%s", err, msg)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join("testdata", "augment_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, stored) {
		t.Error("testdata/augment_golden.json is stale: run /usr/bin/python3 pkg/train/testdata/gen/augment_golden.py")
	}
}

func TestAugmentReproducibleAndIndependent(t *testing.T) {
	const n, c, h, w = 8, 2, 10, 10
	a := Augment{HorizontalFlip: true, VerticalFlip: true, RotationRange: 15, WidthShift: ShiftRange{Float: 0.1}, HeightShift: ShiftRange{Int: 3}}
	one := augTestImage(c, h, w)
	src := make([]float32, 0, n*c*h*w)
	for range n {
		src = append(src, one...)
	}
	run := func(seed uint64) []float32 {
		dst := make([]float32, len(src))
		a.Apply(dst, src, n, c, h, w, NewRNG(seed))
		return dst
	}
	first, again, other := run(3), run(3), run(4)
	if !slices.Equal(first, again) {
		t.Error("same seed gave different outputs")
	}
	if slices.Equal(first, other) {
		t.Error("different seeds gave equal outputs")
	}
	// One call over n samples equals n calls over one sample each, drawing
	// from the same stream: each sample gets its own transform.
	rng := NewRNG(3)
	stride := c * h * w
	for i := range n {
		dst := make([]float32, stride)
		a.Apply(dst, src[i*stride:(i+1)*stride], 1, c, h, w, rng)
		if !slices.Equal(dst, first[i*stride:(i+1)*stride]) {
			t.Fatalf("sample %d differs between batch and single calls", i)
		}
	}
	distinct := map[string]bool{}
	for i := range n {
		distinct[string(float32Bytes(first[i*stride:(i+1)*stride]))] = true
	}
	if len(distinct) < n/2 {
		t.Errorf("only %d distinct transforms among %d samples", len(distinct), n)
	}
}

// float32Bytes returns the bit patterns of v as bytes, for use as a map key.
func float32Bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		u := math.Float32bits(f)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

func TestAugmentChannelsShareTransform(t *testing.T) {
	const n, h, w = 50, 9, 9
	a := Augment{HorizontalFlip: true, RotationRange: 30, WidthShift: ShiftRange{Float: 0.2}, HeightShift: ShiftRange{Float: 1.5}}
	one := augTestImage(1, h, w)
	src := make([]float32, 0, n*3*h*w)
	for range n * 3 {
		src = append(src, one...) // three identical channels per sample
	}
	dst := make([]float32, len(src))
	a.Apply(dst, src, n, 3, h, w, NewRNG(11))
	for i := range n {
		s := dst[i*3*h*w:]
		for ch := 1; ch < 3; ch++ {
			if !slices.Equal(s[:h*w], s[ch*h*w:(ch+1)*h*w]) {
				t.Fatalf("sample %d: channel %d transformed differently from channel 0", i, ch)
			}
		}
	}
}

func TestAugmentHorizontalFlipProbability(t *testing.T) {
	const n, h, w = 4000, 3, 4
	one := augTestImage(1, h, w)
	mirror := make([]float32, len(one))
	augParams{flipH: true}.apply(mirror, one, 1, h, w)
	src := make([]float32, 0, n*h*w)
	for range n {
		src = append(src, one...)
	}
	dst := make([]float32, len(src))
	Augment{HorizontalFlip: true}.Apply(dst, src, n, 1, h, w, NewRNG(5))
	flipped := 0
	for i := range n {
		s := dst[i*h*w : (i+1)*h*w]
		switch {
		case slices.Equal(s, mirror):
			flipped++
		case slices.Equal(s, one):
		default:
			t.Fatalf("sample %d is neither the image nor its mirror", i)
		}
	}
	if sd := math.Sqrt(n * 0.25); math.Abs(float64(flipped)-n/2) > 5*sd {
		t.Errorf("flipped %d of %d, want about %d", flipped, n, n/2)
	}
}

func TestAugmentApplyMisusePanics(t *testing.T) {
	src := make([]float32, 2*1*4*4)
	a := Augment{HorizontalFlip: true}
	tests := []struct {
		name string
		fn   func()
	}{
		{"short dst", func() { a.Apply(make([]float32, 5), src, 2, 1, 4, 4, NewRNG(1)) }},
		{"short src", func() { a.Apply(make([]float32, 64), src[:10], 2, 1, 4, 4, NewRNG(1)) }},
		{"same buffer", func() { a.Apply(src, src, 2, 1, 4, 4, NewRNG(1)) }},
		{"nil rng", func() { a.Apply(make([]float32, 32), src, 2, 1, 4, 4, nil) }},
		{"invalid range", func() { Augment{RotationRange: -1}.Apply(make([]float32, 32), src, 2, 1, 4, 4, NewRNG(1)) }},
		{"negative shape", func() { a.Apply(src, src, -1, 1, 4, 4, NewRNG(1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.fn()
		})
	}
}

func TestParseAugment(t *testing.T) {
	tests := []struct {
		spec string
		want Augment
		str  string
	}{
		{"", Augment{}, "none"},
		{"none", Augment{}, "none"},
		{"hflip", Augment{HorizontalFlip: true}, "hflip"},
		{"hflip,vflip,rotate=10,wshift=0.1,hshift=3", Augment{HorizontalFlip: true, VerticalFlip: true, RotationRange: 10, WidthShift: ShiftRange{Float: 0.1}, HeightShift: ShiftRange{Int: 3}}, "hflip,vflip,rotate=10,wshift=0.1,hshift=3"},
		{" hshift = 3 , hflip ", Augment{HorizontalFlip: true, HeightShift: ShiftRange{Int: 3}}, "hflip,hshift=3"},
		{"rotation_range=12.5,horizontal_flip,height_shift_range=3,width_shift_range=2.5,vertical_flip=false",
			Augment{HorizontalFlip: true, RotationRange: 12.5, WidthShift: ShiftRange{Float: 2.5}, HeightShift: ShiftRange{Int: 3}}, "hflip,rotate=12.5,wshift=2.5,hshift=3"},
		{"hflip=true,vflip=0", Augment{HorizontalFlip: true}, "hflip"},
		{"rotate=0,wshift=0,hshift=0.0", Augment{}, "none"},
		{"wshift=1e-3", Augment{WidthShift: ShiftRange{Float: 0.001}}, "wshift=0.001"},
		// Typed as Python types the literal: a float that is a whole number
		// is still a float range (real shifts), not the int range.
		{"hshift=3.0", Augment{HeightShift: ShiftRange{Float: 3}}, "hshift=3.0"},
		{"hshift=3.", Augment{HeightShift: ShiftRange{Float: 3}}, "hshift=3.0"},
		{"wshift=1.0,hshift=+1", Augment{WidthShift: ShiftRange{Float: 1}, HeightShift: ShiftRange{Int: 1}}, "wshift=1.0,hshift=1"},
		{"wshift=2e3", Augment{WidthShift: ShiftRange{Float: 2000}}, "wshift=2000.0"},
		// The photometric and zoom keys: a single value F is [1-F, 1+F] for
		// zoom and contrast, a fixed sigma for blur.
		{"zoom=0.1", Augment{Zoom: [2]float64{0.9, 1.1}}, "zoom=0.9:1.1"},
		{"zoom_range=0.8:1.25,brightness_range=0.7:1.3", Augment{Zoom: [2]float64{0.8, 1.25}, Brightness: [2]float64{0.7, 1.3}}, "zoom=0.8:1.25,brightness=0.7:1.3"},
		{"zoom=1:1,noise=0", Augment{}, "none"},
		{"contrast=0.25,blur=0.5,noise=0.05", Augment{Contrast: [2]float64{0.75, 1.25}, Blur: [2]float64{0.5, 0.5}, Noise: 0.05}, "contrast=0.75:1.25,blur=0.5:0.5,noise=0.05"},
		{"blur=0.1:1.5,hflip", Augment{HorizontalFlip: true, Blur: [2]float64{0.1, 1.5}}, "hflip,blur=0.1:1.5"},
	}
	for _, tt := range tests {
		got, err := ParseAugment(tt.spec)
		if err != nil {
			t.Errorf("ParseAugment(%q): %v", tt.spec, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAugment(%q) = %+v, want %+v", tt.spec, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseAugment(%q).String() = %q, want %q", tt.spec, s, tt.str)
		}
	}
}

func TestParseAugmentErrors(t *testing.T) {
	tests := []struct {
		spec   string
		offset int
		reason string // substring of the message
	}{
		{"hflip,,vflip", 6, "empty item"},
		{"hflip,", 6, "empty item"},
		{"flip", 0, "unknown key"},
		{"hflip,hflip", 6, "given twice"},
		{"hflip,horizontal_flip", 6, "given twice"},
		{"rotate", 0, "needs a value"},
		{"rotate=", 0, "needs a value"},
		{"rotate=ten", 0, "not a finite number"},
		{"rotate=NaN", 0, "not a finite number"},
		{"wshift=inf", 0, "not a finite number"},
		{"hshift=-3", 0, "outside [0, 1048576]"},
		{"wshift=-0.5", 0, "outside [0, 1048576]"},
		{"hshift=1048577", 0, "outside [0, 1048576]"},
		{"hshift=99999999999999999999", 0, "outside [0, 1048576]"},
		{"rotate=-1", 0, "outside [0, 360]"},
		{"rotate=361", 0, "outside [0, 360]"},
		{"hflip=maybe", 0, "boolean"},
		{"hflip,none", 6, "cannot be combined"},
		{" hflip,  bogus", 9, "unknown key"},
	}
	for _, tt := range tests {
		_, err := ParseAugment(tt.spec)
		var se *AugmentSpecError
		if !errors.As(err, &se) {
			t.Errorf("ParseAugment(%q) error = %v, want *AugmentSpecError", tt.spec, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Error(), tt.reason) || !strings.Contains(se.Error(), tt.spec) {
			t.Errorf("ParseAugment(%q) = %q at offset %d, want %q at offset %d", tt.spec, se.Error(), se.Offset, tt.reason, tt.offset)
		}
	}
}

func FuzzParseAugment(f *testing.F) {
	for _, s := range []string{"", "none", "hflip", "hflip,vflip,rotate=10,wshift=0.1,hshift=3", "rotate=1e300",
		"wshift=2.5,hshift=0.999", "height_shift_range=3", "hflip=false", ",", "x=y=z", "hshift=1048576",
		"hshift=3.0", "wshift=1.,hshift=+1", "hshift=0.0", "wshift=1e5",
		"zoom=0.1,brightness=0.8:1.2,contrast=0.2,blur=0.1:1,noise=0.05", "zoom=1:1", "blur=4", "contrast=0:0", "zoom_range=0.9:1.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		a, err := ParseAugment(spec)
		if err != nil {
			if a != (Augment{}) {
				t.Fatalf("error %v with non-zero result %+v", err, a)
			}
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("ParseAugment(%q) gave invalid %+v: %v", spec, a, err)
		}
		s := a.String()
		b, err := ParseAugment(s)
		if err != nil || b != a {
			t.Fatalf("String %q of %+v reparsed to %+v, %v", s, a, b, err)
		}
		if b.String() != s {
			t.Fatalf("String not canonical: %q then %q", s, b.String())
		}
		// Whatever parses must run: a tiny batch through Apply.
		src := augTestImage(2, 3, 4)
		dst := make([]float32, len(src))
		a.Apply(dst, src, 2, 1, 3, 4, NewRNG(1))
	})
}

var augBenchSink float32

func benchmarkAugment(b *testing.B, spec string) {
	a, err := ParseAugment(spec)
	if err != nil {
		b.Fatal(err)
	}
	const n, c, h, w = 32, 1, 28, 28
	src := augTestImage(n*c, h, w)
	dst := make([]float32, len(src))
	rng := NewRNG(1)
	b.SetBytes(int64(4 * len(src)))
	b.ReportAllocs()
	for b.Loop() {
		a.Apply(dst, src, n, c, h, w, rng)
	}
	augBenchSink = dst[len(dst)/2]
}

func BenchmarkAugmentApply_32x1x28x28_Book(b *testing.B) {
	benchmarkAugment(b, "hflip,hshift=3")
}

func BenchmarkAugmentApply_32x1x28x28_Rotate(b *testing.B) {
	benchmarkAugment(b, "hflip,rotate=10,wshift=0.1,hshift=0.1")
}

func ExampleParseAugment() {
	// The book's augmentation: random horizontal flips and vertical shifts
	// of -2..2 whole pixels.
	a, err := ParseAugment("horizontal_flip, height_shift_range=3")
	if err != nil {
		panic(err)
	}
	fmt.Println(a, a.Enabled())
	_, err = ParseAugment("hflip,rotate=400")
	fmt.Println(err)
	// Output:
	// hflip,hshift=3 true
	// augmentation spec "hflip,rotate=400": item "rotate=400" at byte 6: rotate value 400 is outside [0, 360]
}

func TestAugmentValidate(t *testing.T) {
	tests := []struct {
		a    Augment
		want string // substring of the error; "" for valid
	}{
		{Augment{HorizontalFlip: true, HeightShift: ShiftRange{Int: 3}}, ""},
		{Augment{WidthShift: ShiftRange{Float: MaxAugmentShift}, RotationRange: 360}, ""},
		{Augment{HeightShift: ShiftRange{Int: 3, Float: 0.1}}, "hshift has both an int range (3) and a float range (0.1)"},
		{Augment{WidthShift: ShiftRange{Int: -1}}, "wshift = -1"},
		{Augment{WidthShift: ShiftRange{Int: MaxAugmentShift + 1}}, "want an int range in [0, 1048576]"},
		{Augment{HeightShift: ShiftRange{Float: math.NaN()}}, "hshift = NaN"},
		{Augment{HeightShift: ShiftRange{Float: math.Inf(1)}}, "hshift = +Inf"},
		{Augment{RotationRange: math.Inf(1)}, "rotate = +Inf"},
		{Augment{RotationRange: -0.5}, "rotate = -0.5"},
	}
	for _, tt := range tests {
		err := tt.a.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.a, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want one containing %q", tt.a, err, tt.want)
		}
	}
}

// TestAugmentPhotometricMatchesReference compares brightness with
// keras-preprocessing's apply_brightness_shift (PIL), contrast with
// tf.image.adjust_contrast and blur with torchvision's gaussian_blur, as
// testdata/gen/augment_golden.py computes them, one fixed factor at a time.
func TestAugmentPhotometricMatchesReference(t *testing.T) {
	g := readAugGolden(t).Photometric
	if len(g.Brightness) == 0 || len(g.Contrast) == 0 || len(g.Blur) == 0 {
		t.Fatal("augment_golden.json lacks photometric cases")
	}
	for _, c := range g.Brightness {
		// Keras works on 0..255 and truncates to uint8 (PIL): within one
		// level of ours, which keeps the float and the 0..1 scale.
		x := make([]float32, len(c.Input))
		for i, v := range c.Input {
			x[i] = v / 255
		}
		augParams{brightness: c.Factor}.photometric(x, 1, c.H, c.W, nil)
		for i := range x {
			if d := math.Abs(float64(x[i])*255 - float64(c.Output[i])); d > 1+1e-4 {
				t.Fatalf("brightness %v: value %d = %v (x255), Keras %v", c.Factor, i, x[i]*255, c.Output[i])
			}
		}
	}
	for _, c := range g.Contrast {
		x := append([]float32(nil), c.Input...)
		augParams{contrast: c.Factor}.photometric(x, c.C, c.H, c.W, nil)
		if d, at := maxAbsDiff(x, c.Output); d > 1e-7 {
			t.Errorf("contrast %v: value %d = %v, reference %v", c.Factor, at, x[at], c.Output[at])
		}
	}
	for _, c := range g.Blur {
		x := append([]float32(nil), c.Input...)
		augParams{blur: c.Sigma, blurK: c.Kernel}.photometric(x, c.C, c.H, c.W, make([]float64, c.H*c.W))
		// torch sums the 2-D kernel in float32, we the two passes in float64.
		if d, at := maxAbsDiff(x, c.Output); d > 1e-6 {
			t.Errorf("blur sigma %v kernel %d: value %d = %v, torch %v (diff %g)", c.Sigma, c.Kernel, at, x[at], c.Output[at], d)
		}
	}
}

// TestAugmentNoiseIsGaussian checks Keras' GaussianNoise semantics: the
// added values have mean 0, the standard deviation asked for, a normal
// distribution's kurtosis (3) and no correlation between neighbours, within
// six standard errors for 200,000 draws; nothing is clipped.
func TestAugmentNoiseIsGaussian(t *testing.T) {
	const n, c, h, w, std = 255, 1, 28, 28, 0.1
	src := make([]float32, n*c*h*w)
	for i := range src {
		src[i] = 0.95
	}
	dst := make([]float32, len(src))
	Augment{Noise: std}.Apply(dst, src, n, c, h, w, NewRNG(5))
	var m1, m2, m4, cov float64
	above := 0
	for i := range dst {
		d := float64(dst[i]) - 0.95
		if dst[i] > 1 {
			above++
		}
		m1 += d
		m2 += d * d
		m4 += d * d * d * d
		if i%w != w-1 {
			cov += d * (float64(dst[i+1]) - 0.95)
		}
	}
	N := float64(len(dst))
	m1, m2, m4, cov = m1/N, m2/N, m4/N, cov/N
	if math.Abs(m1) > 6*std/math.Sqrt(N) {
		t.Errorf("mean %v", m1)
	}
	if math.Abs(math.Sqrt(m2)-std) > 6*std/math.Sqrt(2*N) {
		t.Errorf("standard deviation %v, want %v", math.Sqrt(m2), std)
	}
	if k := m4 / (m2 * m2); math.Abs(k-3) > 6*math.Sqrt(24/N) {
		t.Errorf("kurtosis %v, want 3", k)
	}
	if r := cov / m2; math.Abs(r) > 6/math.Sqrt(N) {
		t.Errorf("neighbour correlation %v", r)
	}
	if above == 0 {
		t.Error("noise was clipped at 1; Keras' GaussianNoise does not clip")
	}
}

// TestAugmentFactorDraws checks the contrast factor and the blur's sigma are
// uniform over their ranges (mean and variance within six standard errors),
// and a reproducible function of the seed.
func TestAugmentFactorDraws(t *testing.T) {
	a, err := ParseAugment("contrast=0.5:1.5,blur=0.2:1.2")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	rng := NewRNG(9)
	var cs, bs []float64
	for range n {
		p := a.draw(28, 28, rng)
		cs = append(cs, p.contrast)
		bs = append(bs, p.blur)
		if p.blurK != 2*int(math.Ceil(3*1.2))+1 {
			t.Fatalf("kernel %d", p.blurK)
		}
	}
	for _, c := range []struct {
		name   string
		v      []float64
		lo, hi float64
	}{{"contrast", cs, 0.5, 1.5}, {"blur", bs, 0.2, 1.2}} {
		var mean, vr float64
		for _, v := range c.v {
			if v < c.lo || v >= c.hi {
				t.Fatalf("%s drew %v outside [%v, %v)", c.name, v, c.lo, c.hi)
			}
			mean += v
		}
		mean /= n
		for _, v := range c.v {
			vr += (v - mean) * (v - mean)
		}
		vr /= n
		wantVar := (c.hi - c.lo) * (c.hi - c.lo) / 12
		if math.Abs(mean-(c.lo+c.hi)/2) > 6*math.Sqrt(wantVar/n) || math.Abs(vr-wantVar) > 6*math.Sqrt(0.8/n)*wantVar {
			t.Errorf("%s: mean %v, variance %v; uniform on [%v, %v) has %v, %v", c.name, mean, vr, c.lo, c.hi, (c.lo+c.hi)/2, wantVar)
		}
	}
	// Same seed, same images.
	img := augTestImage(1, 28, 28)
	src := append(append(append([]float32(nil), img...), img...), img...)
	full, _ := ParseAugment("hflip,hshift=3,zoom=0.1,brightness=0.8:1.2,contrast=0.2,blur=0.1:1,noise=0.05")
	x1, x2 := make([]float32, len(src)), make([]float32, len(src))
	full.Apply(x1, src, 3, 1, 28, 28, NewRNG(4))
	full.Apply(x2, src, 3, 1, 28, 28, NewRNG(4))
	if !bytes.Equal(f32bytes(x1), f32bytes(x2)) {
		t.Error("the same seed gave different augmentations")
	}
	// The photometric settings draw after the geometric ones (zoom draws
	// before the flips, as in Keras), so adding them leaves those alone.
	r1, r2 := NewRNG(4), NewRNG(4)
	geo, _ := ParseAugment("hflip,hshift=3,zoom=0.1")
	photo, _ := ParseAugment("hflip,hshift=3,zoom=0.1,brightness=0.8:1.2,contrast=0.2,blur=0.1:1")
	for range 100 {
		p, q := geo.draw(28, 28, r1), photo.draw(28, 28, r2)
		if p.flipH != q.flipH || p.tx != q.tx || p.zx != q.zx || p.zy != q.zy {
			t.Fatal("the photometric settings changed the geometric draws before them")
		}
		r1.SetState(r2.State())
	}
}

func TestAugmentJSONRoundTrip(t *testing.T) {
	a, err := ParseAugment("hflip,rotate=5,wshift=0.1,hshift=3,zoom=0.9:1.2,brightness=0.7:1.3,contrast=0.25,blur=0.1:0.8,noise=0.03")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Augment
	if err := json.Unmarshal(b, &back); err != nil || back != a {
		t.Fatalf("%s read back as %+v (%v)", b, back, err)
	}
	if err := json.Unmarshal([]byte(`"spin=3"`), &back); err == nil {
		t.Error("a bad specification in JSON was accepted")
	}
}
