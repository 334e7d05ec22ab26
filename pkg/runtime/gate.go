package runtime

import (
	"fmt"
	goruntime "runtime"
)

// Gate checks a serialized ONNX model before onnxruntime sees it and returns the bytes
// onnxruntime gets instead. onnxruntime trusts a model's attributes and resolves its
// external data against any path the model names: strides of 0, negative pads or a bias
// shorter than the output channels have crashed it (SIGFPE, SIGSEGV) or made it read out
// of bounds, and a model could pack another file's bytes into its output. So every entry
// point of this package that hands bytes to onnxruntime (NewORT, OpenORT, RunGeneric) runs
// the Gate of its ORTOptions first, and refuses to run without one.
//
// inputs are the concrete shapes the model will run on, one per runtime input (RunGeneric),
// or nil for a Predictor, whose input is [N,1,28,28] with N up to the model. A gate returns
// the model to hand to onnxruntime (self-contained: no external data) and the most samples
// one run may take (0: no limit), or an error saying what it refused.
//
// The check is pkg/onnx's (the ONNX IR and its shape inference); this package takes it as
// a function, so that it links neither the IR nor the protobuf runtime and a caller may
// choose its limits. The programs pass onnx.GateOptions.Check, whose method value has this
// type.
type Gate func(model []byte, inputs [][]int64) (checked []byte, maxBatch int, err error)

// MaxFixedBatch is the largest fixed batch dimension a Predictor runs (the gate's memory
// estimate usually refuses far smaller ones): a fixed batch of 2^40 or 2^31 is refused
// before anything is allocated for it.
const MaxFixedBatch = 1 << 16

// ThreadsPerCPU bounds intra-op threads: at most ThreadsPerCPU per CPU (MaxThreads).
const ThreadsPerCPU = 4

// MaxThreads is the most intra-op threads a Predictor or RunGeneric accepts: ThreadsPerCPU
// times the CPUs this process may use. More only adds contention, and onnxruntime takes a
// C int, so a larger value could wrap.
func MaxThreads() int { return ThreadsPerCPU * goruntime.NumCPU() }

// checkThreads validates ORTOptions.IntraOpThreads.
func checkThreads(n int) error {
	if n < 0 {
		return fmt.Errorf("runtime: IntraOpThreads = %d is negative", n)
	}
	if n > MaxThreads() {
		return fmt.Errorf("runtime: IntraOpThreads = %d exceeds %d (%d per CPU, %d CPUs)", n, MaxThreads(), ThreadsPerCPU, goruntime.NumCPU())
	}
	return nil
}

// errNoGate is the error for ORTOptions without a Gate.
func errNoGate(model string) error {
	return &LoadError{Model: model, Msg: "no model gate (ORTOptions.Gate is nil): onnxruntime must not see a model nobody checked; pass onnx.GateOptions{}.Check"}
}

// runGate runs g on model and wraps its refusal as a *LoadError naming the model.
func runGate(g Gate, model []byte, name string, inputs [][]int64) ([]byte, int, error) {
	if g == nil {
		return nil, 0, errNoGate(name)
	}
	checked, maxBatch, err := g(model, inputs)
	if err != nil {
		return nil, 0, &LoadError{Model: name, Msg: "refused by the model check", Err: err}
	}
	if len(checked) == 0 {
		return nil, 0, &LoadError{Model: name, Msg: "the model check returned no model"}
	}
	return checked, max(maxBatch, 0), nil
}
