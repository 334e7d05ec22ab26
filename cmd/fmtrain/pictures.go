package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz"
)

// Picture defaults and limits.
const (
	gridImages         = 16  // images in a 4x4 grid (samples, filters, feature maps)
	maxSampleImages    = 100 // --index may name at most this many images
	defaultAugment     = "hflip,hshift=3"
	defaultAugmentSeed = 1
	defaultAugmentK    = 8
	maxAugmentK        = 63
)

// curvesPath returns the training-curves PNG written beside the model file.
func curvesPath(out string) string {
	return strings.TrimSuffix(out, filepath.Ext(out)) + ".curves.png"
}

// checkPictureOut fails early, before any work, if the PNG named by flag
// cannot be written: it must be given, and name a file in an existing
// directory (see cli.CheckOutputFile).
func checkPictureOut(flag, path string) error {
	if path == "" {
		return cli.Usage(fmt.Errorf("%s is required (the PNG file to write)", flag))
	}
	return cli.CheckOutputFile(flag, path)
}

// checkNotData fails when one of outputs is a file of the dataset in dir:
// the command would overwrite its own data.
func checkNotData(dir string, outputs []userpath.Role) error {
	if len(outputs) == 0 {
		return nil
	}
	roles := append([]userpath.Role(nil), outputs...)
	for _, p := range fmnist.Files(dir) {
		roles = append(roles, userpath.Role{Flag: "the dataset file", Path: p, Input: true})
	}
	if err := userpath.Distinct(roles...); err != nil {
		return cli.Usage(err)
	}
	return nil
}

// loadSet loads the named split ("train" or "test") from the data flag's
// directory, after checking that none of outputs is a dataset file.
func loadSet(data, set string, outputs ...userpath.Role) (*fmnist.Set, error) {
	var load func(string) (*fmnist.Set, error)
	switch set {
	case "train":
		load = fmnist.LoadTrain
	case "test":
		load = fmnist.LoadTest
	default:
		return nil, cli.Usage(fmt.Errorf("--set must be train or test, got %q", set))
	}
	dir, err := fmnist.Locate(data)
	if err != nil {
		return nil, err
	}
	if err := checkNotData(dir, outputs); err != nil {
		return nil, err
	}
	return load(dir)
}

// setName names a split in titles.
func setName(set string) string {
	if set == "train" {
		return "training"
	}
	return set
}

// indexListError reports a malformed --index list: the list, the byte
// offset of the offending item and what is wrong with it.
type indexListError struct {
	List   string
	Offset int
	Item   string
	Reason string
}

func (e *indexListError) Error() string {
	return fmt.Sprintf("--index %q: item %q at byte %d: %s", e.List, e.Item, e.Offset, e.Reason)
}

