//go:build unix

package runtime

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDiscoverRefusesAFIFO names a FIFO as the library: discovery must
// refuse it by its type without handing it to the loader, whose dlopen
// would block on it until a writer came.
func TestDiscoverRefusesAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	e := fakeEnv(nil, "/nowhere/bin", "/nowhere", "")
	loaded := false
	_, err := e.discover(fifo, func(c Candidate) (Library, error) {
		loaded = true
		return Library{}, errors.New("the loader ran")
	})
	var le *LibraryError
	if loaded || !errors.As(err, &le) || !strings.Contains(err.Error(), "a named pipe, not a regular file") {
		t.Errorf("got %v (loader ran: %v), want a *LibraryError saying the FIFO is not a regular file", err, loaded)
	}
}
