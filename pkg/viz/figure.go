package viz

import (
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
)

// Figure is a rendered figure: the picture and the pixel rectangles of its
// panels, in the order the Render function documents.
type Figure struct {
	Image  *image.RGBA
	Panels []image.Rectangle
}

// Exported title colours, for callers composing their own tiles.
var (
	// Right is the colour of a correct prediction's title (matplotlib's
	// "tab:blue", as in the chapter's figures).
	Right color.Color = paint.Blue
	// Wrong is the colour of a wrong prediction's title ("tab:red").
	Wrong color.Color = paint.Red
)

// encoder compresses with the default level; its buffer pool is shared.
var encoder = png.Encoder{CompressionLevel: png.DefaultCompression, BufferPool: &bufferPool{}}

// EncodePNG writes img to w as PNG.
func EncodePNG(w io.Writer, img image.Image) error {
	return encoder.Encode(w, img)
}

// WritePNG writes img to path as PNG, atomically (temporary file in the
// same directory, fsync, rename): on error the old file, if any, is left
// untouched and no partial file remains.
func WritePNG(path string, img image.Image) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return EncodePNG(w, img)
	})
}

// write renders a figure and writes it to path.
func write(path string, f *Figure, err error) error {
	if err != nil {
		return err
	}
	return WritePNG(path, f.Image)
}
