package viz

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
	"github.com/fmkit/fmkit/pkg/viz/internal/pixtest"
)

// pattern returns a w x h image whose pixels run through all grey levels,
// different for each seed.
func pattern(w, h, seed int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*37 + seed*11 + i*i*seed)
	}
	return img
}

// checkPanel checks that panel r of img shows src upscaled by scale under
// cm: every pixel of every scale x scale block is the source pixel's colour.
func checkPanel(t *testing.T, img image.Image, r image.Rectangle, src *image.Gray, cm Colormap) {
	t.Helper()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if r.Dx()%sw != 0 || r.Dy()%sh != 0 || r.Dx()/sw != r.Dy()/sh {
		t.Fatalf("panel %v is not a whole multiple of the %dx%d source", r, sw, sh)
	}
	scale := r.Dx() / sw
	bad := 0
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			want := cm.Color(src.GrayAt(src.Rect.Min.X+x/scale, src.Rect.Min.Y+y/scale).Y)
			if got := img.At(r.Min.X+x, r.Min.Y+y); !pixtest.SameColor(got, want) {
				if bad++; bad <= 3 {
					t.Errorf("panel %v pixel (%d,%d) = %v, want %v", r, x, y, got, want)
				}
			}
		}
	}
	if bad > 3 {
		t.Errorf("panel %v: %d wrong pixels in all", r, bad)
	}
}

func TestColormap(t *testing.T) {
	for _, c := range []struct {
		cm   Colormap
		v    uint8
		want uint8
	}{{Binary, 0, 255}, {Binary, 255, 0}, {Binary, 100, 155}, {Gray, 0, 0}, {Gray, 255, 255}, {Gray, 100, 100}} {
		if got := c.cm.Color(c.v); got != (color.RGBA{c.want, c.want, c.want, 255}) {
			t.Errorf("%v.Color(%d) = %v, want grey %d", c.cm, c.v, got, c.want)
		}
	}
}

func TestRenderGrid(t *testing.T) {
	for _, c := range []struct {
		name       string
		n, w, h    int
		opt        GridOptions
		wantScale  int
		wantCols   int
		titledTile bool
	}{
		{"4x4 binary titled", 16, 28, 28, GridOptions{Title: "Fashion-MNIST"}, 5, 4, true},
		{"gray scale 3 cols 3", 7, 28, 28, GridOptions{Cols: 3, Scale: 3, Colormap: Gray}, 3, 3, true},
		{"3x3 kernels auto scale", 16, 3, 3, GridOptions{Colormap: Gray}, TargetTileSize / 3, 4, true},
		{"one untitled tile", 1, 26, 20, GridOptions{Cols: 9}, TargetTileSize / 26, 1, false},
		{"non-square", 5, 7, 4, GridOptions{Cols: 2, Scale: 11, Title: "wide title that is wider than the grid itself"}, 11, 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tiles := make([]Tile, c.n)
			for i := range tiles {
				tiles[i] = Tile{Image: pattern(c.w, c.h, i)}
				if c.titledTile {
					tiles[i].Title = "Ankle boot"
				}
			}
			fig, err := RenderGrid(tiles, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			img := pixtest.RoundTrip(t, fig.Image)
			if img.Bounds() != fig.Image.Bounds() {
				t.Fatalf("decoded bounds %v, rendered %v", img.Bounds(), fig.Image.Bounds())
			}
			if len(fig.Panels) != c.n {
				t.Fatalf("%d panels for %d tiles", len(fig.Panels), c.n)
			}
			for i, r := range fig.Panels {
				if r.Dx() != c.w*c.wantScale || r.Dy() != c.h*c.wantScale {
					t.Errorf("panel %d is %v, want %dx%d", i, r, c.w*c.wantScale, c.h*c.wantScale)
				}
				if !r.In(img.Bounds()) {
					t.Fatalf("panel %d %v outside the figure %v", i, r, img.Bounds())
				}
				checkPanel(t, img, r, tiles[i].Image, c.opt.Colormap)
				// The frame around the panel.
				if got := img.At(r.Min.X-1, r.Min.Y+r.Dy()/2); !pixtest.SameColor(got, paint.Frame) {
					t.Errorf("panel %d: left frame pixel %v", i, got)
				}
				// The title band above the panel holds text.
				band := image.Rect(r.Min.X, r.Min.Y-paint.PanelTitlePx-4, r.Max.X, r.Min.Y-1)
				if dark := pixtest.CountDark(img, band); c.titledTile != (dark > 20) {
					t.Errorf("panel %d: %d dark pixels in the title band %v (titled: %v)", i, dark, band, c.titledTile)
				}
			}
			// Rows: the panels sit on a grid of wantCols columns.
			for i := c.wantCols; i < c.n; i++ {
				if fig.Panels[i].Min.X != fig.Panels[i-c.wantCols].Min.X || fig.Panels[i].Min.Y <= fig.Panels[i-c.wantCols].Max.Y {
					t.Errorf("panel %d %v is not below panel %d %v", i, fig.Panels[i], i-c.wantCols, fig.Panels[i-c.wantCols])
				}
			}
			if c.opt.Title != "" {
				top := image.Rect(0, 0, img.Bounds().Dx(), fig.Panels[0].Min.Y-paint.PanelTitlePx-6)
				if dark := pixtest.CountDark(img, top); dark < 50 {
					t.Errorf("figure title band %v has %d dark pixels", top, dark)
				}
			}
			// Deterministic.
			again, _ := RenderGrid(tiles, c.opt)
			if !bytes.Equal(again.Image.Pix, fig.Image.Pix) {
				t.Error("two renderings differ")
			}
		})
	}
}

