package viz

import (
	"image/png"
	"sync"
)

// bufferPool lets the PNG encoder reuse its buffers across figures.
type bufferPool struct{ p sync.Pool }

// Get returns a pooled buffer or nil.
func (b *bufferPool) Get() *png.EncoderBuffer {
	v, _ := b.p.Get().(*png.EncoderBuffer)
	return v
}

// Put returns a buffer to the pool.
func (b *bufferPool) Put(e *png.EncoderBuffer) { b.p.Put(e) }
