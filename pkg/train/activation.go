package train

import (
	"fmt"
	"math"
)

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
// on a (N, F) input). With Width > 0 the sample (of any shape) is split into
// consecutive rows of Width values and each row is normalised: ONNX Softmax
// over the last axis, or over the 2-D view before opset 13. Model.Logits stops
// before a final Softmax layer.
type Softmax struct {
	layerBase
	Width int // 0: the whole (flat) sample
	y, dx []float32
}

// rowWidth returns the softmax row width of a layer with per-sample input in
// and width w, or an error when it does not split the sample.
func rowWidth(name string, in Shape, w int) (int, error) {
	if w == 0 {
		if len(in) != 1 {
			return 0, &ShapeError{Layer: name, Msg: fmt.Sprintf("a softmax over the whole sample needs a flat input, got %v", in)}
		}
		return in[0], nil
	}
	if len(in) == 0 || w < 0 || in.Size()%w != 0 {
		return 0, &ShapeError{Layer: name, Msg: fmt.Sprintf("width %d does not split a sample of %v into rows", w, in)}
	}
	return w, nil
}

// Kind returns "softmax".
func (l *Softmax) Kind() string { return "softmax" }

// TypeName returns "Softmax".
func (l *Softmax) TypeName() string { return "Softmax" }

// Params returns nil.
func (l *Softmax) Params() []*Param { return nil }

func (l *Softmax) build(in Shape, _ *RNG) error {
	if _, err := rowWidth(l.name, in, l.Width); err != nil {
		return err
	}
	l.in, l.out = in.Clone(), in.Clone()
	return nil
}

func (l *Softmax) clone() Layer { return &Softmax{layerBase: l.cloneBase(), Width: l.Width} }

// rows returns the number and width of the rows of n samples.
func (l *Softmax) rows(n int) (rows, w int) {
	w, _ = rowWidth(l.name, l.in, l.Width)
	return n * l.in.Size() / w, w
}

// Forward computes the softmax of each row: x (N,F) -> y (N,F).
func (l *Softmax) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	y := grow(&l.y, len(l.x))
	copy(y, l.x)
	rows, w := l.rows(n)
	softmaxRows(y, rows, w)
	return y
}

// Backward computes dx = y * (dy - sum(dy * y)) per row.
func (l *Softmax) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	dx := grow(&l.dx, len(l.y))
	rows, w := l.rows(l.n)
	softmaxBackwardRows(dx, l.y, dy, rows, w)
	return dx
}

// LogSoftmax is the logarithm of Softmax (ONNX LogSoftmax, PyTorch
// F.log_softmax), computed stably as x - max - log(sum(exp(x - max))), with the
// rows of Softmax (Width). Model.Logits stops before a final LogSoftmax layer:
// cross-entropy on its input is the negative log-likelihood of its output.
type LogSoftmax struct {
	layerBase
	Width int // 0: the whole (flat) sample
	y, dx []float32
}

// Kind returns "logsoftmax".
func (l *LogSoftmax) Kind() string { return "logsoftmax" }

// TypeName returns "LogSoftmax".
func (l *LogSoftmax) TypeName() string { return "LogSoftmax" }

// Params returns nil.
func (l *LogSoftmax) Params() []*Param { return nil }

func (l *LogSoftmax) build(in Shape, _ *RNG) error {
	if _, err := rowWidth(l.name, in, l.Width); err != nil {
		return err
	}
	l.in, l.out = in.Clone(), in.Clone()
	return nil
}

func (l *LogSoftmax) clone() Layer { return &LogSoftmax{layerBase: l.cloneBase(), Width: l.Width} }

// Forward computes each row's log-softmax: x (N,...) -> y (N,...).
func (l *LogSoftmax) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	y := grow(&l.y, len(l.x))
	w, _ := rowWidth(l.name, l.in, l.Width)
	for r := 0; r < len(y)/w; r++ {
		xr, yr := l.x[r*w:(r+1)*w], y[r*w:(r+1)*w]
		m := xr[0]
		for _, v := range xr[1:] {
			if v > m {
				m = v
			}
		}
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v - m))
		}
		ls := math.Log(s)
		for j, v := range xr {
			yr[j] = float32(float64(v-m) - ls)
		}
	}
	return y
}

// Backward computes dx = dy - exp(y) * sum(dy) per row.
func (l *LogSoftmax) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	dx := grow(&l.dx, len(l.y))
	w, _ := rowWidth(l.name, l.in, l.Width)
	for r := 0; r < len(dx)/w; r++ {
		yr, dyr, dxr := l.y[r*w:(r+1)*w], dy[r*w:(r+1)*w], dx[r*w:(r+1)*w]
		var s float64
		for _, g := range dyr {
			s += float64(g)
		}
		for j := range yr {
			dxr[j] = float32(float64(dyr[j]) - math.Exp(float64(yr[j]))*s)
		}
	}
	return dx
}
