package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TempPrefix returns how the names of Write's temporary files for the
// target named base begin: "." + base + ".tmp-", followed by random digits.
func TempPrefix(base string) string { return "." + base + ".tmp-" }

// isTempName reports whether name is a temporary file of the target base:
// TempPrefix(base) and digits, or the older spelling without the dash
// ("." + base + ".tmp" + digits) that earlier versions of fmkit's writers
// used.
func isTempName(name, base string) bool {
	rest, ok := strings.CutPrefix(name, "."+base+".tmp")
	if !ok {
		return false
	}
	rest = strings.TrimPrefix(rest, "-")
	if rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveStale removes the temporary files that interrupted writes of path
// left behind, and returns the paths removed. It touches nothing but
// regular files (never a symbolic link) in path's directory named as Write
// names its temporary files for path (see TempPrefix), and of those only the
// files that no process is writing: on Unix, the file must take the
// exclusive lock that a writer holds until its rename, and be at least
// StaleAge old (which covers the instant between a writer's creating the
// file and locking it). Elsewhere only the age is tested, against a longer
// StaleAge. A missing directory is not an error; the first error met is
// returned after the other candidates were tried.
func RemoveStale(path string) (removed []string, err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, nil
	}
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var first error
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name(), base) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		ok, err := removeUnused(p, time.Now())
		if err != nil && first == nil {
			first = err
		}
		if ok {
			removed = append(removed, p)
		}
	}
	return removed, first
}

// removeUnused removes the temporary file p if it is a regular file at
// least StaleAge old that no writer holds locked.
func removeUnused(p string, now time.Time) (bool, error) {
	f, err := os.OpenFile(p, openStale, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || now.Sub(st.ModTime()) < StaleAge {
		return false, err
	}
	free, err := lockFile(f, false)
	if err != nil || !free {
		return false, err
	}
	// The name must still be the file locked (it was not renamed or
	// replaced since the open).
	if cur, err := os.Lstat(p); err != nil || !os.SameFile(cur, st) {
		return false, nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}