// TestRenderGridRealImages draws real Fashion-MNIST images when installed.
func TestRenderGridRealImages(t *testing.T) {
	dir, err := fmnist.Locate("")
	if err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	s, err := fmnist.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	tiles := make([]Tile, 16)
	for i := range tiles {
		tiles[i] = Tile{Image: GrayImage(s.Image(i), s.Cols, s.Rows), Title: fmnist.ClassNames[s.Labels[i]]}
	}
	fig, err := RenderGrid(tiles, GridOptions{Title: "test images 0-15"})
	if err != nil {
		t.Fatal(err)
	}
	img := pixtest.RoundTrip(t, fig.Image)
	for i, r := range fig.Panels {
		checkPanel(t, img, r, tiles[i].Image, Binary)
	}
	if n := pixtest.DistinctColors(img); n < 200 {
		t.Errorf("only %d distinct colours", n)
	}
}

func TestRenderGridErrors(t *testing.T) {
	good := []Tile{{Image: pattern(28, 28, 1)}}
	for _, c := range []struct {
		name  string
		tiles []Tile
		opt   GridOptions
		arg   string
	}{
		{"no tiles", nil, GridOptions{}, "tiles"},
		{"nil image", []Tile{{Title: "x"}}, GridOptions{}, "tiles"},
		{"empty image", []Tile{{Image: image.NewGray(image.Rect(0, 0, 0, 5))}}, GridOptions{}, "tiles"},
		{"negative cols", good, GridOptions{Cols: -1}, "opt"},
		{"negative scale", good, GridOptions{Scale: -2}, "opt"},
		{"colormap", good, GridOptions{Colormap: 7}, "opt.Colormap"},
		{"too large", good, GridOptions{Scale: 1 << 20}, "opt"},
	} {
		_, err := RenderGrid(c.tiles, c.opt)
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != c.arg || ae.Func != "RenderGrid" {
			t.Errorf("%s: err %v, want an ArgError for %s", c.name, err, c.arg)
		}
	}
}

func TestScaledGray(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		v      []float32
		lo, hi float32
		want   []uint8
	}{
		{[]float32{-1, 0, 1, 0.5}, -1, 1, []uint8{0, 128, 255, 191}}, // 127.5 and 191.25 round to 128 and 191
		{[]float32{0, 1, 2, 3}, 1, 2, []uint8{0, 0, 255, 255}},       // clamped outside [lo, hi]
		{[]float32{5, 5, 5, 5}, 5, 5, []uint8{0, 0, 0, 0}},           // constant: black
		{[]float32{nan, 1, 0, 0.2}, 0, 1, []uint8{0, 255, 0, 51}},
	} {
		got := ScaledGray(c.v, 2, 2, c.lo, c.hi).Pix
		if !bytes.Equal(got, c.want) {
			t.Errorf("ScaledGray(%v, %v, %v) = %v, want %v", c.v, c.lo, c.hi, got, c.want)
		}
	}
	if lo, hi := MinMax([]float32{nan, 3, -2, float32(math.Inf(1)), 1}); lo != -2 || hi != 3 {
		t.Errorf("MinMax = %v, %v, want -2, 3", lo, hi)
	}
}

