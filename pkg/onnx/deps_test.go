package onnx

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFormatOnly keeps this package the format alone: nothing of the training engine, the
// bridge, the data loader or onnxruntime in its dependencies (tests excluded), so that
// adding an op here cannot tangle the layers. pkg/onnxexport is where they meet.
func TestFormatOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		for _, bad := range []string{"github.com/fmkit/fmkit/pkg/train", "github.com/fmkit/fmkit/pkg/onnxexport",
			"github.com/fmkit/fmkit/pkg/fmnist", "github.com/fmkit/fmkit/pkg/runtime", "github.com/fmkit/fmkit/internal/gemm",
			"github.com/fmkit/fmkit/internal/adam", "github.com/fmkit/fmkit/internal/window",
			"github.com/yalue/onnxruntime_go"} {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("pkg/onnx depends on %s", d)
			}
		}
	}
}
