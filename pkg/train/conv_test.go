package train

import (
	"fmt"
	"math"
	"testing"
)

// TestConvWorkedExample is the classic 5x5 input convolved with a 3x3 kernel
// from Dumoulin and Visin, "A guide to convolution arithmetic for deep
// learning" (2016), Figure 1.1, which the book's Figure 12.2 follows. The
// expected output is checked against the naive kernel's arithmetic as well
// as written out.
func TestConvWorkedExample(t *testing.T) {
	x := []float32{
		3, 3, 2, 1, 0,
		0, 0, 1, 3, 1,
		3, 1, 2, 2, 3,
		2, 0, 0, 2, 2,
		2, 0, 0, 0, 1,
	}
	k := []float32{
		0, 1, 2,
		2, 2, 0,
		0, 1, 2,
	}
	want := []float32{
		12, 12, 17,
		10, 17, 19,
		9, 6, 14,
	}
	// The first output by hand: 3*0+3*1+2*2 + 0*2+0*2+1*0 + 3*0+1*1+2*2 = 12.
	if s := 3*0 + 3*1 + 2*2 + 0*2 + 0*2 + 1*0 + 3*0 + 1*1 + 2*2; s != 12 {
		t.Fatalf("hand arithmetic: %d", s)
	}
	l := buildLayer(t, &Conv2D{Filters: 1, KH: 3, KW: 3, W: &Param{Shape: []int{1, 1, 3, 3}, Data: k},
		B: &Param{Shape: []int{1}, Data: []float32{0}}}, Shape{1, 5, 5}, 1).(*Conv2D)
	naive := conv2dNaive(x, 1, l.geom(), 1, k, []float32{0})
	y := l.Forward(x, 1, false)
	for i := range want {
		if y[i] != want[i] || float32(naive[i]) != want[i] {
			t.Fatalf("output %d: fast %g, naive %g, want %g", i, y[i], naive[i], want[i])
		}
	}
}

// convCases are the shapes every fast path is checked on.
var convCases = []struct {
	name    string
	conv    func() *Conv2D
	in      Shape
	n       int
	threads int
}{
	{"3x3 valid", func() *Conv2D { return &Conv2D{Filters: 4, KH: 3, KW: 3} }, Shape{3, 8, 8}, 3, 1},
	{"book conv1", func() *Conv2D { return &Conv2D{Filters: 32, KH: 3, KW: 3, Act: ActReLU} }, Shape{1, 28, 28}, 2, 2},
	{"same stride 2", func() *Conv2D { return &Conv2D{Filters: 5, KH: 3, KW: 3, Stride: [2]int{2, 2}, Padding: PadSame} }, Shape{2, 9, 8}, 4, 3},
	{"same even kernel", func() *Conv2D { return &Conv2D{Filters: 2, KH: 4, KW: 2, Padding: PadSame} }, Shape{3, 7, 6}, 2, 1},
	{"asym pads dilation", func() *Conv2D {
		return &Conv2D{Filters: 3, KH: 2, KW: 3, Pads: [4]int{2, 0, 1, 3}, Dilation: [2]int{2, 3}, Padding: PadExplicit}
	}, Shape{2, 9, 10}, 3, 2},
	{"stride 3x1", func() *Conv2D { return &Conv2D{Filters: 3, KH: 3, KW: 1, Stride: [2]int{3, 1}} }, Shape{2, 10, 5}, 2, 1},
	{"1x1", func() *Conv2D { return &Conv2D{Filters: 6, KH: 1, KW: 1} }, Shape{4, 5, 5}, 3, 2},
	{"1x1 stride 2", func() *Conv2D { return &Conv2D{Filters: 2, KH: 1, KW: 1, Stride: [2]int{2, 2}} }, Shape{3, 6, 6}, 2, 1},
	{"kernel = input", func() *Conv2D { return &Conv2D{Filters: 3, KH: 4, KW: 4} }, Shape{2, 4, 4}, 5, 4},
	{"book conv2 shape", func() *Conv2D { return &Conv2D{Filters: 8, KH: 3, KW: 3, Act: ActReLU} }, Shape{4, 13, 13}, 5, 2},
	{"book conv3 shape", func() *Conv2D { return &Conv2D{Filters: 16, KH: 3, KW: 3, Act: ActReLU} }, Shape{8, 5, 5}, 3, 2},
	{"small map, strided and dilated", func() *Conv2D {
		return &Conv2D{Filters: 3, KH: 2, KW: 2, Stride: [2]int{2, 1}, Dilation: [2]int{1, 2}}
	}, Shape{3, 5, 6}, 3, 2},
	{"same, wide rows", func() *Conv2D { return &Conv2D{Filters: 3, KH: 3, KW: 5, Padding: PadSame} }, Shape{2, 20, 37}, 2, 1},
	{"several groups per thread", func() *Conv2D { return &Conv2D{Filters: 3, KH: 3, KW: 3, Act: ActReLU} }, Shape{2, 30, 30}, 7, 2},
	{"more threads than samples", func() *Conv2D { return &Conv2D{Filters: 2, KH: 3, KW: 3, Padding: PadSame} }, Shape{1, 5, 5}, 2, 8},
}

