package viz

import (
	"image"
	"image/color"
	"math"
	"strconv"

	"golang.org/x/image/font"

	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
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
var blues = func() []color.RGBA {
	stops := []color.RGBA{
		{0xf7, 0xfb, 0xff, 0xff}, {0xde, 0xeb, 0xf7, 0xff}, {0xc6, 0xdb, 0xef, 0xff},
		{0x9e, 0xca, 0xe1, 0xff}, {0x6b, 0xae, 0xd6, 0xff}, {0x42, 0x92, 0xc6, 0xff},
		{0x21, 0x71, 0xb5, 0xff}, {0x08, 0x51, 0x9c, 0xff}, {0x08, 0x30, 0x6b, 0xff},
	}
	cs := make([]color.RGBA, 256)
	for i := range cs {
		t := float64(i) / 255 * float64(len(stops)-1)
		j := min(int(t), len(stops)-2)
		f := t - float64(j)
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-f) + float64(b)*f)) }
		a, b := stops[j], stops[j+1]
		cs[i] = color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
	}
	return cs
}()

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

	img := paint.NewCanvas(confusionW+2*confusionMargin, confusionH+2*confusionMargin)
	r := image.Rect(0, 0, confusionW, confusionH).Add(image.Pt(confusionMargin, confusionMargin))
	drawConfusion(img, r, counts, peak, classNames, title)
	return &Figure{Image: img, Panels: []image.Rectangle{r}}, nil
}

// drawConfusion draws the heatmap of counts into r: the title on top, "true
// class" up the left side, "predicted class" along the bottom, one cell per
// count coloured from blues by count/peak (rounded to the nearest of the 256
// levels), and the class names as tick labels when the cells are at least
// a line of text high.
func drawConfusion(dst *image.RGBA, r image.Rectangle, counts [][]int, peak int, classNames []string, title string) {
	k := len(counts)
	titleFace := paint.Face(true, paint.PlotTitlePx+2)
	labelFace := paint.Face(false, paint.AxisLabelPx)
	tickFace := paint.Face(false, paint.TickLabelPx)
	defer titleFace.Close()
	defer labelFace.Close()
	defer tickFace.Close()

	titleBand := paint.TitleBand(titleFace, title)
	labelBand := paint.TextHeight(labelFace) + 8
	// Tick labels only when each cell is at least a line of text high.
	guess := min(r.Dx(), r.Dy()) / k
	labelled := guess >= paint.TextHeight(tickFace)
	left, below := labelBand+paint.TickLen+4, labelBand+paint.TickLen+4
	if labelled {
		left += maxWidth(tickFace, classNames)
		below += slantedHeight(tickFace, classNames)
	}
	m := image.Rect(r.Min.X+left, r.Min.Y+titleBand, r.Max.X-4, r.Max.Y-below)
	if title != "" {
		paint.DrawTextCentered(dst, titleFace, (m.Min.X+m.Max.X)/2, r.Min.Y, titleBand, title, paint.Text)
	}
	paint.DrawTextCentered(dst, labelFace, (m.Min.X+m.Max.X)/2, r.Max.Y-labelBand, labelBand, "predicted class", paint.Text)
	lw := paint.TextWidth(labelFace, "true class")
	paint.DrawTextRotated(dst, labelFace, r.Min.X+labelBand/2, (m.Min.Y+m.Max.Y)/2-lw/2, 90, "true class", paint.Text)

	// Cell c spans [xs[c], xs[c+1]) across and row r [ys[r], ys[r+1]) down.
	xs, ys := make([]int, k+1), make([]int, k+1)
	for i := range k + 1 {
		xs[i] = m.Min.X + i*m.Dx()/k
		ys[i] = m.Min.Y + i*m.Dy()/k
	}
	levels := float64(len(blues)-1) / math.Max(1, float64(peak))
	var countFace font.Face
	if k <= MaxCountedClasses {
		countFace = paint.Face(false, math.Min(11, 110/float64(k))*4/3)
		defer countFace.Close()
	}
	for row, cs := range counts {
		for col, v := range cs {
			cell := image.Rect(xs[col], ys[row], xs[col+1], ys[row+1])
			paint.FillRect(dst, cell, blues[int(float64(v)*levels+0.5)])
			if countFace == nil {
				continue
			}
			c := paint.Text
			if float64(v) > math.Max(1, float64(peak))/2 {
				c = paint.White
			}
			paint.DrawTextCentered(dst, countFace, (cell.Min.X+cell.Max.X)/2, cell.Min.Y, cell.Dy(), strconv.Itoa(v), c)
		}
	}
	var xt, yt []tick
	if labelled {
		for i, n := range classNames {
			xt = append(xt, tick{(xs[i] + xs[i+1]) / 2, n})
			yt = append(yt, tick{(ys[i] + ys[i+1]) / 2, n})
		}
	}
	drawLeftAxis(dst, tickFace, m.Min.X, m.Min.Y, m.Max.Y, yt)
	drawBottomAxis(dst, tickFace, m.Max.Y, m.Min.X, m.Max.X, xt, true)
}

// WriteConfusion renders the matrix with RenderConfusion and writes the PNG
// to path atomically.
func WriteConfusion(path string, counts [][]int, classNames []string, title string) error {
	f, err := RenderConfusion(counts, classNames, title)
	return write(path, f, err)
}