// parseIndexList parses a comma-separated list of image indices and
// inclusive ranges ("3,7,10-12"), each below n, at most limit in all.
func parseIndexList(list string, n, limit int) ([]int, error) {
	var out []int
	off := 0
	for _, raw := range strings.Split(list, ",") {
		item := strings.TrimSpace(raw)
		itemOff := off + len(raw) - len(strings.TrimLeft(raw, " \t"))
		off += len(raw) + 1
		fail := func(format string, args ...any) ([]int, error) {
			return nil, &indexListError{List: list, Offset: itemOff, Item: item, Reason: fmt.Sprintf(format, args...)}
		}
		if item == "" {
			return fail("empty item")
		}
		loS, hiS, isRange := strings.Cut(item, "-")
		lo, err := strconv.Atoi(strings.TrimSpace(loS))
		if err != nil {
			return fail("%q is not a non-negative integer", loS)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(strings.TrimSpace(hiS)); err != nil {
				return fail("%q is not a non-negative integer", hiS)
			}
		}
		switch {
		case lo < 0 || hi < 0:
			return fail("indices are not negative")
		case hi < lo:
			return fail("range %d-%d runs backwards", lo, hi)
		case hi >= n:
			return fail("index %d is past the last image, %d", hi, n-1)
		case hi-lo >= limit || len(out)+hi-lo+1 > limit:
			return fail("more than %d images", limit)
		}
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// indexTitle describes a list of indices briefly: "0-15" or "3, 7, 9".
func indexTitle(idx []int) string {
	contiguous := len(idx) > 2
	for i := 1; i < len(idx) && contiguous; i++ {
		contiguous = idx[i] == idx[i-1]+1
	}
	if contiguous {
		return fmt.Sprintf("%d-%d", idx[0], idx[len(idx)-1])
	}
	parts := make([]string, len(idx))
	for i, v := range idx {
		parts[i] = strconv.Itoa(v)
	}
	s := strings.Join(parts, ", ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func runSamples(args []string, stdout io.Writer) error {
	fs := newFlags("fmtrain samples", stdout, "Usage: fmtrain samples --out FILE [--set train|test] [--index i,j,...] [--data DIR]\n\nDraws Fashion-MNIST images in a 4-column grid titled with their class names\n(the chapter's Figure 12.8) and writes it as a PNG.")
	out := fs.String("out", "", "the PNG `FILE` to write (required)")
	set := fs.String("set", "train", "the `SET`: train or test")
	index := fs.String("index", "", fmt.Sprintf("the images to draw: a `LIST` of indices and ranges such as 0,5,10-12 (default: the first %d)", gridImages))
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR` (default: discovered)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkPictureOut("--out", *out); err != nil {
		return err
	}
	if *set != "train" && *set != "test" {
		return cli.Usage(fmt.Errorf("--set must be train or test, got %q", *set))
	}
	s, err := loadSet(*data, *set, userpath.Role{Flag: "--out", Path: *out})
	if err != nil {
		return err
	}
	var idx []int
	if *index == "" {
		for i := range min(gridImages, s.N) {
			idx = append(idx, i)
		}
	} else if idx, err = parseIndexList(*index, s.N, maxSampleImages); err != nil {
		return cli.Usage(err)
	}
	tiles := make([]viz.Tile, len(idx))
	for i, k := range idx {
		tiles[i] = viz.Tile{Image: viz.GrayImage(s.Image(k), s.Cols, s.Rows), Title: fmnist.ClassNames[s.Labels[k]]}
	}
	title := fmt.Sprintf("Fashion-MNIST %s images %s", setName(*set), indexTitle(idx))
	if len(idx) == 1 {
		title = fmt.Sprintf("Fashion-MNIST %s image %d", setName(*set), idx[0])
	}
	if err := viz.WriteGrid(*out, tiles, viz.GridOptions{Title: title}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", userpath.Show(*out))
	return nil
}

// nthConv returns the index in m.Layers of the n-th (1-based) Conv2D layer.
func nthConv(m *train.Model, n int) (int, *train.Conv2D, error) {
	var names []string
	for i, l := range m.Layers {
		if c, ok := l.(*train.Conv2D); ok {
			names = append(names, l.Name())
			if len(names) == n {
				return i, c, nil
			}
		}
	}
	if len(names) == 0 {
		return 0, nil, cli.Usage(errors.New("--layer: the model has no convolution layer"))
	}
	return 0, nil, cli.Usage(fmt.Errorf("--layer %d: the model has %d convolution layers (%s)", n, len(names), strings.Join(names, ", ")))
}

func runFilters(args []string, stdout io.Writer) error {
	fs := newFlags("fmtrain filters", stdout, "Usage: fmtrain filters --model FILE [--layer N] [--image INDEX] [--data DIR] --out FILE\n\nDraws the first 16 filters of a convolution layer, normalised to [0, 1], in a 4x4\ngrid (the chapter's Figure 12.10), or with --image the layer's first 16 feature\nmaps (after its activation) for one test image, and writes the PNG.")
	model := fs.String("model", "", "the model `FILE`: ONNX or native .fmk (required)")
	layer := fs.Int("layer", 1, "draw the `N`-th convolution layer, 1-based")
	imageIdx := fs.Int("image", 0, "draw the feature maps of the test image `INDEX` instead of the filters (default: the filters)")
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR`, for --image (default: discovered)")
	out := fs.String("out", "", "the PNG `FILE` to write (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return cli.Usage(errors.New("--model is required"))
	}
	if *layer < 1 {
		return cli.Usage(fmt.Errorf("--layer must be at least 1, got %d", *layer))
	}
	if fs.Changed("image") && *imageIdx < 0 {
		return cli.Usage(fmt.Errorf("--image must be a test image index (0 or more), got %d", *imageIdx))
	}
	if err := checkPictureOut("--out", *out); err != nil {
		return err
	}
	if err := userpath.Distinct(userpath.Role{Flag: "--model", Path: *model, Input: true}, userpath.Role{Flag: "--out", Path: *out}); err != nil {
		return cli.Usage(err)
	}
	m, _, err := loadModel(*model)
	if err != nil {
		return err
	}
	li, conv, err := nthConv(m, *layer)
	if err != nil {
		return err
	}
	var tiles []viz.Tile
	var title string
	if !fs.Changed("image") {
		tiles, title, err = filterTiles(conv)
	} else {
		tiles, title, err = featureMapTiles(m, li, conv, *data, *imageIdx, userpath.Role{Flag: "--out", Path: *out})
	}
	if err != nil {
		return err
	}
	if err := viz.WriteGrid(*out, tiles, viz.GridOptions{Title: title, Colormap: viz.Gray}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", userpath.Show(*out))
	return nil
}

// filterTiles returns the first 16 kernels of conv at input channel 0.
func filterTiles(conv *train.Conv2D) ([]viz.Tile, string, error) {
	imgs, err := viz.ConvFilters(conv.W, 0, gridImages)
	if err != nil {
		return nil, "", err
	}
	tiles := make([]viz.Tile, len(imgs))
	for i, img := range imgs {
		tiles[i] = viz.Tile{Image: img, Title: fmt.Sprintf("filter %d", i+1)}
	}
	oc, c := conv.W.Shape[0], conv.W.Shape[1]
	title := fmt.Sprintf("%s: filters 1-%d of %d (%dx%d)", conv.Name(), len(imgs), oc, conv.KH, conv.KW)
	if c > 1 {
		title += fmt.Sprintf(", input channel 0 of %d", c)
	}
	return tiles, title, nil
}

// featureMapTiles returns the first 16 feature maps of test image idx after
// the layer at index li (conv) and its activation.
func featureMapTiles(m *train.Model, li int, conv *train.Conv2D, data string, idx int, out userpath.Role) ([]viz.Tile, string, error) {
	if want := (train.Shape{1, fmnist.Size, fmnist.Size}); !m.InputShape.Equal(want) {
		return nil, "", fmt.Errorf("--image: the model takes %v inputs, not Fashion-MNIST's %v", m.InputShape, want)
	}
	s, err := loadSet(data, "test", out)
	if err != nil {
		return nil, "", err
	}
	if idx >= s.N {
		return nil, "", cli.Usage(fmt.Errorf("--image %d: the test set has images 0-%d", idx, s.N-1))
	}
	x := make([]float32, s.Rows*s.Cols)
	fmnist.Scale(x, s.Image(idx))
	imgs, err := viz.FeatureMaps(m, li, x, gridImages)
	if err != nil {
		return nil, "", err
	}
	tiles := make([]viz.Tile, len(imgs))
	for i, img := range imgs {
		tiles[i] = viz.Tile{Image: img, Title: fmt.Sprintf("channel %d", i+1)}
	}
	act := conv.Act.String()
	if li+1 < len(m.Layers) && conv.Act == train.ActNone {
		if _, ok := m.Layers[li+1].(*train.ReLU); ok {
			act = "relu"
		}
	}
	title := fmt.Sprintf("%s (%s) feature maps 1-%d of %d, test image %d (%s)",
		conv.Name(), act, len(imgs), conv.Filters, idx, fmnist.ClassNames[s.Labels[idx]])
	return tiles, title, nil
}

func runAugmentPreview(args []string, stdout io.Writer) error {
	fs := newFlags("fmtrain augment-preview", stdout, "Usage: fmtrain augment-preview [--augment SPEC] [--index N] [--count K] [--seed S] [--set train|test] [--data DIR] --out FILE\n\nDraws one image beside K randomly augmented versions of it (the chapter's\nFigures 12.11 to 12.15) and writes the PNG.")
	spec := fs.String("augment", defaultAugment, "the augmentation `SPEC`, e.g. \"hflip,hshift=3\" (hflip, vflip, rotate=DEG, wshift=R, hshift=R; R as Keras reads it: 3 whole pixels -2..2, 3.0 or 2.5 real pixels, 0.1 a fraction); the default is the book's")
	index := fs.Int("index", 0, "the image's `INDEX` in the set")
	count := fs.Int("count", defaultAugmentK, fmt.Sprintf("augmented versions to draw, 1-%d", maxAugmentK))
	seed := fs.Uint64("seed", defaultAugmentSeed, "random seed of the augmentation")
	set := fs.String("set", "train", "the `SET`: train or test")
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR` (default: discovered)")
	out := fs.String("out", "", "the PNG `FILE` to write (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	aug, err := train.ParseAugment(*spec)
	if err != nil {
		return cli.Usage(fmt.Errorf("--augment: %w", err))
	}
	if *count < 1 || *count > maxAugmentK {
		return cli.Usage(fmt.Errorf("--count must be in 1-%d, got %d", maxAugmentK, *count))
	}
	if *index < 0 {
		return cli.Usage(fmt.Errorf("--index must be 0 or more, got %d", *index))
	}
	if *set != "train" && *set != "test" {
		return cli.Usage(fmt.Errorf("--set must be train or test, got %q", *set))
	}
	if err := checkPictureOut("--out", *out); err != nil {
		return err
	}
	s, err := loadSet(*data, *set, userpath.Role{Flag: "--out", Path: *out})
	if err != nil {
		return err
	}
	if *index >= s.N {
		return cli.Usage(fmt.Errorf("--index %d: the %s set has images 0-%d", *index, *set, s.N-1))
	}
	tiles := augmentTiles(s, *index, aug, *count, *seed)
	title := fmt.Sprintf("%s (%s image %d): augment %s, seed %d",
		fmnist.ClassNames[s.Labels[*index]], setName(*set), *index, aug, *seed)
	if err := viz.WriteGrid(*out, tiles, viz.GridOptions{Title: title, Cols: min(len(tiles), 9)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", userpath.Show(*out))
	return nil
}

// augmentTiles returns image idx of s titled "original" followed by k
// augmented copies drawn with aug from a generator seeded with seed.
func augmentTiles(s *fmnist.Set, idx int, aug train.Augment, k int, seed uint64) []viz.Tile {
	px := s.Rows * s.Cols
	src := make([]float32, k*px)
	for i := range k {
		fmnist.Scale(src[i*px:(i+1)*px], s.Image(idx))
	}
	dst := make([]float32, k*px)
	aug.Apply(dst, src, k, 1, s.Rows, s.Cols, train.NewRNG(seed))
	tiles := []viz.Tile{{Image: viz.GrayImage(s.Image(idx), s.Cols, s.Rows), Title: "original"}}
	for i := range k {
		tiles = append(tiles, viz.Tile{Image: viz.UnitGray(dst[i*px:(i+1)*px], s.Cols, s.Rows), Title: "augmented"})
	}
	return tiles
}

// writeConfusionPlot writes conf as a heatmap titled with the model's file
// name and accuracy.
func writeConfusionPlot(path, model string, conf *train.Confusion) error {
	title := fmt.Sprintf("%s: accuracy %.2f%% on %s test images", filepath.Base(model), 100*conf.Accuracy(), thousands(conf.Total()))
	return viz.WriteConfusion(path, conf.Counts, fmnist.ClassNames[:], title)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
