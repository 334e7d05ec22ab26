package train

import "fmt"

// Dropout zeroes each input with probability Rate during training and scales
// the survivors by 1/(1-Rate) (inverted dropout, as in Keras), so inference is
// the identity. The mask is drawn from RNG, the layer's own generator, in
// sample order on one goroutine: the same seed gives the same masks whatever
// the thread count. RNG's state belongs in a checkpoint.
type Dropout struct {
	layerBase
	Rate float64
	RNG  *RNG

	mask, y, dx []float32
	train       bool
}

// NewDropout returns a Dropout layer with the given rate; its RNG is split
// from the model's when the model is built.
func NewDropout(rate float64) *Dropout { return &Dropout{Rate: rate} }

// Kind returns "dropout".
func (l *Dropout) Kind() string { return "dropout" }

// TypeName returns "Dropout".
func (l *Dropout) TypeName() string { return "Dropout" }

// Params returns nil.
func (l *Dropout) Params() []*Param { return nil }

func (l *Dropout) build(in Shape, rng *RNG) error {
	if len(in) == 0 {
		return &ShapeError{Layer: l.name, Msg: "empty input shape"}
	}
	if !(l.Rate >= 0 && l.Rate < 1) {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("rate %v must be in [0, 1)", l.Rate)}
	}
	if l.RNG == nil {
		l.RNG = rng.Split()
	}
	l.in, l.out = in.Clone(), in.Clone()
	return nil
}

func (l *Dropout) clone() Layer {
	c := &Dropout{layerBase: l.cloneBase(), Rate: l.Rate}
	if l.RNG != nil {
		c.RNG = &RNG{}
		c.RNG.SetState(l.RNG.State())
	}
	return c
}

// Forward applies a fresh mask when training and returns x unchanged (the
// same slice) otherwise: x (N,...) -> y (N,...).
func (l *Dropout) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	l.train = training && l.Rate > 0
	if !l.train {
		return l.x
	}
	mask := grow(&l.mask, len(l.x))
	y := grow(&l.y, len(l.x))
	keep := float32(1 / (1 - l.Rate))
	for i, v := range l.x {
		if l.RNG.Float64() < l.Rate {
			mask[i], y[i] = 0, 0
		} else {
			mask[i], y[i] = keep, v*keep
		}
	}
	return y
}

// Backward multiplies dy by the last mask (or passes it through).
func (l *Dropout) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	if !l.train {
		return dy[:len(l.x)]
	}
	dx := grow(&l.dx, len(l.x))
	for i, m := range l.mask {
		dx[i] = dy[i] * m
	}
	return dx
}
