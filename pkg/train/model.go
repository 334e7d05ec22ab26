package train

import (
	"fmt"
	"runtime"
)

// Model is a sequential stack of layers built for a fixed per-sample input
// shape. Build one with NewModel, BuildModel, BookModel or SmallModel.
//
// A Model is not safe for concurrent use (layers own their buffers); use
// Clone to get an independent copy per goroutine.
type Model struct {
	// Layers are the model's layers, in order. Treat the slice as read-only
	// after the model is built.
	Layers []Layer
	// InputShape is the shape of one input sample, e.g. (1, 28, 28).
	InputShape Shape

	threads int
	params  []*Param
	dlogits []float32
}

// DefaultPredictChunk is how many samples Predict runs at a time, bounding
// the layers' buffers however large the request.
const DefaultPredictChunk = 256

// NewModel assembles a Model from layers, e.g. the ones an ONNX importer
// built with their weights already set. It names the layers by kind, 1-based
// ("conv1", "conv2", "pool1", "dense1", ...), names their parameters after
// them ("conv1.weight"), checks every shape from inShape onwards and every
// supplied parameter against its layer, and allocates only the missing
// parameters: kernels Glorot-uniform from NewRNG(0), biases zero. The layers
// must be fresh: a layer already in another model is an error.
func NewModel(inShape Shape, layers ...Layer) (*Model, error) {
	return newModel(inShape, NewRNG(0), layers)
}

func newModel(inShape Shape, rng *RNG, layers []Layer) (*Model, error) {
	if len(inShape) == 0 || inShape.Size() < 1 {
		return nil, &ShapeError{Layer: "input", Msg: fmt.Sprintf("invalid input shape %v", inShape)}
	}
	for _, d := range inShape {
		if d < 1 {
			return nil, &ShapeError{Layer: "input", Msg: fmt.Sprintf("invalid input shape %v", inShape)}
		}
	}
	if len(layers) == 0 {
		return nil, &ShapeError{Layer: "input", Msg: "a model needs at least one layer"}
	}
	m := &Model{Layers: layers, InputShape: inShape.Clone()}
	counts := map[string]int{}
	shape := m.InputShape
	for i, l := range layers {
		if l == nil {
			return nil, &ShapeError{Layer: fmt.Sprint(i), Msg: "nil layer"}
		}
		b := l.base()
		if b.in != nil {
			return nil, &ShapeError{Layer: fmt.Sprint(i), Msg: "layer " + b.name + " already belongs to a model"}
		}
		counts[l.Kind()]++
		b.name = fmt.Sprintf("%s%d", l.Kind(), counts[l.Kind()])
		if err := checkLayerSize(l, shape); err != nil {
			return nil, err
		}
		if err := l.build(shape, rng); err != nil {
			b.in = nil
			return nil, err
		}
		shape = l.OutShape()
		m.params = append(m.params, l.Params()...)
	}
	m.SetThreads(runtime.GOMAXPROCS(0))
	return m, nil
}

// OutputShape returns the shape of one output sample, e.g. (10).
func (m *Model) OutputShape() Shape { return m.Layers[len(m.Layers)-1].OutShape() }

// Params returns every parameter in layer order (weight before bias),
// including non-trainable ones. The slice is shared; do not modify it.
func (m *Model) Params() []*Param { return m.params }

// NumParams returns the number of trainable and non-trainable values.
func (m *Model) NumParams() (trainable, nonTrainable int) {
	for _, p := range m.params {
		if p.Trainable() {
			trainable += p.Size()
		} else {
			nonTrainable += p.Size()
		}
	}
	return trainable, nonTrainable
}

// Threads returns the number of goroutines each layer uses.
func (m *Model) Threads() int { return m.threads }

// SetThreads sets how many goroutines each layer splits the batch over
// (default GOMAXPROCS; values below 1 mean 1). Results are bit-identical
// for a given thread count.
func (m *Model) SetThreads(n int) {
	n = max(n, 1)
	m.threads = n
	m.setLayerThreads(n)
}

func (m *Model) setLayerThreads(n int) {
	for _, l := range m.Layers {
		l.base().threads = n
	}
}

// Clone returns a deep copy of m: same configuration, names and parameter
// values (and gradients), fresh buffers, and copies of the dropout RNG states.
func (m *Model) Clone() *Model {
	c := &Model{InputShape: m.InputShape.Clone(), threads: m.threads}
	for _, l := range m.Layers {
		cl := l.clone()
		c.Layers = append(c.Layers, cl)
		c.params = append(c.params, cl.Params()...)
	}
	return c
}

// logitsEnd returns the number of layers Logits runs (a final standalone
// Softmax is skipped) and whether the last layer run must skip a fused
// softmax activation.
func (m *Model) logitsEnd() int {
	if _, ok := m.Layers[len(m.Layers)-1].(*Softmax); ok && len(m.Layers) > 1 {
		return len(m.Layers) - 1
	}
	return len(m.Layers)
}

type logitser interface {
	forward(x []float32, n int, training, logits bool) []float32
}

