// Command fmtrain trains the Fashion-MNIST CNN natively in Go.
//
// Usage:
//
//	fmtrain [train] [flags]              train (the book's recipe by default)
//	fmtrain summary [--arch SPEC]        print a Keras-like model summary
//	fmtrain evaluate --model FILE        accuracy, per-class precision and recall, confusion matrix
//	fmtrain export --model FILE --out FILE.onnx   a native model or checkpoint as ONNX
//	fmtrain images --out DIR             dataset images as PNG files, or as catalog-style photos
//	fmtrain samples --out FILE           a 4x4 grid of images with their class names (PNG)
//	fmtrain filters --model FILE --out FILE   a layer's filters or feature maps (PNG)
//	fmtrain augment-preview --out FILE   an image beside augmented versions of it (PNG)
//	fmtrain help [COMMAND | arch]        the help of fmtrain, of a command, or of --arch specs
//	fmtrain --version                    the build: version, revision, Go
//
// Exit codes (the table fminfer shares; see internal/cli): 0 success, 2 usage
// error, 3 could not run (the dataset, a model file, an output; also an
// internal error: fmtrain panicked, and the message asks for a report), 130
// interrupted (the state was saved; continue with --resume). fmtrain has no
// check that fails, so it never exits 1 (nor 4: it runs no provider).
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
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
)

// Exit codes: the table in internal/cli, shared with fminfer.
const (
	exitOK          = cli.ExitOK
	exitUsage       = cli.ExitUsage
	exitFail        = cli.ExitCannotRun // the dataset, a model or an output could not be used
	exitBug         = cli.ExitBug       // a panic, turned into a request for a bug report
	exitInterrupted = cli.ExitInterrupted
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

// commandInfo is one of fmtrain's commands.
type commandInfo struct {
	name     string
	synopsis string // the command line, for the list of commands
	summary  string // what it does, in one line
}

// commands lists fmtrain's commands in the order the help shows them.
var commands = []commandInfo{
	{"train", "fmtrain [train] [flags]", "train a model (the book's recipe by default)"},
	{"summary", "fmtrain summary [--arch SPEC]", "a Keras-like summary of a model"},
	{"evaluate", "fmtrain evaluate --model FILE", "accuracy, per-class precision and recall, confusion matrix"},
	{"export", "fmtrain export --model FILE --out FILE.onnx", "a native model (.fmk) or checkpoint as ONNX"},
	{"images", "fmtrain images --out DIR", "dataset images as PNG files, or as catalog-style photos"},
	{"samples", "fmtrain samples --out FILE", "a 4x4 grid of dataset images with their class names (PNG)"},
	{"filters", "fmtrain filters --model FILE --out FILE", "a convolution layer's filters or feature maps (PNG)"},
	{"augment-preview", "fmtrain augment-preview --out FILE", "one image beside augmented versions of it (PNG)"},
	{"help", "fmtrain help [COMMAND | arch]", "this help, a command's, or the --arch grammar"},
}

// command splits the command line into the command ("train" when none is
// named) and its arguments.
func command(args []string) (cmd string, rest []string) {
	if len(args) > 0 {
		for _, c := range commands {
			if args[0] == c.name {
				return args[0], args[1:]
			}
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
	wantJSON := cli.WantsJSON(rest)
	defer func() {
		// A panic is a bug: with --json, a record says so on stdout too,
		// before cli.Protect reports it.
		if r := recover(); r != nil {
			if wantJSON {
				cli.WriteJSON(stdout, cli.ErrorRecord{Error: "internal_error", Reason: fmt.Sprint(r), ExitCode: exitBug})
			}
			panic(r)
		}
	}()
	var err error
	switch cmd {
	case "help":
		err = runHelp(ctx, rest, stdout, stderr)
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
		if len(rest) > 0 && (rest[0] == "--version" || rest[0] == "version") && len(args) > 0 && args[0] != "train" {
			asJSON, verr := cli.VersionArgs(rest[1:])
			if err = verr; err != nil {
				break
			}
			if asJSON {
				cli.WriteJSON(stdout, cli.ReadVersion("fmtrain"))
			} else {
				fmt.Fprint(stdout, cli.ReadVersion("fmtrain"))
			}
			return exitOK
		}
		err = runTrain(ctx, rest, stdout, stderr)
	}
	code := exitFail
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.Is(err, errInterrupted):
		code = exitInterrupted
	case cli.IsUsage(err):
		code = exitUsage
	}
	// Sanitize: a file name in the message cannot move the cursor or
	// rewrite the line (names printed by fmtrain itself are quoted by
	// userpath.Show when they need it).
	msg := userpath.Sanitize(cli.Message(err))
	fmt.Fprintf(stderr, "fmtrain: %s\n", msg)
	if code == exitUsage {
		help := "fmtrain " + cmd + " --help"
		if cmd == "train" {
			help = "fmtrain --help"
		}
		fmt.Fprintf(stderr, "Run '%s' for usage.\n", help)
	}
	if wantJSON {
		cli.WriteJSON(stdout, cli.ErrorRecord{Error: cli.Kind(code), Reason: msg, ExitCode: code})
	}
	return code
}

// runHelp prints fmtrain's help, a command's, or with "arch" the architecture grammar.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return runTrain(ctx, []string{"--help"}, stdout, stderr)
	case len(args) > 1:
		return cli.Usage(fmt.Errorf("help takes one command, got %d arguments", len(args)))
	case args[0] == "arch":
		_, err := io.WriteString(stdout, archHelp)
		return err
	case args[0] == "help":
		return runTrain(ctx, []string{"--help"}, stdout, stderr)
	}
	if cmd, _ := command(args); cmd == "train" && args[0] != "train" {
		var names []string
		for _, c := range commands {
			names = append(names, c.name)
		}
		return cli.Usage(fmt.Errorf("help: no command %q (commands: %s; or arch)", args[0], strings.Join(names, ", ")))
	}
	code := run(ctx, []string{args[0], "--help"}, stdout, stderr)
	if code != exitOK {
		return fmt.Errorf("help %s: exit %d", args[0], code)
	}
	return nil
}

