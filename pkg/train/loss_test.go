package train

import (
	"math"
	"testing"
)

func TestCrossEntropyValues(t *testing.T) {
	cases := []struct {
		name    string
		logits  []float32
		labels  []uint8
		loss    float64
		correct int
	}{
		{"uniform", make([]float32, 10), []uint8{3}, math.Log(10), 1 - 1}, // ties: argmax is class 0
		{"uniform label 0", make([]float32, 10), []uint8{0}, math.Log(10), 1},
		{"two classes", []float32{0, math.Ln2}, []uint8{1}, math.Log(3) - math.Ln2, 1},
		// Stable for huge logits: exp(1000) overflows a naive softmax.
		{"huge", []float32{1000, 0, -1000}, []uint8{0}, 0, 1},
		{"huge wrong", []float32{1000, 0, -1000}, []uint8{1}, 1000, 0},
		{"batch mean", []float32{0, 0, 0, math.Ln2}, []uint8{0, 1}, (math.Ln2 + math.Log(3) - math.Ln2) / 2, 2},
	}
	for _, c := range cases {
		classes := len(c.logits) / len(c.labels)
		d := make([]float32, len(c.logits))
		loss, correct := SparseCategoricalCrossEntropy(c.logits, c.labels, len(c.labels), classes, d)
		if math.Abs(loss-c.loss) > 1e-6*math.Max(1, c.loss) || correct != c.correct {
			t.Errorf("%s: loss %.9g correct %d, want %.9g %d", c.name, loss, correct, c.loss, c.correct)
		}
		for _, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Errorf("%s: gradient %v", c.name, d)
			}
		}
	}
}

// TestCrossEntropyGradient checks dlogits against central differences of
// the float64 loss (smooth: truncation error h^2 ~ 1e-8).
func TestCrossEntropyGradient(t *testing.T) {
	r := NewRNG(5)
	n, classes := 4, 6
	z := randSlice(r, n*classes)
	for i := range z {
		z[i] *= 4
	}
	labels := []uint8{0, 5, 2, 2}
	d := make([]float32, len(z))
	SparseCategoricalCrossEntropy(z, labels, n, classes, d)
	const h = 1e-3
	for i := range z {
		o := z[i]
		z[i] = o + h
		lp, _ := SparseCategoricalCrossEntropy(z, labels, n, classes, nil)
		z[i] = o - h
		lm, _ := SparseCategoricalCrossEntropy(z, labels, n, classes, nil)
		z[i] = o
		hh := float64(o+h) - float64(o-h) // the step float32 really took
		num := (lp - lm) / hh
		if math.Abs(float64(d[i])-num) > 1e-5 {
			t.Errorf("dlogits[%d] = %.7g, numerically %.7g", i, d[i], num)
		}
	}
}

func BenchmarkCrossEntropy_32x10(b *testing.B) {
	z := randSlice(NewRNG(1), 320)
	labels := make([]uint8, 32)
	d := make([]float32, 320)
	b.ReportAllocs()
	for range b.N {
		SparseCategoricalCrossEntropy(z, labels, 32, 10, d)
	}
}
