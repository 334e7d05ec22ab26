package train

import (
	"fmt"
	"math"
	"sync"
)

// Layer is one stage of a sequential Model. The package's layer types are the
// only implementations (the interface is sealed), so other packages — the
// ONNX exporter and importer — can switch on the concrete types and read
// their exported configuration and parameters.
//
// Forward runs the layer on a batch of n samples laid out in NCHW order and
// returns the layer's own output buffer. Backward takes the gradient of the
// loss with respect to the last Forward's output, sets the gradients of the
// layer's parameters (overwriting them) and, if needDx is true, returns the
// gradient with respect to the last Forward's input (nil otherwise).
type Layer interface {
	// Name returns the name the Model gave the layer: "conv1", "pool2", ...
	Name() string
	// Kind returns the kind used in names ("conv", "dense", "pool", ...).
	Kind() string
	// TypeName returns the Keras-like class name shown by Summary.
	TypeName() string
	// InShape and OutShape return the per-sample shapes fixed when the
	// Model was built.
	InShape() Shape
	OutShape() Shape
	// Params returns the layer's parameters in a stable order (nil if none).
	Params() []*Param
	Forward(x []float32, n int, training bool) []float32
	Backward(dy []float32, needDx bool) []float32

	base() *layerBase
	// build validates the input shape, resolves the configuration and
	// allocates missing parameters (initialised from rng).
	build(in Shape, rng *RNG) error
	// clone returns a deep copy with fresh buffers.
	clone() Layer
}

// layerBase holds what every layer shares.
type layerBase struct {
	name    string
	in, out Shape
	threads int
	n       int             // batch size of the last Forward
	x       []float32       // input of the last Forward
	wg      *sync.WaitGroup // created on first parallel use; a pointer so layers copy cleanly
}

// Name returns the layer's name in its model ("conv1").
func (b *layerBase) Name() string { return b.name }

// InShape returns the per-sample input shape fixed when the model was built.
func (b *layerBase) InShape() Shape { return b.in }

// OutShape returns the per-sample output shape.
func (b *layerBase) OutShape() Shape { return b.out }

func (b *layerBase) base() *layerBase { return b }

// begin records the input of a Forward call and checks its length.
func (b *layerBase) begin(x []float32, n int) {
	if n < 0 || len(x) < n*b.in.Size() {
		panic(fmt.Sprintf("train: %s.Forward: input has %d values, %d samples of %v need %d", b.name, len(x), n, b.in, n*b.in.Size()))
	}
	b.x = x[:n*b.in.Size()]
	b.n = n
}

// checkDy checks the gradient passed to Backward.
func (b *layerBase) checkDy(dy []float32) {
	if b.x == nil {
		panic("train: " + b.name + ".Backward called before Forward")
	}
	if len(dy) < b.n*b.out.Size() {
		panic(fmt.Sprintf("train: %s.Backward: gradient has %d values, want %d", b.name, len(dy), b.n*b.out.Size()))
	}
}

func (b *layerBase) cloneBase() layerBase {
	return layerBase{name: b.name, in: b.in.Clone(), out: b.out.Clone(), threads: b.threads}
}

// group returns the layer's WaitGroup for parallel calls.
func (b *layerBase) group() *sync.WaitGroup {
	if b.wg == nil {
		b.wg = new(sync.WaitGroup)
	}
	return b.wg
}

func (b *layerBase) nthreads() int {
	if b.threads < 1 {
		return 1
	}
	return b.threads
}

// Activation is the activation fused into a Conv2D or Dense layer, as in
// Keras' activation= argument. The ONNX exporter emits it as a separate node.
type Activation int

// The supported activations.
const (
	ActNone    Activation = iota // linear: y = z
	ActReLU                      // y = max(z, 0)
	ActSoftmax                   // y = softmax over each sample's features
)

