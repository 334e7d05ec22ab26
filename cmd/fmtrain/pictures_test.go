package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz"
	"github.com/fmkit/fmkit/pkg/viz/curves"
)

// decodePNG reads a PNG file.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// downscale returns the grey levels of panel r of img, a w x h source
// upscaled by whole blocks, reading the centre of each block and undoing
// the colormap cm.
func downscale(t *testing.T, img image.Image, r image.Rectangle, w, h int, cm viz.Colormap) []uint8 {
	t.Helper()
	if r.Dx()%w != 0 || r.Dy()%h != 0 {
		t.Fatalf("panel %v is not a multiple of %dx%d", r, w, h)
	}
	s := r.Dx() / w
	out := make([]uint8, w*h)
	for y := range h {
		for x := range w {
			v := color.GrayModel.Convert(img.At(r.Min.X+x*s+s/2, r.Min.Y+y*s+s/2)).(color.Gray).Y
			if cm == viz.Binary {
				v = 255 - v
			}
			out[y*w+x] = v
		}
	}
	return out
}

// layout returns where RenderGrid puts tiles of these sizes and titles:
// the CLI's figure must have the same size and panels.
func layout(t *testing.T, tiles []viz.Tile, opt viz.GridOptions, img image.Image) []image.Rectangle {
	t.Helper()
	fig, err := viz.RenderGrid(tiles, opt)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != fig.Image.Bounds() {
		t.Fatalf("figure is %v, want %v", img.Bounds(), fig.Image.Bounds())
	}
	return fig.Panels
}

func TestSamples(t *testing.T) {
	needData(t)
	dir, _ := fmnist.Locate("")
	train, err := fmnist.LoadTrain(dir)
	if err != nil {
		t.Fatal(err)
	}
	test, err := fmnist.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, c := range []struct {
		args  []string
		set   *fmnist.Set
		idx   []int
		title string
	}{
		{nil, train, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, "Fashion-MNIST training images 0-15"},
		{[]string{"--set", "test", "--index", "3, 9999,40-42"}, test, []int{3, 9999, 40, 41, 42}, "Fashion-MNIST test images 3, 9999, 40, 41, 42"},
		{[]string{"--index", "7"}, train, []int{7}, "Fashion-MNIST training image 7"},
	} {
		path := filepath.Join(out, fmt.Sprintf("s%d.png", len(c.idx)))
		code, stdout, stderr := runCmd(context.Background(), append([]string{"samples", "--out", path}, c.args...)...)
		if code != exitOK || !strings.Contains(stdout, "wrote "+path) {
			t.Fatalf("%v: exit %d\n%s%s", c.args, code, stdout, stderr)
		}
		img := decodePNG(t, path)
		tiles := make([]viz.Tile, len(c.idx))
		for i, k := range c.idx {
			tiles[i] = viz.Tile{Image: viz.GrayImage(c.set.Image(k), 28, 28), Title: fmnist.ClassNames[c.set.Labels[k]]}
		}
		want, err := viz.RenderGrid(tiles, viz.GridOptions{Title: c.title})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range layout(t, tiles, viz.GridOptions{Title: c.title}, img) {
			if got := downscale(t, img, r, 28, 28, viz.Binary); !bytes.Equal(got, c.set.Image(c.idx[i])) {
				t.Errorf("%v: panel %d does not show image %d", c.args, i, c.idx[i])
			}
		}
		// Titles and all: the file is the figure of these tiles.
		if !bytes.Equal(img.(*image.RGBA).Pix, want.Image.Pix) {
			t.Errorf("%v: the file differs from the figure of images %v titled %q", c.args, c.idx, c.title)
		}
	}
}

// saveTinyModel builds (untrained) and saves a two-convolution model.
func saveTinyModel(t *testing.T, dir string) (string, *train.Model) {
	t.Helper()
	const arch = "c4k3-p2-c6k3-f-d10"
	m, err := train.BuildModel(arch, train.Shape{1, 28, 28}, train.NewRNG(7))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tiny.fmk")
	if err := train.SaveModel(path, m, arch, nil); err != nil {
		t.Fatal(err)
	}
	return path, m
}

