package curves

import (
	"image"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"gonum.org/v1/plot"
	pfont "gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
)

// plotDPI is the resolution at which gonum plots are rasterised (1 pt is 4/3 px).
const plotDPI = 96

// renderPlot rasterises p into a w x h image at plotDPI.
func renderPlot(p *plot.Plot, w, h int) *image.RGBA {
	c := vgimg.NewWith(vgimg.UseImage(image.NewRGBA(image.Rect(0, 0, w, h))), vgimg.UseDPI(plotDPI))
	p.Draw(vgdraw.New(c))
	if img, ok := c.Image().(*image.RGBA); ok {
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), c.Image(), image.Point{}, draw.Src)
	return img
}

// lightGrid returns matplotlib-like light grey grid lines.
func lightGrid() *plotter.Grid {
	g := plotter.NewGrid()
	for _, s := range []*vgdraw.LineStyle{&g.Vertical, &g.Horizontal} {
		s.Color = paint.Grid
		s.Width = 1
	}
	return g
}

// integerTicks returns a ticker with labelled ticks at whole numbers only,
// spaced 1, 2, 5, 10, 20, 50, ... apart so that at most about ten show.
func integerTicks() plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		first, last := math.Ceil(lo), math.Floor(hi)
		if !(first <= last) || last-first > 1e9 {
			return nil
		}
		step := 1.0
		for mult := 0; (last-first)/step > 10; mult++ {
			step *= []float64{2, 2.5, 2}[mult%3]
		}
		var ticks []plot.Tick
		for v := math.Ceil(first/step) * step; v <= last; v += step {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
		return ticks
	})
}

// niceTicks returns a ticker with labelled ticks at multiples of 1, 2 or 5
// times a power of ten, the smallest step that shows at most nine, with as
// many decimals as the step needs (matplotlib's MaxNLocator, roughly).
func niceTicks() plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		span := hi - lo
		if !(span > 0) || math.IsInf(span, 0) {
			return nil
		}
		mag := math.Pow(10, math.Floor(math.Log10(span/6)))
		step := mag
		for _, m := range []float64{1, 2, 5, 10} {
			if span/(m*mag) <= 9 {
				step = m * mag
				break
			}
		}
		decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
		var ticks []plot.Tick
		for i := math.Ceil(lo/step - 1e-9); i*step <= hi+1e-9*step; i++ {
			v := i * step
			if v == 0 {
				v = 0 // no "-0"
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		}
		return ticks
	})
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
