package main

import (
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/viz"
)

// runExport converts a model file (native or ONNX) to ONNX, optionally
// with a model-zoo bundle.
func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fmtrain export", stdout, "Usage: fmtrain export --model FILE --out FILE.onnx [--opset N] [--logits] [--bundle DIR]\n\nWrites a model (native .fmk, a training checkpoint, or ONNX) as ONNX.")
	model := fs.String("model", "", "the model `FILE` to read: native .fmk, a training checkpoint, or ONNX (required)")
	out := fs.String("out", "", "the ONNX `FILE` to write (required)")
	var e exportOptions
	fs.IntVar(&e.opset, "opset", 13, "ONNX opset (13 to 17)")
	fs.BoolVar(&e.logits, "logits", false, "add a 'logits' output beside 'probabilities'")
	bundle := fs.String("bundle", "", "also write a model-zoo bundle into directory `DIR` (needs the dataset)")
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR`, for --bundle (default: discovered)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" || *out == "" {
		return cli.Usage(errors.New("--model and --out are required"))
	}
	if !strings.EqualFold(filepath.Ext(*out), ".onnx") {
		return cli.Usage(fmt.Errorf("--out %s: export writes ONNX; name the file .onnx", userpath.Show(*out)))
	}
	if err := e.check(*out); err != nil {
		return err
	}
	if err := checkOutputDir(*out); err != nil {
		return err
	}
	if err := cli.CheckOutputFile("--out", *out); err != nil {
		return err
	}
	roles := []userpath.Role{{Flag: "--model", Path: *model, Input: true}, {Flag: "--out", Path: *out}}
	if *bundle != "" {
		if err := checkBundleDir(*bundle); err != nil {
			return err
		}
		roles = append(roles, userpath.Role{Flag: "--bundle's model.onnx", Path: filepath.Join(*bundle, "model.onnx")})
	}
	if err := userpath.Distinct(roles...); err != nil {
		return cli.Usage(err)
	}
	m, meta, err := loadModel(*model)
	if err != nil {
		return err
	}
	if meta == nil {
		meta = map[string]string{}
	}
	removeStale(stderr, *out)
	if err := saveModel(*out, m, meta["arch"], meta, e); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", userpath.Show(*out))
	if *bundle != "" {
		test, err := loadTestSet(*data)
		if err != nil {
			return err
		}
		if err := checkBundleDir(*bundle); err != nil {
			return err
		}
		removeStale(stderr, filepath.Join(*bundle, "model.onnx"))
		if err := writeBundle(*bundle, m, meta, e, test); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote the model-zoo bundle %s\n", userpath.Show(*bundle))
	}
	return nil
}

// removeStale removes the temporary files that killed writes of paths
// left (see atomicfile.RemoveStale), saying so on w.
func removeStale(w io.Writer, paths ...string) {
	for _, p := range paths {
		removed, err := atomicfile.RemoveStale(p)
		for _, q := range removed {
			fmt.Fprintf(w, "fmtrain: removed %s, left by an interrupted write\n", userpath.Show(q))
		}
		if err != nil {
			fmt.Fprintf(w, "fmtrain: warning: cleaning up beside %s: %v\n", userpath.Show(p), userpath.Sanitize(err.Error()))
		}
	}
}

// runImages writes dataset images as files: PNGs exactly as in the dataset,
// or catalog-style photos (dark object on white, 224x224, JPEG).
func runImages(args []string, stdout io.Writer) error {
	fs := newFlags("fmtrain images", stdout, "Usage: fmtrain images --out DIR [--set train|test] [--index LIST] [--catalog]\n\nWrites dataset images as NNNNN-Class.png, exactly as in the dataset; with --catalog as\ncatalog-style photos instead (inverted to a dark object on white, upscaled bilinearly to\n224x224, JPEG quality 90), the form a user's product photo would take.")
	out := fs.String("out", "", "the directory `DIR` to write into (created if missing; required)")
	set := fs.String("set", "test", "the `SET`: train or test")
	index := fs.String("index", "0-15", "the image indices, a `LIST` such as 0,5,10-12")
	catalog := fs.Bool("catalog", false, "write catalog-style JPEG photos instead of the dataset's PNGs")
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR` (default: discovered)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return cli.Usage(errors.New("--out is required"))
	}
	if st, err := os.Stat(filepath.Dir(filepath.Clean(*out))); err != nil || !st.IsDir() {
		return cli.Usage(fmt.Errorf("--out %s: its parent directory does not exist", userpath.Show(*out)))
	}
	s, err := loadSet(*data, *set)
	if err != nil {
		return err
	}
	idx, err := parseIndexList(*index, s.N, s.N)
	if err != nil {
		return cli.Usage(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, i := range idx {
		name := fmt.Sprintf("%05d-%s", i, strings.NewReplacer("/", "-", " ", "_").Replace(fmnist.ClassNames[s.Labels[i]]))
		g := viz.GrayImage(s.Image(i), s.Cols, s.Rows)
		var err error
		if *catalog {
			err = atomicfile.Write(filepath.Join(*out, name+".jpg"), 0o644, func(w io.Writer) error {
				return jpeg.Encode(w, fmnist.CatalogStyle(g), &jpeg.Options{Quality: 90})
			})
		} else {
			err = atomicfile.Write(filepath.Join(*out, name+".png"), 0o644, func(w io.Writer) error { return png.Encode(w, g) })
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d images to %s\n", len(idx), userpath.Show(*out))
	return nil
}
