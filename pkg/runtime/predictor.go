package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fmkit/fmkit/internal/fmgeom"
)

// Image geometry and class count of the Fashion-MNIST models every Predictor serves
// (defined once, in internal/fmgeom).
const (
	// Channels, Height and Width are the per-image input dimensions (NCHW, one grey channel).
	Channels = fmgeom.Channels
	Height   = fmgeom.Height
	Width    = fmgeom.Width
	// PixelsPerImage is Channels*Height*Width, the number of float32 values per image in a batch.
	PixelsPerImage = fmgeom.Pixels
	// NumClasses is the number of probabilities per image.
	NumClasses = fmgeom.Classes
)

// ImageLayouts are the per-image input shapes a model may declare: one 28x28 grayscale
// image per row as PyTorch and Keras models take it, NCHW [1,28,28], NHWC [28,28,1],
// [28,28] or flattened [784]. All four hold the same 784 values in the same order
// (row-major, one channel), so a batch laid out as Predict takes it feeds any of them
// unchanged.
var ImageLayouts = [][]int64{{Channels, Height, Width}, {Height, Width, Channels}, {Height, Width}, {PixelsPerImage}}

// IsImageLayout reports whether perImage (an input shape without its batch dimension) is
// one of ImageLayouts.
func IsImageLayout(perImage []int64) bool {
	return slices.ContainsFunc(ImageLayouts, func(l []int64) bool { return slices.Equal(l, perImage) })
}

// layoutNames lists ImageLayouts for messages: "[N 1 28 28], [N 28 28 1], [N 28 28] or [N 784]".
func layoutNames() string {
	s := ""
	for i, l := range ImageLayouts {
		switch {
		case i == len(ImageLayouts)-1:
			s += " or "
		case i > 0:
			s += ", "
		}
		s += strings.Replace(fmt.Sprint(l), "[", "[N ", 1)
	}
	return s
}

// Engine names reported in Info.Engine.
const (
	// EngineNative is the pure-Go engine (pkg/train), wrapped by NewNative.
	EngineNative = "native"
	// EngineORT is the onnxruntime engine created by NewORT and OpenORT.
	EngineORT = "ort"
)

// ErrClosed is returned by Predict after Close.
var ErrClosed = errors.New("runtime: predictor is closed")

// Predictor maps a batch of n preprocessed images to n*NumClasses class probabilities.
//
// x holds n*PixelsPerImage float32 values: n images in NCHW order (n, 1, 28, 28), row-major,
// values in [0, 1]. Predict writes the probabilities (n rows of NumClasses, row-major) into
// dst[:n*NumClasses] when dst has the capacity, and into a new slice otherwise, and returns
// that slice; dst must not overlap x. x is never modified, and must not be modified while
// Predict runs. n == 0 returns dst[:0]. A length mismatch returns a *BatchError.
//
// Whether Predict may be called from several goroutines at once depends on the
// implementation: both in this package are safe for concurrent use (see doc.go).
// Info describes what is running. Close releases everything the predictor holds; it is
// idempotent, and Predict after Close returns ErrClosed.
type Predictor interface {
	Predict(x []float32, n int, dst []float32) ([]float32, error)
	Info() Info
	Close() error
}

// Info describes a Predictor: its engine, the execution provider actually running, the model's
// input and output, and, for onnxruntime, the shared library in use.
type Info struct {
	// Engine is EngineNative or EngineORT.
	Engine string
	// Provider is the execution provider actually running: cpu, or cuda with its device id;
	// never auto (auto resolves to one of them when the predictor is created).
	Provider Provider
	// Fallback, when non-empty, says why ProviderAuto fell back to the CPU.
	Fallback string
	// InputName and InputShape are the model's image input as the model declares it;
	// -1 marks a dynamic dimension, e.g. [-1 1 28 28].
	InputName  string
	InputShape []int64
	// OutputName and OutputShape are the probabilities output used, e.g. [-1 10].
	OutputName  string
	OutputShape []int64
	// Library is the onnxruntime shared library (zero for the native engine).
	Library Library
	// IntraOpThreads is the intra-op thread count requested; 0 means the engine's default.
	IntraOpThreads int
	// MaxBatch is the most images one run of the engine takes: Predict splits a larger
	// batch into runs of at most MaxBatch images (0: no limit). For onnxruntime it is the
	// model's fixed batch size, or what the model gate allows within its memory limit;
	// NewNative takes it from the Info it is given.
	MaxBatch int
}

// Clone returns a deep copy of i.
func (i Info) Clone() Info {
	i.InputShape = slices.Clone(i.InputShape)
	i.OutputShape = slices.Clone(i.OutputShape)
	return i
}

