package cli

import (
	"errors"
	"fmt"
)

// The exit codes of both tools: one table, documented in the README and enforced by each
// tool's TestExitCodes.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitFailed: the command ran, and a check did not pass (parity, verify) or some inputs
	// failed (an image that cannot be read, a picture with no item).
	ExitFailed = 1
	// ExitUsage: the command line is wrong; nothing was done.
	ExitUsage = 2
	// ExitCannotRun: the command could not run: a model, the onnxruntime library or the
	// dataset could not be read or used, or the model needs something unsupported. An
	// internal error (a panic) shares the code, and its message asks for a bug report.
	ExitCannotRun = 3
	// ExitProvider: the execution provider asked for (CUDA) is not available.
	ExitProvider = 4
	// ExitInterrupted: fmtrain's training was interrupted by SIGINT or SIGTERM after
	// saving its state (128 + SIGINT, as shells report it).
	ExitInterrupted = 130
)

// ExitBug is the exit code of a program that panicked: an internal error,
// never a verdict on the input. It shares ExitCannotRun's code.
const ExitBug = ExitCannotRun

// Kind names an exit code in JSON error records ("error" of a command's
// failure record; see docs/json.md).
func Kind(code int) string {
	switch code {
	case ExitOK:
		return "ok"
	case ExitFailed:
		return "check_failed"
	case ExitUsage:
		return "usage"
	case ExitCannotRun:
		return "cannot_run"
	case ExitProvider:
		return "provider_unavailable"
	case ExitInterrupted:
		return "interrupted"
	}
	return fmt.Sprintf("exit_%d", code)
}

// FailedError marks a command that ran and reported its outcome itself (its records,
// its report): a check that did not pass or inputs that failed, exit code ExitFailed, or
// with Code set, another (verify: directories that could not be run, ExitCannotRun). The
// tools print no error record of their own for it.
type FailedError struct {
	Msg  string
	Code int // 0: ExitFailed
}

// Error returns the message.
func (e FailedError) Error() string { return e.Msg }

// ExitCode returns the code the failure exits with.
func (e FailedError) ExitCode() int {
	if e.Code == 0 {
		return ExitFailed
	}
	return e.Code
}

// Failed returns a FailedError (exit code ExitFailed) with the formatted message.
func Failed(format string, args ...any) error { return FailedError{Msg: fmt.Sprintf(format, args...)} }

// FailedCode returns a FailedError that exits with code.
func FailedCode(code int, format string, args ...any) error {
	return FailedError{Msg: fmt.Sprintf(format, args...), Code: code}
}

// IsFailed reports whether err is (or wraps) a FailedError.
func IsFailed(err error) bool {
	var f FailedError
	return errors.As(err, &f)
}

// IsUsage reports whether err is (or wraps) a UsageError.
func IsUsage(err error) bool {
	var u UsageError
	return errors.As(err, &u)
}
