package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// verifyResult is one directory that ran, for --json: the verdict, the largest
// differences, and every data set's outputs, as the text shows them.
type verifyResult struct {
	Dir      string          `json:"dir"`
	Engine   string          `json:"engine"`
	OK       bool            `json:"ok"`
	Atol     float64         `json:"atol"`
	Rtol     float64         `json:"rtol"`
	MaxAbs   diff            `json:"max_abs_diff"`
	MaxRel   diff            `json:"max_rel_diff"`
	DataSets []verifyDataSet `json:"data_sets"`
}

// verifyDataSet is one test_data_set_N of a verifyResult.
type verifyDataSet struct {
	Dir     string         `json:"dir"`
	Outputs []verifyOutput `json:"outputs"`
}

// verifyOutput is one output of a data set.
type verifyOutput struct {
	Index  int     `json:"index"`
	Name   string  `json:"name"`
	Dims   []int64 `json:"dims"`
	MaxAbs diff    `json:"max_abs_diff"`
	MaxRel diff    `json:"max_rel_diff"`
	OK     bool    `json:"ok"`
	// Reason says why the output was not compared element by element (another type or
	// shape, or none given); absent for one that was.
	Reason string `json:"reason,omitempty"`
}

// diff is a difference as JSON: a number, or null when it is infinite or NaN (a relative
// difference where the expectation is 0 and the result is not), which JSON has no number for.
type diff float64

// MarshalJSON implements json.Marshaler.
func (d diff) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(d), 0) || math.IsNaN(float64(d)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(d))
}

// The kinds of a directory that could not be verified, the "error" of its record.
const (
	verifyUnreadable  = "unreadable"     // no such directory, not a directory, no model.onnx, unreadable files
	verifyUnsupported = "unsupported"    // the model needs an ONNX feature the engine does not have
	verifyRefused     = "refused"        // the model check refused it (a limit, external data)
	verifyInvalid     = "invalid"        // a malformed model or tensor
	verifyInternal    = "internal_error" // a bug in fminfer
)

// verifyError is a directory that could not be verified, with its kind.
type verifyError struct {
	kind string
	err  error
}

func (e verifyError) Error() string { return e.err.Error() }
func (e verifyError) Unwrap() error { return e.err }

// verifyKind classifies the error of one directory.
func verifyKind(err error) string {
	var ve verifyError
	var le *onnx.LimitError
	switch {
	case errors.As(err, &ve):
		return ve.kind
	case errors.Is(err, onnx.ErrUnsupported):
		return verifyUnsupported
	case errors.As(err, &le), errors.Is(err, onnx.ErrExternalData):
		return verifyRefused
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return verifyUnreadable
	}
	var nr *userpath.NotRegularError
	if errors.As(err, &nr) {
		return verifyUnreadable
	}
	return verifyInvalid
}

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fminfer verify", stdout, `Usage: fminfer verify [flags] DIR...

