package viz

import (
	"image"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Confusion figure size, in pixels, and the largest matrix whose cells get
// their counts written in them.
const (
	confusionW         = 820
	confusionH         = 780
	confusionMargin    = 12
	MaxCountedClasses  = 25
	confusionMaxLabels = 1 << 10
)

// blues is matplotlib's "Blues" colormap (ColorBrewer's 9-class Blues,
// interpolated linearly to 256 levels), white for 0 and dark blue for the
// largest count.
var blues = func() palette.Palette {
	stops := []color.RGBA{
		{0xf7, 0xfb, 0xff, 0xff}, {0xde, 0xeb, 0xf7, 0xff}, {0xc6, 0xdb, 0xef, 0xff},
		{0x9e, 0xca, 0xe1, 0xff}, {0x6b, 0xae, 0xd6, 0xff}, {0x42, 0x92, 0xc6, 0xff},
		{0x21, 0x71, 0xb5, 0xff}, {0x08, 0x51, 0x9c, 0xff}, {0x08, 0x30, 0x6b, 0xff},
	}
	cs := make([]color.Color, 256)
	for i := range cs {
		t := float64(i) / 255 * float64(len(stops)-1)
		j := min(int(t), len(stops)-2)
		f := t - float64(j)
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-f) + float64(b)*f)) }
		a, b := stops[j], stops[j+1]
		cs[i] = color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
	}
	return fixedPalette(cs)
}()

// fixedPalette is a palette.Palette of given colours.
type fixedPalette []color.Color

// Colors returns the palette's colours.
func (p fixedPalette) Colors() []color.Color { return p }

// confGrid presents counts[truth][predicted] to plotter.HeatMap: column c is
// the predicted class at x = c, row r the true class at y = k-1-r (so that
// class 0 is at the top, as in a printed matrix).
type confGrid [][]int

func (g confGrid) Dims() (c, r int)   { return len(g), len(g) }
func (g confGrid) Z(c, r int) float64 { return float64(g[len(g)-1-r][c]) }
func (g confGrid) X(c int) float64    { return float64(c) }
func (g confGrid) Y(r int) float64    { return float64(r) }

// RenderConfusion draws a confusion matrix counts[truth][predicted] as a
// heatmap in matplotlib's "Blues", true classes down the side and predicted
// classes along the bottom, both named by classNames, with each cell's
// count written in it (white on dark cells, black on light ones) for up to
// MaxCountedClasses classes. Figure.Panels holds the plot's rectangle.
func RenderConfusion(counts [][]int, classNames []string, title string) (*Figure, error) {
	const fn = "RenderConfusion"
	k := len(counts)
	if k == 0 {
		return nil, argErr(fn, "counts", "empty matrix")
	}
	if k > confusionMaxLabels {
		return nil, argErr(fn, "counts", "%d classes, at most %d can be drawn", k, confusionMaxLabels)
	}
	if len(classNames) != k {
		return nil, argErr(fn, "classNames", "%d names for a %d x %d matrix", len(classNames), k, k)
	}
	peak := 0
	for i, row := range counts {
		if len(row) != k {
			return nil, argErr(fn, "counts", "row %d has %d counts, want %d", i, len(row), k)
		}
		for j, v := range row {
			if v < 0 {
				return nil, argErr(fn, "counts", "counts[%d][%d] = %d is negative", i, j, v)
			}
			peak = max(peak, v)
		}
	}

	p := plot.New()
	styleFonts(p)
	p.Title.Text = title
	p.Title.TextStyle.Font = plotFont(14, true)
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	hm := plotter.NewHeatMap(confGrid(counts), blues)
	hm.Min, hm.Max = 0, math.Max(1, float64(peak))
	p.Add(hm)
	var xt, yt []plot.Tick
	for i, n := range classNames {
		xt = append(xt, plot.Tick{Value: float64(i), Label: n})
		yt = append(yt, plot.Tick{Value: float64(k - 1 - i), Label: n})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Min, p.X.Max = -0.5, float64(k)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5

	if k <= MaxCountedClasses {
		var xy plotter.XYLabels
		for r, row := range counts {
			for c, v := range row {
				xy.XYs = append(xy.XYs, plotter.XY{X: float64(c), Y: float64(k - 1 - r)})
				xy.Labels = append(xy.Labels, strconv.Itoa(v))
			}
		}
		labels, err := plotter.NewLabels(xy)
		if err != nil {
			return nil, argErr(fn, "counts", "%v", err)
		}
		size := vg.Length(math.Min(11, 110/float64(k)))
		i := 0
		for _, row := range counts {
			for _, v := range row {
				s := &labels.TextStyle[i]
				s.Font = plotFont(size, false)
				s.XAlign, s.YAlign = draw.XCenter, draw.YCenter
				s.Color = colorText
				if float64(v) > hm.Max/2 {
					s.Color = colorWhite
				}
				i++
			}
		}
		p.Add(labels)
	}
	img := newCanvas(confusionW+2*confusionMargin, confusionH+2*confusionMargin)
	r := paste(img, renderPlot(p, confusionW, confusionH), image.Pt(confusionMargin, confusionMargin))
	return &Figure{Image: img, Panels: []image.Rectangle{r}}, nil
}

// WriteConfusion renders the matrix with RenderConfusion and writes the PNG
// to path atomically.
func WriteConfusion(path string, counts [][]int, classNames []string, title string) error {
	f, err := RenderConfusion(counts, classNames, title)
	return write(path, f, err)
}