func TestFilters(t *testing.T) {
	dir := t.TempDir()
	model, m := saveTinyModel(t, dir)
	for _, c := range []struct {
		layer    int
		conv     *train.Conv2D
		wantNote bool
	}{{1, m.Layers[0].(*train.Conv2D), false}, {2, m.Layers[2].(*train.Conv2D), true}} {
		out := filepath.Join(dir, fmt.Sprintf("f%d.png", c.layer))
		code, stdout, stderr := runCmd(context.Background(), "filters", "--model", model, "--layer", fmt.Sprint(c.layer), "--out", out)
		if code != exitOK {
			t.Fatalf("layer %d: exit %d\n%s%s", c.layer, code, stdout, stderr)
		}
		img := decodePNG(t, out)
		tiles, title, err := filterTiles(c.conv)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(title, "input channel 0 of 4"); got != c.wantNote {
			t.Errorf("layer %d: title %q", c.layer, title)
		}
		// Expected grey levels, computed here from the weights: each
		// filter's channel-0 kernel, normalised over the whole tensor.
		w := c.conv.W
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range w.Data {
			lo, hi = min(lo, v), max(hi, v)
		}
		oc, ch := w.Shape[0], w.Shape[1]
		panels := layout(t, tiles, viz.GridOptions{Title: title, Colormap: viz.Gray}, img)
		if len(panels) != oc {
			t.Fatalf("layer %d: %d panels for %d filters", c.layer, len(panels), oc)
		}
		for f, r := range panels {
			want := make([]uint8, 9)
			for i := range want {
				v := (float64(w.Data[f*ch*9+i]) - float64(lo)) / (float64(hi) - float64(lo)) * 255
				want[i] = uint8(math.Round(v))
			}
			if got := downscale(t, img, r, 3, 3, viz.Gray); !bytes.Equal(got, want) {
				t.Errorf("layer %d filter %d: %v, want %v", c.layer, f, got, want)
			}
		}
	}
}

func TestFeatureMapsCLI(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	model, m := saveTinyModel(t, dir)
	out := filepath.Join(dir, "fm.png")
	const idx = 42
	code, stdout, stderr := runCmd(context.Background(), "filters", "--model", model, "--image", fmt.Sprint(idx), "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	img := decodePNG(t, out)
	d, _ := fmnist.Locate("")
	test, err := fmnist.LoadTest(d)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 28*28)
	fmnist.Scale(x, test.Image(idx))
	conv := m.Layers[0].(*train.Conv2D)
	tiles := make([]viz.Tile, 4)
	for i := range tiles {
		tiles[i] = viz.Tile{Image: image.NewGray(image.Rect(0, 0, 26, 26)), Title: fmt.Sprintf("channel %d", i+1)}
	}
	title := fmt.Sprintf("conv1 (relu) feature maps 1-4 of 4, test image %d (%s)", idx, fmnist.ClassNames[test.Labels[idx]])
	panels := layout(t, tiles, viz.GridOptions{Title: title, Colormap: viz.Gray}, img)
	for k, r := range panels {
		// The map computed here directly: valid 3x3 cross-correlation,
		// bias, ReLU, then min-max to 0..255.
		y := make([]float64, 26*26)
		for i := range 26 {
			for j := range 26 {
				s := float64(conv.B.Data[k])
				for di := range 3 {
					for dj := range 3 {
						s += float64(conv.W.Data[k*9+di*3+dj]) * float64(x[(i+di)*28+j+dj])
					}
				}
				y[i*26+j] = math.Max(s, 0)
			}
		}
		lo, hi := slices.Min(y), slices.Max(y)
		got := downscale(t, img, r, 26, 26, viz.Gray)
		for i, v := range y {
			want := 0.0
			if hi > lo {
				want = (v - lo) / (hi - lo) * 255
			}
			// float32 sums in another order may round to the next level.
			if math.Abs(float64(got[i])-want) > 1 {
				t.Fatalf("map %d pixel %d: %d, want %.2f", k, i, got[i], want)
			}
		}
	}
}