Runs ONNX model-zoo / backend-test directories (model.onnx with test_data_set_*/input_*.pb
and output_*.pb) and reports the largest differences per output. Every model passes the
model check first, for either engine (only the ops the native importer knows, attributes and
shapes checked, the limits below). Every directory is reported, whatever happens to the
others. Exits 1 when an output differs past the tolerance, 3 when a directory could not be
run (no such directory, no model.onnx, an unsupported op, a malformed model or tensor, a model
the check refuses, an input of batch 0 for the native engine) or the onnxruntime library
cannot be loaded; 3 wins over 1.`)
	engine := fs.String("engine", engineAuto, "`ENGINE`: ort (onnxruntime), native, or auto (ort when its library is found, else native)")
	library := fs.String("ort-library", "", "the onnxruntime shared library `FILE` (default: discovered)")
	var gate gateFlags
	gate.register(fs)
	atol := fs.Float64("atol", onnx.DefaultVerifyAtol, "absolute tolerance")
	rtol := fs.Float64("rtol", onnx.DefaultVerifyRtol, "relative tolerance")
	asJSON := fs.Bool("json", false, "print one JSON object per directory (docs/json.md)")
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
	case engineAuto:
		if _, err := fmrt.LoadLibrary(*library); err != nil {
			if *library != "" {
				return fmt.Errorf("--ort-library %s: %w", userpath.Show(*library), err)
			}
			fmt.Fprintf(stderr, "note: onnxruntime is not available (%v); using the native engine\n", firstLine(err))
			*engine, run = engineNative, onnxexport.NativeEngineWith(gopts)
		} else {
			*engine, run = engineORT, ortEngine(*library, gopts)
		}
	case engineNative:
		run = onnxexport.NativeEngineWith(gopts)
	case engineORT:
		if _, err := fmrt.LoadLibrary(*library); err != nil {
			return err
		}
		run = ortEngine(*library, gopts)
	default:
		return cli.Usage(fmt.Errorf("--engine must be ort, native or auto, got %q", *engine))
	}
	mismatched, broken := 0, 0
	for _, dir := range fs.Args() {
		rep, err := verifyDir(dir, run, *atol, *rtol)
		if err != nil {
			broken++
			msg := cli.Message(withHint(err))
			if *asJSON {
				if err := cli.WriteJSON(stdout, cli.InputError{File: dir, Error: verifyKind(err), Reason: msg}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(stdout, "%s: ERROR %s\n", userpath.Show(dir), userpath.Sanitize(msg))
			}
			continue
		}
		if !rep.OK {
			mismatched++
		}
		res := verifyResult{Dir: dir, Engine: *engine, OK: rep.OK, Atol: *atol, Rtol: *rtol, MaxAbs: diff(rep.MaxAbs), MaxRel: diff(rep.MaxRel), DataSets: []verifyDataSet{}}
		for _, ds := range rep.DataSets {
			d := verifyDataSet{Dir: ds.Dir, Outputs: []verifyOutput{}}
			for _, o := range ds.Outputs {
				d.Outputs = append(d.Outputs, verifyOutput{o.Index, o.Name, o.Dims, diff(o.MaxAbs), diff(o.MaxRel), o.OK, o.Reason})
			}
			res.DataSets = append(res.DataSets, d)
		}
		if *asJSON {
			if err := cli.WriteJSON(stdout, res); err != nil {
				return err
			}
			continue
		}
		verdict := "ok"
		if !rep.OK {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(stdout, "%s: %s (%s; atol %.3g, rtol %.3g)\n", userpath.Show(dir), verdict, *engine, *atol, *rtol)
		for _, ds := range rep.DataSets {
			for _, o := range ds.Outputs {
				if o.Reason != "" {
					fmt.Fprintf(stdout, "  %s output %d %q %v: %s\n", userpath.Show(ds.Dir), o.Index, o.Name, o.Dims, userpath.Sanitize(o.Reason))
					continue
				}
				fmt.Fprintf(stdout, "  %s output %d %q %v: max abs %.3g, max rel %.3g\n", userpath.Show(ds.Dir), o.Index, o.Name, o.Dims, o.MaxAbs, o.MaxRel)
			}
		}
	}
	switch {
	case broken > 0:
		return cli.FailedCode(cli.ExitCannotRun, "%d of %d directories could not be verified, %d did not match", broken, fs.NArg(), mismatched)
	case mismatched > 0:
		return cli.Failed("%d of %d directories did not verify", mismatched, fs.NArg())
	}
	return nil
}

// verifyDir verifies one directory. A panic (a bug, whatever the input) becomes that
// directory's error, so that verify still reports every other directory.
func verifyDir(dir string, run onnx.Engine, atol, rtol float64) (rep *onnx.VerifyReport, err error) {
	defer func() {
		if r := recover(); r != nil {
			rep, err = nil, verifyError{verifyInternal, fmt.Errorf("internal error (a bug in fminfer; please report it with this directory): %v", r)}
		}
	}()
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, verifyError{verifyUnreadable, errors.New("no such directory")}
	case err != nil:
		return nil, verifyError{verifyUnreadable, err}
	case !st.IsDir():
		return nil, verifyError{verifyUnreadable, fmt.Errorf("%s, not a directory (verify takes directories that hold model.onnx and test_data_set_*)", userpath.Kind(st.Mode()))}
	}
	if _, err := os.Lstat(filepath.Join(dir, "model.onnx")); errors.Is(err, os.ErrNotExist) {
		return nil, verifyError{verifyUnreadable, errors.New("no model.onnx in the directory")}
	}
	return onnx.VerifyTolerance(dir, run, atol, rtol)
}

// ortEngine runs a model with onnxruntime for Verify, through the model gate with the
// options gopts; only float tensors are supported.
func ortEngine(library string, gopts onnx.GateOptions) onnx.Engine {
	return func(model []byte, inputs []*onnx.Tensor) ([]*onnx.Tensor, error) {
		in := make([]fmrt.Tensor, len(inputs))
		for i, t := range inputs {
			if t.DataType != onnx.Float {
				return nil, &onnx.UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("input %d (%q)", i, t.Name),
					Reason: fmt.Sprintf("%s: the onnxruntime verifier takes float tensors only", t.DataType)}
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
