//go:build cgo

package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/fmkit/fmkit/internal/onnxwire"
)

// environment is onnxruntime_go's process-global state as this package manages it: one library,
// one OrtEnv, loaded on first use and kept while the process lives or until Shutdown.
var environment struct {
	mu     sync.Mutex
	loaded bool
	owned  bool // this package called InitializeEnvironment (so Shutdown may destroy it)
	lib    Library
	handle libHandle // the probe's handle, released by Shutdown
	live   int       // open ORT predictors
}

// LoadLibrary loads the onnxruntime shared library and initialises its process-global
// environment, if that has not happened yet, and returns what is loaded. explicit, when set,
// is the only path tried; otherwise discovery follows LibraryCandidates. NewORT and OpenORT call
// it; calling it first lets a program report the library (or the problem) before loading a model.
//
// A failure leaves nothing loaded, so a later call may try again (with another path or after
// fixing the environment). Once a library is loaded it stays for the life of the process (or
// until Shutdown): asking for a different explicit path then returns a *LibraryError.
func LoadLibrary(explicit string) (Library, error) {
	environment.mu.Lock()
	defer environment.mu.Unlock()
	return loadLocked(explicit)
}

func loadLocked(explicit string) (Library, error) {
	e := &environment
	if e.loaded {
		if explicit != "" && !samePath(explicit, e.lib.Path) {
			return Library{}, &LibraryError{
				Msg: fmt.Sprintf("onnxruntime %s is already loaded from %s in this process; it cannot also load %s (one library per process)",
					e.lib.Version, e.lib.Path, explicit),
			}
		}
		return e.lib, nil
	}
	if ort.IsInitialized() {
		// Another package in this process initialised onnxruntime_go: adopt it if it fits.
		v := ort.GetVersion()
		if err := checkVersion("the onnxruntime library loaded by another package", v); err != nil {
			return Library{}, &LibraryError{Tried: []Attempt{{Candidate{Path: "(already initialised)", Source: "process"}, err}}}
		}
		e.lib = Library{Path: "(initialised outside pkg/runtime)", Version: v, Source: "process"}
		e.loaded, e.owned = true, false
		return e.lib, nil
	}
	lib, err := hostEnv().discover(explicit, initEnvironment)
	if err != nil {
		return Library{}, err
	}
	e.lib, e.loaded, e.owned = lib, true, true
	return lib, nil
}

// initEnvironment loads candidate c: probe its version, then hand it to onnxruntime_go.
func initEnvironment(c Candidate) (Library, error) {
	version, h, err := probeLibrary(c.Path)
	if err != nil {
		return Library{}, err
	}
	if err := checkVersion(c.Path, version); err != nil {
		closeLibrary(h)
		return Library{}, err
	}
	ort.SetSharedLibraryPath(c.Path)
	// Error level: onnxruntime's warnings (e.g. about unused initialisers) are not the user's
	// business, and failures come back as errors anyway.
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		if ort.IsInitialized() {
			_ = ort.DestroyEnvironment()
		}
		closeLibrary(h)
		return Library{}, fmt.Errorf("onnxruntime cannot initialise: %w", err)
	}
	// The C API reports the version again; it must agree with the probe.
	v := ort.GetVersion()
	if err := checkVersion(c.Path, v); err != nil {
		_ = ort.DestroyEnvironment()
		closeLibrary(h)
		return Library{}, err
	}
	environment.handle = h
	return Library{Path: c.Path, Version: v, Source: c.Source}, nil
}

// samePath reports whether a and b name the same file.
func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// Shutdown destroys onnxruntime's environment and unloads the library, so that a later
// LoadLibrary may load another one. It fails while any ORT predictor is open, and does nothing
// when no library is loaded or when another package initialised onnxruntime_go. Programs need
// not call it: the environment is meant to live as long as the process.
func Shutdown() error {
	e := &environment
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded {
		return nil
	}
	if e.live > 0 {
		return fmt.Errorf("runtime: Shutdown: %d onnxruntime predictors are still open", e.live)
	}
	if !e.owned {
		e.loaded = false
		return nil
	}
	err := ort.DestroyEnvironment()
	closeLibrary(e.handle)
	e.handle = nil
	e.loaded, e.owned, e.lib = false, false, Library{}
	if err != nil {
		return fmt.Errorf("runtime: Shutdown: %w", err)
	}
	return nil
}

// acquire loads the library (if needed) and counts one more open predictor.
func acquire(explicit string) (Library, error) {
	environment.mu.Lock()
	defer environment.mu.Unlock()
	lib, err := loadLocked(explicit)
	if err != nil {
		return Library{}, err
	}
	environment.live++
	return lib, nil
}

// release counts one predictor fewer.
func release() {
	environment.mu.Lock()
	environment.live--
	environment.mu.Unlock()
}

// ortPredictor is the onnxruntime Predictor: one long-lived DynamicAdvancedSession.
type ortPredictor struct {
	// mu guards closed and sess against Close: Predict holds it shared (many at once), Close
	// exclusively, so Close waits for running calls and later calls see ErrClosed.
	mu     sync.RWMutex
	closed bool
	sess   *ort.DynamicAdvancedSession
	batch  int64   // fixed batch size of the model, or -1 (dynamic)
	layout []int64 // the per-image input shape the model declares (one of ImageLayouts)
	step   int     // most images one run of a dynamic-batch model takes (0: no limit)
	info   Info
}

