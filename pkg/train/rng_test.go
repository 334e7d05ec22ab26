package train

import "testing"

func TestRNGReproducible(t *testing.T) {
	a, b := NewRNG(12345), NewRNG(12345)
	for i := 0; i < 1000; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("equal seeds diverged")
		}
	}
	s := a.State()
	want := []uint64{a.Uint64(), a.Uint64(), a.Uint64()}
	var c RNG
	c.SetState(s)
	for i, w := range want {
		if got := c.Uint64(); got != w {
			t.Fatalf("draw %d after SetState: %d, want %d", i, got, w)
		}
	}
	if NewRNG(1).Uint64() == NewRNG(2).Uint64() {
		t.Error("seeds 1 and 2 start alike")
	}
}

func TestRNGRanges(t *testing.T) {
	r := NewRNG(7)
	counts := make([]int, 5)
	for i := 0; i < 50000; i++ {
		v := r.Intn(5)
		counts[v]++
		if f := r.Float32(); f < 0 || f >= 1 {
			t.Fatalf("Float32 %g", f)
		}
		if u := r.Uniform(-2, 3); u < -2 || u >= 3 {
			t.Fatalf("Uniform %g", u)
		}
	}
	// 10000 expected per bucket, sd ~89: allow 5 sd.
	for v, c := range counts {
		if c < 9550 || c > 10450 {
			t.Errorf("Intn(5) gave %d %d times in 50000", v, c)
		}
	}
	p := make([]int, 10)
	r.Perm(p)
	seen := map[int]bool{}
	for _, v := range p {
		seen[v] = true
	}
	if len(seen) != 10 {
		t.Errorf("Perm %v is not a permutation", p)
	}
}

func BenchmarkRNGFloat64(b *testing.B) {
	r := NewRNG(1)
	var s float64
	for range b.N {
		s += r.Float64()
	}
	sinkF64 = s
}

var sinkF64 float64
