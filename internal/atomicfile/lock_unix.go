//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// renameOpen says that a file may be renamed while open here, so Write keeps
// its temporary file open, and locked, until the rename is done.
const renameOpen = true

// StaleAge is how old an unlocked temporary file must be before
// RemoveStale takes it for abandoned: longer than the instant between a
// writer's creating it and locking it.
var StaleAge = 2 * time.Second

// openStale opens a candidate of RemoveStale: never through a symbolic
// link, never blocking.
const openStale = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// lockFile takes an exclusive flock(2) lock on f, waiting for it if block;
// without block it reports whether the lock was free (and is now held).
func lockFile(f *os.File, block bool) (free bool, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	how := syscall.LOCK_EX
	if !block {
		how |= syscall.LOCK_NB
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			lerr = syscall.Flock(int(fd), how)
			if !errors.Is(lerr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	if errors.Is(lerr, syscall.EWOULDBLOCK) {
		return false, nil
	}
	if errors.Is(lerr, syscall.ENOTSUP) || errors.Is(lerr, syscall.ENOLCK) {
		// A file system without locks: the age alone decides.
		return true, nil
	}
	return lerr == nil, lerr
}
