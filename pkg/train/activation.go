package train

import "fmt"

// ReLU is a standalone rectifier, y = max(x, 0), for stacks (such as imported
// ONNX graphs) whose activation is a separate node.
type ReLU struct {
	layerBase
	y, dx []float32
}

// Kind returns "relu".
func (l *ReLU) Kind() string { return "relu" }

// TypeName returns "ReLU".
func (l *ReLU) TypeName() string { return "ReLU" }

// Params returns nil.
func (l *ReLU) Params() []*Param { return nil }

func (l *ReLU) build(in Shape, _ *RNG) error {
	if len(in) == 0 {
		return &ShapeError{Layer: l.name, Msg: "empty input shape"}
	}
	l.in, l.out = in.Clone(), in.Clone()
	return nil
}

func (l *ReLU) clone() Layer { return &ReLU{layerBase: l.cloneBase()} }

// Forward computes max(x, 0) elementwise: x (N,...) -> y (N,...).
func (l *ReLU) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	y := grow(&l.y, len(l.x))
	for i, v := range l.x {
		y[i] = max(v, 0)
	}
	return y
}

// Backward passes dy where the output was positive.
func (l *ReLU) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	dx := grow(&l.dx, len(l.y))
	reluMask(dx, l.y, dy)
	return dx
}

// Softmax is a standalone softmax over each sample's features (ONNX Softmax
// on a (N, F) input). Model.Logits stops before a final Softmax layer.
type Softmax struct {
	layerBase
	y, dx []float32
}

// Kind returns "softmax".
func (l *Softmax) Kind() string { return "softmax" }

// TypeName returns "Softmax".
func (l *Softmax) TypeName() string { return "Softmax" }

// Params returns nil.
func (l *Softmax) Params() []*Param { return nil }

func (l *Softmax) build(in Shape, _ *RNG) error {
	if len(in) != 1 {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("Softmax needs a flat input, got %v", in)}
	}
	l.in, l.out = in.Clone(), in.Clone()
	return nil
}

func (l *Softmax) clone() Layer { return &Softmax{layerBase: l.cloneBase()} }

// Forward computes the softmax of each row: x (N,F) -> y (N,F).
func (l *Softmax) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	y := grow(&l.y, len(l.x))
	copy(y, l.x)
	softmaxRows(y, n, l.in[0])
	return y
}

// Backward computes dx = y * (dy - sum(dy * y)) per row.
func (l *Softmax) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	dx := grow(&l.dx, len(l.y))
	softmaxBackwardRows(dx, l.y, dy, l.n, l.in[0])
	return dx
}
