// Command fminfer classifies images with the Fashion-MNIST CNN, through
// onnxruntime or the native Go engine, and checks that the two agree.
//
// Usage:
//
//	fminfer [flags] IMAGE... | DIR | -    classify images (- reads one image from standard input)
//	fminfer eval [flags]                  accuracy over the 10,000 test images
//	fminfer parity [flags]                two engines, or two models, on the same inputs
//	fminfer verify [flags] DIR...         run ONNX model-zoo / backend-test directories
//	fminfer doctor [flags]                what was found: onnxruntime, providers, data, model
//	fminfer help [COMMAND]                the help of fminfer or of a command
//	fminfer --version                     the build: version, revision, Go, onnxruntime
//
// Exit codes (the same table for fmtrain; see internal/cli):
//
//	0  success
//	1  a check did not pass (parity, verify), or some inputs failed
//	2  usage error
//	3  could not run: the model, the onnxruntime library or the dataset could not be read or
//	   used, or the model needs something unsupported (a model the model check refuses: the
//	   message names the node, op and attribute, or the limit); also an internal error
//	   (fminfer panicked: the message says so and asks for a bug report)
//	4  the requested execution provider (CUDA) is not available
//
// With --json, every command prints JSON on standard output, on failure too; docs/json.md
// documents each shape.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// Exit codes: the table in internal/cli, shared with fmtrain.
const (
	exitOK       = cli.ExitOK
	exitInputs   = cli.ExitFailed
	exitUsage    = cli.ExitUsage
	exitRuntime  = cli.ExitCannotRun
	exitProvider = cli.ExitProvider
)

func main() {
	os.Exit(cli.Protect(os.Stderr, "fminfer", func() int { return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) }))
}

// command is one of fminfer's commands.
type command struct {
	name     string // "" for classification, the default command
	synopsis string // the command line, for the list of commands
	summary  string // what it does, in one line
	run      func(args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands lists fminfer's commands in the order the help shows them.
func commands() []command {
	return []command{
		{"", "fminfer [flags] IMAGE... | DIR | -", "classify images (- reads one image from standard input)",
			runClassify},
		{"eval", "fminfer eval [flags]", "accuracy, per-class figures and confusion matrix over the 10,000 test images",
			func(a []string, _ io.Reader, o, e io.Writer) error { return runEval(a, o, e) }},
		{"parity", "fminfer parity [flags]", "two engines (or two models) on the same inputs; fails past the tolerance",
			func(a []string, _ io.Reader, o, e io.Writer) error { return runParity(a, o, e) }},
		{"verify", "fminfer verify [flags] DIR...", "run ONNX model-zoo / backend-test directories",
			func(a []string, _ io.Reader, o, e io.Writer) error { return runVerify(a, o, e) }},
		{"doctor", "fminfer doctor [flags]", "what was found: onnxruntime, providers, dataset, model",
			func(a []string, _ io.Reader, o, e io.Writer) error { return runDoctor(a, o, e) }},
		{"help", "fminfer help [COMMAND]", "this help, or a command's", nil},
	}
}

// findCommand returns the command named name, if there is one.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name && name != "" {
			return c, true
		}
	}
	return command{}, false
}

// helpName is the command line that shows cmd's help.
func helpName(cmd string) string {
	if cmd == "" {
		return "fminfer --help"
	}
	return "fminfer " + cmd + " --help"
}

// run is the whole program, testable in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	cmd, rest := "", args
	if len(args) > 0 {
		if c, ok := findCommand(args[0]); ok {
			cmd, rest = c.name, args[1:]
		}
	}
	wantJSON := cli.WantsJSON(rest)
	defer func() {
		// A panic is a bug: with --json, a record says so on stdout too,
		// before cli.Protect reports it.
		if r := recover(); r != nil {
			if wantJSON {
				cli.WriteJSON(stdout, cli.ErrorRecord{Error: "internal_error", Reason: fmt.Sprint(r), ExitCode: cli.ExitBug})
			}
			panic(r)
		}
	}()
	var err error
	switch {
	case cmd == "" && len(args) > 0 && (args[0] == "--version" || args[0] == "version"):
		asJSON, verr := cli.VersionArgs(args[1:])
		if err = verr; err != nil {
			break
		}
		if asJSON {
			cli.WriteJSON(stdout, versionRecord())
		} else {
			fmt.Fprint(stdout, versionText())
		}
		return exitOK
	case cmd == "help":
		err = runHelp(rest, stdin, stdout, stderr)
	default:
		for _, c := range commands() {
			if c.name == cmd {
				err = c.run(rest, stdin, stdout, stderr)
			}
		}
	}
	return exitCode(cmd, err, wantJSON, stdout, stderr)
}

