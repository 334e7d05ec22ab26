// Package userpath is the one place where fmtrain and fminfer check the
// paths that come from the user (flags, arguments, directory entries) before
// they are opened, written or printed.
//
//   - Open and ReadFile open a file for reading without ever blocking on it:
//     the open itself is non-blocking (O_NONBLOCK), so a named pipe, a
//     terminal or a device is refused by its type after open(2) returns,
//     instead of hanging the program until a writer appears. Only regular
//     files are read; a directory, FIFO, socket or device is a
//     *NotRegularError.
//   - CheckRegular checks a path with Stat, for paths handed to code that
//     opens them itself (dlopen of the onnxruntime library).
//   - Same and Distinct tell whether two paths name the same file: by their
//     resolved absolute paths (symbolic links in the directories followed)
//     and, where both exist, by os.SameFile. Outputs that would overwrite
//     each other or an input are refused before any work.
//   - Show makes a file name safe to print in a text line: a name holding a
//     control character (newline, carriage return, ESC, ...) or invalid
//     UTF-8 is printed quoted and escaped, like strconv.Quote; any other name
//     is printed as is. Sanitize does the same for a whole message.
package userpath

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NotRegularError reports a path that names something other than a regular
// file: a directory, a named pipe, a socket or a device.
type NotRegularError struct {
	Path string      // the path as given
	Mode fs.FileMode // its type bits
}

// Error implements the error interface: "NAME: not a regular file (a named pipe)".
func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: not a regular file (%s)", Show(e.Path), Kind(e.Mode))
}

// ErrNotRegular is what a *NotRegularError matches with errors.Is.
var ErrNotRegular = errors.New("not a regular file")

// Is lets errors.Is(err, ErrNotRegular) match.
func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// Kind names the type of a file mode in words: "a directory", "a named
// pipe", "a socket", "a device", "a symbolic link", "a regular file".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file"
}

// Open opens the regular file at path for reading. The open does not block
// (see the package comment); anything but a regular file is refused with a
// *NotRegularError and closed again. Errors name the path (escaped with
// Show) and wrap the system's error, so errors.Is(err, fs.ErrNotExist)
// works.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, &fs.PathError{Op: pe.Op, Path: Show(path), Err: pe.Err}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "stat", Path: Show(path), Err: err}
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return f, nil
}

// TooLargeError reports a file longer than the caller allows. (pkg/onnx's LimitError is
// another thing: a model past one of the model gate's limits.)
type TooLargeError struct {
	Path  string
	Size  int64 // the size found (a lower bound when the file grew while read)
	Limit int64
}

// Error implements the error interface.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: %d bytes exceeds the %d-byte limit", Show(e.Path), e.Size, e.Limit)
}

// ReadFile reads the regular file at path (see Open), refusing before
// reading a file longer than limit bytes, and refusing one that grows past
// limit while it is read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: Show(path), Err: err}
	}
	if st.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: st.Size(), Limit: limit}
	}
	b := make([]byte, 0, st.Size()+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, &TooLargeError{Path: path, Size: int64(len(b)), Limit: limit}
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: Show(path), Err: unwrapPath(err)}
		}
	}
}

// unwrapPath returns the system error inside a *fs.PathError, so that the
// message names the path once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CheckRegular checks with Stat (following symbolic links) that path names
// an existing regular file. It is for paths that other code opens itself;
// code that opens the file should use Open, which has no window between the
// check and the open.
func CheckRegular(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return &fs.PathError{Op: "stat", Path: Show(path), Err: unwrapPath(err)}
	}
	if !st.Mode().IsRegular() {
		return &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return nil
}

// Resolve returns path made absolute and cleaned, with the symbolic links of
// its directory resolved (those of the last element too when it exists). It
// names the file that a write to path would create or replace, so two
// spellings of one place resolve alike ("m.onnx", "./m.onnx", "dir/../m.onnx",
// a symbolic link to the directory). When the directory cannot be resolved
// the cleaned absolute path is returned.
func Resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	dir, base := filepath.Split(abs)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(r, base)
	}
	return abs
}

// Same reports whether a and b name the same file: their resolved paths
// (see Resolve) are equal, or both exist and os.SameFile says they are one
// file (hard links, bind mounts).
func Same(a, b string) bool {
	if Resolve(a) == Resolve(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// Role is one path a command line names, with what it is for: Flag names it
// in messages ("--out", "--checkpoint", "the history", "input image").
type Role struct {
	Flag  string
	Path  string
	Input bool // the program reads it (an input must never be written)
}

// CollisionError reports two roles that name the same file.
type CollisionError struct{ A, B Role }

// Error implements the error interface.
func (e *CollisionError) Error() string {
	what := "would overwrite each other"
	switch {
	case e.A.Input && !e.B.Input:
		what = "the output would overwrite the input"
	case e.B.Input && !e.A.Input:
		what = "the output would overwrite the input"
	}
	return fmt.Sprintf("%s %s and %s %s are the same file: %s; name different files", e.A.Flag, Show(e.A.Path), e.B.Flag, Show(e.B.Path), what)
}

// Distinct returns a *CollisionError for the first two roles that name the
// same file (see Same), unless both are inputs (reading a file twice is
// harmless); empty paths are skipped.
func Distinct(roles ...Role) error {
	for i := range roles {
		for j := i + 1; j < len(roles); j++ {
			a, b := roles[i], roles[j]
			if a.Path == "" || b.Path == "" || (a.Input && b.Input) {
				continue
			}
			if Same(a.Path, b.Path) {
				return &CollisionError{A: a, B: b}
			}
		}
	}
	return nil
}

// needsQuote reports whether s holds a control character (C0, DEL, C1) or
// invalid UTF-8, or anything else unicode does not count as printable or as
// a plain space.
func needsQuote(s string) bool {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return true
		}
		if r != ' ' && !unicode.IsPrint(r) {
			return true
		}
		i += w
	}
	return false
}

// Show returns name unchanged when it prints as itself, and otherwise
// quoted and escaped as strconv.Quote does ("a\nb.png" becomes
// "\"a\\nb.png\""), so that a file name can neither end a text line early
// nor move the terminal's cursor.
func Show(name string) string {
	if !needsQuote(name) {
		return name
	}
	return strconv.Quote(name)
}

// Sanitize escapes every control character of msg except the newline and
// the tab (which multi-line messages use for their layout), and invalid
// UTF-8, as strconv.Quote would inside a string; the rest is kept. It is the
// last line of defence for messages that hold a name not passed through
// Show: such a name can no longer rewrite the terminal (carriage return,
// ESC sequences).
func Sanitize(msg string) string {
	if !needsQuote(msg) {
		return msg
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		r, w := utf8.DecodeRuneInString(msg[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			fmt.Fprintf(&b, `\x%02x`, msg[i])
		case r == '\n' || r == '\t' || r == ' ' || unicode.IsPrint(r):
			b.WriteString(msg[i : i+w])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += w
	}
	return b.String()
}
