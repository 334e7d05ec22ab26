package onnxexport

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/pkg/onnx"
)

var updateSupport = flag.Bool("update", false, "rewrite docs/onnx-support.md from the code")

const supportDocPath = "../../docs/onnx-support.md"

// TestSupportDocCurrent checks that docs/onnx-support.md is what SupportDoc generates (with
// -update it rewrites it), and that it names every claimed op.
func TestSupportDocCurrent(t *testing.T) {
	want := SupportDoc()
	for _, op := range onnx.ClaimedOps {
		if _, ok := nativeSupport[op]; !ok {
			t.Errorf("op %s has no native-engine note in support.go", op)
		}
		if !strings.Contains(want, "| "+op+" |") {
			t.Errorf("the support table lacks %s", op)
		}
	}
	if *updateSupport {
		if err := os.WriteFile(supportDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(supportDocPath)
	if err != nil || string(got) != want {
		t.Errorf("%s is stale (err %v): go test ./pkg/onnxexport -run TestSupportDocCurrent -update", supportDocPath, err)
	}
}

// TestUnsupportedPointsToSupportDoc: an unsupported op's error names the support page.
func TestUnsupportedPointsToSupportDoc(t *testing.T) {
	m := graphModel(t, 13, dims(3), []string{"y"}, nil, node("h", "HardSigmoid", []string{"x"}, []string{"y"}))
	_, _, err := Import(m)
	if err == nil || !strings.Contains(err.Error(), onnx.SupportDoc) {
		t.Errorf("error %v does not point to %s", err, onnx.SupportDoc)
	}
}
