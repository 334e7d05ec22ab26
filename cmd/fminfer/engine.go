package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/models"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
	"github.com/fmkit/fmkit/pkg/train"
)

// Engine names for --engine.
const (
	engineAuto   = "auto"
	engineORT    = "ort"
	engineNative = "native"
)

// engineOptions are the flags that choose the model and how it runs.
type engineOptions struct {
	model    string
	engine   string
	provider fmrt.Provider
	library  string
	threads  int
	verbose  bool
	gate     gateFlags
}

func (o *engineOptions) register(fs *pflag.FlagSet, withEngine bool) {
	fs.StringVar(&o.model, "model", "", "the model `FILE`: ONNX, or fmtrain's native .fmk (native engine only) (default: the model embedded in fminfer)")
	if withEngine {
		fs.StringVar(&o.engine, "engine", engineAuto, "`ENGINE`: ort (onnxruntime), native, or auto (ort when its library is found, else native; native for a .fmk model)")
	}
	fs.Var(&o.provider, "provider", "onnxruntime execution `PROVIDER`: cpu, cuda[:DEVICE] or auto (CUDA, else CPU with a warning)")
	fs.StringVar(&o.library, "ort-library", "", "the onnxruntime shared library `FILE` (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the set-up cache, system paths); one named here must load, even with --engine auto")
	fs.IntVar(&o.threads, "threads", 0, fmt.Sprintf("threads per prediction, at most %d per CPU (0: the engine's default)", fmrt.ThreadsPerCPU))
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "say which engine, provider and library run")
	o.gate.register(fs)
}

func (o *engineOptions) check() error {
	switch o.engine {
	case engineAuto, engineORT, engineNative, "":
	default:
		return cli.Usage(fmt.Errorf("--engine must be ort, native or auto, got %q", o.engine))
	}
	if o.threads < 0 || o.threads > fmrt.MaxThreads() {
		return cli.Usage(fmt.Errorf("--threads must be between 0 and %d (%d per CPU), got %d", fmrt.MaxThreads(), fmrt.ThreadsPerCPU, o.threads))
	}
	_, err := o.gate.options()
	return err
}

// modelName names the chosen model as messages and reports do.
func (o *engineOptions) modelName() string {
	if o.model == "" {
		return "embedded model " + models.DefaultName
	}
	return userpath.Show(o.model)
}

// modelBytes returns the chosen model and a name for messages.
func (o *engineOptions) modelBytes() ([]byte, string, error) {
	if o.model == "" {
		return models.Default, "embedded model " + models.DefaultName, nil
	}
	// Only a regular file, opened without blocking (a FIFO is refused by
	// its type), at most onnxexport.MaxModelFileBytes.
	b, err := userpath.ReadFile(o.model, onnxexport.MaxModelFileBytes)
	if err != nil {
		return nil, "", fmt.Errorf("--model: %w", err)
	}
	return b, userpath.Show(o.model), nil
}

// open returns a predictor for engine (ort, native or auto), saying on
// stderr when auto falls back to the native engine.
func (o *engineOptions) open(engine string, stderr io.Writer) (fmrt.Predictor, error) {
	data, name, err := o.modelBytes()
	if err != nil {
		return nil, err
	}
	gopts, err := o.gate.options()
	if err != nil {
		return nil, err
	}
	if isNativeModel(data) {
		// fmtrain's own format: only the native engine reads it.
		if engine == engineORT {
			return nil, fmkNeedsNative(name, o.model)
		}
		return openFmk(data, name, o.threads)
	}
	switch engine {
	case engineNative:
		return openNative(data, name, o.threads, gopts)
	case engineORT:
		return o.openORT(data, name, gopts, stderr)
	}
	if _, err := fmrt.LoadLibrary(o.library); err != nil {
		if o.library != "" {
			// A library the user named that does not load is an error: auto
			// falls back to the native engine only when none is named.
			return nil, fmt.Errorf("--ort-library %s: %w", userpath.Show(o.library), err)
		}
		fmt.Fprintf(stderr, "note: onnxruntime is not available (%v); using the native engine\n", firstLine(err))
		return openNative(data, name, o.threads, gopts)
	}
	return o.openORT(data, name, gopts, stderr)
}

