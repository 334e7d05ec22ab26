package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersion: each built tool's --version reports what the Go toolchain stamped into the
// binary (go version -m): the module's version, the VCS revision when the build has one
// (or says it has none), and the Go version; fminfer adds the onnxruntime library.
func TestVersion(t *testing.T) {
	for _, tool := range []string{"fmtrain", "fminfer"} {
		bin := filepath.Join(binDir, tool)
		info, err := exec.Command("go", "version", "-m", bin).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", bin, err)
		}
		setting := func(key string) string {
			m := regexp.MustCompile(`(?m)^\s+build\s+` + regexp.QuoteMeta(key) + `=(\S+)`).FindSubmatch(info)
			if m == nil {
				return ""
			}
			return string(m[1])
		}
		goVersion := strings.Fields(strings.SplitN(string(info), "\n", 2)[0])[1]
		mod := regexp.MustCompile(`(?m)^\s+mod\s+(\S+)\s+(\S+)`).FindSubmatch(info)
		r := runWith(t, repo, tool, nil, -1, fileTimeout, "--version")
		if r.code != 0 {
			t.Fatalf("%s --version: exit %d\n%s", tool, r.code, r.stderr)
		}
		out := r.stdout
		want := []string{tool + " version " + string(mod[2]) + "\n", "module:      " + string(mod[1]) + "\n", "go:          " + goVersion + " "}
		if rev := setting("vcs.revision"); rev != "" {
			want = append(want, "revision:    "+rev)
		} else {
			want = append(want, "revision:    unknown")
		}
		if tool == "fminfer" {
			want = append(want, "onnxruntime: ")
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s --version lacks %q:\n%s\n(go version -m:\n%s)", tool, w, out, info)
			}
		}
	}
}
