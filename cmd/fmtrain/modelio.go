package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	"github.com/fmkit/fmkit/pkg/train"
)

// exportOptions are the ONNX flags of training and export.
type exportOptions struct {
	opset  int
	logits bool
}

// check validates the options for the model path out.
func (e exportOptions) check(out string) error {
	if _, ok := onnxexport.IRVersionFor(e.opset); !ok || e.opset < onnxexport.MinExportOpset || e.opset > onnxexport.MaxExportOpset {
		return cli.Usage(fmt.Errorf("--opset must be between %d and %d, got %d", onnxexport.MinExportOpset, onnxexport.MaxExportOpset, e.opset))
	}
	if ext := strings.ToLower(filepath.Ext(out)); ext != ".onnx" && ext != ".fmk" {
		return cli.Usage(fmt.Errorf("--out %s: the extension names the format: .onnx (ONNX) or .fmk (native)", out))
	}
	return nil
}

func (e exportOptions) onnx(meta map[string]string) onnxexport.ExportOptions {
	// The dataset's facts come from the dataset package: onnxexport knows
	// no dataset of its own.
	facts := fmnist.ModelFacts()
	pre := onnxexport.Preprocessing(facts.Preprocessing)
	return onnxexport.ExportOptions{Opset: e.opset, Logits: e.logits, Metadata: meta,
		ClassNames: facts.ClassNames, Preprocessing: &pre,
		DocString: "Fashion-MNIST CNN trained by fmkit's fmtrain (" + meta["arch"] + ")"}
}

// saveModel writes the model in the format its extension names: ONNX for
// .onnx, the native format (see pkg/train's checkpoint.go) for .fmk. The
// write is atomic either way.
func saveModel(path string, m *train.Model, arch string, meta map[string]string, e exportOptions) error {
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return onnxexport.WriteModel(path, m, e.onnx(meta))
	}
	return train.SaveModel(path, m, arch, meta)
}

// bundleImages is how many real test images a model-zoo bundle holds.
const bundleImages = 16

// writeBundle writes a model-zoo directory: model.onnx and test_data_set_0
// with real test images and the native engine's outputs.
func writeBundle(dir string, m *train.Model, meta map[string]string, e exportOptions, test *train.Data) error {
	n := min(bundleImages, test.N())
	in := m.InputShape.Size()
	return onnxexport.WriteBundle(dir, m, e.onnx(meta), test.X[:n*in], n)
}

// checkBundleDir fails when the bundle directory cannot be made, or when
// something planted in it would take the bundle's files elsewhere: its
// test_data_set_0 must be a real directory, not a symbolic link (which
// writing into would follow out of the bundle), and its model.onnx must not
// be a directory. The bundle's files themselves are replaced by atomic
// renames, which replace a symbolic link rather than follow it.
func checkBundleDir(dir string) error {
	show := userpath.Show(dir)
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return cli.Usage(fmt.Errorf("--bundle %s is not a directory", show))
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return cli.Usage(fmt.Errorf("--bundle %s: directory %s does not exist", show, userpath.Show(parent)))
	}
	sets := filepath.Join(dir, "test_data_set_0")
	if st, err := os.Lstat(sets); err == nil && !st.IsDir() {
		what := userpath.Kind(st.Mode())
		if target, err := os.Readlink(sets); err == nil {
			what += " to " + userpath.Show(target)
		}
		return cli.Usage(fmt.Errorf("--bundle %s: %s is %s, not a directory of the bundle; remove it (fmtrain writes only inside the bundle)", show, userpath.Show(sets), what))
	}
	if st, err := os.Lstat(filepath.Join(dir, "model.onnx")); err == nil && st.IsDir() {
		return cli.Usage(fmt.Errorf("--bundle %s: %s is a directory", show, userpath.Show(filepath.Join(dir, "model.onnx"))))
	}
	return nil
}

// loadModel reads a model file, ONNX or native (told apart by content, not
// by name), and returns its metadata. The file is read once, through
// userpath: only a regular file, never blocking on a named pipe.
func loadModel(path string) (*train.Model, map[string]string, error) {
	data, err := userpath.ReadFile(path, onnxexport.MaxModelFileBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("--model: %w", err)
	}
	name := userpath.Show(path)
	if bytes.HasPrefix(data, []byte(train.CheckpointMagic)) {
		m, c, err := train.DecodeModel(name, data, nil)
		if err != nil {
			return nil, nil, err
		}
		return m, c.Extra, nil
	}
	m, info, err := onnxexport.Import(data)
	if err != nil {
		// Not the native format (no FMKCKPT magic), so it is judged as ONNX;
		// the importer's error names the node or tensor at fault.
		return nil, nil, fmt.Errorf("%s (not a native .fmk model, read as ONNX): %w", name, err)
	}
	if !m.InputShape.Equal(train.DefaultInputShape()) {
		return nil, nil, fmt.Errorf("%s: the model takes inputs of shape %v, not (1,28,28)", name, m.InputShape)
	}
	return m, info.Metadata, nil
}