// runHelp prints fminfer's help, or with a command's name, the command's.
func runHelp(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return runClassify([]string{"--help"}, stdin, stdout, stderr)
	case len(args) > 1:
		return cli.Usage(fmt.Errorf("help takes one command, got %d arguments", len(args)))
	}
	c, ok := findCommand(args[0])
	if !ok || c.run == nil {
		return cli.Usage(fmt.Errorf("help: no command %q (commands: %s)", args[0], commandNames()))
	}
	return c.run([]string{"--help"}, stdin, stdout, stderr)
}

// commandNames lists the commands that have help of their own.
func commandNames() string {
	var names []string
	for _, c := range commands() {
		if c.name != "" && c.run != nil {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ", ")
}

// version is fminfer --version --json: the build, and the onnxruntime library that
// discovery finds and loads, or why none loads (docs/json.md, "version").
type version struct {
	cli.Version
	Library    *libraryReport `json:"onnxruntime,omitempty"`
	LibraryErr string         `json:"onnxruntime_error,omitempty"`
}

// versionRecord reads the build and loads the onnxruntime library.
func versionRecord() version {
	v := version{Version: cli.ReadVersion("fminfer")}
	if lib, err := fmrt.LoadLibrary(""); err != nil {
		v.LibraryErr = userpath.Sanitize(firstLine(err))
	} else {
		v.Library = &libraryReport{Path: lib.Path, Version: lib.Version, Source: lib.Source}
	}
	return v
}

// versionText is fminfer --version: versionRecord as text.
func versionText() string {
	v := versionRecord()
	s := v.Version.String()
	if v.Library == nil {
		s += fmt.Sprintf("onnxruntime: not loaded: %s\n", v.LibraryErr)
	} else {
		s += fmt.Sprintf("onnxruntime: %s at %s (found via %s)\n", v.Library.Version, userpath.Show(v.Library.Path), v.Library.Source)
	}
	return s
}

// exitCode reports err (on stderr, and with --json as a record on stdout) and maps it to
// the documented exit code. cmd is the command that ran, for the pointer to its help.
func exitCode(cmd string, err error, wantJSON bool, stdout, stderr io.Writer) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	// Sanitize: a file name in the message cannot move the cursor or rewrite
	// the line (the names fminfer prints itself are quoted by userpath.Show
	// when they need it).
	var pe *fmrt.ProviderError
	var fe cli.FailedError
	msg := userpath.Sanitize(cli.Message(err))
	if errors.As(err, &pe) {
		// onnxruntime's own message runs to hundreds of characters of source paths.
		msg = fmt.Sprintf("execution provider %s is not available: %s; use --provider cpu (or auto)", pe.Provider, providerReason(pe))
	}
	fmt.Fprintf(stderr, "fminfer: %s\n", msg)
	code := exitRuntime
	switch {
	case cli.IsUsage(err):
		fmt.Fprintf(stderr, "Run '%s' for usage.\n", helpName(cmd))
		code = exitUsage
	case errors.As(err, &fe):
		// The command has printed its own records (per input, or the check's report).
		return fe.ExitCode()
	case errors.As(err, &pe):
		code = exitProvider
	}
	if wantJSON {
		cli.WriteJSON(stdout, cli.ErrorRecord{Error: cli.Kind(code), Reason: msg, ExitCode: code})
	}
	return code
}

// usageText is the top of fminfer's help: the commands, one line each, and what every
// command shares.
func usageText() string {
	var b strings.Builder
	b.WriteString("fminfer classifies images with the Fashion-MNIST CNN, through onnxruntime or the native Go engine.\n\nCommands:\n")
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.synopsis))
	}
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.synopsis, c.summary)
	}
	fmt.Fprintf(&b, "  %-*s  %s\n", width, "fminfer --version", "the build: version, VCS revision, Go, onnxruntime")
	b.WriteString(`
Run 'fminfer COMMAND --help' (or 'fminfer help COMMAND') for a command's flags.

Pictures are turned upright by their EXIF orientation, the item is found on its backdrop
(noise, colour, uneven light, shadows and a tilt allowed), cropped and framed like the
dataset. A picture in which no item is found is a failed input ("no item found: REASON";
in --json an error record), never a class. --explain draws the steps.

Every model passes the model check first, whichever engine runs it (--max-nodes,
--max-activation-mb, --max-gflops, --external-data); a model it refuses cannot run (exit 3).
A native .fmk model (what fmtrain writes) runs on the native engine.

With --json every command prints JSON on standard output, on failure too (docs/json.md).
Exit codes: 0 success; 1 a check did not pass, or some inputs failed; 2 usage error;
3 could not run (model, onnxruntime library, dataset, something unsupported; also an
internal error, which asks for a bug report); 4 the execution provider is not available.

Classification: fminfer [flags] IMAGE... | DIR | -`)
	return b.String()
}

// newFlags returns a flag set that reports errors instead of exiting.
var newFlags = cli.NewFlags

// parse parses args, wrapping errors as usage errors; if positional is
// false, positional arguments are refused.
var parse = cli.Parse
