package train

import (
	"fmt"
	"math"
)

// ArithOp is the operation of an Arith layer between the value x and its constant c.
type ArithOp int

// The operations of Arith, as ONNX's Add, Sub, Mul and Div compute them with one
// operand constant.
const (
	ArithAdd  ArithOp = iota // x + c
	ArithSub                 // x - c
	ArithRSub                // c - x
	ArithMul                 // x * c
	ArithDiv                 // x / c
)

var arithNames = [...]string{"Add", "Sub", "RSub", "Mul", "Div"}

// String returns "Add", "Sub", "RSub", "Mul" or "Div".
func (o ArithOp) String() string {
	if o >= 0 && int(o) < len(arithNames) {
		return arithNames[o]
	}
	return fmt.Sprintf("ArithOp(%d)", int(o))
}

// Arith combines each sample with a constant, element by element: y = x op C, for
// imported graphs whose arithmetic has one constant operand (ONNX Add, Sub, Mul, Div;
// PyTorch's (x - mean) / std, Keras' Rescaling). C holds one value per element of a
// sample (the constant broadcast to the sample's shape, the same for every sample), or
// a single value for all. Each element is one float32 operation, rounded once, as
// onnxruntime computes it. C is a constant of the graph, not a trained parameter: the
// layer has no Params, and Backward passes dy through the operation's derivative.
type Arith struct {
	layerBase
	Op ArithOp
	C  []float32
	y  []float32
	dx []float32
}

// Kind returns "arith".
func (l *Arith) Kind() string { return "arith" }

// TypeName returns the operation: "Add", "Sub", "RSub", "Mul" or "Div".
func (l *Arith) TypeName() string { return l.Op.String() }

// Params returns nil: C is a constant.
func (l *Arith) Params() []*Param { return nil }

func (l *Arith) build(in Shape, _ *RNG) error {
	if len(in) == 0 {
		return &ShapeError{Layer: l.name, Msg: "empty input shape"}
	}
	if l.Op < ArithAdd || l.Op > ArithDiv {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("unknown operation %v", l.Op)}
	}
	if len(l.C) != 1 && len(l.C) != in.Size() {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("%d constant values for samples of %v (%d values): want 1 or one per value", len(l.C), in, in.Size())}
	}
	for i, v := range l.C {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("constant value %d is %v", i, v)}
		}
	}
	l.in, l.out = in.Clone(), in.Clone()
	return nil
}

func (l *Arith) clone() Layer {
	return &Arith{layerBase: l.cloneBase(), Op: l.Op, C: append([]float32(nil), l.C...)}
}

// Forward: x (N,...) -> y (N,...), y = x op C.
func (l *Arith) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	y := grow(&l.y, len(l.x))
	per := l.in.Size()
	for s := 0; s < n; s++ {
		xs, ys := l.x[s*per:(s+1)*per], y[s*per:(s+1)*per]
		if len(l.C) == 1 {
			arithConst(l.Op, ys, xs, l.C[0])
		} else {
			arithVec(l.Op, ys, xs, l.C)
		}
	}
	return y
}

// arithConst computes y = x op c for every element.
func arithConst(op ArithOp, y, x []float32, c float32) {
	switch op {
	case ArithAdd:
		for i, v := range x {
			y[i] = v + c
		}
	case ArithSub:
		for i, v := range x {
			y[i] = v - c
		}
	case ArithRSub:
		for i, v := range x {
			y[i] = c - v
		}
	case ArithMul:
		for i, v := range x {
			y[i] = v * c
		}
	case ArithDiv:
		for i, v := range x {
			y[i] = v / c
		}
	}
}

// arithVec computes y = x op c element by element.
func arithVec(op ArithOp, y, x, c []float32) {
	c = c[:len(x)]
	switch op {
	case ArithAdd:
		for i, v := range x {
			y[i] = v + c[i]
		}
	case ArithSub:
		for i, v := range x {
			y[i] = v - c[i]
		}
	case ArithRSub:
		for i, v := range x {
			y[i] = c[i] - v
		}
	case ArithMul:
		for i, v := range x {
			y[i] = v * c[i]
		}
	case ArithDiv:
		for i, v := range x {
			y[i] = v / c[i]
		}
	}
}

// Backward: dx = dy for Add and Sub, -dy for RSub, dy*C for Mul, dy/C for Div.
func (l *Arith) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	n, per := l.n, l.in.Size()
	dx := grow(&l.dx, n*per)
	for s := 0; s < n; s++ {
		g, d := dy[s*per:(s+1)*per], dx[s*per:(s+1)*per]
		switch l.Op {
		case ArithAdd, ArithSub:
			copy(d, g)
		case ArithRSub:
			for i, v := range g {
				d[i] = -v
			}
		case ArithMul, ArithDiv:
			op := l.Op
			if len(l.C) == 1 {
				arithConst(op, d, g, l.C[0])
			} else {
				arithVec(op, d, g, l.C)
			}
		}
	}
	return dx
}
