// Package curves draws a training run's loss and accuracy per epoch, the
// training against the validation values, as a PNG figure. It is viz's one
// figure drawn with gonum.org/v1/plot (line plots with nice ticks are what
// it is for), kept apart so that programs that only draw viz's raster
// figures, such as fminfer, do not link gonum/plot and pay for its start-up
// (it parses its fonts when the program starts).
package curves

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz"
	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
)

// Curves figure layout, in pixels.
const (
	curvesPanelW = 560
	curvesPanelH = 420
	curvesMargin = 10
)

// Render draws the training curves of h as two panels side by side:
// the loss and the accuracy per epoch, training in blue and validation in
// orange (the validation lines only when h has validation metrics), with
// title above them when it is not empty. Non-finite values (a diverged
// run) are left out of the lines. Figure.Panels holds the loss and the
// accuracy panels' rectangles.
func Render(h *train.History, title string) (*viz.Figure, error) {
	if h == nil || len(h.Epochs) == 0 {
		return nil, &viz.ArgError{Func: "curves.Render", Arg: "h", Msg: "no epochs to draw"}
	}
	titleFace, keyFace := paint.Face(true, paint.FigureTitlePx), paint.Face(false, paint.CaptionPx)
	defer titleFace.Close()
	defer keyFace.Close()
	band := paint.TitleBand(titleFace, title)
	keyBand := paint.LineHeight(keyFace) + 8
	w := max(2*curvesPanelW+3*curvesMargin, paint.TextWidth(titleFace, title)+2*curvesMargin)
	img := paint.NewCanvas(w, curvesPanelH+band+keyBand+2*curvesMargin)
	if title != "" {
		paint.DrawTextCentered(img, titleFace, w/2, curvesMargin, band, title, paint.Text)
	}
	val := h.HasValidation()
	keys := []legendKey{{"training", paint.Blue}}
	if val {
		keys = append(keys, legendKey{"validation", paint.Orange})
	}
	drawLegend(img, keyFace, w/2, curvesMargin+band, keyBand, keys)
	get := []struct {
		name       string
		train, val func(train.Epoch) float64
	}{
		{"Loss", func(e train.Epoch) float64 { return e.Loss }, func(e train.Epoch) float64 { return e.ValLoss }},
		{"Accuracy", func(e train.Epoch) float64 { return e.Accuracy }, func(e train.Epoch) float64 { return e.ValAccuracy }},
	}
	fig := &viz.Figure{Image: img}
	left := (w - 2*curvesPanelW - curvesMargin) / 2
	for i, g := range get {
		p, err := curvePlot(h, g.name, g.train, g.val, val)
		if err != nil {
			return nil, err
		}
		at := image.Pt(left+i*(curvesPanelW+curvesMargin), curvesMargin+band+keyBand)
		fig.Panels = append(fig.Panels, paint.Paste(img, renderPlot(p, curvesPanelW, curvesPanelH), at))
	}
	return fig, nil
}

// Write renders h with Render and writes the PNG to path atomically.
func Write(path string, h *train.History, title string) error {
	f, err := Render(h, title)
	if err != nil {
		return err
	}
	return viz.WritePNG(path, f.Image)
}

// curvePlot builds one panel: metric per epoch, training and (if withVal)
// validation.
func curvePlot(h *train.History, name string, trainOf, valOf func(train.Epoch) float64, withVal bool) (*plot.Plot, error) {
	p := plot.New()
	styleFonts(p)
	p.Title.Text = name
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = map[string]string{"Loss": "loss", "Accuracy": "accuracy"}[name]
	p.X.Tick.Marker = integerTicks()
	p.Y.Tick.Marker = niceTicks()
	p.Add(lightGrid())

	first, last := h.Epochs[0].Epoch, h.Epochs[len(h.Epochs)-1].Epoch
	p.X.Min, p.X.Max = float64(first), float64(last)
	if first == last {
		p.X.Min, p.X.Max = float64(first)-0.5, float64(last)+0.5
	}
	type curve struct {
		label string
		of    func(train.Epoch) float64
		style draw.LineStyle
	}
	series := []curve{{"training", trainOf, lineStyle(paint.Blue)}}
	if withVal {
		series = append(series, curve{"validation", valOf, lineStyle(paint.Orange)})
	}
	drawn, lo, hi := 0, math.Inf(1), math.Inf(-1)
	for _, s := range series {
		var xys plotter.XYs
		for _, e := range h.Epochs {
			if v := s.of(e); !math.IsNaN(v) && !math.IsInf(v, 0) {
				xys = append(xys, plotter.XY{X: float64(e.Epoch), Y: v})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, &viz.ArgError{Func: "curves.Render", Arg: "h", Msg: fmt.Sprintf("%s %s: %v", s.label, name, err)}
		}
		line.LineStyle = s.style
		points.GlyphStyle = draw.GlyphStyle{Color: s.style.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(line, points)
		drawn++
	}
	switch {
	case drawn == 0:
		// Every value is NaN or infinite: an empty panel with a unit range.
		p.Y.Min, p.Y.Max = 0, 1
	case lo == hi:
		pad := math.Max(0.1*math.Abs(lo), 0.05)
		p.Y.Min, p.Y.Max = lo-pad, hi+pad
	default:
		// 5% of the range above and below, as matplotlib's margins.
		p.Y.Min, p.Y.Max = lo-0.05*(hi-lo), hi+0.05*(hi-lo)
	}
	return p, nil
}

// lineStyle is a 1.5 pt solid line of colour c.
func lineStyle(c color.Color) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(1.5)}
}

// legendKey is one entry of a figure legend.
type legendKey struct {
	label string
	color color.Color
}

// drawLegend draws keys in one row centred on cx within the band [top,
// top+h): for each a short line with a dot in its colour, then its label.
func drawLegend(dst *image.RGBA, face font.Face, cx, top, h int, keys []legendKey) {
	const line, gap, space = 26, 6, 22
	total := 0
	for i, k := range keys {
		total += line + gap + paint.TextWidth(face, k.label)
		if i > 0 {
			total += space
		}
	}
	x, y := cx-total/2, top+h/2
	for _, k := range keys {
		for dy := -1; dy <= 1; dy++ {
			for dx := range line {
				dst.Set(x+dx, y+dy, k.color)
			}
		}
		for dy := -3; dy <= 3; dy++ {
			for dx := -3; dx <= 3; dx++ {
				if dx*dx+dy*dy <= 10 {
					dst.Set(x+line/2+dx, y+dy, k.color)
				}
			}
		}
		x += line + gap
		paint.DrawTextCentered(dst, face, x+paint.TextWidth(face, k.label)/2, top, h, k.label, paint.Text)
		x += paint.TextWidth(face, k.label) + space
	}
}
