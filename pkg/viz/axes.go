package viz

import (
	"image"

	"golang.org/x/image/font"

	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
)

// tick is a labelled tick at pixel position pos along an axis.
type tick struct {
	pos   int
	label string
}

// drawLeftAxis draws a vertical axis line at x from y0 to y1, with ticks
// pointing left and their labels right-aligned before them, vertically
// centred on the ticks.
func drawLeftAxis(dst *image.RGBA, face font.Face, x, y0, y1 int, ticks []tick) {
	paint.FillRect(dst, image.Rect(x-1, y0, x, y1), paint.Text)
	h := paint.TextHeight(face)
	for _, t := range ticks {
		paint.FillRect(dst, image.Rect(x-1-paint.TickLen, t.pos, x-1, t.pos+1), paint.Text)
		lx := x - 1 - paint.TickLen - 3 - paint.TextWidth(face, t.label)
		paint.DrawTextIn(dst, face, lx, t.pos-h/2, h, t.label, paint.Text)
	}
}

// drawBottomAxis draws a horizontal axis line at y from x0 to x1, with ticks
// pointing down and their labels below them: centred on the ticks, or
// turned 45 degrees and ending under them (matplotlib's rotation=45,
// ha="right") when slanted.
func drawBottomAxis(dst *image.RGBA, face font.Face, y, x0, x1 int, ticks []tick, slanted bool) {
	paint.FillRect(dst, image.Rect(x0-1, y, x1, y+1), paint.Text)
	h := paint.TextHeight(face)
	for _, t := range ticks {
		paint.FillRect(dst, image.Rect(t.pos, y+1, t.pos+1, y+1+paint.TickLen), paint.Text)
		if slanted {
			paint.DrawTextRotated(dst, face, t.pos+h/3, y+1+paint.TickLen+2+h/3, 45, t.label, paint.Text)
			continue
		}
		paint.DrawTextCentered(dst, face, t.pos, y+1+paint.TickLen+2, h, t.label, paint.Text)
	}
}

// slantedHeight is how far below their anchor labels turned 45 degrees
// reach: the longest label's width plus the text height, times sin 45.
func slantedHeight(face font.Face, labels []string) int {
	return (maxWidth(face, labels)+paint.TextHeight(face))*707/1000 + 2
}

// maxWidth returns the widest of labels in face.
func maxWidth(face font.Face, labels []string) int {
	w := 0
	for _, l := range labels {
		w = max(w, paint.TextWidth(face, l))
	}
	return w
}
