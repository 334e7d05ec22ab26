package train

// Flatten turns a (C, H, W) sample into a flat (C*H*W) vector, keeping the
// batch dimension (ONNX Flatten with axis 1). Since the layout is row-major
// NCHW this is free: the output aliases the input and the input gradient
// aliases the output gradient.
type Flatten struct {
	layerBase
}

// Kind returns "flatten".
func (l *Flatten) Kind() string { return "flatten" }

// TypeName returns "Flatten".
func (l *Flatten) TypeName() string { return "Flatten" }

// Params returns nil.
func (l *Flatten) Params() []*Param { return nil }

func (l *Flatten) build(in Shape, _ *RNG) error {
	if len(in) == 0 {
		return &ShapeError{Layer: l.name, Msg: "empty input shape"}
	}
	l.in, l.out = in.Clone(), Shape{in.Size()}
	return nil
}

func (l *Flatten) clone() Layer { return &Flatten{layerBase: l.cloneBase()} }

// Forward returns x itself: x (N,C,H,W) -> y (N,C*H*W).
func (l *Flatten) Forward(x []float32, n int, training bool) []float32 {
	l.begin(x, n)
	return l.x
}

// Backward returns dy itself.
func (l *Flatten) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	if !needDx {
		return nil
	}
	return dy[:l.n*l.out.Size()]
}
