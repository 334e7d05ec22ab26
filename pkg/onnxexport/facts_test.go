package onnxexport

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/models"
	"github.com/fmkit/fmkit/pkg/fmnist"
)

// TestDatasetFactsFromCaller: the bridge does not import the dataset package; the facts a
// caller passes from fmnist.ModelFacts equal the compatibility defaults (defaults.go), and
// so give the bytes a caller passing none gets, the default model's included.
func TestDatasetFactsFromCaller(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	if deps := strings.Fields(string(out)); slices.Contains(deps, "github.com/fmkit/fmkit/pkg/fmnist") {
		t.Error("pkg/onnxexport depends on pkg/fmnist: dataset facts must come from the caller")
	}
	f := fmnist.ModelFacts()
	if !slices.Equal(f.ClassNames, compatClassNames) {
		t.Errorf("fmnist.ModelFacts().ClassNames = %q, the compatibility default %q", f.ClassNames, compatClassNames)
	}
	pre := Preprocessing(f.Preprocessing)
	if pre != compatPreprocessing {
		t.Errorf("fmnist.ModelFacts().Preprocessing = %+v, the compatibility default %+v", pre, compatPreprocessing)
	}
	withFacts := func(o ExportOptions) ExportOptions {
		o.ClassNames, o.Preprocessing = f.ClassNames, &pre
		return o
	}
	for name, m := range testModels(t) {
		for _, o := range []ExportOptions{{}, {Logits: true, Opset: 17}} {
			a, err := Export(m, o)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Export(m, withFacts(o))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s %+v: exporting with fmnist.ModelFacts changes the bytes", name, o)
			}
		}
	}
	m, info, err := Import(models.Default)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for k, v := range info.Metadata {
		if k != MetaClassNames && k != MetaPreprocessing {
			meta[k] = v
		}
	}
	b, err := Export(m, withFacts(ExportOptions{Opset: int(info.Opset), DocString: info.DocString,
		ProducerVersion: info.ProducerVersion, GraphName: info.GraphName, Metadata: meta}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, models.Default) {
		t.Error("re-exporting models/fmnist.onnx with fmnist.ModelFacts does not give the file's bytes")
	}
}
