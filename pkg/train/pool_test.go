package train

import (
	"math"
	"testing"
)

// TestMaxPoolWorkedExample is 2x2 max pooling with stride 2 of a 4x4 input,
// the example of CS231n's "Convolutional Neural Networks" notes (the book's
// Figure 12.3 shows the same operation).
func TestMaxPoolWorkedExample(t *testing.T) {
	x := []float32{
		1, 1, 2, 4,
		5, 6, 7, 8,
		3, 2, 1, 0,
		1, 2, 3, 4,
	}
	want := []float32{6, 8, 3, 4}
	l := buildLayer(t, NewMaxPool2D(2), Shape{1, 4, 4}, 1)
	y := l.Forward(x, 1, false)
	for i := range want {
		if y[i] != want[i] {
			t.Fatalf("y = %v, want %v", y, want)
		}
	}
	dx := l.Backward([]float32{1, 2, 3, 4}, true)
	wantDx := []float32{0, 0, 0, 0, 0, 1, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4}
	for i := range wantDx {
		if dx[i] != wantDx[i] {
			t.Fatalf("dx = %v, want %v", dx, wantDx)
		}
	}
}

// TestPoolOutputSize checks floor and ceil_mode sizes against the ONNX /
// PyTorch rule, including the clause that drops a last window starting in
// the right padding.
func TestPoolOutputSize(t *testing.T) {
	cases := []struct {
		in, k, s int
		pads     [2]int
		ceil     bool
		out      int
	}{
		{28, 2, 2, [2]int{0, 0}, false, 14},
		{27, 2, 2, [2]int{0, 0}, false, 13},
		{27, 2, 2, [2]int{0, 0}, true, 14},
		{5, 2, 2, [2]int{0, 0}, true, 3},
		{6, 3, 2, [2]int{1, 1}, true, 4}, // (6+2-3)/2 = 2.5 -> 3 windows +1; last starts at 6 = in+pad 1? 3*2=6 < 7: kept
		{4, 2, 2, [2]int{1, 1}, true, 3}, // span 4, ceil(4/2)+1 = 3; last starts at 4 < 5: kept
		{5, 2, 3, [2]int{0, 1}, true, 2}, // span 4, ceil(4/3)+1 = 3; last starts at 6 >= 5: dropped
		{32, 3, 2, [2]int{0, 0}, true, 16},
	}
	for _, c := range cases {
		_, out, err := resolvePads(PadExplicit, c.in, c.k, c.s, 1, c.pads, c.ceil)
		if err != nil || out != c.out {
			t.Errorf("in %d k %d s %d pads %v ceil %v: out %d (%v), want %d", c.in, c.k, c.s, c.pads, c.ceil, out, err, c.out)
		}
	}
}

var poolCases = []struct {
	name     string
	kh, kw   int
	stride   [2]int
	pads     [4]int
	ceil     bool
	in       Shape
	n, thr   int
	countPad bool
}{
	{"2x2", 2, 2, [2]int{}, [4]int{}, false, Shape{3, 8, 8}, 2, 1, false},
	{"odd input floor", 2, 2, [2]int{}, [4]int{}, false, Shape{2, 7, 9}, 3, 2, false},
	{"odd input ceil", 2, 2, [2]int{}, [4]int{}, true, Shape{2, 7, 9}, 3, 2, false},
	{"3x3 s2 pads ceil", 3, 3, [2]int{2, 2}, [4]int{1, 1, 1, 1}, true, Shape{2, 6, 6}, 2, 3, false},
	{"3x3 s2 pads ceil include", 3, 3, [2]int{2, 2}, [4]int{1, 1, 1, 1}, true, Shape{2, 6, 6}, 2, 3, true},
	{"asym pads 2x3 s1", 2, 3, [2]int{1, 1}, [4]int{0, 2, 1, 1}, false, Shape{1, 5, 6}, 2, 1, true},
	{"overlapping 3x3 s1", 3, 3, [2]int{1, 1}, [4]int{}, false, Shape{2, 5, 5}, 4, 4, false},
}

