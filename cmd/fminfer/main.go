// Command fminfer classifies images with the Fashion-MNIST CNN, through
// onnxruntime or the native Go engine, and checks that the two agree.
//
// Usage:
//
//	fminfer [flags] IMAGE... | DIR | -    classify images (- reads one image from standard input)
//	fminfer eval [flags]                  accuracy over the 10,000 test images
//	fminfer parity [flags]                both engines over the test set; fails past the tolerance
//	fminfer verify [--engine E] DIR...    run ONNX model-zoo / backend-test directories
//	fminfer doctor                        what was found: onnxruntime, providers, data, model
//
// Exit codes:
//
//	0  success
//	1  some inputs failed, or a check (parity, verify) did not pass
//	2  usage error
//	3  runtime failure: the model, the onnxruntime library or the dataset could not be loaded or run
//	   (a model the model check refuses: the message names the node, op and attribute, or the limit);
//	   also an internal error (fminfer panicked: the message says so and asks for a bug report)
//	4  the requested execution provider (CUDA) is not available
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// Exit codes, as documented above.
const (
	exitOK       = 0
	exitInputs   = 1
	exitUsage    = 2
	exitRuntime  = 3
	exitProvider = 4
)

func main() {
	os.Exit(cli.Protect(os.Stderr, "fminfer", func() int { return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) }))
}

// checkFailed marks a check that ran and did not pass (exit 1).
type checkFailed struct{ msg string }

func (e checkFailed) Error() string { return e.msg }

// run is the whole program, testable in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var err error
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "eval":
		err = runEval(args[1:], stdout, stderr)
	case "parity":
		err = runParity(args[1:], stdout, stderr)
	case "verify":
		err = runVerify(args[1:], stdout, stderr)
	case "doctor":
		err = runDoctor(args[1:], stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = runClassify(args, stdin, stdout, stderr)
	}
	return exitCode(err, stderr)
}

// exitCode reports err and maps it to the documented exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	// Sanitize: a file name in the message cannot move the cursor or rewrite
	// the line (the names fminfer prints itself are quoted by userpath.Show
	// when they need it).
	fmt.Fprintf(stderr, "fminfer: %v\n", userpath.Sanitize(err.Error()))
	var ue cli.UsageError
	var cf checkFailed
	var pe *fmrt.ProviderError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "Run 'fminfer --help' for usage.")
		return exitUsage
	case errors.As(err, &cf):
		return exitInputs
	case errors.As(err, &pe):
		return exitProvider
	}
	return exitRuntime
}

const usage = `fminfer classifies images with the Fashion-MNIST CNN.

Usage:
  fminfer [flags] IMAGE... | DIR | -    classify images (- reads one image from standard input)
  fminfer eval [flags]                  accuracy over the 10,000 test images
  fminfer parity [flags]                both engines over the test set; fails past the tolerance
  fminfer verify [--engine E] DIR...    run ONNX model-zoo / backend-test directories
  fminfer doctor                        what was found: onnxruntime, providers, data, model

Run 'fminfer COMMAND --help' for the flags of a command, 'fminfer --help' for classification's.

Pictures are turned upright by their EXIF orientation, the item is found on its backdrop
(noise, colour, uneven light, shadows and a tilt allowed), cropped and framed like the
dataset. A picture in which no item is found is reported ("no item found: REASON"; in
--json "no_object": true and "reason") and counts as a failed input, never as a class.
--explain draws the steps (the picture, the item's mask and crop box, the 28x28 input).

Every model passes the model check first, whichever engine runs it (--max-nodes,
--max-activation-mb, --max-gflops, --external-data); a model it refuses is a runtime failure.

Exit codes: 0 success; 1 some inputs failed (no item found included), or a check did not pass; 2 usage error;
3 runtime failure (model, onnxruntime library or dataset), or an internal error (a bug; please report it);
4 the requested execution provider is not available.
`

// newFlags returns a flag set that reports errors instead of exiting.
var newFlags = cli.NewFlags

// parse parses args, wrapping errors as usage errors; if positional is
// false, positional arguments are refused.
var parse = cli.Parse
