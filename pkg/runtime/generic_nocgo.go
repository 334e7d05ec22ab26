//go:build !cgo

package runtime

// RunGeneric needs onnxruntime, which needs cgo; see the cgo build.
func RunGeneric(model []byte, inputs []Tensor, opts ORTOptions) ([]Tensor, error) {
	return nil, ErrNoCgo
}
