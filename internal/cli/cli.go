// Package cli holds what fmtrain and fminfer share in parsing their command
// lines: flag sets that report errors instead of exiting, and the error type
// that marks a mistake on the command line (exit code 2 in both tools).
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// UsageError marks an error caused by the command line.
type UsageError struct{ Err error }

// Error returns the wrapped error's message.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e UsageError) Unwrap() error { return e.Err }

// Usage marks err as caused by the command line.
func Usage(err error) error { return UsageError{Err: err} }

// NewFlags returns a flag set that reports errors instead of exiting, keeps
// flags in definition order, and prints synopsis above the flag list.
func NewFlags(name string, out io.Writer, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.Usage = func() { fmt.Fprintf(out, "%s\n\nFlags:\n%s", synopsis, fs.FlagUsages()) }
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
