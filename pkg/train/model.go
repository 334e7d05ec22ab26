package train

import (
	"fmt"
	"runtime"
	"sync"
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
	pipe    pipeline
	wg      *sync.WaitGroup
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
	switch m.Layers[len(m.Layers)-1].(type) {
	case *Softmax, *LogSoftmax:
		if len(m.Layers) > 1 {
			return len(m.Layers) - 1
		}
	}
	return len(m.Layers)
}

type logitser interface {
	forward(x []float32, n int, logits bool) []float32
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
			x = ls.forward(x, n, true)
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
// for a softmax model) to dst, which it grows if needed and returns. A model
// made only of Conv2D, MaxPool2D, AvgPool2D, Flatten and Dense layers takes
// a batch through all its layers a few samples at a time on each thread,
// writing straight into dst (see pipeline); any other model runs layer by
// layer, DefaultPredictChunk samples at a time, so that memory stays bounded
// either way. Results agree with Forward's up to the last bits. A single
// image (n == 1) runs on the calling goroutine whatever Threads says:
// splitting it would cost more in wake-ups than it saves.
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
	if n > 1 && m.pipelined() {
		m.runPipelined(x[:n*in], n, dst)
		return dst
	}
	for lo := 0; lo < n; lo += DefaultPredictChunk {
		hi := min(lo+DefaultPredictChunk, n)
		y := m.run(x[lo*in:hi*in], hi-lo, false, false)
		copy(dst[lo*out:hi*out], y)
	}
	return dst
}

// pipelineSamples is how many samples the pipelined inference path takes
// through all the layers at a time: few enough that every layer's input and
// output for them stay in the core's L2 cache (the book model's conv1 output
// is 86 KB a sample), enough to keep the GEMMs wide.
const pipelineSamples = 8

// pipeline runs inference depth first: the batch is split over the threads
// once, and each thread takes its samples through every layer
// pipelineSamples at a time, instead of every layer splitting the whole
// batch in turn. Intermediate outputs go to small per-thread buffers that
// stay in cache, and there is one fan-out per call instead of one per layer.
type pipeline struct {
	m    *Model
	x    []float32     // the batch's input
	out  []float32     // the last layer's outputs for the whole batch (the caller's)
	bufs [][][]float32 // [layer][thread]: pipelineSamples outputs
	args [][][]int32   // [layer][thread]: a MaxPool2D's arg-max scratch
}

// pipelined reports whether every layer can run in the pipelined inference
// path.
func (m *Model) pipelined() bool {
	for _, l := range m.Layers {
		switch l.(type) {
		case *Conv2D, *MaxPool2D, *AvgPool2D, *Flatten, *Dense:
		default:
			return false
		}
	}
	return true
}

// runPipelined computes run(x, n, false, false) into dst (n outputs) for a
// model that pipelined accepts. Buffers are sized first, on the calling
// goroutine; then each thread takes its share of the samples through every
// layer. Results match run's up to the last bits (a GEMM may see other group
// widths). The layers' own output buffers are neither used nor changed.
func (m *Model) runPipelined(x []float32, n int, dst []float32) {
	if n < 0 || len(x) < n*m.InputShape.Size() {
		panic(fmt.Sprintf("train: Model: input has %d values, %d samples of %v need %d", len(x), n, m.InputShape, n*m.InputShape.Size()))
	}
	t := chunks(m.threads, n)
	mb := min(pipelineSamples, (n+t-1)/t)
	p := &m.pipe
	p.m, p.x = m, x
	if len(p.bufs) != len(m.Layers) {
		p.bufs = make([][][]float32, len(m.Layers))
		p.args = make([][][]int32, len(m.Layers))
	}
	last := len(m.Layers) - 1
	for i, l := range m.Layers {
		if _, flat := l.(*Flatten); i < last && !flat {
			growPer(&p.bufs[i], t, mb*l.OutShape().Size())
		}
		switch l := l.(type) {
		case *Conv2D:
			l.growScratchFor(t, min(l.groupSize(), mb), false)
		case *MaxPool2D:
			for len(p.args[i]) < t {
				p.args[i] = append(p.args[i], nil)
			}
			for k := range t {
				growInt32(&p.args[i][k], mb*l.out.Size())
			}
		case *Dense:
			l.logits = false
			if mb < l.Units {
				growPer(&l.yts, t, l.Units*mb)
			}
		}
	}
	p.out = dst[:n*m.OutputShape().Size()]
	if m.wg == nil {
		m.wg = new(sync.WaitGroup)
	}
	parallel(m.wg, m.threads, n, p, opForward)
	p.x, p.out = nil, nil
}

// run takes samples [lo, hi) through every layer as thread tid.
func (p *pipeline) run(_, lo, hi, tid int) {
	layers := p.m.Layers
	last := len(layers) - 1
	insz := p.m.InputShape.Size()
	for s := lo; s < hi; s += pipelineSamples {
		e := min(s+pipelineSamples, hi)
		k := e - s
		x := p.x[s*insz : e*insz]
		for i, l := range layers {
			if _, flat := l.(*Flatten); flat && i < last {
				continue // the input, reshaped: nothing to compute
			}
			o := l.OutShape().Size()
			var y []float32
			if i == last {
				y = p.out[s*o : e*o]
			} else {
				y = p.bufs[i][tid][:k*o]
			}
			switch l := l.(type) {
			case *Conv2D:
				l.forwardSamples(x, y, k, tid)
				if l.Act == ActSoftmax {
					softmaxRows(y, k, o)
				}
			case *MaxPool2D:
				hw, ohw := l.pc.h*l.pc.w, l.pc.oh*l.pc.ow
				arg := p.args[i][tid]
				for q := range k * l.pc.c {
					l.forwardPlane(y[q*ohw:(q+1)*ohw], arg[q*ohw:(q+1)*ohw], x[q*hw:(q+1)*hw])
				}
			case *AvgPool2D:
				hw, ohw := l.pc.h*l.pc.w, l.pc.oh*l.pc.ow
				for q := range k * l.pc.c {
					l.forwardPlane(y[q*ohw:(q+1)*ohw], x[q*hw:(q+1)*hw])
				}
			case *Flatten:
				copy(y, x)
			case *Dense:
				l.forwardRows(x, y, k, tid, false)
			}
			x = y
		}
	}
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
	return m.TrainStepSmoothed(opt, 0, x, labels, n)
}

// TrainStepSmoothed is TrainStep with the cross-entropy's label smoothing
// s (see CrossEntropy); the loss returned is the smoothed one.
func (m *Model) TrainStepSmoothed(opt Optimizer, s float64, x []float32, labels []uint8, n int) (loss, acc float64) {
	z := m.Logits(x, n, true)
	classes := m.Layers[m.logitsEnd()-1].OutShape().Size()
	d := grow(&m.dlogits, n*classes)
	loss, correct := CrossEntropy(z, labels, n, classes, s, d)
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
	return m.EvaluateSmoothed(0, x, labels, n)
}

// EvaluateSmoothed is Evaluate with the loss's label smoothing s (see
// CrossEntropy), as Keras evaluates validation data with the compiled,
// smoothed loss.
func (m *Model) EvaluateSmoothed(s float64, x []float32, labels []uint8, n int) (loss, acc float64) {
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
		l, c := CrossEntropy(z, labels[lo:hi], hi-lo, classes, s, nil)
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
