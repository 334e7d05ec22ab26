package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// verifyResult is one directory's outcome, for --json.
type verifyResult struct {
	Dir    string  `json:"dir"`
	Engine string  `json:"engine"`
	MaxAbs float64 `json:"max_abs_diff"`
	MaxRel float64 `json:"max_rel_diff"`
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
}

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fminfer verify", stdout, "Usage: fminfer verify [--engine native|ort] DIR...\n\nRuns ONNX model-zoo / backend-test directories (model.onnx with test_data_set_*/input_*.pb\nand output_*.pb) and reports the largest differences per output. Every model passes the\nmodel check first, for either engine (only the ops the native importer knows, attributes and\nshapes checked, the limits below). Every directory is reported, whatever happens to the\nothers; exits 1 when any did not verify (a mismatch, or an error: a bad model, a bad tensor,\nan input of batch 0 for the native engine), 3 when the onnxruntime library cannot be loaded.")
	engine := fs.String("engine", engineNative, "engine: native or ort")
	library := fs.String("ort-library", "", "onnxruntime shared library (default: discovered)")
	var gate gateFlags
	gate.register(fs)
	atol := fs.Float64("atol", onnx.DefaultVerifyAtol, "absolute tolerance")
	rtol := fs.Float64("rtol", onnx.DefaultVerifyRtol, "relative tolerance")
	asJSON := fs.Bool("json", false, "print one JSON object per directory")
	if err := parse(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usage(errors.New("verify needs at least one directory"))
	}
	if !(*atol >= 0) || !(*rtol >= 0) {
		return cli.Usage(errors.New("--atol and --rtol must be >= 0"))
	}
	gopts, err := gate.options()
	if err != nil {
		return err
	}
	var run onnx.Engine
	switch *engine {
	case engineNative:
		run = onnxexport.NativeEngineWith(gopts)
	case engineORT:
		if _, err := fmrt.LoadLibrary(*library); err != nil {
			return err
		}
		run = ortEngine(*library, gopts)
	default:
		return cli.Usage(fmt.Errorf("--engine must be native or ort, got %q", *engine))
	}
	failed := 0
	for _, dir := range fs.Args() {
		res := verifyResult{Dir: dir, Engine: *engine}
		rep, err := verifyDir(dir, run, *atol, *rtol)
		if err != nil {
			res.Error = withHint(err).Error()
		} else {
			res.MaxAbs, res.MaxRel, res.OK = rep.MaxAbs, rep.MaxRel, rep.OK
		}
		if !res.OK {
			failed++
		}
		if *asJSON {
			if err := writeJSON(stdout, res); err != nil {
				return err
			}
			continue
		}
		switch {
		case res.Error != "":
			fmt.Fprintf(stdout, "%s: ERROR %s\n", userpath.Show(dir), userpath.Sanitize(res.Error))
		default:
			verdict := "ok"
			if !rep.OK {
				verdict = "MISMATCH"
			}
			fmt.Fprintf(stdout, "%s: %s (%s; atol %.3g, rtol %.3g)\n", userpath.Show(dir), verdict, *engine, *atol, *rtol)
			for _, ds := range rep.DataSets {
				for _, o := range ds.Outputs {
					fmt.Fprintf(stdout, "  %s output %d %q %v: max abs %.3g, max rel %.3g\n", userpath.Show(ds.Dir), o.Index, o.Name, o.Dims, o.MaxAbs, o.MaxRel)
				}
			}
		}
	}
	if failed > 0 {
		return checkFailed{fmt.Sprintf("%d of %d directories did not verify", failed, fs.NArg())}
	}
	return nil
}

// verifyDir verifies one directory. A panic (a bug, whatever the input) becomes that
// directory's error, so that verify still reports every other directory.
func verifyDir(dir string, run onnx.Engine, atol, rtol float64) (rep *onnx.VerifyReport, err error) {
	defer func() {
		if r := recover(); r != nil {
			rep, err = nil, fmt.Errorf("internal error (a bug in fminfer; please report it with this directory): %v", r)
		}
	}()
	return onnx.VerifyTolerance(dir, run, atol, rtol)
}

// ortEngine runs a model with onnxruntime for Verify, through the model gate with the
// options gopts; only float tensors are supported.
func ortEngine(library string, gopts onnx.GateOptions) onnx.Engine {
	return func(model []byte, inputs []*onnx.Tensor) ([]*onnx.Tensor, error) {
		in := make([]fmrt.Tensor, len(inputs))
		for i, t := range inputs {
			if t.DataType != onnx.Float {
				return nil, fmt.Errorf("input %d (%q) is %s; the onnxruntime verifier takes float tensors only", i, t.Name, t.DataType)
			}
			in[i] = fmrt.Tensor{Name: t.Name, Shape: t.Dims, Data: t.Float}
		}
		out, err := fmrt.RunGeneric(model, in, fmrt.ORTOptions{Gate: gopts.Check, LibraryPath: library})
		if err != nil {
			return nil, err
		}
		res := make([]*onnx.Tensor, len(out))
		for i, t := range out {
			res[i] = onnx.NewFloat(t.Name, t.Shape, t.Data)
		}
		return res, nil
	}
}