func TestConvFilters(t *testing.T) {
	// (OC=3, C=2, 1, 2): min -2 and max 2 over the whole tensor.
	w := &train.Param{Shape: []int{3, 2, 1, 2}, Data: []float32{
		-2, 2, 0, 1, // filter 0: channel 0, channel 1
		1, -1, 0.5, -0.5, // filter 1
		0, 0, 2, -2, // filter 2
	}}
	for _, c := range []struct {
		channel, count int
		want           [][]uint8
	}{
		{0, 16, [][]uint8{{0, 255}, {191, 64}, {128, 128}}}, // (v+2)/4*255: 191.25, 63.75, 127.5
		{1, 2, [][]uint8{{128, 191}, {159, 96}}},            // 159.375, 95.625
	} {
		imgs, err := ConvFilters(w, c.channel, c.count)
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != len(c.want) {
			t.Fatalf("channel %d: %d images, want %d", c.channel, len(imgs), len(c.want))
		}
		for i, img := range imgs {
			if img.Rect.Dx() != 2 || img.Rect.Dy() != 1 || !bytes.Equal(img.Pix, c.want[i]) {
				t.Errorf("channel %d filter %d: %v %v, want %v", c.channel, i, img.Rect, img.Pix, c.want[i])
			}
		}
	}
	for _, c := range []struct {
		w              *train.Param
		channel, count int
		arg            string
	}{
		{nil, 0, 1, "w"},
		{&train.Param{Shape: []int{2, 2}, Data: make([]float32, 4)}, 0, 1, "w"},
		{&train.Param{Shape: []int{1, 1, 2, 2}, Data: make([]float32, 3)}, 0, 1, "w"},
		{w, 2, 1, "channel"},
		{w, -1, 1, "channel"},
		{w, 0, 0, "count"},
	} {
		_, err := ConvFilters(c.w, c.channel, c.count)
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != c.arg {
			t.Errorf("ConvFilters(%v, %d, %d): %v, want an ArgError for %s", c.w, c.channel, c.count, err, c.arg)
		}
	}
}

func TestFeatureMaps(t *testing.T) {
	// Input 1x4x4 with values 0..15; conv 3 filters of 3x3: a centre tap
	// (the input's inner 2x2), its negative (all zero after ReLU) and a
	// constant kernel (box sums).
	build := func(fused bool) *train.Model {
		act := train.ActNone
		if fused {
			act = train.ActReLU
		}
		layers := []train.Layer{train.NewConv2D(3, 3, act)}
		if !fused {
			layers = append(layers, &train.ReLU{})
		}
		layers = append(layers, &train.Flatten{}, train.NewDense(2, train.ActSoftmax))
		m, err := train.NewModel(train.Shape{1, 4, 4}, layers...)
		if err != nil {
			t.Fatal(err)
		}
		conv := m.Layers[0].(*train.Conv2D)
		clear(conv.W.Data)
		clear(conv.B.Data)
		conv.W.Data[4] = 1
		conv.W.Data[9+4] = -1
		for i := 18; i < 27; i++ {
			conv.W.Data[i] = 1
		}
		return m
	}
	x := make([]float32, 16)
	for i := range x {
		x[i] = float32(i)
	}
	for _, fused := range []bool{true, false} {
		imgs, err := FeatureMaps(build(fused), 0, x, 16)
		if err != nil {
			t.Fatal(err)
		}
		// Map 0: inner pixels 5, 6, 9, 10 scaled to [0, 255] over [5, 10].
		// Map 1: all zero. Map 2: box sums 45, 54, 81, 90 over [45, 90].
		want := [][]uint8{{0, 51, 204, 255}, {0, 0, 0, 0}, {0, 51, 204, 255}}
		if len(imgs) != 3 {
			t.Fatalf("fused %v: %d maps, want 3", fused, len(imgs))
		}
		for i, img := range imgs {
			if img.Rect.Dx() != 2 || img.Rect.Dy() != 2 || !bytes.Equal(img.Pix, want[i]) {
				t.Errorf("fused %v map %d: %v %v, want %v", fused, i, img.Rect, img.Pix, want[i])
			}
		}
	}
	m := build(true)
	for _, c := range []struct {
		layer, n, count int
		arg             string
	}{{-1, 16, 1, "layer"}, {9, 16, 1, "layer"}, {0, 15, 1, "x"}, {0, 16, 0, "count"}, {2, 16, 1, "layer"}} {
		_, err := FeatureMaps(m, c.layer, make([]float32, c.n), c.count)
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != c.arg {
			t.Errorf("FeatureMaps(layer %d, %d values, count %d): %v, want an ArgError for %s", c.layer, c.n, c.count, err, c.arg)
		}
	}
}

