// Package paint holds the raster drawing kit that package viz and its
// curves subpackage share: the figures' colours and text sizes, white
// canvases, rectangles and frames, and text in Liberation Sans (horizontal,
// or rotated for axis labels). It draws on *image.RGBA only and depends on
// no plotting library, so that a program drawing viz's raster figures does
// not pay for gonum/plot's start-up.
package paint

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/f64"
	"golang.org/x/image/math/fixed"
)

// Colours shared by the figures: matplotlib's default cycle ("tab:blue",
// "tab:orange", "tab:red") and the greys of its axes.
var (
	Blue   = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	Orange = color.RGBA{0xff, 0x7f, 0x0e, 0xff}
	Red    = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	Grey   = color.RGBA{0x99, 0x99, 0x99, 0xff}
	Frame  = color.RGBA{0xb0, 0xb0, 0xb0, 0xff}
	Grid   = color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
	Text   = color.RGBA{0x00, 0x00, 0x00, 0xff}
	White  = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// Text sizes in pixels.
const (
	FigureTitlePx = 20 // a figure's title
	PanelTitlePx  = 15 // a tile's title
	CaptionPx     = 14 // a line under a panel
	PlotTitlePx   = 17 // a plot panel's title (13 pt at 96 dpi)
	AxisLabelPx   = 15 // an axis label (11 pt)
	TickLabelPx   = 13 // a tick label (10 pt)
	ValueLabelPx  = 12 // a value written beside a bar (9 pt)
	TickLen       = 5  // a tick mark's length
)

// parsed holds the embedded Liberation Sans fonts, parsed once.
var parsed = sync.OnceValue(func() [2]*opentype.Font {
	var fs [2]*opentype.Font
	for i, ttf := range [][]byte{liberationsansregular.TTF, liberationsansbold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			panic("paint: embedded font: " + err.Error()) // cannot happen with the embedded data
		}
		fs[i] = f
	}
	return fs
})

// Face returns a face of Liberation Sans (bold or regular) of px pixels.
// Faces are not safe for concurrent use: each rendering makes its own.
func Face(bold bool, px float64) font.Face {
	f := parsed()[0]
	if bold {
		f = parsed()[1]
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("paint: font face: " + err.Error()) // only for invalid sizes, which are constants
	}
	return face
}

// TextWidth returns the advance width of s in face, in pixels.
func TextWidth(face font.Face, s string) int {
	return font.MeasureString(face, s).Ceil()
}

// LineHeight returns the distance between baselines of face, in pixels.
func LineHeight(face font.Face) int {
	return face.Metrics().Height.Ceil()
}

// TitleBand returns the height of the band a title takes above a figure or
// panel in face: a line and 8 pixels of air, or nothing without a title.
func TitleBand(face font.Face, title string) int {
	if title == "" {
		return 0
	}
	return LineHeight(face) + 8
}

// TextHeight returns the ascent plus descent of face: the height of the
// box that DrawTextIn centres text in.
func TextHeight(face font.Face) int {
	m := face.Metrics()
	return m.Ascent.Ceil() + m.Descent.Ceil()
}

// DrawText draws s with its baseline starting at (x, y).
func DrawText(dst *image.RGBA, face font.Face, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// DrawTextCentered draws s centred on cx inside a band whose top is top,
// vertically centred on the band's height h.
func DrawTextCentered(dst *image.RGBA, face font.Face, cx, top, h int, s string, c color.Color) {
	DrawTextIn(dst, face, cx-TextWidth(face, s)/2, top, h, s, c)
}

// DrawTextIn draws s starting at x, vertically centred in the band [top, top+h).
func DrawTextIn(dst *image.RGBA, face font.Face, x, top, h int, s string, c color.Color) {
	m := face.Metrics()
	asc, desc := m.Ascent.Ceil(), m.Descent.Ceil()
	DrawText(dst, face, x, top+(h-(asc+desc))/2+asc, s, c)
}

// DrawTextRotated draws s turned counter-clockwise by deg degrees so that
// the end of its text box's vertical middle lies at the anchor point (x, y):
// with deg = 45 that is matplotlib's rotation=45, ha="right" under a tick,
// and with deg = 90 text read bottom to top whose last letter ends at (x, y).
func DrawTextRotated(dst *image.RGBA, face font.Face, x, y int, deg float64, s string, c color.Color) {
	w, h := TextWidth(face, s), TextHeight(face)
	if w == 0 {
		return
	}
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	DrawTextIn(src, face, 0, 0, h, s, c)
	// Map source (u, v) to destination: rotate about the anchor (w, h/2).
	sin, cos := math.Sincos(deg * math.Pi / 180)
	ax, ay := float64(w), float64(h)/2
	m := f64.Aff3{
		cos, sin, float64(x) - cos*ax - sin*ay,
		-sin, cos, float64(y) + sin*ax - cos*ay,
	}
	xdraw.BiLinear.Transform(dst, m, src, src.Bounds(), draw.Over, nil)
}

// NewCanvas returns a white w x h RGBA image.
func NewCanvas(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	FillRect(img, img.Bounds(), White)
	return img
}

// FillRect fills r (clipped to dst) with c.
func FillRect(dst *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// DrawFrame strokes a one-pixel rectangle along r's inner edge.
func DrawFrame(dst *image.RGBA, r image.Rectangle, c color.Color) {
	r = r.Intersect(dst.Rect)
	if r.Empty() {
		return
	}
	FillRect(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	FillRect(dst, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	FillRect(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	FillRect(dst, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// Paste draws src onto dst with its top-left corner at at and returns the
// rectangle covered.
func Paste(dst *image.RGBA, src image.Image, at image.Point) image.Rectangle {
	r := image.Rectangle{Min: at, Max: at.Add(src.Bounds().Size())}
	draw.Draw(dst, r, src, src.Bounds().Min, draw.Src)
	return r
}