// TestConvFastVsNaive checks im2col + gemm (forward, weight gradient, bias
// gradient, col2im input gradient) against the naive loops. Float32 sums of
// at most a few hundred terms of size ~1 differ from float64 by < 1e-5.
func TestConvFastVsNaive(t *testing.T) {
	for i, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			l := buildLayer(t, c.conv(), c.in, c.threads).(*Conv2D)
			r := NewRNG(uint64(i))
			copy(l.B.Data, randSlice(r, len(l.B.Data)))
			x := randSlice(r, c.n*c.in.Size())
			y := l.Forward(x, c.n, true)
			z := conv2dNaive(x, c.n, l.geom(), l.Filters, l.W.Data, l.B.Data)
			for j := range z {
				want := z[j]
				if l.Act == ActReLU {
					want = math.Max(want, 0)
				}
				if math.Abs(float64(y[j])-want) > 1e-5 {
					t.Fatalf("y[%d] = %g, naive %g", j, y[j], want)
				}
			}
			dy := randSlice(r, len(y))
			dx := l.Backward(dy, true)
			dz := make([]float32, len(dy))
			actBackward(l.Act, false, dz, y, dy, c.n, l.out.Size())
			ndx, ndw, ndb := conv2dNaiveBackward(x, c.n, l.geom(), l.Filters, l.W.Data, dz)
			for _, cmp := range []struct {
				what string
				got  []float32
				want []float64
			}{{"dx", dx, ndx}, {"dw", l.W.Grad, ndw}, {"db", l.B.Grad, ndb}} {
				if len(cmp.got) != len(cmp.want) {
					t.Fatalf("%s has %d values, want %d", cmp.what, len(cmp.got), len(cmp.want))
				}
				for j := range cmp.want {
					if math.Abs(float64(cmp.got[j])-cmp.want[j]) > 1e-5*(1+math.Abs(cmp.want[j])) {
						t.Fatalf("%s[%d] = %g, naive %g", cmp.what, j, cmp.got[j], cmp.want[j])
					}
				}
			}
		})
	}
}

func TestConvSamePadsLikeKeras(t *testing.T) {
	// TF/Keras 'same': out = ceil(in/stride); the odd pixel of padding goes
	// at the bottom/right.
	cases := []struct {
		in, k, s, d int
		pads        [2]int
		out         int
	}{
		{28, 3, 1, 1, [2]int{1, 1}, 28},
		{28, 4, 1, 1, [2]int{1, 2}, 28},
		{7, 3, 2, 1, [2]int{1, 1}, 4},
		{8, 3, 2, 1, [2]int{0, 1}, 4},
		{5, 3, 1, 2, [2]int{2, 2}, 5},
		{1, 5, 1, 1, [2]int{2, 2}, 1},
	}
	for _, c := range cases {
		pads, out, err := resolvePads(PadSame, c.in, c.k, c.s, c.d, [2]int{}, false)
		if err != nil || pads != c.pads || out != c.out {
			t.Errorf("same in %d k %d s %d d %d: pads %v out %d err %v, want %v %d", c.in, c.k, c.s, c.d, pads, out, err, c.pads, c.out)
		}
	}
}

