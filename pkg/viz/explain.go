package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

	title, titleColor, predColor := classNames[pred], color.Color(colorText), color.Color(colorUnknown)
	if truth >= 0 {
		title = fmt.Sprintf("%s (%s)", classNames[truth], classNames[pred])
		titleColor, predColor = Right, Right
		if truth != pred {
			titleColor, predColor = Wrong, Wrong
		}
	}
	bars := hbars{v: make([]float64, k), colors: make([]color.Color, k)}
	for i, v := range probs {
		bars.v[i], bars.colors[i] = float64(v), colorGrey
	}
	bars.colors[pred] = predColor
	if truth >= 0 {
		bars.colors[truth] = Right
	}
	p, err := barsPlot(bars, classNames)
	if err != nil {
		return nil, argErr(fn, "probs", "%v", err)
	}

	titleFace, capFace := newFace(true, panelTitlePx+2), newFace(false, captionPx)
	defer titleFace.Close()
	defer capFace.Close()
	scale := max(1, explainImageSide/max(pre.Rect.Dx(), pre.Rect.Dy()))
	iw, ih := pre.Rect.Dx()*scale, pre.Rect.Dy()*scale
	caption := fmt.Sprintf("P(%s) = %.1f%%", classNames[pred], 100*float64(probs[pred]))
	leftW := max(iw, textWidth(titleFace, title), textWidth(capFace, caption))
	w := explainMargin*3 + leftW + explainBarsW
	h := explainMargin*2 + explainBarsH
	img := newCanvas(w, h)

	tb, cb := lineHeight(titleFace)+8, lineHeight(capFace)+6
	top := explainMargin + max(0, (explainBarsH-(tb+ih+cb))/2)
	cx := explainMargin + leftW/2
	drawTextCentered(img, titleFace, cx, top, tb, title, titleColor)
	imgRect := drawUpscaled(img, pre, image.Pt(cx-iw/2, top+tb), scale, Binary)
	drawFrame(img, imgRect.Inset(-1), colorFrame)
	drawTextCentered(img, capFace, cx, imgRect.Max.Y+2, cb, caption, colorText)
	plotRect := paste(img, renderPlot(p, explainBarsW, explainBarsH), image.Pt(2*explainMargin+leftW, explainMargin))
	return &Figure{Image: img, Panels: []image.Rectangle{imgRect, plotRect}}, nil
}

// barsPlot builds the probability panel: class i's bar at y = k-1-i (class
// 0 on top), its percentage written beside it.
func barsPlot(bars hbars, classNames []string) (*plot.Plot, error) {
	k := len(bars.v)
	p := plot.New()
	styleFonts(p)
	p.Title.Text = "class probabilities"
	p.X.Min, p.X.Max = 0, 1.2 // room for the percentages right of a full bar
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5
	p.X.Padding, p.Y.Padding = 0, 0
	var xt, yt []plot.Tick
	for v := 0; v <= 100; v += 20 {
		xt = append(xt, plot.Tick{Value: float64(v) / 100, Label: fmt.Sprintf("%d%%", v)})
	}
	for i, n := range classNames {
		yt = append(yt, plot.Tick{Value: float64(k - 1 - i), Label: n})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	g := lightGrid()
	g.Horizontal.Color = nil
	p.Add(g, bars)

	var xy plotter.XYLabels
	for i, v := range bars.v {
		xy.XYs = append(xy.XYs, plotter.XY{X: v, Y: float64(k - 1 - i)})
		xy.Labels = append(xy.Labels, fmt.Sprintf("%.1f%%", 100*v))
	}
	labels, err := plotter.NewLabels(xy)
	if err != nil {
		return nil, err
	}
	for i := range labels.TextStyle {
		s := &labels.TextStyle[i]
		s.Font = plotFont(9, false)
		s.XAlign, s.YAlign = draw.XLeft, draw.YCenter
		s.Color = colorText
	}
	labels.Offset = vg.Point{X: vg.Points(3)}
	p.Add(labels)
	return p, nil
}

// hbars is a horizontal bar chart with one colour per bar; bar i spans
// [0, v[i]] at y = len(v)-1-i.
type hbars struct {
	v      []float64
	colors []color.Color
}

// Plot implements plot.Plotter.
func (b hbars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	k := len(b.v)
	const half = 0.35 // half a bar's thickness, in class units
	for i, v := range b.v {
		y := float64(k - 1 - i)
		pts := []vg.Point{
			{X: trX(0), Y: trY(y - half)}, {X: trX(v), Y: trY(y - half)},
			{X: trX(v), Y: trY(y + half)}, {X: trX(0), Y: trY(y + half)},
		}
		c.FillPolygon(b.colors[i], c.ClipPolygonXY(pts))
	}
}

// DataRange implements plot.DataRanger.
func (b hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, 1, -0.5, float64(len(b.v)) - 0.5
}
