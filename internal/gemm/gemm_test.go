package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// guard marks C elements outside the m x n result, which Sgemm must leave
// alone; NaN marks A and B elements outside the matrices, which must never
// reach a result.
const guard = float32(-7777.25)

// operands holds one problem with padded leading dimensions and guard
// values before, between and after the rows of every matrix.
type operands struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32 // exactly the elements the matrices span
	lda, ldb, ldc  int
	cbuf           []float32 // c with guards around it
	c0             []float32 // C before the call
}

const guardLen = 19 // odd on purpose: misaligns the matrices

// newOperands fills A and B with values in [-1, 1) and C with values in
// [-2, 2), pads each row by pad elements and surrounds each matrix with
// guards. The matrices span exactly (rows-1)*ld + cols elements.
func newOperands(r *rand.Rand, transA, transB bool, m, n, k, pad int, alpha, beta float32) *operands {
	o := &operands{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	var abuf, bbuf []float32
	o.a, o.lda, abuf = guarded(r, rowsA, colsA, pad, float32(math.NaN()), 1)
	o.b, o.ldb, bbuf = guarded(r, rowsB, colsB, pad, float32(math.NaN()), 1)
	_, _ = abuf, bbuf
	o.c, o.ldc, o.cbuf = guarded(r, m, n, pad, guard, 2)
	o.c0 = append([]float32(nil), o.c...)
	return o
}

// guarded returns a rows x cols matrix with leading dimension cols+pad
// (at least 1) inside a buffer whose other elements are g.
func guarded(r *rand.Rand, rows, cols, pad int, g, scale float32) (m []float32, ld int, buf []float32) {
	ld = max(1, cols+pad)
	span := 0
	if rows > 0 && cols > 0 {
		span = (rows-1)*ld + cols
	}
	buf = make([]float32, guardLen+span+guardLen)
	for i := range buf {
		buf[i] = g
	}
	m = buf[guardLen : guardLen+span : guardLen+span]
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			m[i*ld+j] = scale * (2*r.Float32() - 1)
		}
	}
	return m, ld, buf
}

func (o *operands) String() string {
	return fmt.Sprintf("transA=%v transB=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%g beta=%g",
		o.transA, o.transB, o.m, o.n, o.k, o.lda, o.ldb, o.ldc, o.alpha, o.beta)
}

func (o *operands) at(transposed bool, s []float32, ld, i, j int) float32 {
	if transposed {
		return s[j*ld+i]
	}
	return s[i*ld+j]
}