// openORT runs the model on onnxruntime, which sees only what the model gate returns.
func (o *engineOptions) openORT(data []byte, name string, gopts onnx.GateOptions, stderr io.Writer) (fmrt.Predictor, error) {
	p, err := fmrt.NewORT(data, fmrt.ORTOptions{Gate: gopts.Check, LibraryPath: o.library, Provider: o.provider,
		IntraOpThreads: o.threads, Warn: stderr, ModelName: name})
	if err != nil {
		return nil, withHint(err)
	}
	return p, nil
}

// openNative imports an ONNX model into the native engine, through the model gate; one
// engine call takes at most the images the gate's memory limit allows.
func openNative(data []byte, name string, threads int, gopts onnx.GateOptions) (fmrt.Predictor, error) {
	m, info, err := onnxexport.ImportWith(data, gopts)
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %w", name, err))
	}
	if err := checkNativeShape(m, name); err != nil {
		return nil, err
	}
	if threads > 0 {
		m.SetThreads(threads)
	}
	return fmrt.NewNative(m, fmrt.Info{MaxBatch: info.MaxBatch}), nil
}

// isNativeModel reports whether data is a model in fmtrain's native format (.fmk, or a
// training checkpoint), told apart by its magic, not by the file's name.
func isNativeModel(data []byte) bool { return bytes.HasPrefix(data, []byte(train.CheckpointMagic)) }

// fmkNeedsNative is the error for a native model given to onnxruntime: it says how to run
// it, and how to convert it.
func fmkNeedsNative(name, path string) error {
	if path == "" {
		path = "MODEL.fmk"
	}
	onnxPath := strings.TrimSuffix(path, filepath.Ext(path)) + ".onnx"
	return fmt.Errorf("%s is a native fmtrain model (.fmk), which onnxruntime cannot read: run it with --engine native, or convert it to ONNX with: fmtrain export --model %s --out %s",
		name, userpath.Show(path), userpath.Show(onnxPath))
}

// openFmk runs a native model (fmtrain's .fmk format) on the native engine.
func openFmk(data []byte, name string, threads int) (fmrt.Predictor, error) {
	m, _, err := train.DecodeModel(name, data, nil)
	if err != nil {
		return nil, err
	}
	if err := checkNativeShape(m, name); err != nil {
		return nil, err
	}
	if threads > 0 {
		m.SetThreads(threads)
	}
	return fmrt.NewNative(m, fmrt.Info{}), nil
}

// checkNativeShape checks that m maps one 28x28 grayscale image per row (any of
// fmrt.ImageLayouts) to 10 classes.
func checkNativeShape(m *train.Model, name string) error {
	in := make([]int64, len(m.InputShape))
	for i, d := range m.InputShape {
		in[i] = int64(d)
	}
	if !fmrt.IsImageLayout(in) {
		return fmt.Errorf("%s: the model takes inputs of shape %v per image, not one 28x28 grayscale image ((1,28,28), (28,28,1), (28,28) or (784))", name, m.InputShape)
	}
	if out := m.OutputShape(); out.Size() != fmrt.NumClasses {
		return fmt.Errorf("%s: the model gives %v outputs per image, not %d class probabilities", name, out, fmrt.NumClasses)
	}
	return nil
}

// checkFinite returns an error if any probability of a batch is NaN or
// infinite: the model computes garbage (typically NaN or Inf weights, which
// onnxruntime runs without complaint) and no class can be reported. first is
// the index of the batch's first image, for the message.
func checkFinite(probs []float32, first int) error {
	for i, v := range probs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("the model computed %v as probability %d of image %d: its weights or inputs are not finite, so no class can be reported",
				v, i%fmrt.NumClasses, first+i/fmrt.NumClasses)
		}
	}
	return nil
}

// describe is the one-line account of what runs, for --verbose.
func describe(info fmrt.Info) string {
	s := fmt.Sprintf("engine %s, provider %s", info.Engine, info.Provider)
	if info.Library.Path != "" {
		s += fmt.Sprintf(", onnxruntime %s at %s", info.Library.Version, info.Library.Path)
	}
	if info.Fallback != "" {
		s += " (fell back: " + info.Fallback + ")"
	}
	return s
}

// firstLine returns the first line of err's message.
func firstLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
