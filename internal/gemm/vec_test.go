package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fmkit/fmkit/internal/vectest"
)

// TestAddBias checks AddBias (AVX-512 where available) against the
// portable loop bit for bit, and the portable loop against its definition.
func TestAddBias(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range vectest.Lengths {
		for _, relu := range []bool{false, true} {
			src := vectest.Input(r, n+3, true)[:n]
			b := float32(0.25)
			got := make([]float32, n+1)
			want := make([]float32, n+1)
			got[n], want[n] = 7, 7 // must not be written
			AddBias(got[:n], src, b, relu)
			addBiasGo(want[:n], src, b, relu)
			for i := range got {
				if !vectest.SameBits(got[i], want[i]) {
					t.Fatalf("n=%d relu=%v: [%d] = %g, portable %g", n, relu, i, got[i], want[i])
				}
			}
			for i, v := range src {
				def := v + b
				if relu && def < 0 {
					def = 0
				}
				if !vectest.SameBits(want[i], def) {
					t.Fatalf("n=%d relu=%v: portable [%d] = %g, want %g", n, relu, i, want[i], def)
				}
			}
			// In place.
			in := append([]float32(nil), src...)
			AddBias(in, in, b, relu)
			for i := range in {
				if !vectest.SameBits(in[i], want[i]) {
					t.Fatalf("n=%d relu=%v in place: [%d] = %g, want %g", n, relu, i, in[i], want[i])
				}
			}
		}
	}
}

// TestReLUMaskSum checks the mask, the sum's value and that the vector and
// portable versions agree bit for bit (the shared lane order).
func TestReLUMaskSum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range vectest.Lengths {
		y := vectest.Input(r, n, true)
		dy := vectest.Input(r, n, false)
		got := make([]float32, n+1)
		want := make([]float32, n+1)
		got[n], want[n] = 7, 7
		sg := ReLUMaskSum(got[:n], y, dy)
		sw := reluMaskSumGo(want[:n], y, dy)
		if !vectest.SameBits(sg, sw) {
			t.Fatalf("n=%d: sum %g, portable %g", n, sg, sw)
		}
		var ref float64
		for i := range y {
			w := dy[i]
			if !(y[i] > 0) {
				w = 0
			}
			if math.Float32bits(got[i]) != math.Float32bits(w) || math.Float32bits(want[i]) != math.Float32bits(w) {
				t.Fatalf("n=%d: dz[%d] = %g (portable %g), want %g (y %g)", n, i, got[i], want[i], w, y[i])
			}
			ref += float64(w)
		}
		if got[n] != 7 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
		if math.Abs(float64(sg)-ref) > 1e-5*(1+float64(n)) {
			t.Fatalf("n=%d: sum %g, float64 sum %g", n, sg, ref)
		}
	}
}

func TestSum(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range vectest.Lengths {
		x := vectest.Input(r, n, false)
		var ref float64
		for _, v := range x {
			ref += float64(v)
		}
		got, want := Sum(x), sumGo(x)
		if !vectest.SameBits(got, want) {
			t.Fatalf("n=%d: Sum %g, portable %g", n, got, want)
		}
		if math.Abs(float64(got)-ref) > 1e-5*(1+float64(n)) {
			t.Fatalf("n=%d: Sum %g, float64 %g", n, got, ref)
		}
	}
}

var sinkVec float32

func BenchmarkAddBiasReLU_21632(b *testing.B) {
	x := vectest.Input(rand.New(rand.NewPCG(1, 1)), 21632, false)
	y := make([]float32, len(x))
	b.SetBytes(8 * int64(len(x)))
	for range b.N {
		AddBias(y, x, 0.1, true)
	}
}

func BenchmarkReLUMaskSum_21632(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	y, dy := vectest.Input(r, 21632, false), vectest.Input(r, 21632, false)
	dz := make([]float32, len(y))
	b.SetBytes(12 * int64(len(y)))
	for range b.N {
		sinkVec = ReLUMaskSum(dz, y, dy)
	}
}

// TestCopyAddRows checks CopyRows and AddRows against plain loops on
// widths around the vector width, and that nothing outside the block moves.
func TestCopyAddRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ rows, width, lddst, ldsrc int }{
		{0, 5, 5, 5}, {3, 0, 4, 4}, {1, 1, 1, 1}, {11, 11, 11, 13}, {26, 26, 26, 28},
		{3, 3, 3, 5}, {2, 16, 20, 16}, {4, 17, 17, 40}, {5, 33, 50, 33}, {1, 100, 100, 100},
	} {
		src := vectest.Input(r, max(1, (c.rows-1)*c.ldsrc+c.width), false)
		dst := vectest.Input(r, max(1, (c.rows-1)*c.lddst+c.width+3), false)
		for _, add := range []bool{false, true} {
			got := append([]float32(nil), dst...)
			want := append([]float32(nil), dst...)
			if add {
				AddRows(got, c.lddst, src, c.ldsrc, c.rows, c.width)
			} else {
				CopyRows(got, c.lddst, src, c.ldsrc, c.rows, c.width)
			}
			for i := 0; i < c.rows; i++ {
				for j := 0; j < c.width; j++ {
					if add {
						want[i*c.lddst+j] += src[i*c.ldsrc+j]
					} else {
						want[i*c.lddst+j] = src[i*c.ldsrc+j]
					}
				}
			}
			for i := range got {
				if !vectest.SameBits(got[i], want[i]) {
					t.Fatalf("%+v add=%v: dst[%d] = %g, want %g", c, add, i, got[i], want[i])
				}
			}
		}
	}
	for _, bad := range []func(){
		func() { CopyRows(make([]float32, 10), 5, make([]float32, 10), 5, 3, 5) },
		func() { AddRows(make([]float32, 10), 4, make([]float32, 10), 5, 2, 5) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("out-of-range block did not panic")
				}
			}()
			bad()
		}()
	}
}

func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range append(vectest.Lengths, 63, 64, 65, 127, 128, 1152) {
		x, y := vectest.Input(r, n, false), vectest.Input(r, n+2, false)
		var ref float64
		for i := range x {
			ref += float64(x[i]) * float64(y[i])
		}
		got, want := Dot(x, y), dotGo(x, y)
		if !vectest.SameBits(got, want) {
			t.Fatalf("n=%d: Dot %g, portable %g", n, got, want)
		}
		if math.Abs(float64(got)-ref) > 1e-5*(1+float64(n)) {
			t.Fatalf("n=%d: Dot %g, float64 %g", n, got, ref)
		}
	}
}
