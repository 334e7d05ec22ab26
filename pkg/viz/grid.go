package viz

import (
	"image"
	"image/color"
	"math"

	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
)

// Colormap maps a grey level (0..255) to a colour, as matplotlib's
// colormaps of the same names do.
type Colormap int

// The colormaps. The zero value is Binary, the look of the chapter's
// Fashion-MNIST figures (dark garments on white).
const (
	Binary Colormap = iota // 0 white, 255 black (matplotlib "binary")
	Gray                   // 0 black, 255 white (matplotlib "gray")
)

// String returns the matplotlib name of c.
func (c Colormap) String() string {
	switch c {
	case Binary:
		return "binary"
	case Gray:
		return "gray"
	}
	return "Colormap(?)"
}

// Color returns the colour of grey level v.
func (c Colormap) Color(v uint8) color.RGBA {
	if c == Binary {
		v = 255 - v
	}
	return color.RGBA{v, v, v, 0xff}
}

// Tile is one image of a grid with its title.
type Tile struct {
	Image      *image.Gray // the picture, any size
	Title      string      // drawn centred above the image; "" for none
	TitleColor color.Color // nil means black
}

// GridOptions configures RenderGrid. The zero value is a 4-column grid in
// the Binary colormap, scaled so that a 28 x 28 image is 140 x 140 pixels.
type GridOptions struct {
	Title    string   // figure title above the grid; "" for none
	Cols     int      // tiles per row; 0 means DefaultCols
	Scale    int      // screen pixels per image pixel; 0 means TargetTileSize / the image's larger side
	Colormap Colormap // how grey levels are shown
}

// Grid defaults and limits.
const (
	DefaultCols    = 4     // tiles per row
	TargetTileSize = 140   // pixels of a tile's larger side when Scale is 0
	MaxFigureSide  = 16384 // pixels; larger figures are refused
)

// Grid layout, in pixels.
const (
	gridMargin = 14 // around the figure
	gridGapX   = 18 // between columns
	gridGapY   = 12 // between rows
)

// RenderGrid draws tiles in rows of opt.Cols, each image upscaled by
// opt.Scale with nearest-neighbour sampling (every source pixel becomes an
// exact Scale x Scale block) and framed by a thin grey line, its title
// centred above it. Figure.Panels holds each tile's image rectangle, in
// the order of tiles.
func RenderGrid(tiles []Tile, opt GridOptions) (*Figure, error) {
	const fn = "RenderGrid"
	if len(tiles) == 0 {
		return nil, argErr(fn, "tiles", "no tiles to draw")
	}
	if opt.Cols < 0 || opt.Scale < 0 {
		return nil, argErr(fn, "opt", "Cols %d and Scale %d must not be negative", opt.Cols, opt.Scale)
	}
	if opt.Colormap != Binary && opt.Colormap != Gray {
		return nil, argErr(fn, "opt.Colormap", "unknown colormap %d", int(opt.Colormap))
	}
	maxW, maxH := 0, 0
	for i, t := range tiles {
		if t.Image == nil || t.Image.Rect.Empty() {
			return nil, argErr(fn, "tiles", "tile %d has no image", i)
		}
		maxW, maxH = max(maxW, t.Image.Rect.Dx()), max(maxH, t.Image.Rect.Dy())
	}
	cols := opt.Cols
	if cols == 0 {
		cols = DefaultCols
	}
	cols = min(cols, len(tiles))
	rows := (len(tiles) + cols - 1) / cols
	scale := opt.Scale
	if scale == 0 {
		scale = max(1, TargetTileSize/max(maxW, maxH))
	}
	if int64(maxW)*int64(scale)*int64(cols) > MaxFigureSide || int64(maxH)*int64(scale)*int64(rows) > MaxFigureSide {
		return nil, argErr(fn, "opt", "%d x %d tiles of %d x %d pixels at scale %d exceed %d pixels a side",
			cols, rows, maxW, maxH, scale, MaxFigureSide)
	}

	titleFace, tileFace := paint.Face(true, paint.FigureTitlePx), paint.Face(false, paint.PanelTitlePx)
	defer titleFace.Close()
	defer tileFace.Close()
	cellW, titleBand := maxW*scale, 0
	for _, t := range tiles {
		if t.Title != "" {
			cellW = max(cellW, paint.TextWidth(tileFace, t.Title))
			titleBand = paint.LineHeight(tileFace) + 4
		}
	}
	cellH := titleBand + maxH*scale
	figBand := 0
	if opt.Title != "" {
		figBand = paint.LineHeight(titleFace) + 12
	}
	w := 2*gridMargin + cols*cellW + (cols-1)*gridGapX
	w = max(w, 2*gridMargin+paint.TextWidth(titleFace, opt.Title))
	h := 2*gridMargin + figBand + rows*cellH + (rows-1)*gridGapY
	img := paint.NewCanvas(w, h)
	left := (w - (cols*cellW + (cols-1)*gridGapX)) / 2
	if opt.Title != "" {
		paint.DrawTextCentered(img, titleFace, w/2, gridMargin, figBand-8, opt.Title, paint.Text)
	}
	fig := &Figure{Image: img, Panels: make([]image.Rectangle, len(tiles))}
	for i, t := range tiles {
		r, c := i/cols, i%cols
		cx := left + c*(cellW+gridGapX) + cellW/2
		top := gridMargin + figBand + r*(cellH+gridGapY)
		if t.Title != "" {
			tc := t.TitleColor
			if tc == nil {
				tc = paint.Text
			}
			paint.DrawTextCentered(img, tileFace, cx, top, titleBand, t.Title, tc)
		}
		tw, th := t.Image.Rect.Dx()*scale, t.Image.Rect.Dy()*scale
		at := image.Pt(cx-tw/2, top+titleBand+(maxH*scale-th)/2)
		fig.Panels[i] = drawUpscaled(img, t.Image, at, scale, opt.Colormap)
		paint.DrawFrame(img, fig.Panels[i].Inset(-1), paint.Frame)
	}
	return fig, nil
}

