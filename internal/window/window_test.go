package window

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fmkit/fmkit/internal/vectest"
)

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
		x := vectest.Input(r, c.h*c.w, false)
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
	x := vectest.Input(rand.New(rand.NewPCG(1, 1)), 26*26, false)
	y, arg := make([]float32, 169), make([]int32, 169)
	for range b.N {
		MaxPool2x2(y, arg, x, 26, 13, 13)
	}
}

func TestGatherPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct{ planes, hw, nidx, width, ld int }{
		{3, 25, 9, 9, 20}, {1, 32, 2, 16, 16}, {5, 7, 4, 3, 3}, {2, 16, 1, 1, 1}, {4, 17, 3, 16, 40},
	} {
		src := vectest.Input(r, c.planes*c.hw, false)
		idx := make([]int32, 16*c.nidx)
		for i := range idx {
			idx[i] = int32(r.IntN(c.hw))
		}
		dst := vectest.Input(r, (c.planes*c.nidx-1)*c.ld+c.width+5, false)
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
			if !vectest.SameBits(dst[i], want[i]) {
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
		dcol := vectest.Input(r, c.c*c.kh*c.kw*ld, false)
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
		got := vectest.Input(r, len(want)+1, true) // overwritten, not accumulated
		got[len(want)] = 7
		if !Col2ImPlain(got[:len(want)], dcol, ld, c.c, c.h, c.w, c.kh, c.kw) {
			if useVec512 {
				t.Fatal("Col2ImPlain declined with AVX-512")
			}
			continue
		}
		for i := range want {
			if !vectest.SameBits(got[i], want[i]) {
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
		x := vectest.Input(r, c.c*c.h*c.w, false)
		got := vectest.Input(r, c.c*c.kh*c.kw*ld, false)
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
			if !vectest.SameBits(got[i], want[i]) {
				t.Fatalf("%+v: col[%d] = %g, want %g", c, i, got[i], want[i])
			}
		}
	}
}
