package viz

import (
	"image"
	"image/color"
	"sync"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	pfont "gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

// Text sizes in pixels (the plots are drawn at 96 dpi, where 1 pt is 4/3 px).
const (
	figureTitlePx = 20 // a figure's title
	panelTitlePx  = 15 // a tile's title
	captionPx     = 14 // a line under a panel
	plotDPI       = 96 // resolution at which gonum plots are rasterised
)

// parsed holds the embedded Liberation Sans fonts, parsed once.
var parsed = sync.OnceValue(func() [2]*opentype.Font {
	var fs [2]*opentype.Font
	for i, ttf := range [][]byte{liberationsansregular.TTF, liberationsansbold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			panic("viz: embedded font: " + err.Error()) // cannot happen with the embedded data
		}
		fs[i] = f
	}
	return fs
})

// newFace returns a face of Liberation Sans (bold or regular) of px pixels.
// Faces are not safe for concurrent use: each rendering makes its own.
func newFace(bold bool, px float64) font.Face {
	f := parsed()[0]
	if bold {
		f = parsed()[1]
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("viz: font face: " + err.Error()) // only for invalid sizes, which are constants here
	}
	return face
}

// textWidth returns the advance width of s in face, in pixels.
func textWidth(face font.Face, s string) int {
	return font.MeasureString(face, s).Ceil()
}

// lineHeight returns the distance between baselines of face, in pixels.
func lineHeight(face font.Face) int {
	return face.Metrics().Height.Ceil()
}

// drawText draws s with its baseline starting at (x, y).
func drawText(dst *image.RGBA, face font.Face, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// drawTextCentered draws s centred on x inside a band whose top is top,
// vertically centred on the band's height h.
func drawTextCentered(dst *image.RGBA, face font.Face, cx, top, h int, s string, c color.Color) {
	m := face.Metrics()
	asc, desc := m.Ascent.Ceil(), m.Descent.Ceil()
	y := top + (h-(asc+desc))/2 + asc
	drawText(dst, face, cx-textWidth(face, s)/2, y, s, c)
}

// plotFont returns gonum plot's Liberation Sans at size points.
func plotFont(size vg.Length, bold bool) pfont.Font {
	f := pfont.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = font.WeightBold
	}
	return f
}

// styleFonts sets every text of p to Liberation Sans, matplotlib-sized.
func styleFonts(p *plot.Plot) {
	p.Title.TextStyle.Font = plotFont(13, false)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = plotFont(11, false)
		a.Tick.Label.Font = plotFont(10, false)
	}
	p.Legend.TextStyle.Font = plotFont(10, false)
}