// OpenORT reads the ONNX model at path and returns a Predictor that runs it on onnxruntime
// (see NewORT).
func OpenORT(path string, opts ORTOptions) (Predictor, error) {
	st, err := os.Stat(path)
	if err == nil && !st.Mode().IsRegular() {
		return nil, &LoadError{Model: path, Msg: "is not a regular file"}
	}
	if err == nil && st.Size() > onnxwire.MaxMessageBytes {
		return nil, &LoadError{Model: path, Msg: fmt.Sprintf("is %d bytes, over the %d-byte limit of a protobuf ONNX file", st.Size(), int64(onnxwire.MaxMessageBytes))}
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &LoadError{Model: path, Msg: "cannot read the file", Err: err}
	}
	return newORT(data, path, opts)
}

// NewORT returns a Predictor that runs the ONNX model held in model on onnxruntime. It runs
// opts.Gate on the model (required; see Gate), loads the library on first use (see
// LoadLibrary), reads the checked model's input and output names and shapes, checks them
// against the contract (one float input of one of ImageLayouts, N dynamic or fixed up to
// MaxFixedBatch; the output named "probabilities", else the first, float [N,10]) and creates
// one session, from the gate's bytes, that every Predict call reuses. Predict runs at most
// Info().MaxBatch images at a time. model is not retained.
//
// Errors: *LoadError (no gate, a model the gate refused, wrong inputs or outputs),
// *LibraryError (no usable library), *ProviderError (ProviderCUDA unavailable). With
// ProviderAuto a CUDA failure is not an error: one line goes to opts.Warn and the predictor
// runs on the CPU.
func NewORT(model []byte, opts ORTOptions) (Predictor, error) {
	name := opts.ModelName
	if name == "" {
		name = "in-memory model"
	}
	return newORT(model, name, opts)
}

func newORT(model []byte, name string, opts ORTOptions) (Predictor, error) {
	if err := checkThreads(opts.IntraOpThreads); err != nil {
		return nil, err
	}
	if opts.Provider.Kind > ProviderAuto || opts.Provider.DeviceID < 0 {
		return nil, fmt.Errorf("runtime: invalid execution provider %s", opts.Provider)
	}
	if len(model) == 0 {
		return nil, &LoadError{Model: name, Msg: "is empty"}
	}
	// The gate runs first: onnxruntime sees only what it returns.
	checked, step, err := runGate(opts.Gate, model, name, nil)
	if err != nil {
		return nil, err
	}
	lib, err := acquire(opts.LibraryPath)
	if err != nil {
		return nil, err
	}
	p, err := build(checked, name, lib, opts)
	if err != nil {
		release()
		return nil, err
	}
	if p.batch < 0 {
		p.step = step
		p.info.MaxBatch = step
	}
	return p, nil
}

// build inspects the model and creates the session.
func build(model []byte, name string, lib Library, opts ORTOptions) (*ortPredictor, error) {
	// The inputs and outputs come from the model's bytes: onnxruntime's own
	// GetInputOutputInfo would build and discard a whole session first.
	ins, outs, err := graphIO(model)
	if err != nil {
		return nil, &LoadError{Model: name, Msg: err.Error()}
	}
	mio, err := chooseIO(name, ins, outs)
	if err != nil {
		return nil, err
	}
	info := Info{
		Engine:         EngineORT,
		InputName:      mio.in.Name,
		InputShape:     mio.in.Shape,
		OutputName:     mio.out.Name,
		OutputShape:    mio.out.Shape,
		Library:        lib,
		IntraOpThreads: opts.IntraOpThreads,
	}
	var sess *ort.DynamicAdvancedSession
	switch opts.Provider.Kind {
	case ProviderCPU:
		info.Provider = Provider{Kind: ProviderCPU}
		sess, err = newSession(model, name, mio, opts, nil)
	case ProviderCUDA:
		info.Provider = opts.Provider
		sess, err = newSession(model, name, mio, opts, &opts.Provider)
		// Blame the provider only when the model runs on the CPU.
		var pe *ProviderError
		if errors.As(err, &pe) && pe.sessionFailed {
			if cpu, cerr := newSession(model, name, mio, opts, nil); cerr != nil {
				err = cerr
			} else {
				cpu.Destroy()
			}
		}
	case ProviderAuto:
		cuda := Provider{Kind: ProviderCUDA, DeviceID: opts.Provider.DeviceID}
		info.Provider = cuda
		sess, err = newSession(model, name, mio, opts, &cuda)
		// A model that fails on the CPU too gets its LoadError from this second attempt.
		var pe *ProviderError
		if errors.As(err, &pe) {
			reason := pe.Missing + " missing"
			if pe.Missing == "" {
				reason = firstLine(pe.Err)
			}
			info.Provider = Provider{Kind: ProviderCPU}
			info.Fallback = reason
			fmt.Fprintf(opts.warn(), "warning: CUDA execution provider unavailable (%s); running on the CPU\n", reason)
			sess, err = newSession(model, name, mio, opts, nil)
		}
	}
	if err != nil {
		return nil, err
	}
	if mio.batch > 0 {
		info.MaxBatch = int(mio.batch)
	}
	return &ortPredictor{sess: sess, batch: mio.batch, layout: mio.in.Shape[1:], info: info}, nil
}

