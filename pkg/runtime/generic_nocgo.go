//go:build !cgo

package runtime

// RunGeneric needs onnxruntime, which needs cgo; see the cgo build.
func RunGeneric(model []byte, inputs []Tensor, libraryPath string) ([]Tensor, error) {
	return nil, ErrNoCgo
}
