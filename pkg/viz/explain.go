package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
)

// Explain figure layout, in pixels.
const (
	explainImageSide = 224 // the image panel's larger side (28 x 8)
	explainBarsW     = 600
	explainBarsH     = 380
	explainMargin    = 16
)

// colorUnknown marks the predicted bar when the truth is unknown.
var colorUnknown = color.RGBA{0x44, 0x44, 0x44, 0xff}

// Explain draws a prediction as the chapter's Figure 12.9 does and writes
// the PNG to out atomically: on the left the preprocessed image pre
// (normally 28 x 28, light object on dark, shown in the Binary colormap)
// titled "true (predicted)", in blue when the prediction is right and red
// when it is wrong, or just the predicted class in black when truth is -1
// (unknown); on the right the class probabilities probs as horizontal bars
// named by classNames, the predicted class's bar red (blue when right) and
// the true class's bar blue. The prediction is the most probable class
// (the first on ties).
func Explain(pre *image.Gray, probs []float32, classNames []string, truth int, out string) error {
	f, err := RenderExplain(pre, probs, classNames, truth)
	return write(out, f, err)
}

// RenderExplain renders Explain's figure. Figure.Panels holds the image's
// rectangle and the bar plot's.
func RenderExplain(pre *image.Gray, probs []float32, classNames []string, truth int) (*Figure, error) {
	const fn = "RenderExplain"
	if pre == nil || pre.Rect.Empty() {
		return nil, argErr(fn, "pre", "no image")
	}
	k := len(probs)
	if k == 0 {
		return nil, argErr(fn, "probs", "no probabilities")
	}
	if len(classNames) != k {
		return nil, argErr(fn, "classNames", "%d names for %d probabilities", len(classNames), k)
	}
	pred := 0
	for i, v := range probs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 || v > 1 {
			return nil, argErr(fn, "probs", "probs[%d] = %v is not a probability", i, v)
		}
		if v > probs[pred] {
			pred = i
		}
	}
	if truth < -1 || truth >= k {
		return nil, argErr(fn, "truth", "%d is neither -1 (unknown) nor a class in 0..%d", truth, k-1)
	}

	title, titleColor, predColor := classNames[pred], color.Color(paint.Text), color.Color(colorUnknown)
	if truth >= 0 {
		title = fmt.Sprintf("%s (%s)", classNames[truth], classNames[pred])
		titleColor, predColor = Right, Right
		if truth != pred {
			titleColor, predColor = Wrong, Wrong
		}
	}
	bars := hbars{v: make([]float64, k), colors: make([]color.Color, k)}
	for i, v := range probs {
		bars.v[i], bars.colors[i] = float64(v), paint.Grey
	}
	bars.colors[pred] = predColor
	if truth >= 0 {
		bars.colors[truth] = Right
	}
	titleFace, capFace := paint.Face(true, paint.PanelTitlePx+2), paint.Face(false, paint.CaptionPx)
	defer titleFace.Close()
	defer capFace.Close()
	scale := max(1, explainImageSide/max(pre.Rect.Dx(), pre.Rect.Dy()))
	iw, ih := pre.Rect.Dx()*scale, pre.Rect.Dy()*scale
	caption := fmt.Sprintf("P(%s) = %.1f%%", classNames[pred], 100*float64(probs[pred]))
	leftW := max(iw, paint.TextWidth(titleFace, title), paint.TextWidth(capFace, caption))
	w := explainMargin*3 + leftW + explainBarsW
	h := explainMargin*2 + explainBarsH
	img := paint.NewCanvas(w, h)

	tb, cb := paint.TitleBand(titleFace, title), paint.LineHeight(capFace)+6
	top := explainMargin + max(0, (explainBarsH-(tb+ih+cb))/2)
	cx := explainMargin + leftW/2
	paint.DrawTextCentered(img, titleFace, cx, top, tb, title, titleColor)
	imgRect := drawUpscaled(img, pre, image.Pt(cx-iw/2, top+tb), scale, Binary)
	paint.DrawFrame(img, imgRect.Inset(-1), paint.Frame)
	paint.DrawTextCentered(img, capFace, cx, imgRect.Max.Y+2, cb, caption, paint.Text)
	plotRect := image.Rect(0, 0, explainBarsW, explainBarsH).Add(image.Pt(2*explainMargin+leftW, explainMargin))
	drawBars(img, plotRect, bars, classNames)
	return &Figure{Image: img, Panels: []image.Rectangle{imgRect, plotRect}}, nil
}

// barsXMax is the probability at the bars panel's right edge: room for the
// percentages right of a full bar.
const barsXMax = 1.2

// drawBars draws the probability panel into r: titled "class
// probabilities", class i's bar in row i (class 0 on top) spanning [0,
// v[i]] against a 0-100% axis with light vertical grid lines, its
// percentage written beside it, and the class names down the left axis.
func drawBars(dst *image.RGBA, r image.Rectangle, bars hbars, classNames []string) {
	titleFace := paint.Face(false, paint.PlotTitlePx)
	tickFace := paint.Face(false, paint.TickLabelPx)
	valueFace := paint.Face(false, paint.ValueLabelPx)
	defer titleFace.Close()
	defer tickFace.Close()
	defer valueFace.Close()

	titleBand := paint.LineHeight(titleFace) + 6
	bottomBand := paint.TickLen + 4 + paint.TextHeight(tickFace) + 2
	left := maxWidth(tickFace, classNames) + paint.TickLen + 6
	area := image.Rect(r.Min.X+left, r.Min.Y+titleBand, r.Max.X-paint.TextWidth(tickFace, "100%")/2-2, r.Max.Y-bottomBand)
	paint.DrawTextCentered(dst, titleFace, (area.Min.X+area.Max.X)/2, r.Min.Y, titleBand, "class probabilities", paint.Text)

	xOf := func(v float64) int { return area.Min.X + int(math.Round(v/barsXMax*float64(area.Dx()))) }
	var xt []tick
	for pct := 0; pct <= 100; pct += 20 {
		x := xOf(float64(pct) / 100)
		xt = append(xt, tick{x, fmt.Sprintf("%d%%", pct)})
		if pct > 0 {
			paint.FillRect(dst, image.Rect(x, area.Min.Y, x+1, area.Max.Y), paint.Grid)
		}
	}

	k := len(bars.v)
	pitch := float64(area.Dy()) / float64(k)
	half := 0.35 * pitch // half a bar's thickness
	hv := paint.TextHeight(valueFace)
	var yt []tick
	for i, v := range bars.v {
		cy := float64(area.Min.Y) + (float64(i)+0.5)*pitch
		y0, y1 := int(math.Round(cy-half)), int(math.Round(cy+half))
		paint.FillRect(dst, image.Rect(xOf(0), y0, xOf(v), y1), bars.colors[i])
		paint.DrawTextIn(dst, valueFace, xOf(v)+4, int(cy)-hv/2, hv, fmt.Sprintf("%.1f%%", 100*v), paint.Text)
		yt = append(yt, tick{int(cy), classNames[i]})
	}
	drawLeftAxis(dst, tickFace, area.Min.X, area.Min.Y, area.Max.Y, yt)
	drawBottomAxis(dst, tickFace, area.Max.Y, area.Min.X, area.Max.X, xt, false)
}

// hbars are the bars of the probability panel: bar i spans [0, v[i]] in
// colour colors[i].
type hbars struct {
	v      []float64
	colors []color.Color
}
