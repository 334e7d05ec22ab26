//go:build !cgo

package runtime

// LoadLibrary returns ErrNoCgo: this binary was built without cgo.
func LoadLibrary(explicit string) (Library, error) { return Library{}, ErrNoCgo }

// Shutdown does nothing without cgo.
func Shutdown() error { return nil }

// OpenORT returns ErrNoCgo: this binary was built without cgo.
func OpenORT(path string, opts ORTOptions) (Predictor, error) { return nil, ErrNoCgo }

// NewORT returns ErrNoCgo: this binary was built without cgo.
func NewORT(model []byte, opts ORTOptions) (Predictor, error) { return nil, ErrNoCgo }
