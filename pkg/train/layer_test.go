package train

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// buildLayer builds l alone for input shape in, as NewModel would.
func buildLayer(t testing.TB, l Layer, in Shape, threads int) Layer {
	t.Helper()
	b := l.base()
	b.name = l.Kind() + "1"
	if err := l.build(in, NewRNG(7)); err != nil {
		t.Fatalf("build %s for %v: %v", l.Kind(), in, err)
	}
	b.threads = threads
	return l
}

// randSlice returns n values uniform in [-1, 1).
func randSlice(r *RNG, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Uniform(-1, 1))
	}
	return s
}

// weightedSum is the scalar test loss L = sum r_i*y_i, in float64.
func weightedSum(y, r []float32) float64 {
	var s float64
	for i := range r {
		s += float64(y[i]) * float64(r[i])
	}
	return s
}

// gradCheck compares l's input and parameter gradients with central
// differences of L = sum r*y (r random), gonum's diff/fd with step h = 1e-2
// on float32 data and float64 accumulation of L. Piecewise-linear layers (ReLU, max) are exact
// up to rounding unless the step crosses a kink: a coordinate whose forward
// and backward one-sided differences disagree is skipped, and at most a
// quarter may be. Rounding of the float32 forward pass gives errors around
// 1e-5/h = 1e-3 relative, hence the tolerance 2e-3 + 1e-2*|numeric|.
func gradCheck(t *testing.T, l Layer, n int, seed uint64) {
	t.Helper()
	r := NewRNG(seed)
	in, out := l.InShape(), l.OutShape()
	x := randSlice(r, n*in.Size())
	w := randSlice(r, n*out.Size())
	l.Forward(x, n, true)
	dx := append([]float32(nil), l.Backward(w, true)...)
	type target struct {
		name string
		data []float32
		grad []float32
	}
	targets := []target{{"x", x, dx}}
	for _, p := range l.Params() {
		if p.Trainable() {
			targets = append(targets, target{p.Name, p.Data, append([]float32(nil), p.Grad...)})
		}
	}
	const h = 1e-2
	loss := func() float64 { return weightedSum(l.Forward(x, n, true), w) }
	for _, tg := range targets {
		checked, skipped := 0, 0
		step := max(1, len(tg.data)/60)
		for i := 0; i < len(tg.data); i += step {
			orig := tg.data[i]
			at := func(v float64) float64 { tg.data[i] = float32(v); return loss() }
			l0 := loss()
			diff := func(f fd.Formula) float64 {
				return fd.Derivative(at, float64(orig), &fd.Settings{Formula: f, Step: h, OriginKnown: true, OriginValue: l0})
			}
			fwd, bwd, num := diff(fd.Forward), diff(fd.Backward), diff(fd.Central)
			tg.data[i] = orig
			checked++
			if math.Abs(fwd-bwd) > 2e-3+1e-2*math.Abs(num) && l.Kind() != "softmax" && !hasSoftmax(l) {
				skipped++ // a kink lies within the step
				continue
			}
			if got := float64(tg.grad[i]); math.Abs(got-num) > 2e-3+1e-2*math.Abs(num) {
				t.Errorf("%s: d/d%s[%d] = %.6g, numerically %.6g", l.Name(), tg.name, i, got, num)
			}
		}
		if skipped*4 > checked {
			t.Errorf("%s: %d of %d coordinates of %s sit on kinks; choose other data", l.Name(), skipped, checked, tg.name)
		}
	}
}

func hasSoftmax(l Layer) bool {
	switch l := l.(type) {
	case *Conv2D:
		return l.Act == ActSoftmax
	case *Dense:
		return l.Act == ActSoftmax
	}
	return false
}