// WriteGrid renders tiles with RenderGrid and writes the PNG to path
// atomically.
func WriteGrid(path string, tiles []Tile, opt GridOptions) error {
	f, err := RenderGrid(tiles, opt)
	return write(path, f, err)
}

// drawUpscaled draws src with its top-left corner at at, each pixel a
// scale x scale block coloured by cm, and returns the rectangle drawn.
func drawUpscaled(dst *image.RGBA, src *image.Gray, at image.Point, scale int, cm Colormap) image.Rectangle {
	b := src.Rect
	out := image.Rect(at.X, at.Y, at.X+b.Dx()*scale, at.Y+b.Dy()*scale)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := cm.Color(src.GrayAt(x, y).Y)
			px := [4]uint8{c.R, c.G, c.B, c.A}
			x0, y0 := out.Min.X+(x-b.Min.X)*scale, out.Min.Y+(y-b.Min.Y)*scale
			for yy := y0; yy < y0+scale; yy++ {
				row := dst.Pix[dst.PixOffset(x0, yy):]
				for k := range scale {
					copy(row[4*k:4*k+4], px[:])
				}
			}
		}
	}
	return out
}

// GrayImage returns a w x h grey image holding a copy of pix (row-major,
// at least w*h bytes), such as one Fashion-MNIST image.
func GrayImage(pix []uint8, w, h int) *image.Gray {
	if w < 0 || h < 0 || len(pix) < w*h {
		panic("viz: GrayImage: pixel slice shorter than w*h") // a programmer error
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, pix[:w*h])
	return img
}

// ScaledGray returns a w x h grey image of v (row-major, at least w*h
// values) mapped linearly from [lo, hi] to 0..255 with rounding; values
// outside the range are clamped, and NaN is 0. With lo >= hi every pixel
// is 0.
func ScaledGray(v []float32, w, h int, lo, hi float32) *image.Gray {
	if w < 0 || h < 0 || len(v) < w*h {
		panic("viz: ScaledGray: value slice shorter than w*h") // a programmer error
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	if !(lo < hi) {
		return img
	}
	k := 255 / (float64(hi) - float64(lo))
	for i, x := range v[:w*h] {
		img.Pix[i] = toByte((float64(x) - float64(lo)) * k)
	}
	return img
}

// UnitGray returns ScaledGray(v, w, h, 0, 1): the image of values in [0, 1].
func UnitGray(v []float32, w, h int) *image.Gray { return ScaledGray(v, w, h, 0, 1) }

// toByte rounds v to the nearest byte, clamping; NaN gives 0.
func toByte(v float64) uint8 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 255:
		return 255
	}
	return uint8(math.Round(v))
}

// MinMax returns the smallest and largest finite values of v (0, 0 when
// there are none).
func MinMax(v []float32) (lo, hi float32) {
	first := true
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		if first {
			lo, hi, first = x, x, false
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}