// check compares C with Naive's result and checks the guards.
//
// Tolerance: the kernels sum k float32 products in order, so each element's
// error is at most about k*u*sum|a*b| (u = 2^-24, Higham's gamma_k bound),
// plus a rounding each for alpha*acc, the beta term and every k block's
// partial sum; Naive (float64 sums) adds about u of the magnitude. Using
// 2u per term for safety: tol = (k+8) * 2^-23 * (|alpha|*sum|a*b| + |beta*c0|).
func (o *operands) check(t *testing.T, what string) {
	t.Helper()
	want := append([]float32(nil), o.c0...)
	Naive(o.transA, o.transB, o.m, o.n, o.k, o.alpha, o.a, o.lda, o.b, o.ldb, o.beta, want, o.ldc)
	bad := 0
	for i := 0; i < o.m; i++ {
		for j := 0; j < o.n; j++ {
			var mag float64
			for p := 0; p < o.k; p++ {
				mag += math.Abs(float64(o.at(o.transA, o.a, o.lda, i, p)) * float64(o.at(o.transB, o.b, o.ldb, p, j)))
			}
			mag *= math.Abs(float64(o.alpha))
			if o.beta != 0 {
				mag += math.Abs(float64(o.beta) * float64(o.c0[i*o.ldc+j]))
			}
			tol := float64(o.k+8) * 0x1p-23 * mag
			got, exp := o.c[i*o.ldc+j], want[i*o.ldc+j]
			if d := math.Abs(float64(got) - float64(exp)); !(d <= tol) {
				if bad < 5 {
					t.Errorf("%s %v: C[%d,%d] = %g, want %g (diff %.3g > tol %.3g)", what, o, i, j, got, exp, d, tol)
				}
				bad++
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s %v: %d elements wrong in all", what, o, bad)
	}
	// Guards: before, after and in the row padding of C.
	for i, v := range o.cbuf[:guardLen] {
		if v != guard {
			t.Fatalf("%s %v: wrote %g at %d elements before C", what, o, v, guardLen-i)
		}
	}
	for i, v := range o.cbuf[guardLen+len(o.c):] {
		if v != guard {
			t.Fatalf("%s %v: wrote %g at %d elements after C", what, o, v, i)
		}
	}
	for i := 0; i+1 < o.m && o.n > 0; i++ {
		for j := o.n; j < o.ldc; j++ {
			if v := o.c[i*o.ldc+j]; v != guard {
				t.Fatalf("%s %v: wrote %g in the padding of row %d, column %d", what, o, v, i, j)
			}
		}
	}
}

// withKernel runs f with each kernel this CPU can run forced as Sgemm's.
func withKernel(t *testing.T, f func(t *testing.T, kn *kernel)) {
	saved := active
	defer func() { active = saved }()
	for _, kn := range availableKernels() {
		active = kn
		t.Run(kn.name, func(t *testing.T) { f(t, kn) })
	}
}

func TestAvailableKernels(t *testing.T) {
	ks := availableKernels()
	if ks[len(ks)-1] != kernGo {
		t.Fatalf("the portable kernel must always be available, got %v", ks)
	}
	if active != ks[0] {
		t.Fatalf("active kernel %s, want the fastest available %s", active.name, ks[0].name)
	}
	var names []string
	for _, k := range ks {
		names = append(names, k.name)
	}
	t.Logf("kernels: %s", strings.Join(names, ", "))
}

// cnnShapes are the products of the CNN the engine trains (see bench_test.go).
func cnnShapes(short bool) [][3]int {
	s := [][3]int{
		{32, 676, 9}, {64, 121, 288}, {128, 9, 576}, // conv forward, per sample
		{32, 64, 1152}, {32, 10, 64}, // dense forward, batch 32
		{64, 288, 121}, {288, 121, 64}, // conv2 dW, dcols per sample
		{1152, 64, 32}, {32, 1152, 64}, // dense1 dW, dX
	}
	if !short {
		s = append(s, [3]int{64, 3872, 288}, [3]int{128, 288, 576}, [3]int{64, 288, 3872})
	}
	return s
}

func TestSgemmShapes(t *testing.T) {
	// Scalar combinations per case: all 16 for the small cases at the
	// kernels' tile edges, the diagonal plus (1, 0) for the other small
	// ones, and two for the big CNN shapes.
	const (
		two = iota
		diagonal
		all
	)
	type tc struct {
		m, n, k int
		combos  int
	}
	var cases []tc
	for _, s := range [][3]int{{0, 0, 0}, {0, 5, 3}, {5, 0, 3}, {5, 3, 0}, {1, 1, 1}, {1, 1, 700}, {2, 3, 4}} {
		cases = append(cases, tc{s[0], s[1], s[2], all})
	}
	for d := 1; d <= 33; d++ {
		c := diagonal
		if d <= 9 || d%8 <= 1 || d%6 == 0 {
			c = all
		}
		cases = append(cases, tc{d, d, d, c}, tc{d, 33, 5, diagonal}, tc{17, d, 3, diagonal}, tc{9, 35, d, diagonal})
	}
	for _, s := range cnnShapes(testing.Short()) {
		cases = append(cases, tc{s[0], s[1], s[2], two})
	}
	alphas := []float32{0, 1, 0.5, -2}
	betas := []float32{0, 1, 0.5, -2}
	withKernel(t, func(t *testing.T, kn *kernel) {
		// k around the kernel's k block, and m around its m block.
		ks := append(cases, tc{kn.mr + 1, kn.nr + 1, kn.kc - 1, diagonal}, tc{kn.mr + 1, kn.nr + 1, kn.kc, diagonal},
			tc{kn.mr + 1, kn.nr + 1, 2*kn.kc + 1, diagonal}, tc{kn.mc + 1, kn.nr - 1, 7, diagonal})
		r := rand.New(rand.NewPCG(1, uint64(len(kn.name))))
		for _, c := range ks {
			for tr := 0; tr < 4; tr++ {
				transA, transB := tr&1 != 0, tr&2 != 0
				for ia, alpha := range alphas {
					for ib, beta := range betas {
						switch {
						case c.combos == diagonal && ia != ib && !(ia == 1 && ib == 0),
							c.combos == two && !(ia == 1 && ib == 0) && !(ia == 2 && ib == 3):
							continue
						}
						pad := (ia + ib) % 3 * 3 // 0, 3 or 6 extra per row
						o := newOperands(r, transA, transB, c.m, c.n, c.k, pad, alpha, beta)
						Sgemm(transA, transB, c.m, c.n, c.k, alpha, o.a, o.lda, o.b, o.ldb, beta, o.c, o.ldc)
						o.check(t, "Sgemm")
					}
				}
			}
		}
	})
}

func TestSgemmRandom(t *testing.T) {
	withKernel(t, func(t *testing.T, kn *kernel) {
		r := rand.New(rand.NewPCG(2, 3))
		vals := []float32{0, 1, 0.5, -2, 0.3}
		for range 300 {
			m, n, k := r.IntN(70), r.IntN(70), r.IntN(300)
			o := newOperands(r, r.IntN(2) == 0, r.IntN(2) == 0, m, n, k, r.IntN(5), vals[r.IntN(5)], vals[r.IntN(5)])
			Sgemm(o.transA, o.transB, m, n, k, o.alpha, o.a, o.lda, o.b, o.ldb, o.beta, o.c, o.ldc)
			o.check(t, "Sgemm")
		}
	})
}

// TestBetaZeroIgnoresC: with beta == 0 (also -0), NaN and Inf already in C
// must not leak into the result.
func TestBetaZeroIgnoresC(t *testing.T) {
	withKernel(t, func(t *testing.T, kn *kernel) {
		r := rand.New(rand.NewPCG(4, 5))
		for _, beta := range []float32{0, float32(math.Copysign(0, -1))} {
			for _, s := range [][3]int{{1, 1, 1}, {7, 9, 3}, {33, 65, 300}, {8, 32, 16}} {
				for i, fill := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
					o := newOperands(r, i == 1, i == 0, s[0], s[1], s[2], 1, 0.5, beta)
					for i := 0; i < o.m; i++ {
						for j := 0; j < o.n; j++ {
							o.c[i*o.ldc+j] = fill
						}
					}
					o.c0 = make([]float32, len(o.c)) // what Naive sees: C is irrelevant
					copy(o.c0, o.c)
					Sgemm(o.transA, o.transB, o.m, o.n, o.k, o.alpha, o.a, o.lda, o.b, o.ldb, beta, o.c, o.ldc)
					o.check(t, "Sgemm")
				}
			}
		}
	})
}

// TestZeroAlphaOrK: alpha == 0 or k == 0 gives beta*C without reading A or B
// (here full of NaN), and beta == 0 clears C.
func TestZeroAlphaOrK(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		k           int
		alpha, beta float32
		c, want     float32
		lenA        int
	}{
		{k: 4, alpha: 0, beta: 0.5, c: 3, want: 1.5, lenA: 12},
		{k: 4, alpha: 0, beta: 0, c: nan, want: 0, lenA: 12},
		{k: 0, alpha: 2, beta: -2, c: 3, want: -6, lenA: 0},
		{k: 0, alpha: 2, beta: 0, c: nan, want: 0, lenA: 0},
	} {
		a := make([]float32, tc.lenA)
		b := make([]float32, tc.k*5)
		for i := range a {
			a[i] = nan
		}
		for i := range b {
			b[i] = nan
		}
		c := []float32{tc.c, tc.c, tc.c, tc.c, tc.c, guard, tc.c, tc.c, tc.c, tc.c, tc.c, guard, tc.c, tc.c, tc.c, tc.c, tc.c}
		Sgemm(false, false, 3, 5, tc.k, tc.alpha, a, max(1, tc.k), b, 5, tc.beta, c, 6)
		for i, v := range c {
			want := tc.want
			if i%6 == 5 {
				want = guard
			}
			if v != want {
				t.Errorf("k=%d alpha=%g beta=%g: c[%d] = %g, want %g", tc.k, tc.alpha, tc.beta, i, v, want)
			}
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 12)
	big := make([]float32, 100)
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) }, "negative dimension"},
		{"short lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) }, "lda = 2 < max(1, 3 columns)"},
		{"short lda trans", func() { Sgemm(true, false, 4, 2, 2, 1, a, 3, a, 2, 0, a, 2) }, "lda = 3 < max(1, 4 columns)"},
		{"short ldb", func() { Sgemm(false, true, 2, 2, 3, 1, a, 3, a, 2, 0, a, 2) }, "ldb = 2 < max(1, 3 columns)"},
		{"short ldc", func() { Sgemm(false, false, 2, 3, 2, 1, a, 2, a, 3, 0, a, 2) }, "ldc = 2 < max(1, 3 columns)"},
		{"short a", func() { Sgemm(false, false, 5, 2, 3, 1, a, 3, a, 2, 0, a, 2) }, "A is 5x3 with lda = 3 and needs 15 elements, has 12"},
		{"short b", func() { Sgemm(false, false, 2, 2, 7, 1, big, 7, a, 2, 0, a, 2) }, "B is 7x2 with ldb = 2 and needs 14 elements, has 12"},
		{"short c", func() { Sgemm(false, false, 2, 5, 2, 1, a, 2, a, 5, 0, a[:9], 5) }, "C is 2x5 with ldc = 5 and needs 10 elements, has 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Fatalf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// TestDeterminism: the same inputs give the same bits on every call, and
// whether panels are packed or read in place.
func TestDeterminism(t *testing.T) {
	shapes := [][3]int{{64, 121, 288}, {128, 9, 576}, {288, 121, 64}, {33, 600, 17}, {200, 40, 513}, {32, 1152, 64}}
	withKernel(t, func(t *testing.T, kn *kernel) {
		r := rand.New(rand.NewPCG(6, 7))
		for _, s := range shapes {
			for tr := 0; tr < 4; tr++ {
				transA, transB := tr&1 != 0, tr&2 != 0
				o := newOperands(r, transA, transB, s[0], s[1], s[2], 2, 0.5, -2)
				call := func(f func(c []float32)) []float32 {
					c := append([]float32(nil), o.c0...)
					f(c)
					return c
				}
				ref := call(func(c []float32) {
					Sgemm(transA, transB, o.m, o.n, o.k, o.alpha, o.a, o.lda, o.b, o.ldb, o.beta, c, o.ldc)
				})
				copy(o.c, ref)
				o.check(t, "Sgemm")
				for _, p := range []plan{{kn, false, false}, {kn, true, false}, {kn, false, !transB}, {kn, true, !transB}} {
					got := call(func(c []float32) {
						p.run(new(workspace), transA, transB, o.m, o.n, o.k, o.alpha, o.a, o.lda, o.b, o.ldb, o.beta, c, o.ldc)
					})
					if i := firstDiff(got, ref); i >= 0 {
						t.Errorf("%v directA=%v directB=%v: c[%d] = %x, Sgemm gives %x", o, p.directA, p.directB, i, math.Float32bits(got[i]), math.Float32bits(ref[i]))
					}
				}
			}
		}
	})
}

// firstDiff returns the first index where the bit patterns differ, or -1.
func firstDiff(x, y []float32) int {
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return i
		}
	}
	return -1
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	for _, s := range cnnShapes(true) {
		for tr := 0; tr < 4; tr++ {
			transA, transB := tr&1 != 0, tr&2 != 0
			o := newOperands(rand.New(rand.NewPCG(8, 9)), transA, transB, s[0], s[1], s[2], 0, 1, 0)
			f := func() { Sgemm(transA, transB, o.m, o.n, o.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc) }
			if n := testing.AllocsPerRun(20, f); n != 0 {
				t.Errorf("Sgemm %v: %v allocations per call", o, n)
			}
		}
	}
}