// String returns the Keras name of the activation.
func (a Activation) String() string {
	switch a {
	case ActNone:
		return "linear"
	case ActReLU:
		return "relu"
	case ActSoftmax:
		return "softmax"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Padding selects how a Conv2D or pooling layer pads its input.
type Padding int

// The padding modes. PadValid and PadSame compute the pads as Keras does
// ('valid': none; 'same': output size ceil(in/stride), the total padding
// split with the odd pixel at the bottom/right, like ONNX SAME_UPPER).
// PadExplicit uses the layer's Pads as given (ONNX pads).
const (
	PadValid Padding = iota
	PadSame
	PadExplicit
)

// String returns "valid", "same" or "explicit".
func (p Padding) String() string {
	switch p {
	case PadValid:
		return "valid"
	case PadSame:
		return "same"
	case PadExplicit:
		return "explicit"
	}
	return fmt.Sprintf("Padding(%d)", int(p))
}

// resolvePads returns [before, after] padding of one spatial axis and the
// output size. ceil selects ONNX/PyTorch ceil_mode output sizes.
func resolvePads(mode Padding, in, k, stride, dil int, explicit [2]int, ceil bool) (pads [2]int, out int, err error) {
	ek := (k-1)*dil + 1
	switch mode {
	case PadValid:
		pads = [2]int{0, 0}
	case PadSame:
		out = (in + stride - 1) / stride
		total := max((out-1)*stride+ek-in, 0)
		pads = [2]int{total / 2, total - total/2}
	case PadExplicit:
		pads = explicit
		if pads[0] < 0 || pads[1] < 0 {
			return pads, 0, fmt.Errorf("negative padding %v", pads)
		}
	default:
		return pads, 0, fmt.Errorf("unknown padding mode %d", int(mode))
	}
	span := in + pads[0] + pads[1] - ek
	if span < 0 {
		return pads, 0, fmt.Errorf("input size %d (padded %d) is smaller than the window %d", in, in+pads[0]+pads[1], ek)
	}
	if ceil {
		out = (span+stride-1)/stride + 1
		// The last window must start inside the input or its left padding.
		if (out-1)*stride >= in+pads[0] {
			out--
		}
	} else {
		out = span/stride + 1
	}
	return pads, out, nil
}

// softmaxRows replaces each row of width w by its softmax, computed stably
// (the row maximum is subtracted) with float64 sums.
func softmaxRows(y []float32, rows, w int) {
	for r := 0; r < rows; r++ {
		row := y[r*w : (r+1)*w]
		m := row[0]
		for _, v := range row[1:] {
			if v > m {
				m = v
			}
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			row[j] = float32(e)
			s += e
		}
		inv := 1 / s
		for j := range row {
			row[j] = float32(float64(row[j]) * inv)
		}
	}
}

// softmaxBackwardRows computes dz = y * (dy - sum(dy*y)) per row.
func softmaxBackwardRows(dz, y, dy []float32, rows, w int) {
	for r := 0; r < rows; r++ {
		yr, dyr, dzr := y[r*w:(r+1)*w], dy[r*w:(r+1)*w], dz[r*w:(r+1)*w]
		var s float64
		for j := range yr {
			s += float64(yr[j]) * float64(dyr[j])
		}
		for j := range yr {
			dzr[j] = float32(float64(yr[j]) * (float64(dyr[j]) - s))
		}
	}
}

// reluMask sets dz = dy where y > 0 and 0 elsewhere. It is branch-free
// (ReLU masks are unpredictable, and a branch per element costs ten times
// more): the sign-and-zero test is done on y's bits.
func reluMask(dz, y, dy []float32) {
	dz = dz[:len(y)]
	dy = dy[:len(y)]
	for i, v := range y {
		bits := int32(math.Float32bits(v))
		// All ones exactly when bits > 0, i.e. v is positive (or a NaN
		// with the sign bit clear).
		m := uint32((-bits)>>31) &^ uint32(bits>>31)
		dz[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}
