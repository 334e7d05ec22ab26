//go:build cgo

package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// ortDescs converts onnxruntime_go's descriptions into tensorDescs, as build did before
// graphIO replaced onnxruntime's GetInputOutputInfo: the reference graphIO must match.
func ortDescs(infos []ort.InputOutputInfo) []tensorDesc {
	out := make([]tensorDesc, len(infos))
	for i, t := range infos {
		d := tensorDesc{
			Name:     t.Name,
			IsTensor: t.OrtValueType == ort.ONNXTypeTensor,
			Shape:    []int64(t.Dimensions.Clone()),
		}
		if d.IsTensor {
			d.IsFloat = t.DataType == ort.TensorElementDataTypeFloat
			d.Type = "a " + strings.ToLower(strings.TrimPrefix(t.DataType.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_")) + " tensor"
		}
		out[i] = d
	}
	return out
}

// TestGraphIOMatchesORT reads the inputs and outputs of every model at hand with graphIO
// and with onnxruntime's GetInputOutputInfo (which builds a session): this project's
// models and fixtures, and each of the ONNX backend conformance models (Debian's
// libonnx-testdata) that onnxruntime loads. Names, kinds, element types and shapes must
// agree.
func TestGraphIOMatchesORT(t *testing.T) {
	if _, err := acquire(""); err != nil {
		t.Fatalf("onnxruntime: %v", err)
	}
	defer release()
	var files []string
	for _, pat := range []string{
		testdataDir + "/*.onnx",
		"../../testdata/onnx/*.onnx",
		"../../testdata/onnx/*/*.onnx",
		"../../models/*.onnx",
		"/usr/include/onnx/backend/test/data/node/*/model.onnx",
	} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 900 {
		t.Fatalf("found %d models, want the project's and the ~930 conformance models (run make setup)", len(files))
	}
	compared, tensorsSeen := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		oins, oouts, oerr := ort.GetInputOutputInfoWithONNXData(data)
		ins, outs, err := graphIO(data)
		if oerr != nil {
			continue // onnxruntime cannot load it (an op it lacks, or garbage): nothing to compare
		}
		if err != nil {
			t.Errorf("%s: onnxruntime loads it but graphIO fails: %v", f, err)
			continue
		}
		compared++
		for _, c := range []struct {
			what      string
			got, want []tensorDesc
		}{{"inputs", ins, ortDescs(oins)}, {"outputs", outs, ortDescs(oouts)}} {
			if len(c.got) != len(c.want) {
				t.Errorf("%s: %d %s, onnxruntime reports %d", f, len(c.got), c.what, len(c.want))
				continue
			}
			for i, w := range c.want {
				g := c.got[i]
				tensorsSeen++
				if g.Name != w.Name || g.IsTensor != w.IsTensor || g.IsFloat != w.IsFloat ||
					(w.IsTensor && (g.Type != w.Type || !slices.Equal(g.Shape, w.Shape))) {
					t.Errorf("%s: %s[%d] = %+v, onnxruntime reports %+v", f, c.what, i, g, w)
				}
			}
		}
	}
	t.Logf("%d of %d models compared (%d inputs and outputs); the rest onnxruntime cannot load", compared, len(files), tensorsSeen)
	if compared < 800 {
		t.Errorf("only %d models compared", compared)
	}
}
