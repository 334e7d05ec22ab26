package train

import (
	"math"
	"testing"
)

// TestAdamKerasFormula runs three steps on hand-picked gradients and
// compares with the Keras update written out in float64, and shows the
// documented difference from PyTorch's epsilon placement.
func TestAdamKerasFormula(t *testing.T) {
	p := &Param{Name: "w", Shape: []int{4}, Data: []float32{1, -2, 0.5, 3}, Grad: make([]float32, 4)}
	frozen := &Param{Name: "mean", Shape: []int{1}, Data: []float32{7}}
	params := []*Param{p, frozen}
	opt := NewAdam(params)
	if opt.LR != 0.001 || opt.Beta1 != 0.9 || opt.Beta2 != 0.999 || opt.Eps != 1e-7 {
		t.Fatalf("defaults %+v are not Keras'", opt)
	}
	grads := [][]float32{{0.1, -0.2, 1e-8, 0}, {0.3, 0.1, -1e-8, 0}, {-0.5, 0.05, 2e-8, 0}}
	w := []float64{1, -2, 0.5, 3}
	m, v := make([]float64, 4), make([]float64, 4)
	for step, g := range grads {
		copy(p.Grad, g)
		opt.Step(params)
		tt := float64(step + 1)
		lrT := 0.001 * math.Sqrt(1-math.Pow(0.999, tt)) / (1 - math.Pow(0.9, tt))
		for j := range w {
			m[j] = 0.9*m[j] + 0.1*float64(g[j])
			v[j] = 0.999*v[j] + 0.001*float64(g[j])*float64(g[j])
			w[j] -= lrT * m[j] / (math.Sqrt(v[j]) + 1e-7)
			if math.Abs(float64(p.Data[j])-w[j]) > 1e-7 {
				t.Errorf("step %d w[%d] = %.9g, Keras formula %.9g", step+1, j, p.Data[j], w[j])
			}
		}
	}
	if opt.T != 3 || frozen.Data[0] != 7 {
		t.Errorf("T = %d, frozen param %g", opt.T, frozen.Data[0])
	}
	// Element 2 has |g| ~ 1e-8, where the formulas part. PyTorch's first step
	// is lr*m_hat/(sqrt(v_hat)+eps) with m_hat = g and sqrt(v_hat) = |g|,
	// i.e. lr*|g|/(|g|+eps) ~ 9.1e-5; Keras' is lr_t*m/(sqrt(v)+eps) with
	// m = 0.1g and sqrt(v) = 0.0316|g|, ~3.2e-6.
	if moved := math.Abs(0.5 - float64(p.Data[2])); moved > 2e-5 {
		t.Errorf("tiny-gradient element moved %g: looks like PyTorch's epsilon placement", moved)
	}
}

func BenchmarkAdamStep_BookModel(b *testing.B) {
	m := BookModel(NewRNG(1))
	opt := NewAdam(m.Params())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		opt.Step(m.Params())
	}
	params, _ := m.NumParams()
	b.ReportMetric(float64(params)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mparams/s")
}
