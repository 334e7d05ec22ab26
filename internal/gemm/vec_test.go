package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecInput returns n values in [-1, 1) with a few special values (zeros of
// both signs, a NaN when withNaN) planted.
func vecInput(r *rand.Rand, n int, withNaN bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*r.Float32() - 1
	}
	if n > 3 {
		x[1] = 0
		x[2] = float32(math.Copysign(0, -1))
	}
	if withNaN && n > 5 {
		x[n-2] = float32(math.NaN())
	}
	return x
}

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

var vecLengths = []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 121, 676, 1000}

// TestAddBias checks AddBias (AVX-512 where available) against the
// portable loop bit for bit, and the portable loop against its definition.
func TestAddBias(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range vecLengths {
		for _, relu := range []bool{false, true} {
			src := vecInput(r, n+3, true)[:n]
			b := float32(0.25)
			got := make([]float32, n+1)
			want := make([]float32, n+1)
			got[n], want[n] = 7, 7 // must not be written
			AddBias(got[:n], src, b, relu)
			addBiasGo(want[:n], src, b, relu)
			for i := range got {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("n=%d relu=%v: [%d] = %g, portable %g", n, relu, i, got[i], want[i])
				}
			}
			for i, v := range src {
				def := v + b
				if relu && def < 0 {
					def = 0
				}
				if !sameBits(want[i], def) {
					t.Fatalf("n=%d relu=%v: portable [%d] = %g, want %g", n, relu, i, want[i], def)
				}
			}
			// In place.
			in := append([]float32(nil), src...)
			AddBias(in, in, b, relu)
			for i := range in {
				if !sameBits(in[i], want[i]) {
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
	for _, n := range vecLengths {
		y := vecInput(r, n, true)
		dy := vecInput(r, n, false)
		got := make([]float32, n+1)
		want := make([]float32, n+1)
		got[n], want[n] = 7, 7
		sg := ReLUMaskSum(got[:n], y, dy)
		sw := reluMaskSumGo(want[:n], y, dy)
		if !sameBits(sg, sw) {
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
	for _, n := range vecLengths {
		x := vecInput(r, n, false)
		var ref float64
		for _, v := range x {
			ref += float64(v)
		}
		got, want := Sum(x), sumGo(x)
		if !sameBits(got, want) {
			t.Fatalf("n=%d: Sum %g, portable %g", n, got, want)
		}
		if math.Abs(float64(got)-ref) > 1e-5*(1+float64(n)) {
			t.Fatalf("n=%d: Sum %g, float64 %g", n, got, ref)
		}
	}
}

var sinkVec float32

func BenchmarkAddBiasReLU_21632(b *testing.B) {
	x := vecInput(rand.New(rand.NewPCG(1, 1)), 21632, false)
	y := make([]float32, len(x))
	b.SetBytes(8 * int64(len(x)))
	for range b.N {
		AddBias(y, x, 0.1, true)
	}
}

func BenchmarkReLUMaskSum_21632(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	y, dy := vecInput(r, 21632, false), vecInput(r, 21632, false)
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
		src := vecInput(r, max(1, (c.rows-1)*c.ldsrc+c.width), false)
		dst := vecInput(r, max(1, (c.rows-1)*c.lddst+c.width+3), false)
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
				if !sameBits(got[i], want[i]) {
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

// TestAdamUpdate checks the vector update against the portable one bit for
// bit and both against the formula in float64.
func TestAdamUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const b1, b2, lr, eps = 0.9, 0.999, 0.001 * 0.3, 1e-7
	for _, n := range vecLengths {
		w0, g := vecInput(r, n, false), vecInput(r, n, false)
		m0, v0 := vecInput(r, n, false), vecInput(r, n, false)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		w1, m1, v1 := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		w2, m2, v2 := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		AdamUpdate(w1, g, m1, v1, b1, 1-b1, b2, 1-b2, lr, eps)
		adamGo(w2, g, m2, v2, b1, 1-b1, b2, 1-b2, lr, eps)
		for i := range w0 {
			if !sameBits(w1[i], w2[i]) || !sameBits(m1[i], m2[i]) || !sameBits(v1[i], v2[i]) {
				t.Fatalf("n=%d [%d]: vector (%g %g %g), portable (%g %g %g)", n, i, w1[i], m1[i], v1[i], w2[i], m2[i], v2[i])
			}
			m := b1*float64(m0[i]) + (1-b1)*float64(g[i])
			v := b2*float64(v0[i]) + (1-b2)*float64(g[i])*float64(g[i])
			w := float64(w0[i]) - lr*m/(math.Sqrt(v)+eps)
			if math.Abs(float64(w1[i])-w) > 1e-6 || math.Abs(float64(m1[i])-m) > 1e-6 || math.Abs(float64(v1[i])-v) > 1e-6 {
				t.Fatalf("n=%d [%d]: got (%g %g %g), float64 (%g %g %g)", n, i, w1[i], m1[i], v1[i], w, m, v)
			}
		}
	}
}

// maxPoolRef is the 2x2 stride-2 max pooling with first-maximum indices.
func maxPoolRef(x []float32, w, oh, ow int) ([]float32, []int32) {
	y, arg := make([]float32, oh*ow), make([]int32, oh*ow)
	for r := 0; r < oh; r++ {
		for c := 0; c < ow; c++ {
			bi := 2*r*w + 2*c
			for _, i := range []int{2*r*w + 2*c + 1, (2*r+1)*w + 2*c, (2*r+1)*w + 2*c + 1} {
				if x[i] > x[bi] {
					bi = i
				}
			}
			y[r*ow+c], arg[r*ow+c] = x[bi], int32(bi)
		}
	}
	return y, arg
}

func TestMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ h, w int }{{26, 26}, {11, 11}, {2, 2}, {3, 5}, {4, 32}, {5, 33}, {6, 34}, {2, 64}, {7, 70}} {
		oh, ow := c.h/2, c.w/2
		x := vecInput(r, c.h*c.w, false)
		for i := range x { // ties, to check that the first maximum wins
			if r.IntN(4) == 0 {
				x[i] = 0.5
			}
		}
		y := make([]float32, oh*ow+1)
		arg := make([]int32, oh*ow+1)
		y[oh*ow], arg[oh*ow] = 7, 7
		ok := MaxPool2x2(y, arg, x, c.w, oh, ow)
		if !useVec512 {
			if ok {
				t.Fatal("MaxPool2x2 claims success without a vector kernel")
			}
			continue
		}
		if !ok {
			t.Fatalf("%dx%d: no NaN, yet MaxPool2x2 declined", c.h, c.w)
		}
		wy, warg := maxPoolRef(x, c.w, oh, ow)
		for i := range wy {
			if y[i] != wy[i] || arg[i] != warg[i] {
				t.Fatalf("%dx%d: output %d = %g at %d, want %g at %d", c.h, c.w, i, y[i], arg[i], wy[i], warg[i])
			}
		}
		if y[oh*ow] != 7 || arg[oh*ow] != 7 {
			t.Fatalf("%dx%d: wrote past the outputs", c.h, c.w)
		}
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
			x[len(x)/2] = bad
			if MaxPool2x2(y, arg, x, c.w, oh, ow) && (c.h/2)*2 > len(x)/2/c.w && 2*ow > (len(x)/2)%c.w {
				t.Fatalf("%dx%d: %g in a window, yet MaxPool2x2 succeeded", c.h, c.w, bad)
			}
		}
	}
}

func BenchmarkMaxPool2x2_26x26(b *testing.B) {
	x := vecInput(rand.New(rand.NewPCG(1, 1)), 26*26, false)
	y, arg := make([]float32, 169), make([]int32, 169)
	for range b.N {
		MaxPool2x2(y, arg, x, 26, 13, 13)
	}
}

func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range append(vecLengths, 63, 64, 65, 127, 128, 1152) {
		x, y := vecInput(r, n, false), vecInput(r, n+2, false)
		var ref float64
		for i := range x {
			ref += float64(x[i]) * float64(y[i])
		}
		got, want := Dot(x, y), dotGo(x, y)
		if !sameBits(got, want) {
			t.Fatalf("n=%d: Dot %g, portable %g", n, got, want)
		}
		if math.Abs(float64(got)-ref) > 1e-5*(1+float64(n)) {
			t.Fatalf("n=%d: Dot %g, float64 %g", n, got, ref)
		}
	}
}

func TestGatherPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct{ planes, hw, nidx, width, ld int }{
		{3, 25, 9, 9, 20}, {1, 32, 2, 16, 16}, {5, 7, 4, 3, 3}, {2, 16, 1, 1, 1}, {4, 17, 3, 16, 40},
	} {
		src := vecInput(r, c.planes*c.hw, false)
		idx := make([]int32, 16*c.nidx)
		for i := range idx {
			idx[i] = int32(r.IntN(c.hw))
		}
		dst := vecInput(r, (c.planes*c.nidx-1)*c.ld+c.width+5, false)
		want := append([]float32(nil), dst...)
		for p := 0; p < c.planes; p++ {
			for k := 0; k < c.nidx; k++ {
				for o := 0; o < c.width; o++ {
					want[(p*c.nidx+k)*c.ld+o] = src[p*c.hw+int(idx[k*16+o])]
				}
			}
		}
		if !GatherPlanes(dst, c.ld, src, c.planes, c.hw, idx, c.nidx, c.width) {
			if useVec512 {
				t.Fatal("GatherPlanes declined with AVX-512")
			}
			continue
		}
		for i := range want {
			if !sameBits(dst[i], want[i]) {
				t.Fatalf("%+v: dst[%d] = %g, want %g", c, i, dst[i], want[i])
			}
		}
	}
}

// TestCol2ImPlain checks the one-pass col2im against row-by-row
// accumulation in the same order, bit for bit.
func TestCol2ImPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct{ c, h, w, kh, kw, extra int }{
		{32, 13, 13, 3, 3, 7}, {64, 5, 5, 3, 3, 0}, {2, 16, 16, 3, 3, 1}, {3, 4, 7, 1, 2, 5}, {1, 6, 9, 6, 4, 0}, {2, 3, 3, 3, 3, 2},
	} {
		oh, ow := c.h-c.kh+1, c.w-c.kw+1
		ld := oh*ow + c.extra
		dcol := vecInput(r, c.c*c.kh*c.kw*ld, false)
		want := make([]float32, c.c*c.h*c.w)
		for ch := 0; ch < c.c; ch++ {
			for ki := 0; ki < c.kh; ki++ {
				for kj := 0; kj < c.kw; kj++ {
					row := dcol[((ch*c.kh+ki)*c.kw+kj)*ld:]
					for y := 0; y < oh; y++ {
						for x := 0; x < ow; x++ {
							want[(ch*c.h+y+ki)*c.w+x+kj] += row[y*ow+x]
						}
					}
				}
			}
		}
		got := vecInput(r, len(want)+1, true) // overwritten, not accumulated
		got[len(want)] = 7
		if !Col2ImPlain(got[:len(want)], dcol, ld, c.c, c.h, c.w, c.kh, c.kw) {
			if useVec512 {
				t.Fatal("Col2ImPlain declined with AVX-512")
			}
			continue
		}
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%+v: dx[%d] = %g, want %g", c, i, got[i], want[i])
			}
		}
		if got[len(want)] != 7 {
			t.Fatalf("%+v: wrote past dx", c)
		}
	}
}