// usageText is the top of fmtrain's help: the commands, one line each, and what
// training does.
func usageText() string {
	var b strings.Builder
	b.WriteString("fmtrain trains the Fashion-MNIST CNN natively in Go.\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.synopsis))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.synopsis, c.summary)
	}
	fmt.Fprintf(&b, "  %-*s  %s\n", width, "fmtrain --version", "the build: version, VCS revision, Go")
	b.WriteString(`
Run 'fmtrain COMMAND --help' (or 'fmtrain help COMMAND') for a command's flags, and
'fmtrain help arch' for the --arch grammar, with examples.

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

With --json (evaluate), failures are JSON on standard output too (docs/json.md).
Exit codes: 0 success; 2 usage error; 3 could not run (the dataset, a model file, an output;
also an internal error, which asks for a bug report); 130 interrupted (state saved; continue
with --resume).

Training: fmtrain [train] [flags]`)
	return b.String()
}

// archHelp is fmtrain help arch: the grammar of --arch (train.ParseArch), with examples
// that TestArchHelp builds.
const archHelp = `Architecture specs: --arch SPEC (training, summary)

A spec is "book", "small", or layers joined by "-", applied in order to the 1x28x28 input:

  c<filters>[k<size>[x<width>]][s<stride>][d<dilation>][same][:<act>]
                              Conv2D: a 3x3 kernel, stride 1, dilation 1, 'valid' padding
                              unless given; k5x3 is 5 high and 3 wide
  p<size>[s<stride>][same]    MaxPool2D (the stride defaults to the size)
  a<size>[s<stride>][same]    AveragePool2D
  f                           Flatten
  d<units>[:<act>]            Dense
  r                           ReLU
  x<rate>                     Dropout, the rate in [0, 1)
  bn                          BatchNorm (per channel after a conv, per unit after a dense)
  sm                          Softmax

<act> is relu, linear or softmax. Conv and Dense layers default to relu, except the last Dense
layer of the spec, which defaults to softmax: the model's output is the ten class probabilities,
so a spec ends with a Dense layer of 10 units (or one followed by sm).

Built in:
  book     c32k3-p2-c64k3-p2-c128k3-f-d64-d10   the book's model (167,114 parameters)
  small    c32k3-p2-c64k3-f-d32-d10             smaller and faster

Examples:
  c32k3-p2-c64k3-p2-f-x0.3-d128-d10      two conv blocks; dropout 0.3 before the dense layers
  c32k5same-bn-p2-c64k3same-bn-p2-f-d10  5x5 and 3x3 'same' convolutions with batch norm
  c16k3s2-c32k3s2-f-d64-d10              strided convolutions instead of pooling
  c32k3d2-a2-c64k3x1-f-d10               a dilated convolution, average pooling, a 3x1 kernel
  c32k3:linear-bn-r-p2-f-d10:linear-sm   batch norm before the ReLU; an explicit softmax

'fmtrain summary --arch SPEC' prints a spec's layers, output shapes and parameter counts;
--dropout R inserts x<R> before the last Dense layer.
`

// newFlags returns a flag set that reports errors instead of exiting.
var newFlags = cli.NewFlags

// parse parses args, wrapping errors as usage errors; positional arguments
// are refused.
func parse(fs *pflag.FlagSet, args []string) error { return cli.Parse(fs, args, false) }
