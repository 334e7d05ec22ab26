package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// makeVar returns the value of the Makefile variable name (NAME := VALUE on one line).
func makeVar(t *testing.T, makefile, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `\s*:=\s*(.+)$`).FindStringSubmatch(makefile)
	if m == nil {
		t.Fatalf("Makefile defines no %s", name)
	}
	return strings.TrimSpace(m[1])
}

// shortTests returns, for every _test.go file under root (testdata, caches and build
// outputs left out), the names of the Test functions that call testing.Short: the tests
// `make test`'s `go test -short` skips or cuts down.
func shortTests(t *testing.T, root string) map[string]string {
	t.Helper()
	found := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", ".cache", ".git", "bin", "out":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Short" {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "testing" {
						rel, _ := filepath.Rel(root, path)
						found[fn.Name.Name] = rel
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestEveryTestRunsSomewhere keeps the Makefile's lists true: a test that -short skips or
// cuts down must run in full in test-extra (EXTRA_TESTS, part of make test) or test-long
// (LONG_TESTS), and every name EXTRA_TESTS lists must be a test that exists.
func TestEveryTestRunsSomewhere(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mk := string(b)
	extraList := makeVar(t, mk, "EXTRA_TESTS")
	extra := regexp.MustCompile(`^(` + extraList + `)$`)
	long := regexp.MustCompile(makeVar(t, mk, "LONG_TESTS"))
	if !strings.Contains(mk, "-run '^($(EXTRA_TESTS))$$'") || !strings.Contains(mk, "-run '$(LONG_TESTS)'") {
		t.Error("the Makefile no longer runs EXTRA_TESTS and LONG_TESTS as this test reads them")
	}
	short := shortTests(t, root)
	if len(short) < 5 {
		t.Fatalf("found only %d tests calling testing.Short: the walk is broken", len(short))
	}
	for name, file := range short {
		if !extra.MatchString(name) && !long.MatchString(name) {
			t.Errorf("%s (%s) calls testing.Short but neither EXTRA_TESTS nor LONG_TESTS in the Makefile runs it in full", name, file)
		}
	}
	for _, name := range strings.Split(extraList, "|") {
		if _, ok := short[name]; !ok {
			t.Errorf("EXTRA_TESTS lists %s, which is no test that -short skips (renamed or gone?)", name)
		}
	}
}
