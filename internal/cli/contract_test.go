package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWantsJSON(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--json"}, true},
		{[]string{"x", "--json=true"}, true},
		{[]string{"--json", "--json=false"}, false},
		{[]string{"--", "--json"}, false},
		{[]string{"--jsonx"}, false},
	} {
		if got := WantsJSON(c.args); got != c.want {
			t.Errorf("%q: %v, want %v", c.args, got, c.want)
		}
	}
}

func TestVersionArgs(t *testing.T) {
	for _, c := range []struct {
		args    []string
		json    bool
		errWith string // "" for no error
	}{
		{nil, false, ""},
		{[]string{"--json"}, true, ""},
		{[]string{"--json=1"}, true, ""},
		{[]string{"--json", "--json=false"}, false, ""},
		{[]string{"--json=maybe"}, false, "want true or false"},
		{[]string{"--json", "extra"}, false, `got "extra"`},
		{[]string{"--verbose"}, false, "takes no arguments but --json"},
	} {
		got, err := VersionArgs(c.args)
		switch {
		case c.errWith == "" && (err != nil || got != c.json):
			t.Errorf("%q: %v, %v; want %v", c.args, got, err, c.json)
		case c.errWith != "" && (err == nil || !IsUsage(err) || !strings.Contains(err.Error(), c.errWith)):
			t.Errorf("%q: %v; want a usage error with %q", c.args, err, c.errWith)
		}
	}
	b, err := json.Marshal(Version{Tool: "t", Version: "v1", Go: "go1", Platform: "a/b"})
	if err != nil || string(b) != `{"tool":"t","version":"v1","go":"go1","platform":"a/b","cgo":false}` {
		t.Errorf("Version without a VCS stamp as JSON: %s %v", b, err)
	}
}

func TestMessage(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"runtime: model m.onnx: refused by the model check: onnx: node \"a\" (Conv): bad", "model m.onnx: refused by the model check: node \"a\" (Conv): bad"},
		{"onnxexport: onnxexport: import: x", "import: x"},
		{"--arch: train: arch \"c3-zz\": token", "--arch: arch \"c3-zz\": token"},
		{"model (proto: cannot\u00a0parse)", "model (cannot parse)"},
		{"open train.onnx: no such file", "open train.onnx: no such file"},
	} {
		if got := Message(errors.New(c.in)); got != c.want {
			t.Errorf("Message(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestKindAndFailed(t *testing.T) {
	for code, want := range map[int]string{ExitOK: "ok", ExitFailed: "check_failed", ExitUsage: "usage", ExitCannotRun: "cannot_run", ExitProvider: "provider_unavailable", ExitInterrupted: "interrupted", 9: "exit_9"} {
		if got := Kind(code); got != want {
			t.Errorf("Kind(%d) = %q, want %q", code, got, want)
		}
	}
	var fe FailedError
	if err := fmt.Errorf("wrapped: %w", Failed("%d bad", 2)); !errors.As(err, &fe) || fe.ExitCode() != ExitFailed || err.Error() != "wrapped: 2 bad" || !IsFailed(err) {
		t.Errorf("Failed: %v %+v", err, fe)
	}
	if err := FailedCode(ExitCannotRun, "x"); !errors.As(err, &fe) || fe.ExitCode() != ExitCannotRun {
		t.Errorf("FailedCode: %+v", fe)
	}
	if !IsUsage(fmt.Errorf("w: %w", Usage(errors.New("u")))) || IsUsage(errors.New("u")) {
		t.Error("IsUsage")
	}
}

func TestCheckOutputDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct{ path, msg string }{
		{dir, ""},
		{filepath.Join(dir, "new"), ""},
		{filepath.Join(dir, "no", "new"), "parent directory"},
		{file, "not a directory"},
		{"", "must name a directory"},
	} {
		err := CheckOutputDir("--out", c.path)
		if (c.msg == "") != (err == nil) || (err != nil && (!IsUsage(err) || !strings.Contains(err.Error(), c.msg))) {
			t.Errorf("%q: %v, want %q", c.path, err, c.msg)
		}
	}
}

// TestFlagUsages: placeholders from back-quotes or the type, no [=true|false] on booleans,
// defaults only when they say something, long descriptions wrapped under their column.
func TestFlagUsages(t *testing.T) {
	fs := NewFlags("t", io.Discard, "usage")
	fs.String("model", "", "the model `FILE` to read")
	fs.String("mode", "fast", "how to run")
	fs.Int("n", 3, "how many")
	fs.Float64("tol", 0, "a tolerance")
	fs.BoolP("verbose", "v", false, "say more")
	fs.String("long", "", strings.Repeat("word ", 40))
	got := FlagUsages(fs)
	for _, want := range []string{"      --model FILE    the model FILE to read\n", "      --mode STRING", "how to run (default fast)", "      --n N ", "(default 3)", "      --tol X ", "  -v, --verbose       say more\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "(default 0)") || strings.Contains(got, "[=true|false]") || strings.Contains(got, "(default false)") {
		t.Errorf("zero defaults or bool noise:\n%s", got)
	}
	for _, l := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
		if len(l) > helpWidth {
			t.Errorf("line longer than %d: %q", helpWidth, l)
		}
	}
}