// names returns k class names.
func names(k int) []string {
	if k == fmnist.NumClasses {
		return fmnist.ClassNames[:]
	}
	out := make([]string, k)
	for i := range out {
		out[i] = string(rune('A' + i))
	}
	return out
}

func TestRenderConfusion(t *testing.T) {
	darkest, lightest := blues[255], blues[0]
	for _, c := range []struct {
		k, truth, pred int
	}{{10, 2, 7}, {10, 9, 0}, {3, 0, 0}, {30, 29, 29}} {
		counts := make([][]int, c.k)
		for i := range counts {
			counts[i] = make([]int, c.k)
			counts[i][i] = 10
		}
		counts[c.truth][c.pred] = 1000
		fig, err := RenderConfusion(counts, names(c.k), "confusion")
		if err != nil {
			t.Fatal(err)
		}
		img := pixtest.RoundTrip(t, fig.Image)
		if len(fig.Panels) != 1 || img.Bounds().Dx() != confusionW+2*confusionMargin {
			t.Fatalf("k=%d: bounds %v, panels %v", c.k, img.Bounds(), fig.Panels)
		}
		// The single peak cell is the only darkest one: its box locates it.
		peak := pixtest.BBox(img, darkest)
		if peak.Empty() || pixtest.CountColor(img, fig.Panels[0], lightest) == 0 {
			t.Fatalf("k=%d: no darkest (%v) or lightest cell", c.k, peak)
		}
		if peak.Dx() > fig.Panels[0].Dx()/c.k+2 || peak.Dy() > fig.Panels[0].Dy()/c.k+2 {
			t.Errorf("k=%d: darkest area %v larger than a cell", c.k, peak)
		}
		// Cells of the whole grid: the peak's column and row relative to
		// the extent of the coloured cells.
		grid := pixtest.BBox(img, blues[3]).Union(peak) // cells of value 10
		col := float64((peak.Min.X+peak.Max.X)/2-grid.Min.X) / float64(grid.Dx()) * float64(c.k)
		row := float64((peak.Min.Y+peak.Max.Y)/2-grid.Min.Y) / float64(grid.Dy()) * float64(c.k)
		if int(col) != c.pred || int(row) != c.truth {
			t.Errorf("k=%d: peak at column %.2f row %.2f, want predicted %d (column) and true %d (row)", c.k, col, row, c.pred, c.truth)
		}
		// Its count is written in white: on the darkest blue, only the
		// text (anti-aliased) gives near-white pixels.
		if c.k <= MaxCountedClasses && pixtest.CountLight(img, peak) < 10 {
			t.Errorf("k=%d: no white count in the peak cell", c.k)
		}
		if c.k > MaxCountedClasses && pixtest.CountLight(img, peak) != 0 {
			t.Errorf("k=%d: counts written in cells too small for them", c.k)
		}
	}
	for _, c := range []struct {
		counts [][]int
		names  []string
		arg    string
	}{
		{nil, nil, "counts"},
		{[][]int{{1, 2}, {3}}, names(2), "counts"},
		{[][]int{{1, -2}, {3, 4}}, names(2), "counts"},
		{[][]int{{1, 2}, {3, 4}}, names(3), "classNames"},
	} {
		_, err := RenderConfusion(c.counts, c.names, "")
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != c.arg {
			t.Errorf("RenderConfusion(%v, %v): %v, want an ArgError for %s", c.counts, c.names, err, c.arg)
		}
	}
}

