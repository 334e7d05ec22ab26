package train

import (
	"fmt"
	"math"
)

// The elementwise activations besides ReLU, for imported graphs whose activation is a
// separate node (ONNX Sigmoid, Tanh, LeakyRelu, Elu, Clip): y (N,...) like x. Each keeps
// its output (and reads its input) for Backward; layer_pointwise_naive.go holds the
// float64 references they are tested against.

// pointwise is what the elementwise layers share.
type pointwise struct {
	layerBase
	y, dx []float32
}

// Params returns nil: the elementwise layers have no parameters.
func (l *pointwise) Params() []*Param { return nil }

func (l *pointwise) buildSame(in Shape) error {
	if len(in) == 0 {
		return &ShapeError{Layer: l.name, Msg: "empty input shape"}
	}
	l.in, l.out = in.Clone(), in.Clone()
	return nil
}

func (l *pointwise) clonePointwise() pointwise { return pointwise{layerBase: l.cloneBase()} }

// forwardWith computes y = f(x) elementwise.
func (l *pointwise) forwardWith(x []float32, n int, f func(float32) float32) []float32 {
	l.begin(x, n)
	y := grow(&l.y, len(l.x))
	for i, v := range l.x {
		y[i] = f(v)
	}
	return y
}

// backwardWith computes dx = dy * f'(x, y) elementwise.
func (l *pointwise) backwardWith(dy []float32, needDx bool, df func(x, y float32) float32) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	dx := grow(&l.dx, len(l.y))
	for i, v := range l.x {
		dx[i] = dy[i] * df(v, l.y[i])
	}
	return dx
}

// Sigmoid is the logistic function, y = 1 / (1 + exp(-x)) (ONNX Sigmoid).
type Sigmoid struct{ pointwise }

// Kind returns "sigmoid".
func (l *Sigmoid) Kind() string { return "sigmoid" }

// TypeName returns "Sigmoid".
func (l *Sigmoid) TypeName() string { return "Sigmoid" }

func (l *Sigmoid) build(in Shape, _ *RNG) error { return l.buildSame(in) }
func (l *Sigmoid) clone() Layer                 { return &Sigmoid{l.clonePointwise()} }

// Forward: x (N,...) -> y (N,...), y = 1 / (1 + exp(-x)).
func (l *Sigmoid) Forward(x []float32, n int, training bool) []float32 {
	return l.forwardWith(x, n, sigmoid32)
}

// Backward: dx = dy * y * (1 - y).
func (l *Sigmoid) Backward(dy []float32, needDx bool) []float32 {
	return l.backwardWith(dy, needDx, func(_, y float32) float32 { return y * (1 - y) })
}

