package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestParse(t *testing.T) {
	cases := []struct {
		args       []string
		positional bool
		usage      bool // a UsageError is expected
		help       bool // pflag.ErrHelp is expected
	}{
		{[]string{"--n", "3"}, false, false, false},
		{[]string{"--n", "x"}, false, true, false},
		{[]string{"--bogus"}, false, true, false},
		{[]string{"stray"}, false, true, false},
		{[]string{"stray"}, true, false, false},
		{[]string{"--help"}, false, false, true},
	}
	for _, c := range cases {
		fs := NewFlags("t", io.Discard, "usage")
		fs.Int("n", 0, "a number")
		err := Parse(fs, c.args, c.positional)
		var ue UsageError
		if got := errors.As(err, &ue); got != c.usage {
			t.Errorf("%v: usage error %v, want %v (%v)", c.args, got, c.usage, err)
		}
		if got := errors.Is(err, pflag.ErrHelp); got != c.help {
			t.Errorf("%v: ErrHelp %v, want %v", c.args, got, c.help)
		}
		if !c.usage && !c.help && err != nil {
			t.Errorf("%v: unexpected error %v", c.args, err)
		}
	}
}

func TestProtect(t *testing.T) {
	var b strings.Builder
	code := Protect(&b, "fmtool", func() int {
		var s []int
		return s[3] // index out of range
	})
	if code != ExitBug {
		t.Errorf("exit code %d, want %d", code, ExitBug)
	}
	for _, want := range []string{"fmtool: internal error: runtime error: index out of range", "this is a bug in fmtool", "please report it", "cli_test.go"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("message lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if code := Protect(&b, "fmtool", func() int { return 7 }); code != 7 || b.Len() != 0 {
		t.Errorf("no panic: code %d, output %q", code, b.String())
	}
	t.Setenv(TestPanicEnv, "othertool")
	if code := Protect(&b, "fmtool", func() int { return 7 }); code != 7 {
		t.Errorf("%s names another tool: code %d", TestPanicEnv, code)
	}
	t.Setenv(TestPanicEnv, "fmtool")
	if code := Protect(&b, "fmtool", func() int { return 7 }); code != ExitBug || !strings.Contains(b.String(), TestPanicEnv+" is set") {
		t.Errorf("%s=fmtool: code %d, output %q", TestPanicEnv, code, b.String())
	}
}

func TestCheckOutputFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.png")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		path, msg string
	}{
		{filepath.Join(dir, "new.png"), ""},
		{file, ""},
		{"", "must name a file"},
		{dir, "is a directory"},
		{filepath.Join(dir, "missing", "x.png"), "does not exist"},
		{filepath.Join(file, "x.png"), "is not a directory"},
		{"/dev/null", "is a device"},
	} {
		err := CheckOutputFile("--plot", c.path)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.path, err)
			}
			continue
		}
		var ue UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), "--plot") {
			t.Errorf("%s: got %v, want a usage error saying %q", c.path, err, c.msg)
		}
	}
}
