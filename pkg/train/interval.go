package train

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// WilsonInterval returns the Wilson score interval for a binomial proportion:
// k successes in n trials (an accuracy of k correct out of n), at the given
// two-sided confidence (0.95 for a 95% interval). It is the interval of
// Wilson (1927), as scipy.stats.binomtest(k, n).proportion_ci(confidence,
// method="wilson") computes it (the reference its test checks against):
//
//	centre = (k + z²/2) / (n + z²)
//	half   = z / (n + z²) * sqrt(k(n-k)/n + z²/4)
//
// with z the standard normal quantile of 1 - (1-confidence)/2 (gonum's
// distuv.UnitNormal). Unlike the normal approximation p ± z·sqrt(p(1-p)/n),
// it stays inside [0, 1] and does not shrink to a point at 0 or n correct.
// It returns an error for n < 1, k outside [0, n] or a confidence outside
// (0, 1).
func WilsonInterval(k, n int, confidence float64) (lo, hi float64, err error) {
	if n < 1 || k < 0 || k > n {
		return 0, 0, fmt.Errorf("train: Wilson interval of %d successes in %d trials: want 0 <= k <= n and n >= 1", k, n)
	}
	if !(confidence > 0 && confidence < 1) {
		return 0, 0, fmt.Errorf("train: Wilson interval at confidence %v: want a value in (0, 1)", confidence)
	}
	z := distuv.UnitNormal.Quantile(1 - (1-confidence)/2)
	fk, fn, z2 := float64(k), float64(n), z*z
	centre := (fk + z2/2) / (fn + z2)
	half := z / (fn + z2) * math.Sqrt(fk*(fn-fk)/fn+z2/4)
	return max(0, centre-half), min(1, centre+half), nil
}
