// Command fmtrain trains the Fashion-MNIST CNN natively in Go.
//
// Usage:
//
//	fmtrain [flags]                      train (the book's recipe by default)
//	fmtrain summary [--arch SPEC]        print a Keras-like model summary
//	fmtrain evaluate --model FILE        accuracy, per-class precision and recall, confusion matrix
//	fmtrain export --model FILE --out FILE.onnx   a native model or checkpoint as ONNX
//	fmtrain images --out DIR             dataset images as PNG files, or as catalog-style photos
//	fmtrain samples --out FILE           a 4x4 grid of images with their class names (PNG)
//	fmtrain filters --model FILE --out FILE   a layer's filters or feature maps (PNG)
//	fmtrain augment-preview --out FILE   an image beside augmented versions of it (PNG)
//
// Exit codes: 0 success, 1 failure, 2 usage error, 3 internal error (a bug:
// fmtrain panicked; the message asks for a report), 130 interrupted (the
// state was saved; continue with --resume).
//
// Only training catches SIGINT and SIGTERM (to save its state first); every
// other command ends at once on them, which is safe because every file is
// written atomically.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
)

// Exit codes.
const (
	exitOK          = 0
	exitFail        = 1
	exitUsage       = 2
	exitBug         = cli.ExitBug // a panic, turned into a request for a bug report
	exitInterrupted = 130
)

func main() {
	args := os.Args[1:]
	ctx, release := context.Background(), func() {}
	if cmd, _ := command(args); cmd == "train" {
		// Only training has a state to save on a signal; other commands
		// keep the default handling and end at once.
		ctx, release = interruptible(os.Stderr)
	}
	code := cli.Protect(os.Stderr, "fmtrain", func() int { return run(ctx, args, os.Stdout, os.Stderr) })
	release()
	os.Exit(code)
}

// command splits the command line into the command ("train" when none is
// named) and its arguments.
func command(args []string) (cmd string, rest []string) {
	if len(args) > 0 {
		switch args[0] {
		case "summary", "evaluate", "train", "export", "images", "samples", "filters", "augment-preview", "help":
			return args[0], args[1:]
		}
	}
	return "train", args
}

// interruptNotice is what fmtrain says on the first SIGINT or SIGTERM.
const interruptNotice = "\nfmtrain: interrupted; saving the training state (press Ctrl-C again to quit at once)"

// interruptible returns a context that the first SIGINT or SIGTERM cancels.
// On that signal it writes interruptNotice to w and restores the default
// handling, so that a second Ctrl-C ends the process at once (every file is
// written atomically, so nothing is left half-written). release stops
// watching, cancels the context and writes nothing: the notice is for
// signals only, never for a run that simply ends.
func interruptible(w io.Writer) (ctx context.Context, release func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-sigs:
			signal.Stop(sigs)
			fmt.Fprintln(w, interruptNotice)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		<-watched
		cancel()
	}
}

// run is the whole program, testable in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, rest := command(args)
	var err error
	switch cmd {
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "summary":
		err = runSummary(rest, stdout)
	case "evaluate":
		err = runEvaluate(rest, stdout, stderr)
	case "export":
		err = runExport(rest, stdout, stderr)
	case "images":
		err = runImages(rest, stdout)
	case "samples":
		err = runSamples(rest, stdout)
	case "filters":
		err = runFilters(rest, stdout)
	case "augment-preview":
		err = runAugmentPreview(rest, stdout)
	default:
		err = runTrain(ctx, rest, stdout, stderr)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(stderr, "fmtrain: %v\n", userpath.Sanitize(err.Error()))
		return exitInterrupted
	}
	// Sanitize: a file name in the message cannot move the cursor or
	// rewrite the line (names printed by fmtrain itself are quoted by
	// userpath.Show when they need it).
	fmt.Fprintf(stderr, "fmtrain: %v\n", userpath.Sanitize(err.Error()))
	var ue cli.UsageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "Run 'fmtrain --help' for usage.")
		return exitUsage
	}
	return exitFail
}

const usage = `fmtrain trains the Fashion-MNIST CNN natively in Go.

Usage:
  fmtrain [flags]                   train (the book's recipe by default)
  fmtrain summary [--arch SPEC]     print a Keras-like model summary
  fmtrain evaluate --model FILE     accuracy, per-class precision and recall, confusion matrix
                                    (--plot FILE: the confusion matrix as a PNG heatmap)
  fmtrain export --model FILE --out FILE.onnx
                                    a native model (.fmk) or checkpoint as ONNX (--bundle DIR:
                                    with a model-zoo test set)
  fmtrain images --out DIR          dataset images as PNG files (--catalog: as dark-on-white
                                    224x224 JPEG photos)
  fmtrain samples --out FILE        a 4x4 grid of Fashion-MNIST images with their class names
  fmtrain filters --model FILE --out FILE
                                    a convolution layer's first 16 filters (--image INDEX:
                                    its feature maps for one test image)
  fmtrain augment-preview --out FILE
                                    one image beside augmented versions of it

Validation: --validation-split F holds out the last fraction F of the training samples (Keras'
validation_split: before any shuffling, never trained on) for the val_ figures, --early-stopping and
--restore-best; the test set is then read only after training and scored once. --validate-on-test is
the book's choice (the test set validates, and selects the epoch) and is labelled so everywhere.
With neither, there is no validation, and --early-stopping is a usage error.

Training writes the model (--out, ONNX by default: model.onnx) with its history (.history.json,
.history.csv), its training curves (.curves.png, refreshed each epoch) and a resumable checkpoint
(.ckpt) beside it. Over an existing model, the new run writes these files as hidden .pending files
and puts them in place, the model last, only once its model is written: an interrupted retrain
leaves the earlier model and its files as they were (--resume continues from the pending state).

Run 'fmtrain COMMAND --help' for the flags of a command.
Exit codes: 0 success, 1 failure, 2 usage error, 3 internal error (a bug; please report it),
130 interrupted (state saved; continue with --resume).
`

// newFlags returns a flag set that reports errors instead of exiting.
var newFlags = cli.NewFlags

// parse parses args, wrapping errors as usage errors; positional arguments
// are refused.
func parse(fs *pflag.FlagSet, args []string) error { return cli.Parse(fs, args, false) }
