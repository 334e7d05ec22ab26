// Command fmlayout prints the layout figures of the module: files and lines per package
// (non-test and test files apart; generated .pb.go files counted), and the largest
// functions by lines and by a cyclomatic-like count (1 + if, for, range, case, &&, ||),
// tests and generated code left out. It reads the files git tracks or would track.
//
//	go run ./internal/cmd/fmlayout [-top N]   (from the repository root)
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

type fn struct {
	name  string
	lines int
	cyclo int
}

func main() {
	top := flag.Int("top", 15, "largest functions to list")
	flag.Parse()
	out, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "*.go").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	type pkgStat struct{ files, lines, testFiles, testLines int }
	pk := map[string]*pkgStat{}
	var fns []fn
	fset := token.NewFileSet()
	for _, path := range strings.Fields(string(out)) {
		if strings.HasPrefix(path, "out/") { // scratch space, ignored by git
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		dir := filepath.Dir(path)
		s := pk[dir]
		if s == nil {
			s = &pkgStat{}
			pk[dir] = s
		}
		n := strings.Count(string(src), "\n")
		gen := strings.HasSuffix(path, ".pb.go")
		if strings.HasSuffix(path, "_test.go") {
			s.testFiles++
			s.testLines += n
		} else {
			s.files++
			s.lines += n
		}
		if gen || strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				t := fd.Recv.List[0].Type
				if st, ok := t.(*ast.StarExpr); ok {
					t = st.X
				}
				if id, ok := t.(*ast.Ident); ok {
					name = id.Name + "." + name
				}
			}
			c := 1
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt, *ast.CaseClause, *ast.CommClause:
					c++
				case *ast.BinaryExpr:
					if x.Op == token.LAND || x.Op == token.LOR {
						c++
					}
				}
				return true
			})
			l := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			fns = append(fns, fn{dir + ":" + name, l, c})
		}
	}
	dirs := make([]string, 0, len(pk))
	for d := range pk {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	fmt.Printf("%-40s %6s %7s %6s %7s\n", "PACKAGE", "FILES", "LINES", "TESTF", "TESTL")
	var tf, tl, tt, ttl int
	for _, d := range dirs {
		s := pk[d]
		fmt.Printf("%-40s %6d %7d %6d %7d\n", d, s.files, s.lines, s.testFiles, s.testLines)
		tf += s.files
		tl += s.lines
		tt += s.testFiles
		ttl += s.testLines
	}
	fmt.Printf("%-40s %6d %7d %6d %7d\n", "TOTAL", tf, tl, tt, ttl)
	sort.Slice(fns, func(i, j int) bool { return fns[i].lines > fns[j].lines })
	fmt.Printf("\nLargest functions by lines (non-test, non-generated):\n")
	for i := 0; i < *top && i < len(fns); i++ {
		fmt.Printf("%5d lines  cyclo %3d  %s\n", fns[i].lines, fns[i].cyclo, fns[i].name)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].cyclo > fns[j].cyclo })
	fmt.Printf("\nLargest functions by cyclomatic count:\n")
	for i := 0; i < *top && i < len(fns); i++ {
		fmt.Printf("cyclo %3d  %5d lines  %s\n", fns[i].cyclo, fns[i].lines, fns[i].name)
	}
}
