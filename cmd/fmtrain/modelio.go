package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fmkit/fmkit/internal/cli"
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
	return onnxexport.ExportOptions{Opset: e.opset, Logits: e.logits, Metadata: meta,
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

// checkBundleDir fails early when the bundle directory cannot be made.
func checkBundleDir(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return cli.Usage(fmt.Errorf("--bundle %s is not a directory", dir))
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return cli.Usage(fmt.Errorf("--bundle %s: directory %s does not exist", dir, parent))
	}
	return nil
}

// loadModel reads a model file, ONNX or native (told apart by content, not
// by name), and returns its metadata.
func loadModel(path string) (*train.Model, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	head := make([]byte, len(train.CheckpointMagic))
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(head, []byte(train.CheckpointMagic)) {
		m, c, err := train.LoadModel(path, nil)
		if err != nil {
			return nil, nil, err
		}
		return m, c.Extra, nil
	}
	m, info, err := onnxexport.ImportFile(path)
	if err != nil {
		// Not the native format (no FMKCKPT magic), so it is judged as ONNX;
		// the importer's error names the file, node or tensor at fault.
		return nil, nil, fmt.Errorf("%s (not a native .fmk model, read as ONNX): %w", path, err)
	}
	if !m.InputShape.Equal(train.Shape{1, 28, 28}) {
		return nil, nil, fmt.Errorf("%s: the model takes inputs of shape %v, not (1,28,28)", path, m.InputShape)
	}
	return m, info.Metadata, nil
}
