package train

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestWilsonInterval checks WilsonInterval against SciPy's
// binomtest(...).proportion_ci(method="wilson") (testdata/wilson_golden.json,
// made by testdata/gen/wilson_golden.py).
func TestWilsonInterval(t *testing.T) {
	raw, err := os.ReadFile("testdata/wilson_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			K, N       int
			Confidence float64
			Low, High  float64
		}
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases in the golden file")
	}
	for _, c := range g.Cases {
		lo, hi, err := WilsonInterval(c.K, c.N, c.Confidence)
		if err != nil {
			t.Fatalf("%d/%d at %v: %v", c.K, c.N, c.Confidence, err)
		}
		if math.Abs(lo-c.Low) > 1e-12 || math.Abs(hi-c.High) > 1e-12 {
			t.Errorf("%d/%d at %v: [%.15f, %.15f], SciPy [%.15f, %.15f]", c.K, c.N, c.Confidence, lo, hi, c.Low, c.High)
		}
	}
	for _, bad := range []struct {
		k, n int
		conf float64
	}{{1, 0, 0.95}, {-1, 10, 0.95}, {11, 10, 0.95}, {5, 10, 0}, {5, 10, 1}, {5, 10, math.NaN()}} {
		if _, _, err := WilsonInterval(bad.k, bad.n, bad.conf); err == nil {
			t.Errorf("WilsonInterval(%d, %d, %v): no error", bad.k, bad.n, bad.conf)
		}
	}
}
