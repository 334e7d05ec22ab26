//go:build !unix

package atomicfile

import (
	"os"
	"time"
)

// renameOpen is false: outside Unix an open file generally cannot be
// renamed, so Write closes its temporary file first.
const renameOpen = false

// StaleAge is how old a temporary file must be before RemoveStale takes it
// for abandoned. Without file locks the age alone decides, so it is long.
var StaleAge = time.Hour

// openStale opens a candidate of RemoveStale.
const openStale = os.O_RDONLY

// lockFile does nothing here: the lock is free.
func lockFile(f *os.File, block bool) (bool, error) { return true, nil }
