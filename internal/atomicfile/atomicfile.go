// Package atomicfile writes files so that a reader sees either the old
// content or the complete new content, never a half-written file.
//
// The new content goes to a temporary file in the target's directory (so
// that the final rename stays within one file system and is atomic), is
// flushed and fsynced, renamed over the target, and then the directory is
// fsynced so that the rename itself survives a crash. If anything fails,
// including a panic in the caller's write function, the temporary file is
// removed and the target is left untouched.
//
// Temporary files are named "." + the target's name + ".tmp-" + digits
// (TempPrefix). While it is being written, a temporary file is held under an
// exclusive flock(2) lock (Unix), which the kernel drops when the writing
// process ends, however it ends. A temporary file left behind by a killed
// process is therefore provably unused once it can be locked: RemoveStale
// removes those of a given target, and only those.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// bufSize is the size of the write buffer placed in front of the temporary
// file, large enough that tensor dumps go out in few system calls.
const bufSize = 256 << 10

// Error records a failed atomic write: the target path, the step that
// failed, and the underlying error.
type Error struct {
	Path string // the target file
	Op   string // the step: "create temporary file", "write", "sync", "rename", ...
	Err  error  // the underlying error
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("atomicfile: writing %s: %s: %v", e.Path, e.Op, e.Err)
}

// Unwrap returns the underlying error, so errors.Is(err, fs.ErrNotExist)
// and errors.Is(err, fs.ErrPermission) work.
func (e *Error) Unwrap() error { return e.Err }

// Write atomically replaces the file at path with what fn writes to w.
//
// w is buffered; fn must not retain it. The file gets exactly the permission
// bits perm (the umask is not applied, so the mode does not depend on the
// caller's environment). If fn returns an error, that error is returned
// (wrapped in *Error) and path is untouched; if fn panics, the temporary
// file is removed and the panic continues.
func Write(path string, perm os.FileMode, fn func(w io.Writer) error) (err error) {
	p, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer p.Abort() // runs on error returns and on panics alike; a no-op after Commit
	bw := bufio.NewWriterSize(p.f, bufSize)
	if err := fn(bw); err != nil {
		return &Error{Path: path, Op: "write", Err: err}
	}
	if err := bw.Flush(); err != nil {
		return &Error{Path: path, Op: "write", Err: err}
	}
	return p.Commit()
}

// Pending is a new content for a target file, in a locked temporary file in the
// target's directory, that replaces the target only when committed: for
// writers that must check what they wrote (a download's checksum) before it
// may replace anything, or that replace several files together. It is not for
// concurrent use.
type Pending struct {
	f                     *os.File
	path, dir             string
	tmp                   string
	perm                  os.FileMode
	done, closed, removed bool // renamed into place; file closed; temporary file removed
}

// Create starts a Pending for path with permission bits perm (applied at
// Commit; the umask is not). The caller writes (and may read back) the
// temporary file through File, then calls Commit, or Abort to discard it;
// deferring Abort right away is safe, since it does nothing after Commit.
func Create(path string, perm os.FileMode) (*Pending, error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, &Error{Path: path, Op: "check path", Err: fmt.Errorf("path names a directory")}
	}
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, TempPrefix(base)+"*")
	if err != nil {
		return nil, &Error{Path: path, Op: "create temporary file", Err: err}
	}
	p := &Pending{f: f, path: path, dir: dir, tmp: f.Name(), perm: perm}
	if _, err := lockFile(f, true); err != nil {
		p.Abort()
		return nil, &Error{Path: path, Op: "lock temporary file", Err: err}
	}
	return p, nil
}

// File returns the temporary file, for writing, seeking and reading back. The
// caller must not close or rename it.
func (p *Pending) File() *os.File { return p.f }

// Commit gives the temporary file its permission bits, syncs it, renames it
// over the target and syncs the directory. After an error before the rename
// the target is untouched and Abort removes the temporary file.
func (p *Pending) Commit() error {
	if p.done || p.removed {
		return &Error{Path: p.path, Op: "commit", Err: fmt.Errorf("already committed or aborted")}
	}
	if err := p.f.Chmod(p.perm); err != nil {
		return &Error{Path: p.path, Op: "chmod", Err: err}
	}
	if err := p.f.Sync(); err != nil {
		return &Error{Path: p.path, Op: "sync", Err: err}
	}
	if !renameOpen {
		// This system cannot rename an open file: close first (the lock
		// goes with it, leaving a short window for RemoveStale's age test).
		p.closed = true
		if err := p.f.Close(); err != nil {
			return &Error{Path: p.path, Op: "close", Err: err}
		}
	}
	// Renamed while still open and locked, so that RemoveStale never takes
	// a finished temporary file for an abandoned one.
	if err := os.Rename(p.tmp, p.path); err != nil {
		return &Error{Path: p.path, Op: "rename", Err: err}
	}
	p.done = true
	if !p.closed {
		p.closed = true
		if err := p.f.Close(); err != nil {
			return &Error{Path: p.path, Op: "close", Err: err}
		}
	}
	if err := syncDir(p.dir); err != nil {
		// The new content is in place; only its durability across a crash
		// is in doubt. Report it all the same.
		return &Error{Path: p.path, Op: "sync directory", Err: err}
	}
	return nil
}

// Abort closes and removes the temporary file, leaving the target as it was.
// After Commit it does nothing.
func (p *Pending) Abort() {
	if !p.closed {
		p.closed = true
		p.f.Close()
	}
	if !p.done && !p.removed {
		p.removed = true
		os.Remove(p.tmp)
	}
}

// WriteFile atomically replaces the file at path with data, like
// os.WriteFile but never leaving a partial file behind.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// syncDir fsyncs a directory so that a rename within it is durable. File
// systems that cannot sync a directory (EINVAL) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isSyncUnsupported(err) {
		return err
	}
	return nil
}
