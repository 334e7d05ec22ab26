package train

import (
	"fmt"
	"math"
)

// BatchNorm is batch normalisation in inference form (ONNX
// BatchNormalization with training_mode 0, Keras BatchNormalization called
// with training=False): per channel c,
//
//	y = Scale[c] * (x - Mean[c]) / sqrt(Var[c] + Epsilon) + Bias[c]
//
// over (C, H, W) or flat (C) inputs. Mean and Var are non-trainable; Backward
// is that of the affine map, so training adjusts Scale and Bias with fixed
// statistics (the running statistics are not updated: this engine does not
// implement training-mode batch normalisation).
type BatchNorm struct {
	layerBase
	Epsilon                float64
	Scale, Bias, Mean, Var *Param

	c, plane int
	a, b     []float32 // folded y = a*x + b per channel
	y, dx    []float32
}

// DefaultBatchNormEpsilon is Keras' default epsilon (1e-3); ONNX's is 1e-5.
const DefaultBatchNormEpsilon = 1e-3

// Kind returns "bn".
func (l *BatchNorm) Kind() string { return "bn" }

// TypeName returns "BatchNormalization".
func (l *BatchNorm) TypeName() string { return "BatchNormalization" }

// Params returns [Scale, Bias, Mean, Var].
func (l *BatchNorm) Params() []*Param { return []*Param{l.Scale, l.Bias, l.Mean, l.Var} }

func (l *BatchNorm) build(in Shape, _ *RNG) error {
	if len(in) == 0 || in[0] < 1 {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("BatchNorm needs a (C, ...) input, got %v", in)}
	}
	if l.Epsilon == 0 {
		l.Epsilon = DefaultBatchNormEpsilon
	}
	if !(l.Epsilon > 0) {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("epsilon %v must be > 0", l.Epsilon)}
	}
	l.c, l.plane = in[0], in.Size()/in[0]
	l.in, l.out = in.Clone(), in.Clone()
	sh := []int{l.c}
	for _, f := range []struct {
		p         **Param
		name      string
		init      float32
		trainable bool
	}{{&l.Scale, "scale", 1, true}, {&l.Bias, "bias", 0, true}, {&l.Mean, "mean", 0, false}, {&l.Var, "var", 1, false}} {
		if *f.p == nil {
			*f.p = newParam(sh, f.trainable)
			for i := range (*f.p).Data {
				(*f.p).Data[i] = f.init
			}
		} else if err := checkParam(l.name, f.name, *f.p, sh, f.trainable); err != nil {
			return err
		}
		(*f.p).Name = l.name + "." + f.name
	}
	for c, v := range l.Var.Data {
		if !(v >= 0) {
			return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("var[%d] = %v is negative", c, v)}
		}
	}
	return nil
}

func (l *BatchNorm) clone() Layer {
	return &BatchNorm{layerBase: l.cloneBase(), Epsilon: l.Epsilon, Scale: l.Scale.clone(), Bias: l.Bias.clone(),
		Mean: l.Mean.clone(), Var: l.Var.clone(), c: l.c, plane: l.plane}
}

// Forward normalises: x (N,C,...) -> y (N,C,...).
func (l *BatchNorm) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	a, b := grow(&l.a, l.c), grow(&l.b, l.c)
	for c := range a {
		inv := 1 / math.Sqrt(float64(l.Var.Data[c])+l.Epsilon)
		a[c] = float32(float64(l.Scale.Data[c]) * inv)
		b[c] = float32(float64(l.Bias.Data[c]) - float64(l.Mean.Data[c])*float64(l.Scale.Data[c])*inv)
	}
	y := grow(&l.y, len(l.x))
	for i := 0; i < n; i++ {
		for c := 0; c < l.c; c++ {
			off := (i*l.c + c) * l.plane
			ac, bc := a[c], b[c]
			for j, v := range l.x[off : off+l.plane] {
				y[off+j] = ac*v + bc
			}
		}
	}
	return y
}

// Backward: dScale = sum dy*(x-mean)/sqrt(var+eps), dBias = sum dy,
// dx = dy*scale/sqrt(var+eps).
func (l *BatchNorm) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	var dx []float32
	if needDx {
		dx = grow(&l.dx, len(l.x))
	}
	for c := 0; c < l.c; c++ {
		inv := 1 / math.Sqrt(float64(l.Var.Data[c])+l.Epsilon)
		mean := float64(l.Mean.Data[c])
		var ds, db float64
		for i := 0; i < l.n; i++ {
			off := (i*l.c + c) * l.plane
			for j, g := range dy[off : off+l.plane] {
				ds += float64(g) * (float64(l.x[off+j]) - mean) * inv
				db += float64(g)
			}
			if needDx {
				ac := l.a[c]
				for j, g := range dy[off : off+l.plane] {
					dx[off+j] = g * ac
				}
			}
		}
		l.Scale.Grad[c], l.Bias.Grad[c] = float32(ds), float32(db)
	}
	return dx
}
