package onnxexport

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/pkg/train"
)

// TestOnnxGoDecodes exports the book model at opsets 13 and 17 and has owulveryck/onnx-go
// v0.5.0 decode them into its simple backend (see internal/onnxgocheck for why this runs
// as a separate test binary).
func TestOnnxGoDecodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate test binary; skipped in -short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	dir := t.TempDir()
	var paths []string
	for _, opset := range []int{MinExportOpset, MaxExportOpset} {
		p := filepath.Join(dir, "book"+strconv.Itoa(opset)+".onnx")
		if err := WriteModel(p, train.BookModel(train.NewRNG(1)), ExportOptions{Opset: opset, Logits: true}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cmd := exec.Command(goBin, "test", "-count=1", "-v", "-run", "TestDecode", "./internal/onnxgocheck")
	cmd.Env = append(os.Environ(), "FMKIT_ONNXGO_MODELS="+strings.Join(paths, ":"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("onnx-go check: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestDecode") {
		t.Fatalf("onnx-go check did not run:\n%s", out)
	}
	t.Logf("%s", out)
}