// firstLine returns err's message up to its first newline.
func firstLine(err error) string {
	if err == nil {
		return "unknown reason"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// newSession creates the session, on CUDA when cuda is non-nil.
func newSession(model []byte, name string, mio modelIO, opts ORTOptions, cuda *Provider) (*ort.DynamicAdvancedSession, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("runtime: onnxruntime session options: %w", err)
	}
	// The options are copied into the session; they can go once it exists.
	defer so.Destroy()
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("runtime: IntraOpThreads = %d: %w", opts.IntraOpThreads, err)
		}
	}
	if cuda != nil {
		if err := appendCUDA(so, *cuda); err != nil {
			return nil, err
		}
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{mio.in.Name}, []string{mio.out.Name}, so)
	if err != nil {
		if cuda != nil {
			// The caller tells a provider failure from a bad model by trying the CPU.
			pe := providerError(*cuda, err)
			pe.sessionFailed = true
			return nil, pe
		}
		return nil, &LoadError{Model: name, Msg: "onnxruntime cannot create a session", Err: err}
	}
	return sess, nil
}

// appendCUDA adds the CUDA execution provider for device p.DeviceID to so.
func appendCUDA(so *ort.SessionOptions, p Provider) error {
	co, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return providerError(p, err)
	}
	defer co.Destroy()
	if err := co.Update(map[string]string{"device_id": strconv.Itoa(p.DeviceID)}); err != nil {
		return providerError(p, err)
	}
	if err := so.AppendExecutionProviderCUDA(co); err != nil {
		return providerError(p, err)
	}
	return nil
}

// providerError wraps onnxruntime's error, naming what is missing when it can tell.
func providerError(p Provider, err error) *ProviderError {
	msg := err.Error()
	missing := missingLibrary(msg)
	if missing == "" && strings.Contains(msg, "no CUDA-capable device") {
		missing = "a CUDA-capable GPU"
	}
	return &ProviderError{Provider: p, Missing: missing, Err: err}
}

// Predict implements Predictor. It is safe for concurrent use: onnxruntime's Run is
// thread-safe, and each call creates its own input and output tensors, which wrap x and the
// returned slice directly (no copies).
func (p *ortPredictor) Predict(x []float32, n int, dst []float32) ([]float32, error) {
	dst, err := checkBatch(x, n, dst)
	if err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil, ErrClosed
	}
	if n == 0 {
		return dst, nil
	}
	if p.batch < 0 {
		step := n
		if p.step > 0 {
			step = p.step
		}
		for lo := 0; lo < n; lo += step {
			hi := min(lo+step, n)
			if err := p.run(x[lo*PixelsPerImage:hi*PixelsPerImage], hi-lo, dst[lo*NumClasses:hi*NumClasses]); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	// A fixed-batch model: run whole batches, then pad the rest with zero images.
	b := int(p.batch)
	i := 0
	for ; i+b <= n; i += b {
		if err := p.run(x[i*PixelsPerImage:(i+b)*PixelsPerImage], b, dst[i*NumClasses:(i+b)*NumClasses]); err != nil {
			return nil, err
		}
	}
	if rest := n - i; rest > 0 {
		in := make([]float32, b*PixelsPerImage)
		copy(in, x[i*PixelsPerImage:])
		out := make([]float32, b*NumClasses)
		if err := p.run(in, b, out); err != nil {
			return nil, err
		}
		copy(dst[i*NumClasses:], out[:rest*NumClasses])
	}
	return dst, nil
}

// run runs one batch of n images from x into out (len n*NumClasses).
func (p *ortPredictor) run(x []float32, n int, out []float32) error {
	in, err := ort.NewTensor(ort.NewShape(append([]int64{int64(n)}, p.layout...)...), x)
	if err != nil {
		return fmt.Errorf("runtime: input tensor: %w", err)
	}
	defer in.Destroy()
	ot, err := ort.NewTensor(ort.NewShape(int64(n), NumClasses), out)
	if err != nil {
		return fmt.Errorf("runtime: output tensor: %w", err)
	}
	defer ot.Destroy()
	if err := p.sess.Run([]ort.Value{in}, []ort.Value{ot}); err != nil {
		return fmt.Errorf("runtime: onnxruntime: %w", err)
	}
	return nil
}

// Info implements Predictor.
func (p *ortPredictor) Info() Info { return p.info.Clone() }

// Close implements Predictor: it waits for running Predict calls, then releases the session.
func (p *ortPredictor) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.sess.Destroy()
	p.sess = nil
	release()
	if err != nil {
		return fmt.Errorf("runtime: closing the onnxruntime session: %w", err)
	}
	return nil
}