func TestGradients(t *testing.T) {
	cases := []struct {
		name  string
		layer func() Layer
		in    Shape
	}{
		{"conv valid", func() Layer { return NewConv2D(3, 3, ActNone) }, Shape{2, 6, 6}},
		{"conv relu", func() Layer { return NewConv2D(3, 3, ActReLU) }, Shape{2, 6, 6}},
		{"conv same stride2", func() Layer {
			return &Conv2D{Filters: 2, KH: 3, KW: 3, Stride: [2]int{2, 2}, Padding: PadSame}
		}, Shape{2, 7, 6}},
		{"conv asym pads dilation 2x3 kernel", func() Layer {
			return &Conv2D{Filters: 2, KH: 2, KW: 3, Pads: [4]int{1, 0, 2, 1}, Dilation: [2]int{2, 1}, Padding: PadExplicit}
		}, Shape{2, 6, 5}},
		{"conv taps wholly in the padding", func() Layer {
			// Width 1 with pads 1: kernel columns 0 and 2 never touch the input.
			return &Conv2D{Filters: 2, KH: 1, KW: 3, Pads: [4]int{0, 1, 0, 1}, Padding: PadExplicit}
		}, Shape{2, 3, 1}},
		{"conv 1x1", func() Layer { return NewConv2D(4, 1, ActNone) }, Shape{3, 4, 4}},
		{"conv softmax", func() Layer { return NewConv2D(2, 2, ActSoftmax) }, Shape{1, 3, 3}},
		{"maxpool 2", func() Layer { return NewMaxPool2D(2) }, Shape{2, 6, 6}},
		{"maxpool ceil pads", func() Layer {
			return &MaxPool2D{KH: 3, KW: 2, Stride: [2]int{2, 2}, Pads: [4]int{1, 0, 1, 1}, Padding: PadExplicit, CeilMode: true}
		}, Shape{2, 6, 7}},
		{"avgpool", func() Layer { return NewAvgPool2D(2) }, Shape{2, 5, 5}},
		{"avgpool ceil pads include", func() Layer {
			return &AvgPool2D{KH: 3, KW: 3, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, Padding: PadExplicit, CeilMode: true, CountIncludePad: true}
		}, Shape{2, 6, 6}},
		{"avgpool ceil pads exclude", func() Layer {
			return &AvgPool2D{KH: 3, KW: 3, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, Padding: PadExplicit, CeilMode: true}
		}, Shape{2, 6, 6}},
		{"dense linear", func() Layer { return NewDense(5, ActNone) }, Shape{7}},
		{"dense relu", func() Layer { return NewDense(5, ActReLU) }, Shape{7}},
		{"dense softmax", func() Layer { return NewDense(4, ActSoftmax) }, Shape{6}},
		{"relu", func() Layer { return &ReLU{} }, Shape{3, 4, 4}},
		{"softmax", func() Layer { return &Softmax{} }, Shape{6}},
		{"flatten", func() Layer { return &Flatten{} }, Shape{2, 3, 3}},
		{"batchnorm 4d", func() Layer {
			bn := &BatchNorm{Epsilon: 1e-3}
			return bn
		}, Shape{3, 4, 4}},
		{"batchnorm flat", func() Layer { return &BatchNorm{} }, Shape{5}},
		{"batchnorm (C, L)", func() Layer { return &BatchNorm{} }, Shape{3, 5}},
		{"sigmoid", func() Layer { return &Sigmoid{} }, Shape{2, 3, 3}},
		{"tanh", func() Layer { return &Tanh{} }, Shape{2, 3, 3}},
		{"leakyrelu", func() Layer { return &LeakyReLU{Alpha: 0.1} }, Shape{2, 3, 3}},
		{"elu", func() Layer { return &ELU{Alpha: 1.5} }, Shape{2, 3, 3}},
		{"clip", func() Layer { return &Clip{Min: -0.5, Max: 0.6} }, Shape{2, 3, 3}},
		{"logsoftmax", func() Layer { return &LogSoftmax{} }, Shape{6}},
		{"logsoftmax rows", func() Layer { return &LogSoftmax{Width: 4} }, Shape{3, 2, 4}},
		{"softmax rows", func() Layer { return &Softmax{Width: 3} }, Shape{2, 3}},
		{"pad constant", func() Layer { return &Pad{Pads: []int{0, 1, 2, 0, 2, 1}, Value: 0.5} }, Shape{2, 3, 3}},
		{"pad crop", func() Layer { return &Pad{Pads: []int{0, -1, 1, 0, 0, -1}} }, Shape{2, 3, 3}},
		{"pad reflect", func() Layer { return &Pad{Pads: []int{0, 2, 1, 0, 1, 2}, Mode: FillReflect} }, Shape{2, 3, 4}},
		{"pad edge", func() Layer { return &Pad{Pads: []int{0, 2, 1, 0, 1, 3}, Mode: FillEdge} }, Shape{2, 3, 4}},
		{"transpose", func() Layer { return &Transpose{Perm: []int{1, 2, 0}} }, Shape{2, 3, 4}},
		{"reshape", func() Layer { return &Reshape{To: Shape{4, 6}} }, Shape{2, 3, 4}},
		{"arith add", func() Layer { return &Arith{Op: ArithAdd, C: []float32{0.5}} }, Shape{2, 3}},
		{"arith rsub", func() Layer { return &Arith{Op: ArithRSub, C: randSlice(NewRNG(4), 6)} }, Shape{2, 3}},
		{"arith mul", func() Layer { return &Arith{Op: ArithMul, C: randSlice(NewRNG(5), 6)} }, Shape{2, 3}},
		{"arith div", func() Layer { return &Arith{Op: ArithDiv, C: []float32{0.8, -1.5, 2, 3, -0.7, 1.25}} }, Shape{3, 2}},
		{"maxpool dilated", func() Layer {
			return &MaxPool2D{KH: 2, KW: 3, Stride: [2]int{1, 2}, Dilation: [2]int{2, 2}, Pads: [4]int{1, 1, 0, 1}, Padding: PadExplicit}
		}, Shape{2, 7, 8}},
	}
	for i, c := range cases {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/threads%d", c.name, threads), func(t *testing.T) {
				l := buildLayer(t, c.layer(), c.in, threads)
				if bn, ok := l.(*BatchNorm); ok {
					r := NewRNG(3)
					for ch := range bn.Scale.Data {
						bn.Scale.Data[ch] = float32(r.Uniform(0.5, 2))
						bn.Bias.Data[ch] = float32(r.Uniform(-1, 1))
						bn.Mean.Data[ch] = float32(r.Uniform(-0.5, 0.5))
						bn.Var.Data[ch] = float32(r.Uniform(0.2, 3))
					}
				}
				for _, p := range l.Params() {
					if p.Trainable() && len(p.Shape) == 1 && l.Kind() != "bn" {
						copy(p.Data, randSlice(NewRNG(11), len(p.Data))) // nonzero biases
					}
				}
				gradCheck(t, l, 3, uint64(100+i))
			})
		}
	}
}