// String returns a one-line summary such as
// "ort 1.24.1 (cuda:0) input [-1 1 28 28] -> probabilities [-1 10]".
func (i Info) String() string {
	eng := i.Engine
	if i.Library.Version != "" {
		eng += " " + i.Library.Version
	}
	s := fmt.Sprintf("%s (%s) %s %v -> %s %v", eng, i.Provider, i.InputName, i.InputShape, i.OutputName, i.OutputShape)
	if i.Fallback != "" {
		s += " [fell back to cpu: " + i.Fallback + "]"
	}
	return s
}

// Library describes an onnxruntime shared library that was found and loaded.
type Library struct {
	// Path is the file loaded.
	Path string
	// Version is the library's own version string, e.g. "1.24.1".
	Version string
	// Source says where discovery found Path (see Candidate.Source).
	Source string
}

// BatchError reports a Predict call whose x does not hold n images.
type BatchError struct {
	N   int // the n passed to Predict
	Len int // len(x)
}

// Error implements error.
func (e *BatchError) Error() string {
	if e.N < 0 {
		return fmt.Sprintf("runtime: Predict: n = %d images is negative", e.N)
	}
	return fmt.Sprintf("runtime: Predict: len(x) = %d, want n*%d = %d for n = %d images",
		e.Len, PixelsPerImage, e.N*PixelsPerImage, e.N)
}

// checkBatch validates Predict's arguments and returns dst resized to n*NumClasses.
func checkBatch(x []float32, n int, dst []float32) ([]float32, error) {
	if n < 0 || n > len(x)/PixelsPerImage || len(x) != n*PixelsPerImage {
		return nil, &BatchError{N: n, Len: len(x)}
	}
	want := n * NumClasses
	if cap(dst) >= want {
		return dst[:want], nil
	}
	return make([]float32, want), nil
}

// Forwarder is the contract the native engine satisfies: Predict maps n images (x, NCHW) to
// n*NumClasses probabilities, writing into dst when it has the capacity, and returns the result.
// Forwarders need not be safe for concurrent use and may panic on malformed arguments;
// the Predictor returned by NewNative serialises calls and validates arguments first.
type Forwarder interface {
	Predict(x []float32, n int, dst []float32) []float32
}

// native adapts a Forwarder to Predictor.
type native struct {
	mu     sync.Mutex // serialises f, which is not safe for concurrent use
	f      Forwarder
	info   Info
	closed bool
}

// NewNative returns a Predictor that runs f. The native engine is not safe for concurrent use,
// so the returned Predictor holds a mutex around every call: it is safe to share between
// goroutines, and calls run one at a time (for parallel throughput, create one Forwarder per
// goroutine). info describes the model; Engine is set to EngineNative and Provider to cpu, and
// empty names and shapes default to "input" [-1 1 28 28] and "probabilities" [-1 10].
// info.MaxBatch, when positive, bounds the images one call of f takes (Predict splits larger
// batches), which bounds the engine's buffers. If f also implements Close() error, Close
// calls it. NewNative panics if f is nil.
func NewNative(f Forwarder, info Info) Predictor {
	if f == nil {
		panic("runtime: NewNative with a nil Forwarder")
	}
	info = info.Clone()
	info.Engine = EngineNative
	info.Provider = Provider{Kind: ProviderCPU}
	info.Fallback = ""
	if info.InputName == "" {
		info.InputName = "input"
	}
	if info.InputShape == nil {
		info.InputShape = []int64{-1, Channels, Height, Width}
	}
	if info.OutputName == "" {
		info.OutputName = "probabilities"
	}
	if info.OutputShape == nil {
		info.OutputShape = []int64{-1, NumClasses}
	}
	return &native{f: f, info: info}
}

// Predict implements Predictor.
func (p *native) Predict(x []float32, n int, dst []float32) ([]float32, error) {
	dst, err := checkBatch(x, n, dst)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if n == 0 {
		return dst, nil
	}
	step := n
	if p.info.MaxBatch > 0 {
		step = p.info.MaxBatch
	}
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		want := dst[lo*NumClasses : hi*NumClasses]
		out := p.f.Predict(x[lo*PixelsPerImage:hi*PixelsPerImage], hi-lo, want)
		if len(out) != (hi-lo)*NumClasses {
			// The engine broke its contract: a programmer error, not bad input.
			panic(fmt.Sprintf("runtime: native Forwarder returned %d values for %d images, want %d",
				len(out), hi-lo, (hi-lo)*NumClasses))
		}
		if &out[0] != &want[0] {
			copy(want, out)
		}
	}
	return dst, nil
}

// Info implements Predictor.
func (p *native) Info() Info { return p.info.Clone() }

// Close implements Predictor.
func (p *native) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if c, ok := p.f.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
