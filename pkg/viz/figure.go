package viz

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"

	"github.com/fmkit/fmkit/internal/atomicfile"
)

// Figure is a rendered figure: the picture and the pixel rectangles of its
// panels, in the order the Render function documents.
type Figure struct {
	Image  *image.RGBA
	Panels []image.Rectangle
}

// Colours shared by the figures: matplotlib's default cycle ("tab:blue",
// "tab:orange", "tab:red") and the greys of its axes.
var (
	colorBlue   = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	colorOrange = color.RGBA{0xff, 0x7f, 0x0e, 0xff}
	colorRed    = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	colorGrey   = color.RGBA{0x99, 0x99, 0x99, 0xff}
	colorFrame  = color.RGBA{0xb0, 0xb0, 0xb0, 0xff}
	colorText   = color.RGBA{0x00, 0x00, 0x00, 0xff}
	colorWhite  = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// Exported title colours, for callers composing their own tiles.
var (
	// Right is the colour of a correct prediction's title (matplotlib's
	// "tab:blue", as in the chapter's figures).
	Right color.Color = colorBlue
	// Wrong is the colour of a wrong prediction's title ("tab:red").
	Wrong color.Color = colorRed
)

// newCanvas returns a white w x h RGBA image.
func newCanvas(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(colorWhite), image.Point{}, draw.Src)
	return img
}

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