func TestDropout(t *testing.T) {
	l := buildLayer(t, NewDropout(0.25), Shape{1000}, 1).(*Dropout)
	x := randSlice(NewRNG(1), 2000)
	if y := l.Forward(x, 2, false); &y[0] != &x[0] {
		t.Fatal("inference dropout must return its input unchanged")
	}
	state := l.RNG.State()
	y := append([]float32(nil), l.Forward(x, 2, true)...)
	dy := randSlice(NewRNG(2), 2000)
	dx := l.Backward(dy, true)
	zeros := 0
	for i := range x {
		switch {
		case y[i] == 0:
			zeros++
			if dx[i] != 0 {
				t.Fatalf("dropped element %d has gradient %g", i, dx[i])
			}
		default:
			if want := x[i] * float32(1/0.75); y[i] != want {
				t.Fatalf("kept element %d: %g, want %g", i, y[i], want)
			}
			if want := dy[i] * float32(1/0.75); dx[i] != want {
				t.Fatalf("kept element %d gradient: %g, want %g", i, dx[i], want)
			}
		}
	}
	// 2000 Bernoulli(0.25) draws: mean 500, sd ~19.4; allow 5 sd.
	if zeros < 403 || zeros > 597 {
		t.Errorf("%d of 2000 dropped at rate 0.25", zeros)
	}
	l.RNG.SetState(state)
	y2 := l.Forward(x, 2, true)
	for i := range y {
		if y[i] != y2[i] {
			t.Fatal("same RNG state gave a different mask")
		}
	}
}
