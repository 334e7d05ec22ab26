package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/pkg/onnx"
)

// gateFlags are the limits every model passes (onnx.Gate) before either engine sees
// it: classification, eval, parity, doctor and verify alike.
type gateFlags struct {
	externalData  string
	maxNodes      int
	maxActivation float64 // MiB
	maxGFLOPs     float64
}

func (g *gateFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&g.externalData, "external-data", "", "the directory `DIR` a model's external tensor data may come from (default: external data is refused)")
	fs.IntVar(&g.maxNodes, "max-nodes", onnx.DefaultMaxNodes, "refuse a model with more graph nodes")
	fs.Float64Var(&g.maxActivation, "max-activation-mb", onnx.DefaultMaxActivationBytes>>20,
		"refuse a model whose estimated activation memory for one image (or its fixed batch) exceeds this many MiB; larger batches are run in pieces within it")
	fs.Float64Var(&g.maxGFLOPs, "max-gflops", onnx.DefaultMaxFLOPs/1e9, "refuse a model estimated to need more than this many billion floating-point operations per image")
}

// options checks the flag values and returns the gate's options.
func (g *gateFlags) options() (onnx.GateOptions, error) {
	if g.maxNodes < 1 {
		return onnx.GateOptions{}, cli.Usage(fmt.Errorf("--max-nodes must be at least 1, got %d", g.maxNodes))
	}
	if !(g.maxActivation > 0) || g.maxActivation > 1<<24 {
		return onnx.GateOptions{}, cli.Usage(fmt.Errorf("--max-activation-mb must be a positive number of MiB up to %d, got %v", 1<<24, g.maxActivation))
	}
	if !(g.maxGFLOPs > 0) || math.IsInf(g.maxGFLOPs, 0) {
		return onnx.GateOptions{}, cli.Usage(fmt.Errorf("--max-gflops must be a positive number, got %v", g.maxGFLOPs))
	}
	return onnx.GateOptions{
		ExternalDataDir:    g.externalData,
		MaxNodes:           g.maxNodes,
		MaxActivationBytes: int64(g.maxActivation * (1 << 20)),
		MaxFLOPs:           g.maxGFLOPs * 1e9,
	}, nil
}

// gateHint says which flag lifts the gate's refusal err, if one does ("" otherwise).
func gateHint(err error) string {
	var le *onnx.LimitError
	switch {
	case errors.Is(err, onnx.ErrExternalData):
		return "pass --external-data DIR to allow external data from DIR"
	case errors.As(err, &le):
		switch le.Limit {
		case onnx.LimitNodes:
			return "--max-nodes raises the limit"
		case onnx.LimitActivation:
			return "--max-activation-mb raises the limit"
		case onnx.LimitFLOPs:
			return "--max-gflops raises the limit"
		}
	}
	return ""
}

// withHint appends gateHint's advice to err's message.
func withHint(err error) error {
	if h := gateHint(err); h != "" {
		return hinted{err, h}
	}
	return err
}

// hinted is an error with advice appended.
type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() + " (" + h.hint + ")" }
func (h hinted) Unwrap() error { return h.err }
