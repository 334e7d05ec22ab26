package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrNoCgo is returned by every onnxruntime entry point in a binary built with CGO_ENABLED=0.
var ErrNoCgo = errors.New("onnxruntime support needs cgo: this binary was built with CGO_ENABLED=0; use --engine native")

// ORTOptions configures NewORT, OpenORT and RunGeneric. Gate is required; with it, the
// zero value of the rest runs on the CPU with onnxruntime's default thread count, the
// library found by discovery, and warnings to os.Stderr.
type ORTOptions struct {
	// Gate checks every model before onnxruntime sees it and gives the bytes onnxruntime
	// gets (see Gate); nil is an error.
	Gate Gate
	// LibraryPath, when set, is the only onnxruntime library tried (see LibraryCandidates).
	LibraryPath string
	// Provider selects the execution provider (zero value: cpu).
	Provider Provider
	// IntraOpThreads is the number of threads one Predict call uses; 0 leaves onnxruntime's
	// default (one per physical core). Negative values and values above MaxThreads are an
	// error.
	IntraOpThreads int
	// Warn receives ProviderAuto's single fallback line; nil means os.Stderr. Use io.Discard
	// to silence it (Info().Fallback still tells).
	Warn io.Writer
	// ModelName names an in-memory model in errors (NewORT); OpenORT uses the path.
	// Empty means "in-memory model".
	ModelName string
}

func (o ORTOptions) warn() io.Writer {
	if o.Warn == nil {
		return os.Stderr
	}
	return o.Warn
}

// LoadError reports a model that cannot be loaded for serving: unreadable, refused by the
// model gate (it then wraps the gate's error, e.g. an *onnx.InvalidError), rejected by
// onnxruntime, or with inputs or outputs that do not fit this package's contract (one float
// tensor [N,1,28,28] in, float [N,10] out).
type LoadError struct {
	// Model is the file path, or ORTOptions.ModelName for an in-memory model.
	Model string
	// Tensor names the input or output at fault, e.g. `input "input"`; empty for the whole model.
	Tensor string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, if any (e.g. onnxruntime's parse error).
	Err error
}

// Error implements error.
func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "runtime: model %s: ", e.Model)
	if e.Tensor != "" {
		b.WriteString(e.Tensor + ": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *LoadError) Unwrap() error { return e.Err }

// tensorDesc is the part of a model input or output the validation needs; it keeps the
// validation free of cgo so that it is tested in every build.
type tensorDesc struct {
	Name     string
	IsTensor bool   // an ONNX tensor (not a sequence, map, ...)
	IsFloat  bool   // element type float32
	Type     string // type as onnxruntime names it, for messages
	Shape    []int64
}

// modelIO is the validated choice of input and output.
type modelIO struct {
	in, out tensorDesc
	batch   int64 // the model's fixed batch size, or -1 when the batch dimension is dynamic
}

// chooseIO validates a model's inputs and outputs against the contract and picks the output:
// exactly one input, a float tensor of one of ImageLayouts with N dynamic (-1) or fixed; among the outputs,
// the one named "probabilities" if any, else the first, a float tensor [N,10] whose N is dynamic
// or equals the input's.
func chooseIO(model string, ins, outs []tensorDesc) (modelIO, error) {
	fail := func(tensor, format string, args ...any) (modelIO, error) {
		return modelIO{}, &LoadError{Model: model, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	if len(ins) != 1 {
		names := make([]string, len(ins))
		for i, t := range ins {
			names[i] = fmt.Sprintf("%q %v", t.Name, t.Shape)
		}
		return fail("", "has %d inputs (%s), want exactly one float tensor %s", len(ins), strings.Join(names, ", "), layoutNames())
	}
	in := ins[0]
	inTag := fmt.Sprintf("input %q", in.Name)
	if !in.IsTensor || !in.IsFloat {
		return fail(inTag, "is %s, want a float (float32) tensor", in.Type)
	}
	s := in.Shape
	if len(s) < 2 || !IsImageLayout(s[1:]) || s[0] == 0 || s[0] < -1 {
		return fail(inTag, "has shape %v, want one 28x28 grayscale image per row: %s (N dynamic or fixed)", s, layoutNames())
	}
	if s[0] > MaxFixedBatch {
		return fail(inTag, "has a fixed batch of %d images, over the %d this package runs; export the model with a dynamic batch dimension", s[0], MaxFixedBatch)
	}
	if len(outs) == 0 {
		return fail("", "has no outputs")
	}
	out := outs[0]
	for _, o := range outs {
		if o.Name == "probabilities" {
			out = o
			break
		}
	}
	outTag := fmt.Sprintf("output %q", out.Name)
	if !out.IsTensor || !out.IsFloat {
		return fail(outTag, "is %s, want a float (float32) tensor", out.Type)
	}
	o := out.Shape
	if len(o) != 2 || o[1] != NumClasses || (o[0] != -1 && o[0] != s[0]) {
		return fail(outTag, "has shape %v, want [N %d] with N dynamic or the input's N (%d)", o, NumClasses, s[0])
	}
	return modelIO{in: in, out: out, batch: s[0]}, nil
}
