package train

import (
	"math"
	"testing"
)

// TestPointwiseMatchesNaive checks each elementwise layer's Forward and Backward against
// the float64 reference pointwiseNaive: within one float32 rounding of the reference
// (the layers compute in float64 or exactly), at values spread over [-4, 4).
func TestPointwiseMatchesNaive(t *testing.T) {
	cases := []struct {
		layer Layer
		a, b  float64
	}{
		{&Sigmoid{}, 0, 0},
		{&Tanh{}, 0, 0},
		{&LeakyReLU{Alpha: 0.2}, 0.2, 0},
		{&ELU{Alpha: 0.7}, 0.7, 0},
		{&Clip{Min: -1, Max: 6}, -1, 6},
	}
	r := NewRNG(5)
	x := make([]float32, 2*50)
	for i := range x {
		x[i] = float32(r.Uniform(-4, 4))
	}
	dy := randSlice(r, len(x))
	for _, c := range cases {
		l := buildLayer(t, c.layer, Shape{50}, 1)
		y := l.Forward(x, 2, true)
		dx := l.Backward(dy, true)
		for i, v := range x {
			wantY, d := pointwiseNaive(l.Kind(), float64(v), float64(float32(c.a)), float64(float32(c.b)))
			wantDx := float64(dy[i]) * d
			if math.Abs(float64(y[i])-wantY) > 1e-7*math.Max(1, math.Abs(wantY)) {
				t.Errorf("%s(%v) = %v, want %v", l.Kind(), v, y[i], wantY)
			}
			if math.Abs(float64(dx[i])-wantDx) > 1e-6*math.Max(1, math.Abs(wantDx)) {
				t.Errorf("%s'(%v)*%v = %v, want %v", l.Kind(), v, dy[i], dx[i], wantDx)
			}
		}
	}
}

// TestIndexMapLayersMatchNaive checks Transpose and Pad against their coordinate
// references, value for value (both only copy values).
func TestIndexMapLayersMatchNaive(t *testing.T) {
	in := Shape{2, 3, 4}
	x := randSlice(NewRNG(9), 2*in.Size())
	for _, perm := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}, {0, 2, 1}} {
		l := buildLayer(t, &Transpose{Perm: perm}, in, 1)
		y := l.Forward(x, 2, false)
		for s := 0; s < 2; s++ {
			want := transposeNaive(x[s*in.Size():(s+1)*in.Size()], in, perm)
			for i, v := range want {
				if y[s*len(want)+i] != v {
					t.Fatalf("transpose %v sample %d: element %d = %v, want %v", perm, s, i, y[s*len(want)+i], v)
				}
			}
		}
	}
	pads := []struct {
		p    []int
		mode FillMode
	}{
		{[]int{0, 1, 2, 1, 0, 3}, FillConstant},
		{[]int{1, -1, 0, 0, 2, -2}, FillConstant},
		{[]int{0, 2, 3, 0, 1, 2}, FillReflect},
		{[]int{1, 3, 0, 2, 1, 5}, FillEdge},
	}
	for _, pc := range pads {
		l := buildLayer(t, &Pad{Pads: pc.p, Mode: pc.mode, Value: -2}, in, 1)
		y := l.Forward(x, 2, false)
		for s := 0; s < 2; s++ {
			want := padNaive(x[s*in.Size():(s+1)*in.Size()], in, pc.p, pc.mode, -2)
			for i, v := range want {
				if y[s*len(want)+i] != v {
					t.Fatalf("pad %v mode %d sample %d: element %d = %v, want %v", pc.p, pc.mode, s, i, y[s*len(want)+i], v)
				}
			}
		}
	}
}

// TestArithMatchesNaive checks Arith's Forward and Backward against arithNaive for every
// operation, with one constant and with one per element: the outputs bit for bit (one
// float32 operation each), the gradients within one rounding.
func TestArithMatchesNaive(t *testing.T) {
	in := Shape{2, 5}
	r := NewRNG(8)
	x := make([]float32, 3*in.Size())
	for i := range x {
		x[i] = float32(r.Uniform(-4, 4))
	}
	dy := randSlice(r, len(x))
	vec := make([]float32, in.Size())
	for i := range vec {
		vec[i] = float32(r.Uniform(0.25, 3)) * float32(1-2*(i%2))
	}
	for op := ArithAdd; op <= ArithDiv; op++ {
		for _, c := range [][]float32{{-1.7}, vec} {
			l := buildLayer(t, &Arith{Op: op, C: c}, in, 1)
			if l.TypeName() != op.String() || len(l.Params()) != 0 {
				t.Errorf("%v: TypeName %q, %d params", op, l.TypeName(), len(l.Params()))
			}
			y := l.Forward(x, 3, true)
			dx := l.Backward(dy, true)
			for i, v := range x {
				ci := c[0]
				if len(c) > 1 {
					ci = c[i%in.Size()]
				}
				wantY, d := arithNaive(op, v, ci)
				if y[i] != wantY {
					t.Errorf("%v(%v, %v) = %v, want %v", op, v, ci, y[i], wantY)
				}
				if wantDx := float64(dy[i]) * d; math.Abs(float64(dx[i])-wantDx) > 1e-6*math.Max(1, math.Abs(wantDx)) {
					t.Errorf("%v'(%v, %v)*%v = %v, want %v", op, v, ci, dy[i], dx[i], wantDx)
				}
			}
		}
	}
	for _, bad := range []*Arith{{Op: ArithMul, C: []float32{1, 2}}, {Op: ArithDiv, C: []float32{float32(math.Inf(1))}}, {Op: 9, C: []float32{1}}} {
		if _, err := NewModel(in, bad); err == nil {
			t.Errorf("%v with %v built", bad.Op, bad.C)
		}
	}
}
