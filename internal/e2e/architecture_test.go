package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pathRE matches a backquoted package path in Markdown.
var pathRE = regexp.MustCompile("`((?:pkg|internal|cmd)(?:/[a-z0-9_]+)+)`")

// TestArchitectureNamesEveryPackage keeps docs/architecture.md true to the tree: every
// package of the module (scratch under out/ left out) is named there in backquotes, and
// every package path it names in backquotes exists.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/fmkit/fmkit/"
	have := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(p, module)
		if rel == p || strings.HasPrefix(rel, "out/") {
			continue
		}
		have[rel] = true
		if !strings.Contains(string(doc), "`"+rel+"`") {
			t.Errorf("docs/architecture.md does not name the package `%s`", rel)
		}
	}
	if len(have) < 10 {
		t.Fatalf("go list found %d packages", len(have))
	}
	// Backquoted names that look like package paths (pkg/..., internal/..., cmd/..., not
	// ending in a slash) must be packages.
	for _, m := range pathRE.FindAllStringSubmatch(string(doc), -1) {
		if !have[m[1]] {
			t.Errorf("docs/architecture.md names `%s`, which is no package", m[1])
		}
	}
}
