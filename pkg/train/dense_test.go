package train

import (
	"math"
	"testing"
)

func TestDenseFastVsNaive(t *testing.T) {
	cases := []struct {
		in, units, n, threads int
		act                   Activation
	}{
		{1152, 64, 32, 1, ActReLU},
		{1152, 64, 32, 3, ActNone},
		{64, 10, 7, 2, ActNone},
		{5, 3, 1, 4, ActReLU},
		{17, 33, 9, 8, ActNone},
		// As many rows per thread as units or more: the x W^T path.
		{64, 10, 32, 1, ActReLU},
		{20, 4, 9, 2, ActNone},
		{1152, 64, 1, 1, ActReLU}, // Predict's single image
	}
	for i, c := range cases {
		l := buildLayer(t, NewDense(c.units, c.act), Shape{c.in}, c.threads).(*Dense)
		r := NewRNG(uint64(i))
		copy(l.B.Data, randSlice(r, c.units))
		x := randSlice(r, c.n*c.in)
		y := l.Forward(x, c.n, true)
		z := denseNaive(x, c.n, c.in, c.units, l.W.Data, l.B.Data)
		tol := 1e-5 * math.Sqrt(float64(c.in))
		for j := range z {
			want := z[j]
			if c.act == ActReLU {
				want = math.Max(want, 0)
			}
			if math.Abs(float64(y[j])-want) > tol {
				t.Fatalf("case %d: y[%d] = %g, naive %g", i, j, y[j], want)
			}
		}
		dy := randSlice(r, len(y))
		dx := l.Backward(dy, true)
		dz := make([]float32, len(dy))
		actBackward(c.act, false, dz, y, dy, c.n, c.units)
		ndx, ndw, ndb := denseNaiveBackward(x, c.n, c.in, c.units, l.W.Data, dz)
		for _, cmp := range []struct {
			what string
			got  []float32
			want []float64
		}{{"dx", dx, ndx}, {"dw", l.W.Grad, ndw}, {"db", l.B.Grad, ndb}} {
			for j := range cmp.want {
				if math.Abs(float64(cmp.got[j])-cmp.want[j]) > tol {
					t.Fatalf("case %d: %s[%d] = %g, naive %g", i, cmp.what, j, cmp.got[j], cmp.want[j])
				}
			}
		}
	}
}

func BenchmarkDense_1152x64(b *testing.B) {
	l := buildLayer(b, NewDense(64, ActReLU), Shape{1152}, 1)
	x := randSlice(NewRNG(1), 32*1152)
	dy := randSlice(NewRNG(2), 32*64)
	l.Forward(x, 32, true)
	l.Backward(dy, true)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sinkF32 = l.Forward(x, 32, true)
		sinkF32 = l.Backward(dy, true)
	}
	// Forward, weight gradient and input gradient: three products.
	flops := 3 * 2 * 32 * 1152 * 64.0
	b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
}
