package train

import "math"

// pointwiseNaive is the float64 reference of the elementwise layers: y = f(x) for kind
// "sigmoid", "tanh", "leakyrelu" (a = alpha), "elu" (a = alpha) or "clip" (a, b = the
// bounds), and the derivative dy/dx at x.
func pointwiseNaive(kind string, x, a, b float64) (y, dydx float64) {
	switch kind {
	case "sigmoid":
		y = 1 / (1 + math.Exp(-x))
		return y, y * (1 - y)
	case "tanh":
		y = math.Tanh(x)
		return y, 1 - y*y
	case "leakyrelu":
		if x < 0 {
			return a * x, a
		}
		return x, 1
	case "elu":
		if x < 0 {
			return a * (math.Exp(x) - 1), a * math.Exp(x)
		}
		return x, 1
	case "clip":
		switch {
		case x < a:
			return a, 0
		case x > b:
			return b, 0
		}
		return x, 1
	}
	panic("train: pointwiseNaive: unknown kind " + kind)
}
