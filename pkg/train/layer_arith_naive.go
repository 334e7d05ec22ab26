package train

// arithNaive is the reference of Arith: y = x op c in float64, rounded once to float32 (for
// float32 operands that is the correctly rounded float32 result of +, -, * and /), and the
// derivative dy/dx.
func arithNaive(op ArithOp, x, c float32) (y float32, dydx float64) {
	a, b := float64(x), float64(c)
	switch op {
	case ArithAdd:
		return float32(a + b), 1
	case ArithSub:
		return float32(a - b), 1
	case ArithRSub:
		return float32(b - a), -1
	case ArithMul:
		return float32(a * b), b
	case ArithDiv:
		return float32(a / b), 1 / b
	}
	panic("train: arithNaive: unknown operation " + op.String())
}
