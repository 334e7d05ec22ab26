package train

import (
	"fmt"
	"strings"

	"github.com/fmkit/fmkit/internal/fmgeom"
)

// Shape is the shape of one sample, without the batch dimension: (C, H, W)
// for images, (F) for flat features.
type Shape []int

// Size returns the number of elements of one sample of this shape.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and t have the same dimensions.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// String formats s as "(1, 28, 28)".
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(')')
	return b.String()
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// DefaultInputShape returns the input shape of the built-in architectures, and of
// LoadModel when it is given none: one Fashion-MNIST image, 1x28x28 (defined in
// internal/fmgeom). Each call returns a new slice.
func DefaultInputShape() Shape { return Shape{fmgeom.Channels, fmgeom.Height, fmgeom.Width} }

// Param is a named parameter tensor and its gradient. Data and Grad have
// Shape's element count and the package's row-major layout. Grad is nil for a
// non-trainable parameter (BatchNorm's running mean and variance), which
// optimisers skip.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
	Grad  []float32
}

// Size returns the number of elements in the parameter.
func (p *Param) Size() int { return Shape(p.Shape).Size() }

// Trainable reports whether an optimiser updates p (it has a gradient).
func (p *Param) Trainable() bool { return p.Grad != nil }

func (p *Param) clone() *Param {
	if p == nil {
		return nil
	}
	q := &Param{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), p.Data...)}
	if p.Grad != nil {
		q.Grad = append([]float32(nil), p.Grad...)
	}
	return q
}

// newParam returns a zeroed parameter; trainable ones get a gradient.
func newParam(shape []int, trainable bool) *Param {
	p := &Param{Shape: append([]int(nil), shape...)}
	p.Data = make([]float32, p.Size())
	if trainable {
		p.Grad = make([]float32, p.Size())
	}
	return p
}

// checkParam validates a caller-supplied parameter against the shape the
// layer needs, and gives a trainable one a gradient buffer if it lacks one.
func checkParam(layer, field string, p *Param, shape []int, trainable bool) error {
	want := Shape(shape)
	if !want.Equal(Shape(p.Shape)) {
		return &ShapeError{Layer: layer, Msg: fmt.Sprintf("%s has shape %v, want %v", field, Shape(p.Shape), want)}
	}
	if len(p.Data) != want.Size() {
		return &ShapeError{Layer: layer, Msg: fmt.Sprintf("%s has %d values, its shape %v needs %d", field, len(p.Data), want, want.Size())}
	}
	if trainable && len(p.Grad) != len(p.Data) {
		p.Grad = make([]float32, len(p.Data))
	}
	if !trainable {
		p.Grad = nil
	}
	return nil
}

// ShapeError reports a layer that cannot accept its input shape or whose
// configuration or parameters are inconsistent.
type ShapeError struct {
	Layer string // the layer's name, e.g. "conv2", or its index
	Msg   string
}

// Error formats the error as "train: layer conv2: ...".
func (e *ShapeError) Error() string { return "train: layer " + e.Layer + ": " + e.Msg }

// grow returns (*buf)[:n], reallocating only when the capacity is too small.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

func growInt32(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// growPer makes sure bufs has t slices, each of length n.
func growPer(bufs *[][]float32, t, n int) {
	for len(*bufs) < t {
		*bufs = append(*bufs, nil)
	}
	for i := 0; i < t; i++ {
		grow(&(*bufs)[i], n)
	}
}