func TestAugmentPreview(t *testing.T) {
	needData(t)
	d, _ := fmnist.Locate("")
	set, err := fmnist.LoadTrain(d)
	if err != nil {
		t.Fatal(err)
	}
	const idx = 5
	orig := set.Image(idx)
	mirror := make([]uint8, 28*28)
	for y := range 28 {
		for x := range 28 {
			mirror[y*28+x] = orig[y*28+27-x]
		}
	}
	shifted := func(dy int) []uint8 { // row r shows row r+dy, edges repeated
		out := make([]uint8, 28*28)
		for y := range 28 {
			copy(out[y*28:(y+1)*28], orig[min(max(y+dy, 0), 27)*28:])
		}
		return out
	}
	dir := t.TempDir()
	for _, c := range []struct {
		spec    string
		k       int
		allowed [][]uint8
	}{
		{"hflip", 6, [][]uint8{orig, mirror}},
		{"hshift=3", 5, [][]uint8{shifted(-2), shifted(-1), orig, shifted(1), shifted(2)}},
	} {
		var files [2][]byte
		for i := range files {
			out := filepath.Join(dir, "a.png")
			code, stdout, stderr := runCmd(context.Background(), "augment-preview", "--augment", c.spec, "--count", fmt.Sprint(c.k),
				"--index", fmt.Sprint(idx), "--seed", "3", "--out", out)
			if code != exitOK {
				t.Fatalf("%s: exit %d\n%s%s", c.spec, code, stdout, stderr)
			}
			files[i], _ = os.ReadFile(out)
		}
		if !bytes.Equal(files[0], files[1]) {
			t.Errorf("%s: the same seed gave different files", c.spec)
		}
		img, err := png.Decode(bytes.NewReader(files[0]))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := train.ParseAugment(c.spec)
		tiles := augmentTiles(set, idx, a, c.k, 3)
		title := fmt.Sprintf("%s (training image %d): augment %s, seed 3", fmnist.ClassNames[set.Labels[idx]], idx, a)
		panels := layout(t, tiles, viz.GridOptions{Title: title, Cols: c.k + 1}, img)
		if got := downscale(t, img, panels[0], 28, 28, viz.Binary); !bytes.Equal(got, orig) {
			t.Errorf("%s: the first panel is not the original", c.spec)
		}
		seen := map[int]bool{}
		for i, r := range panels[1:] {
			got := downscale(t, img, r, 28, 28, viz.Binary)
			j := slices.IndexFunc(c.allowed, func(a []uint8) bool { return bytes.Equal(a, got) })
			if j < 0 {
				t.Errorf("%s: panel %d is none of the transforms the spec allows", c.spec, i+1)
			}
			seen[j] = true
		}
		if len(seen) < 2 {
			t.Errorf("%s: %d augmented panels all show the same transform", c.spec, c.k)
		}
	}
}