func TestPoolFastVsNaive(t *testing.T) {
	for i, c := range poolCases {
		t.Run(c.name, func(t *testing.T) {
			mp := buildLayer(t, &MaxPool2D{KH: c.kh, KW: c.kw, Stride: c.stride, Pads: c.pads, Padding: PadExplicit, CeilMode: c.ceil}, c.in, c.thr)
			ap := buildLayer(t, &AvgPool2D{KH: c.kh, KW: c.kw, Stride: c.stride, Pads: c.pads, Padding: PadExplicit, CeilMode: c.ceil, CountIncludePad: c.countPad}, c.in, c.thr)
			x := randSlice(NewRNG(uint64(i)), c.n*c.in.Size())
			out := mp.OutShape()
			mpl := mp.(*MaxPool2D)
			want := maxPoolNaive(x, c.n*c.in[0], c.in[1], c.in[2], out[1], out[2], c.kh, c.kw, mpl.Stride, mpl.Pads)
			y := mp.Forward(x, c.n, false)
			for j := range want {
				if y[j] != want[j] {
					t.Fatalf("max y[%d] = %g, naive %g", j, y[j], want[j])
				}
			}
			wantAvg := avgPoolNaive(x, c.n*c.in[0], c.in[1], c.in[2], out[1], out[2], c.kh, c.kw, mpl.Stride, mpl.Pads, c.countPad)
			ya := ap.Forward(x, c.n, false)
			for j := range wantAvg {
				if math.Abs(float64(ya[j])-wantAvg[j]) > 1e-6 {
					t.Fatalf("avg y[%d] = %g, naive %g", j, ya[j], wantAvg[j])
				}
			}
		})
	}
}

func TestPoolBuildErrors(t *testing.T) {
	cases := []Layer{
		&MaxPool2D{KH: 2, KW: 2, Pads: [4]int{2, 0, 0, 0}, Padding: PadExplicit},
		&MaxPool2D{KH: 0, KW: 2},
		&MaxPool2D{KH: 5, KW: 5},
		&AvgPool2D{KH: 2, KW: 2, Stride: [2]int{-2, 1}},
	}
	for i, l := range cases {
		l.base().name = "pool1"
		if err := l.build(Shape{1, 4, 4}, nil); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	if err := (&MaxPool2D{KH: 2, KW: 2}).build(Shape{16}, nil); err == nil {
		t.Error("flat input accepted")
	}
}

func BenchmarkMaxPool2D_32x26x26(b *testing.B) {
	l := buildLayer(b, NewMaxPool2D(2), Shape{32, 26, 26}, 1)
	x := randSlice(NewRNG(1), 32*l.InShape().Size())
	dy := randSlice(NewRNG(2), 32*l.OutShape().Size())
	l.Forward(x, 32, true)
	l.Backward(dy, true)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sinkF32 = l.Forward(x, 32, true)
		sinkF32 = l.Backward(dy, true)
	}
	b.SetBytes(int64(4 * (len(x) + len(dy))))
}

// TestMaxPoolNaN: a NaN in a window propagates, in the 2x2 fast path and in
// the general loop alike.
func TestMaxPoolNaN(t *testing.T) {
	nan := float32(math.NaN())
	x := []float32{
		1, nan, 2, 3,
		4, 0, 5, 1,
		nan, 2, 0, 0,
		1, 1, 0, 9,
	}
	for _, l := range []Layer{NewMaxPool2D(2), &MaxPool2D{KH: 2, KW: 2, Stride: [2]int{2, 2}, CeilMode: true, Pads: [4]int{0, 0, 1, 1}, Padding: PadExplicit}} {
		l = buildLayer(t, l, Shape{1, 4, 4}, 1)
		y := l.Forward(x, 1, false)
		if y[0] == y[0] || y[1] != 5 || y[2] == y[2] || y[3] != 9 {
			t.Errorf("%+v: y = %v", l.(*MaxPool2D).Pads, y[:4])
		}
	}
}