func TestExplain(t *testing.T) {
	pre := pattern(28, 28, 3)
	probs := []float32{0.01, 0, 0.05, 0.02, 0.12, 0, 0.78, 0, 0.02, 0}
	dir := t.TempDir()
	for _, c := range []struct {
		name       string
		truth      int
		titleColor color.Color // nil: black
		barColors  []color.Color
	}{
		{"right", 6, paint.Blue, []color.Color{paint.Blue, paint.Grey}},
		{"wrong", 4, paint.Red, []color.Color{paint.Red, paint.Blue, paint.Grey}},
		{"unknown", -1, nil, []color.Color{colorUnknown, paint.Grey}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".png")
			if err := Explain(pre, probs, fmnist.ClassNames[:], c.truth, out); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			fig, err := RenderExplain(pre, probs, fmnist.ClassNames[:], c.truth)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds() != fig.Image.Bounds() || len(fig.Panels) != 2 {
				t.Fatalf("file %v, rendered %v, panels %v", img.Bounds(), fig.Image.Bounds(), fig.Panels)
			}
			imgPanel, bars := fig.Panels[0], fig.Panels[1]
			if imgPanel.Dx() != 28*8 {
				t.Errorf("image panel %v, want 224 wide", imgPanel)
			}
			checkPanel(t, img, imgPanel, pre, Binary)
			title := image.Rect(imgPanel.Min.X-40, imgPanel.Min.Y-30, imgPanel.Max.X+40, imgPanel.Min.Y-2)
			for _, tc := range []color.Color{paint.Blue, paint.Red} {
				got := pixtest.CountColor(img, title, tc) > 10
				if want := tc == c.titleColor; got != want {
					t.Errorf("title %v: colour %v present %v, want %v", title, tc, got, want)
				}
			}
			if c.titleColor == nil && pixtest.CountColor(img, title, paint.Text) < 10 {
				t.Errorf("black title missing in %v", title)
			}
			for _, bc := range c.barColors {
				if n := pixtest.CountColor(img, bars, bc); n < 100 {
					t.Errorf("bar colour %v: %d pixels", bc, n)
				}
			}
			if c.truth >= 0 && pixtest.CountColor(img, bars, colorUnknown) >= 100 { // a few text pixels may match
				t.Error("the unknown-truth bar colour is used with a known truth")
			}
		})
	}
	prev := []byte("previous content")
	keep := filepath.Join(dir, "keep.png")
	os.WriteFile(keep, prev, 0o644)
	for _, c := range []struct {
		pre   *image.Gray
		probs []float32
		names []string
		truth int
		arg   string
	}{
		{nil, probs, fmnist.ClassNames[:], 0, "pre"},
		{pre, nil, nil, 0, "probs"},
		{pre, probs, fmnist.ClassNames[:3], 0, "classNames"},
		{pre, []float32{0.5, float32(math.NaN())}, names(2), 0, "probs"},
		{pre, []float32{1.5, 0}, names(2), 0, "probs"},
		{pre, probs, fmnist.ClassNames[:], 10, "truth"},
		{pre, probs, fmnist.ClassNames[:], -2, "truth"},
	} {
		err := Explain(c.pre, c.probs, c.names, c.truth, keep)
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != c.arg {
			t.Errorf("Explain(%v, %v, truth %d): %v, want an ArgError for %s", c.probs, c.names, c.truth, err, c.arg)
		}
	}
	if got, _ := os.ReadFile(keep); !bytes.Equal(got, prev) {
		t.Error("a failed Explain changed the output file")
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "x.png")
	err := WriteGrid(missing, []Tile{{Image: pattern(2, 2, 0)}}, GridOptions{})
	var ae *atomicfile.Error
	if !errors.As(err, &ae) || ae.Path != missing {
		t.Errorf("writing into a missing directory: %v", err)
	}
	if err := WriteConfusion(dir, [][]int{{1}}, names(1), ""); err == nil {
		t.Error("writing over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestDeterministicPNG(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		p := filepath.Join(dir, "c.png")
		if err := WriteConfusion(p, [][]int{{5, 1}, {2, 7}}, names(2), "twice"); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(p)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("the same input gave different PNG files")
	}
}
