package runtime

// Tensor is a named float32 tensor for RunGeneric: any shape, row-major.
type Tensor struct {
	Name  string
	Shape []int64
	Data  []float32
}