func TestEvaluatePlotAndCurves(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "a.fmk")
	if code, out, errOut := runCmd(context.Background(), trainArgs(model)...); code != exitOK {
		t.Fatalf("train: exit %d\n%s%s", code, out, errOut)
	}
	got := decodePNG(t, filepath.Join(dir, "a.curves.png"))
	hist, err := train.ReadHistoryJSON(filepath.Join(dir, "a.history.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := curves.Render(hist, "a.fmk: c4k3-p2-f-d10")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.(*image.RGBA).Pix, want.Image.Pix) {
		t.Error("the curves beside the model are not those of its history")
	}

	plot := filepath.Join(dir, "confusion.png")
	code, out, errOut := runCmd(context.Background(), "evaluate", "--model", model, "--threads", "2", "--plot", plot)
	if code != exitOK || !strings.Contains(out, "wrote "+plot) {
		t.Fatalf("evaluate: exit %d\n%s%s", code, out, errOut)
	}
	img := decodePNG(t, plot)
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 750 {
		t.Errorf("confusion plot is %v", b)
	}
	colours := map[color.Color]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 3 {
		for x := 0; x < img.Bounds().Dx(); x += 3 {
			colours[img.At(x, y)] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("confusion plot has %d colours: blank?", len(colours))
	}
	// --json output stays pure JSON with --plot.
	code, out, _ = runCmd(context.Background(), "evaluate", "--model", model, "--threads", "2", "--json", "--plot", plot)
	if code != exitOK || !strings.HasPrefix(out, "{") || strings.Contains(out, "wrote") {
		t.Errorf("evaluate --json --plot: exit %d, output %.60q", code, out)
	}
}

func TestPictureUsageErrors(t *testing.T) {
	dir := t.TempDir()
	model, _ := saveTinyModel(t, dir)
	png := filepath.Join(dir, "out.png")
	missing := filepath.Join(dir, "missing", "out.png")
	for _, args := range [][]string{
		{"samples"},
		{"samples", "--out", missing},
		{"samples", "--out", dir},
		{"samples", "--out", png, "--set", "validation"},
		{"samples", "--out", png, "--bogus"},
		{"samples", "--out", png, "positional"},
		{"filters", "--out", png},
		{"filters", "--model", model},
		{"filters", "--model", model, "--out", png, "--layer", "0"},
		{"filters", "--model", model, "--out", png, "--layer", "3"},
		{"filters", "--model", model, "--out", png, "--image", "-4"},
		{"augment-preview", "--out", png, "--count", "0"},
		{"augment-preview", "--out", png, "--count", "64"},
		{"augment-preview", "--out", png, "--augment", "spin=3"},
		{"augment-preview", "--out", png, "--index", "-1"},
		{"augment-preview", "--out", png, "--set", "x"},
		{"augment-preview"},
		{"evaluate", "--model", model, "--plot", missing},
		{"evaluate", "--model", model, "--plot", ""},
	} {
		code, _, errOut := runCmd(context.Background(), args...)
		if code != exitUsage || !strings.HasPrefix(errOut, "fmtrain: ") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if _, err := os.Stat(png); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused command wrote %s", png)
	}
}

func TestPictureDataErrors(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	png := filepath.Join(dir, "out.png")
	for _, args := range [][]string{
		{"samples", "--out", png, "--index", "60000"},
		{"samples", "--out", png, "--index", "5-2"},
		{"samples", "--out", png, "--index", "0-100"},
		{"augment-preview", "--out", png, "--index", "60000"},
		{"augment-preview", "--out", png, "--set", "test", "--index", "10000"},
	} {
		code, _, errOut := runCmd(context.Background(), args...)
		if code != exitUsage || !strings.HasPrefix(errOut, "fmtrain: ") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	model := filepath.Join(dir, "garbage.fmk")
	os.WriteFile(model, []byte("not a model"), 0o644)
	if code, _, errOut := runCmd(context.Background(), "filters", "--model", model, "--out", png); code != exitFail || !strings.Contains(errOut, "garbage.fmk") {
		t.Errorf("garbage model: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(png); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed command wrote %s", png)
	}
}

func TestParseIndexList(t *testing.T) {
	for _, c := range []struct {
		list string
		want []int
		err  string // substring of the error; "" for none
	}{
		{"0", []int{0}, ""},
		{"3,1,2", []int{3, 1, 2}, ""},
		{" 4 , 6-8 ,9", []int{4, 6, 7, 8, 9}, ""},
		{"0-9", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ""},
		{"", nil, `item "" at byte 0: empty item`},
		{"1,,2", nil, `at byte 2: empty item`},
		{"1, x", nil, `item "x" at byte 3`},
		{"5-2", nil, "runs backwards"},
		{"-3", nil, "not a non-negative integer"},
		{"10", nil, "past the last image, 9"},
		{"0-9,0-1", nil, "more than 10 images"},
		{"99999999999999999999", nil, "not a non-negative integer"},
	} {
		got, err := parseIndexList(c.list, 10, 10)
		switch {
		case c.err == "" && (err != nil || !slices.Equal(got, c.want)):
			t.Errorf("%q: %v, %v; want %v", c.list, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one containing %q", c.list, err, c.err)
		}
	}
}

func FuzzParseIndexList(f *testing.F) {
	for _, s := range []string{"0", "3,1,2", " 4 , 6-8 ,9", "0-15", "", "1,,2", "5-2", "-3", "1-", "99999999999999999999", "0-9,0-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		const n, limit = 1000, 50
		got, err := parseIndexList(list, n, limit)
		if err != nil {
			var le *indexListError
			if !errors.As(err, &le) || le.Offset < 0 || le.Offset > len(list) {
				t.Fatalf("%q: error %v without a valid offset", list, err)
			}
			return
		}
		if len(got) == 0 || len(got) > limit {
			t.Fatalf("%q: %d indices", list, len(got))
		}
		parts := make([]string, len(got))
		for i, v := range got {
			if v < 0 || v >= n {
				t.Fatalf("%q: index %d out of range", list, v)
			}
			parts[i] = fmt.Sprint(v)
		}
		// The canonical list reads back the same.
		again, err := parseIndexList(strings.Join(parts, ","), n, limit)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("%q: %v reads back as %v, %v", list, got, again, err)
		}
	})
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