func (m *Model) run(x []float32, n int, training, logits bool) []float32 {
	if n < 0 || len(x) < n*m.InputShape.Size() {
		panic(fmt.Sprintf("train: Model: input has %d values, %d samples of %v need %d", len(x), n, m.InputShape, n*m.InputShape.Size()))
	}
	end := len(m.Layers)
	if logits {
		end = m.logitsEnd()
	}
	for i, l := range m.Layers[:end] {
		if ls, ok := l.(logitser); ok && logits && i == end-1 {
			x = ls.forward(x, n, training, true)
			continue
		}
		x = l.Forward(x, n, training)
	}
	return x
}

// Logits runs the model up to its logits: a final softmax (fused into the
// last layer or a standalone Softmax layer) is left out. training enables
// dropout. The result (n, classes) belongs to the model and is valid until
// its next call. Backward expects the gradient with respect to it.
func (m *Model) Logits(x []float32, n int, training bool) []float32 {
	return m.run(x, n, training, true)
}

// Forward runs the model on n samples. When training it returns the logits,
// as Logits(x, n, true) does (the loss is computed from logits, stably);
// otherwise it returns the model's real outputs (probabilities when the last
// layer has a softmax). The result belongs to the model.
func (m *Model) Forward(x []float32, n int, training bool) []float32 {
	return m.run(x, n, training, training)
}

// Predict runs inference on n samples and writes the outputs (probabilities
// for a softmax model) to dst, which it grows if needed and returns. Work is
// done DefaultPredictChunk samples at a time so that memory stays bounded.
// A single image (n == 1) runs on the calling goroutine whatever Threads
// says: splitting it would cost more in wake-ups than it saves.
func (m *Model) Predict(x []float32, n int, dst []float32) []float32 {
	in, out := m.InputShape.Size(), m.OutputShape().Size()
	if len(x) < n*in {
		panic(fmt.Sprintf("train: Model.Predict: input has %d values, %d samples of %v need %d", len(x), n, m.InputShape, n*in))
	}
	if cap(dst) < n*out {
		dst = make([]float32, n*out)
	}
	dst = dst[:n*out]
	if n == 1 && m.threads > 1 {
		// One image is too little work to split: waking workers would
		// cost more than it saves, so it runs on the calling goroutine.
		m.setLayerThreads(1)
		defer m.setLayerThreads(m.threads)
	}
	for lo := 0; lo < n; lo += DefaultPredictChunk {
		hi := min(lo+DefaultPredictChunk, n)
		y := m.run(x[lo*in:hi*in], hi-lo, false, false)
		copy(dst[lo*out:hi*out], y)
	}
	return dst
}

// Backward back-propagates dlogits, the gradient of the loss with respect to
// the output of the last Logits (or training Forward) call, and sets every
// trainable parameter's Grad.
func (m *Model) Backward(dlogits []float32) {
	g := dlogits
	end := m.logitsEnd()
	for i := end - 1; i >= 0; i-- {
		g = m.Layers[i].Backward(g, i > 0)
	}
}

// TrainStep runs one training step on a batch of n samples: forward in
// training mode, sparse categorical cross-entropy from the logits, backward
// and opt.Step. It returns the batch's mean loss and accuracy (fraction
// correct). In steady state it allocates nothing.
func (m *Model) TrainStep(opt Optimizer, x []float32, labels []uint8, n int) (loss, acc float64) {
	z := m.Logits(x, n, true)
	classes := m.Layers[m.logitsEnd()-1].OutShape().Size()
	d := grow(&m.dlogits, n*classes)
	loss, correct := SparseCategoricalCrossEntropy(z, labels, n, classes, d)
	m.Backward(d)
	opt.Step(m.params)
	if n > 0 {
		acc = float64(correct) / float64(n)
	}
	return loss, acc
}

// Evaluate returns the mean sparse categorical cross-entropy and the
// accuracy of the model on n samples, in inference mode, DefaultPredictChunk
// samples at a time.
func (m *Model) Evaluate(x []float32, labels []uint8, n int) (loss, acc float64) {
	in := m.InputShape.Size()
	classes := m.Layers[m.logitsEnd()-1].OutShape().Size()
	if len(x) < n*in {
		panic(fmt.Sprintf("train: Model.Evaluate: input has %d values, %d samples of %v need %d", len(x), n, m.InputShape, n*in))
	}
	var sum float64
	var correct int
	for lo := 0; lo < n; lo += DefaultPredictChunk {
		hi := min(lo+DefaultPredictChunk, n)
		z := m.run(x[lo*in:hi*in], hi-lo, false, true)
		l, c := SparseCategoricalCrossEntropy(z, labels[lo:hi], hi-lo, classes, nil)
		sum += l * float64(hi-lo)
		correct += c
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), float64(correct) / float64(n)
}

// checkLayerSize refuses, before anything is allocated, a layer whose weights
// would exceed maxLayerParams values.
func checkLayerSize(l Layer, in Shape) error {
	var n float64
	switch l := l.(type) {
	case *Conv2D:
		if len(in) > 0 {
			n = float64(l.Filters) * float64(in[0]) * float64(l.KH) * float64(l.KW)
		}
	case *Dense:
		n = float64(l.Units) * float64(in.Size())
	}
	if n > maxLayerParams {
		return &ShapeError{Layer: l.base().name, Msg: fmt.Sprintf("%.0f weights exceed the limit of %d", n, maxLayerParams)}
	}
	return nil
}