// FuzzSgemm compares Sgemm with Naive on fuzzed shapes, transposes, strides
// and scalars.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(0), uint8(64), uint8(121), uint16(288), uint8(0), uint8(1), uint8(0), uint64(1))
	f.Add(uint8(3), uint8(33), uint8(9), uint16(576), uint8(3), uint8(2), uint8(3), uint64(2))
	f.Add(uint8(1), uint8(1), uint8(1), uint16(1), uint8(1), uint8(0), uint8(1), uint64(3))
	f.Add(uint8(2), uint8(0), uint8(5), uint16(0), uint8(0), uint8(3), uint8(2), uint64(4))
	vals := []float32{0, 1, 0.5, -2}
	f.Fuzz(func(t *testing.T, tr, m, n uint8, k uint16, pad, ia, ib uint8, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 0))
		o := newOperands(r, tr&1 != 0, tr&2 != 0, int(m%80), int(n%80), int(k%700), int(pad%8), vals[ia%4], vals[ib%4])
		Sgemm(o.transA, o.transB, o.m, o.n, o.k, o.alpha, o.a, o.lda, o.b, o.ldb, o.beta, o.c, o.ldc)
		o.check(t, "Sgemm")
	})
}

// TestKernelsAgree: kernels with the same k block compute every element with
// the same FMA chain, so they agree to the bit (the assembly kernels do);
// Sgemm may then pick among them by shape without changing results.
func TestKernelsAgree(t *testing.T) {
	ks := availableKernels()
	r := rand.New(rand.NewPCG(14, 15))
	for _, s := range [][3]int{{128, 9, 576}, {32, 10, 64}, {33, 47, 600}, {64, 121, 288}} {
		for tr := 0; tr < 4; tr++ {
			o := newOperands(r, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], 1, 0.5, -2)
			var ref []float32
			var refName string
			for _, kn := range ks {
				if kn.kc != ks[0].kc || kn == kernGo {
					continue
				}
				c := append([]float32(nil), o.c0...)
				plan{kern: kn}.run(new(workspace), o.transA, o.transB, o.m, o.n, o.k, o.alpha, o.a, o.lda, o.b, o.ldb, o.beta, c, o.ldc)
				if ref == nil {
					ref, refName = c, kn.name
					continue
				}
				if i := firstDiff(c, ref); i >= 0 {
					t.Errorf("%v: %s gives c[%d] = %g, %s gives %g", o, kn.name, i, c[i], refName, ref[i])
				}
			}
		}
	}
}