func TestConvBuildErrors(t *testing.T) {
	cases := []struct {
		l  *Conv2D
		in Shape
	}{
		{&Conv2D{Filters: 2, KH: 3, KW: 3}, Shape{1, 2, 2}},
		{&Conv2D{Filters: 0, KH: 3, KW: 3}, Shape{1, 5, 5}},
		{&Conv2D{Filters: 2, KH: 3, KW: 3}, Shape{25}},
		{&Conv2D{Filters: 2, KH: 3, KW: 3, Stride: [2]int{-1, 1}}, Shape{1, 5, 5}},
		{&Conv2D{Filters: 2, KH: 3, KW: 3, Pads: [4]int{-1, 0, 0, 0}, Padding: PadExplicit}, Shape{1, 5, 5}},
		{&Conv2D{Filters: 2, KH: 3, KW: 3, W: &Param{Shape: []int{2, 1, 3, 2}, Data: make([]float32, 12)}}, Shape{1, 5, 5}},
		{&Conv2D{Filters: 2, KH: 3, KW: 3, W: &Param{Shape: []int{2, 1, 3, 3}, Data: make([]float32, 17)}}, Shape{1, 5, 5}},
	}
	for i, c := range cases {
		c.l.name = "conv1"
		err := c.l.build(c.in, NewRNG(0))
		if _, ok := err.(*ShapeError); !ok {
			t.Errorf("case %d: error %v, want a *ShapeError", i, err)
		}
	}
}

var sinkF32 []float32

func benchConv(b *testing.B, filters, c, h, w, n int, backward bool) {
	l := buildLayer(b, NewConv2D(filters, 3, ActReLU), Shape{c, h, w}, 1)
	x := randSlice(NewRNG(1), n*c*h*w)
	dy := randSlice(NewRNG(2), n*l.OutShape().Size())
	l.Forward(x, n, true) // grow the buffers
	l.Backward(dy, true)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sinkF32 = l.Forward(x, n, true)
		if backward {
			sinkF32 = l.Backward(dy, true)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
	// Multiply-adds of the forward product; the backward pass does twice as
	// many (weight and input gradients).
	flops := 2 * float64(filters*c*9*l.OutShape()[1]*l.OutShape()[2]) * float64(n)
	if backward {
		flops *= 3
	}
	b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
}

// Benchmarks named after the output map of the book's convolutions, batch 32
// (one image for the _1 variants: Predict's single-image latency).
func BenchmarkConv2D_32x26x26(b *testing.B)         { benchConv(b, 32, 1, 28, 28, 32, false) }
func BenchmarkConv2D_64x11x11(b *testing.B)         { benchConv(b, 64, 32, 13, 13, 32, false) }
func BenchmarkConv2D_128x3x3(b *testing.B)          { benchConv(b, 128, 64, 5, 5, 32, false) }
func BenchmarkConv2D_64x11x11_1(b *testing.B)       { benchConv(b, 64, 32, 13, 13, 1, false) }
func BenchmarkConv2D_128x3x3_1(b *testing.B)        { benchConv(b, 128, 64, 5, 5, 1, false) }
func BenchmarkConv2DBackward_32x26x26(b *testing.B) { benchConv(b, 32, 1, 28, 28, 32, true) }
func BenchmarkConv2DBackward_64x11x11(b *testing.B) { benchConv(b, 64, 32, 13, 13, 32, true) }
func BenchmarkConv2DBackward_128x3x3(b *testing.B)  { benchConv(b, 128, 64, 5, 5, 32, true) }

func BenchmarkConv2DNaive_64x11x11(b *testing.B) {
	l := buildLayer(b, NewConv2D(64, 3, ActReLU), Shape{32, 13, 13}, 1).(*Conv2D)
	x := randSlice(NewRNG(1), 32*32*13*13)
	b.ResetTimer()
	for range b.N {
		_ = conv2dNaive(x, 32, l.geom(), 64, l.W.Data, l.B.Data)
	}
}

func ExampleConv2D() {
	m, err := NewModel(Shape{1, 28, 28}, NewConv2D(32, 3, ActReLU), &Conv2D{Filters: 8, KH: 3, KW: 3, Stride: [2]int{2, 2}, Padding: PadSame})
	if err != nil {
		panic(err)
	}
	for _, l := range m.Layers {
		c := l.(*Conv2D)
		fmt.Println(l.Name(), l.OutShape(), c.Pads, c.W.Shape)
	}
	// Output:
	// conv1 (32, 26, 26) [0 0 0 0] [32 1 3 3]
	// conv2 (8, 13, 13) [0 0 1 1] [8 32 3 3]
}
