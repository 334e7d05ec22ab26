package onnxgocheck

import (
	"os"
	"strings"
	"testing"

	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/simple"
)

// TestDecode decodes each model named in $FMKIT_ONNXGO_MODELS (separated by the path
// list separator ':') into onnx-go's simple graph backend and checks that the book
// model's interface values and initializers arrived under their names.
func TestDecode(t *testing.T) {
	list := os.Getenv("FMKIT_ONNXGO_MODELS")
	if list == "" {
		t.Skip("run by onnxexport's TestOnnxGoDecodes, which sets FMKIT_ONNXGO_MODELS")
	}
	for _, path := range strings.Split(list, ":") {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		backend := simple.NewSimpleGraph()
		m := onnxgo.NewModel(backend)
		if err := m.UnmarshalBinary(b); err != nil {
			t.Errorf("%s: onnx-go: %v", path, err)
			continue
		}
		for _, name := range []string{"input", "conv1.weight", "conv3.bias", "dense2.weight", "logits", "probabilities"} {
			if _, ok := m.GetNodeByName(name); !ok {
				t.Errorf("%s: onnx-go has no node %q", path, name)
			}
		}
		// input + 10 initializers + 13 operators, plus the values between them.
		if got := backend.Nodes().Len(); got < 24 {
			t.Errorf("%s: onnx-go's graph has %d nodes, want at least 24", path, got)
		}
		t.Logf("%s: onnx-go decoded %d graph nodes", path, backend.Nodes().Len())
	}
}
