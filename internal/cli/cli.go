// Package cli holds what fmtrain and fminfer share in running their command
// lines: flag sets that report errors instead of exiting, the error type
// that marks a mistake on the command line (exit code 2 in both tools), the
// early check of an output path, and Protect, which turns a panic into exit
// code 3 and a request for a bug report.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/userpath"
)

// Protect runs fn and returns its exit code. If fn panics (on the calling
// goroutine), Protect writes the panic, the stack and a request for a bug
// report to stderr and returns ExitBug: Go's own exit code for a panic is 2,
// which both tools document as a usage error.
//
// With $FMKIT_TEST_PANIC set to tool's name, Protect panics before calling
// fn, so that tests of the built programs can check this path end to end.
func Protect(stderr io.Writer, tool string, fn func() int) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v\n%s\n%s: this is a bug in %s, not a problem with your input: please report it with the command line and the text above (exit code %d)\n",
				tool, r, debug.Stack(), tool, tool, ExitBug)
			code = ExitBug
		}
	}()
	if os.Getenv(TestPanicEnv) == tool {
		panic(TestPanicEnv + " is set")
	}
	return fn()
}

// TestPanicEnv names the environment variable that makes Protect panic.
const TestPanicEnv = "FMKIT_TEST_PANIC"

// CheckOutputFile fails early, before any work, when the file that flag
// names cannot be written: its directory must exist and the path must not
// be a directory (or anything else that is not a regular file). The errors
// are usage errors.
func CheckOutputFile(flag, path string) error {
	if path == "" {
		return Usage(fmt.Errorf("%s must name a file", flag))
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return Usage(fmt.Errorf("%s %s: directory %s does not exist", flag, userpath.Show(path), userpath.Show(dir)))
	}
	if !st.IsDir() {
		return Usage(fmt.Errorf("%s %s: %s is not a directory", flag, userpath.Show(path), userpath.Show(dir)))
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return Usage(fmt.Errorf("%s %s is a directory", flag, userpath.Show(path)))
		}
		return Usage(fmt.Errorf("%s %s is %s, not a file to write", flag, userpath.Show(path), userpath.Kind(st.Mode())))
	}
	return nil
}

// UsageError marks an error caused by the command line.
type UsageError struct{ Err error }

// Error returns the wrapped error's message.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e UsageError) Unwrap() error { return e.Err }

// Usage marks err as caused by the command line.
func Usage(err error) error { return UsageError{Err: err} }

// NewFlags returns a flag set that reports errors instead of exiting, keeps
// flags in definition order, and prints synopsis above the flag list (see
// FlagUsages).
func NewFlags(name string, out io.Writer, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.Usage = func() { fmt.Fprintf(out, "%s\n\nFlags:\n%s", synopsis, FlagUsages(fs)) }
	return fs
}

// Parse parses args, wrapping errors as UsageError (pflag.ErrHelp is
// returned as is); unless positional is true, positional arguments are
// refused.
func Parse(fs *pflag.FlagSet, args []string, positional bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return Usage(err)
	}
	if !positional && fs.NArg() > 0 {
		return Usage(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

// CheckOutputDir fails early, before any work, when the directory that flag
// names can neither be written into nor created: it must be a directory, or
// not exist in a directory that does (it is created then, by the command,
// one level only, so that a typo in a parent is not silently made). The
// errors are usage errors.
func CheckOutputDir(flag, dir string) error {
	if dir == "" {
		return Usage(fmt.Errorf("%s must name a directory", flag))
	}
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return Usage(fmt.Errorf("%s %s is %s, not a directory", flag, userpath.Show(dir), userpath.Kind(st.Mode())))
		}
		return nil
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return Usage(fmt.Errorf("%s %s: its parent directory %s does not exist", flag, userpath.Show(dir), userpath.Show(parent)))
	}
	return nil
}

// packagePrefix matches the package names that Go errors of this module (and of protobuf)
// start with, where they begin the message or follow a colon or a parenthesis.
var packagePrefix = regexp.MustCompile(`(^|: |\()(onnxexport|onnxwire|onnx|runtime|train|fmnist|viz|gemm|atomicfile|userpath|proto): `)

// Message is err's message as the tools show it: without the Go package names that
// library errors start with ("onnx: ", "runtime: ", ...), which say nothing to a user,
// and with protobuf's non-breaking spaces made plain. The rest of the message (the file,
// the flag, the node at fault) is kept.
func Message(err error) string {
	s := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	for {
		t := packagePrefix.ReplaceAllString(s, "$1")
		if t == s {
			return s
		}
		s = t
	}
}