func TestIm2ColPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, c := range []struct{ c, h, w, kh, kw, extra int }{
		{32, 13, 13, 3, 3, 7}, {64, 5, 5, 3, 3, 0}, {2, 18, 18, 3, 3, 1}, {3, 4, 7, 1, 2, 5}, {1, 6, 9, 6, 4, 0},
	} {
		oh, ow := c.h-c.kh+1, c.w-c.kw+1
		ld := oh*ow + c.extra
		x := vecInput(r, c.c*c.h*c.w, false)
		got := vecInput(r, c.c*c.kh*c.kw*ld, false)
		want := append([]float32(nil), got...)
		for ch := 0; ch < c.c; ch++ {
			for ki := 0; ki < c.kh; ki++ {
				for kj := 0; kj < c.kw; kj++ {
					row := want[((ch*c.kh+ki)*c.kw+kj)*ld:]
					for y := 0; y < oh; y++ {
						for xx := 0; xx < ow; xx++ {
							row[y*ow+xx] = x[(ch*c.h+y+ki)*c.w+xx+kj]
						}
					}
				}
			}
		}
		if !Im2ColPlain(got, x, ld, c.c, c.h, c.w, c.kh, c.kw) {
			if useVec512 {
				t.Fatal("Im2ColPlain declined with AVX-512")
			}
			continue
		}
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%+v: col[%d] = %g, want %g", c, i, got[i], want[i])
			}
		}
	}
}
