//go:build !cgo

package runtime

import (
	"errors"
	"testing"
)

// TestNoCgo checks that every onnxruntime entry point of a CGO_ENABLED=0 build returns ErrNoCgo
// and its message tells the user what to do.
func TestNoCgo(t *testing.T) {
	if _, err := OpenORT(testdataDir+"/tiny.onnx", ORTOptions{}); !errors.Is(err, ErrNoCgo) {
		t.Errorf("OpenORT: %v", err)
	}
	if _, err := NewORT([]byte("x"), ORTOptions{}); !errors.Is(err, ErrNoCgo) {
		t.Errorf("NewORT: %v", err)
	}
	if _, err := LoadLibrary(""); !errors.Is(err, ErrNoCgo) {
		t.Errorf("LoadLibrary: %v", err)
	}
	if err := Shutdown(); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	const want = "onnxruntime support needs cgo: this binary was built with CGO_ENABLED=0; use --engine native"
	if ErrNoCgo.Error() != want {
		t.Errorf("ErrNoCgo = %q, want %q", ErrNoCgo, want)
	}
}
