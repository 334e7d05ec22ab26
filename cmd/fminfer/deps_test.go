package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoPlottingLibrary keeps gonum/plot (and the LaTeX renderer it pulls in)
// out of fminfer: its package initialisation parses a whole font collection
// at every start, about half of fminfer's start-up CPU time, whether or not a
// picture is asked for. fminfer's pictures come from pkg/viz's raster
// figures; only fmtrain's training curves use gonum/plot (pkg/viz/curves).
func TestNoPlottingLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "gonum.org/v1/plot") || strings.HasPrefix(d, "codeberg.org/go-latex/") {
			t.Errorf("fminfer depends on %s", d)
		}
	}
}