func sigmoid32(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

// Tanh is the hyperbolic tangent (ONNX Tanh).
type Tanh struct{ pointwise }

// Kind returns "tanh".
func (l *Tanh) Kind() string { return "tanh" }

// TypeName returns "Tanh".
func (l *Tanh) TypeName() string { return "Tanh" }

func (l *Tanh) build(in Shape, _ *RNG) error { return l.buildSame(in) }
func (l *Tanh) clone() Layer                 { return &Tanh{l.clonePointwise()} }

// Forward: x (N,...) -> y (N,...), y = tanh(x).
func (l *Tanh) Forward(x []float32, n int, training bool) []float32 {
	return l.forwardWith(x, n, func(v float32) float32 { return float32(math.Tanh(float64(v))) })
}

// Backward: dx = dy * (1 - y^2).
func (l *Tanh) Backward(dy []float32, needDx bool) []float32 {
	return l.backwardWith(dy, needDx, func(_, y float32) float32 { return 1 - y*y })
}

// LeakyReLU is y = x for x >= 0, Alpha*x otherwise (ONNX LeakyRelu, PyTorch
// nn.LeakyReLU; both default Alpha to 0.01).
type LeakyReLU struct {
	pointwise
	Alpha float32
}

// Kind returns "leakyrelu".
func (l *LeakyReLU) Kind() string { return "leakyrelu" }

// TypeName returns "LeakyReLU".
func (l *LeakyReLU) TypeName() string { return "LeakyReLU" }

func (l *LeakyReLU) build(in Shape, _ *RNG) error { return l.buildSame(in) }
func (l *LeakyReLU) clone() Layer {
	return &LeakyReLU{pointwise: l.clonePointwise(), Alpha: l.Alpha}
}

// Forward: x (N,...) -> y (N,...).
func (l *LeakyReLU) Forward(x []float32, n int, training bool) []float32 {
	a := l.Alpha
	return l.forwardWith(x, n, func(v float32) float32 {
		if v < 0 {
			return a * v
		}
		return v
	})
}

// Backward: dx = dy for x >= 0, Alpha*dy otherwise.
func (l *LeakyReLU) Backward(dy []float32, needDx bool) []float32 {
	a := l.Alpha
	return l.backwardWith(dy, needDx, func(x, _ float32) float32 {
		if x < 0 {
			return a
		}
		return 1
	})
}

// ELU is y = x for x >= 0, Alpha*(exp(x)-1) otherwise (ONNX Elu, PyTorch nn.ELU;
// Alpha defaults to 1 in both).
type ELU struct {
	pointwise
	Alpha float32
}

// Kind returns "elu".
func (l *ELU) Kind() string { return "elu" }

// TypeName returns "ELU".
func (l *ELU) TypeName() string { return "ELU" }

func (l *ELU) build(in Shape, _ *RNG) error { return l.buildSame(in) }
func (l *ELU) clone() Layer                 { return &ELU{pointwise: l.clonePointwise(), Alpha: l.Alpha} }

// Forward: x (N,...) -> y (N,...).
func (l *ELU) Forward(x []float32, n int, training bool) []float32 {
	a := float64(l.Alpha)
	return l.forwardWith(x, n, func(v float32) float32 {
		if v < 0 {
			return float32(a * math.Expm1(float64(v)))
		}
		return v
	})
}

// Backward: dx = dy for x >= 0, dy*(y + Alpha) otherwise.
func (l *ELU) Backward(dy []float32, needDx bool) []float32 {
	a := l.Alpha
	return l.backwardWith(dy, needDx, func(x, y float32) float32 {
		if x < 0 {
			return y + a
		}
		return 1
	})
}

// Clip is y = min(max(x, Min), Max) (ONNX Clip; PyTorch's nn.ReLU6 and nn.Hardtanh
// export as one). The gradient passes where Min <= x <= Max, as torch.clamp's does.
type Clip struct {
	pointwise
	Min, Max float32
}

// Kind returns "clip".
func (l *Clip) Kind() string { return "clip" }

// TypeName returns "Clip".
func (l *Clip) TypeName() string { return "Clip" }

func (l *Clip) build(in Shape, _ *RNG) error {
	if math.IsNaN(float64(l.Min)) || math.IsNaN(float64(l.Max)) {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("bounds [%v, %v] must not be NaN", l.Min, l.Max)}
	}
	return l.buildSame(in)
}
func (l *Clip) clone() Layer { return &Clip{pointwise: l.clonePointwise(), Min: l.Min, Max: l.Max} }

// Forward: x (N,...) -> y (N,...); Max wins when Min > Max (onnxruntime's order).
func (l *Clip) Forward(x []float32, n int, training bool) []float32 {
	lo, hi := l.Min, l.Max
	return l.forwardWith(x, n, func(v float32) float32 {
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		return v
	})
}

// Backward: dx = dy where Min <= x <= Max, 0 elsewhere.
func (l *Clip) Backward(dy []float32, needDx bool) []float32 {
	lo, hi := l.Min, l.Max
	return l.backwardWith(dy, needDx, func(x, _ float32) float32 {
		if x >= lo && x <= hi {
			return 1
		}
		return 0
	})
}
