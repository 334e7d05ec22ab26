package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/jsonshape"
	"github.com/fmkit/fmkit/pkg/train"
)

// TestExitCodes enforces the README's exit-code table over every fmtrain command: each
// case must end with its code, say why on stderr, and with --json end with an error record
// of the same code.
func TestExitCodes(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	model, _ := saveTinyModel(t, dir)
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("not a directory, not a model"), 0o644)
	missing := filepath.Join(dir, "missing.fmk")
	out := func(name string) string { return filepath.Join(dir, name) }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tiny := []string{"--arch", "c2k3-p2-f-d10", "--train-size", "64", "--epochs", "1", "--threads", "1", "-q"}
	cases := []struct {
		cmd  string
		ctx  context.Context
		args []string
		code int
		msg  string
	}{
		{"train", nil, append([]string{"--out", out("t.fmk")}, tiny...), cli.ExitOK, ""},
		{"train", nil, append([]string{"train", "--out", out("t2.fmk")}, tiny...), cli.ExitOK, ""},
		{"train", nil, []string{"--epochs", "0"}, cli.ExitUsage, "Run 'fmtrain --help'"},
		{"train", nil, append([]string{"--data", file, "--out", out("t3.fmk")}, tiny...), cli.ExitCannotRun, "a-file"},
		{"train", nil, append([]string{"--resume", "--checkpoint", missing, "--out", out("t4.fmk")}, tiny...), cli.ExitCannotRun, "missing.fmk"},
		{"train", cancelled, append([]string{"--out", out("t5.fmk")}, tiny...), cli.ExitInterrupted, "--resume"},

		{"summary", nil, []string{"summary", "--arch", "small"}, cli.ExitOK, ""},
		{"summary", nil, []string{"summary", "--arch", "c3-zz"}, cli.ExitUsage, "Run 'fmtrain summary --help'"},

		{"evaluate", nil, []string{"evaluate", "--model", model, "--json"}, cli.ExitOK, ""},
		{"evaluate", nil, []string{"evaluate", "--json"}, cli.ExitUsage, "Run 'fmtrain evaluate --help'"},
		{"evaluate", nil, []string{"evaluate", "--model", missing, "--json"}, cli.ExitCannotRun, "missing.fmk"},
		{"evaluate", nil, []string{"evaluate", "--model", file, "--json"}, cli.ExitCannotRun, "a-file"},
		{"evaluate", nil, []string{"evaluate", "--model", model, "--data", file, "--json"}, cli.ExitCannotRun, "a-file"},

		{"export", nil, []string{"export", "--model", model, "--out", out("e.onnx")}, cli.ExitOK, ""},
		{"export", nil, []string{"export", "--model", model, "--out", out("e.txt")}, cli.ExitUsage, "Run 'fmtrain export --help'"},
		{"export", nil, []string{"export", "--model", missing, "--out", out("e2.onnx")}, cli.ExitCannotRun, "missing.fmk"},

		{"images", nil, []string{"images", "--out", out("imgs"), "--index", "0-1"}, cli.ExitOK, ""},
		{"images", nil, []string{"images", "--out", out("imgs2"), "--index", "z"}, cli.ExitUsage, "Run 'fmtrain images --help'"},
		{"images", nil, []string{"images", "--out", out("imgs3"), "--data", file}, cli.ExitCannotRun, "a-file"},

		{"samples", nil, []string{"samples", "--out", out("s.png")}, cli.ExitOK, ""},
		{"samples", nil, []string{"samples"}, cli.ExitUsage, "Run 'fmtrain samples --help'"},
		{"samples", nil, []string{"samples", "--out", out("s2.png"), "--data", file}, cli.ExitCannotRun, "a-file"},

		{"filters", nil, []string{"filters", "--model", model, "--out", out("f.png")}, cli.ExitOK, ""},
		{"filters", nil, []string{"filters", "--model", model, "--out", out("f2.png"), "--image", "-1"}, cli.ExitUsage, "Run 'fmtrain filters --help'"},
		{"filters", nil, []string{"filters", "--model", missing, "--out", out("f3.png")}, cli.ExitCannotRun, "missing.fmk"},

		{"augment-preview", nil, []string{"augment-preview", "--out", out("a.png")}, cli.ExitOK, ""},
		{"augment-preview", nil, []string{"augment-preview", "--out", out("a2.png"), "--count", "0"}, cli.ExitUsage, "Run 'fmtrain augment-preview --help'"},
		{"augment-preview", nil, []string{"augment-preview", "--out", out("a3.png"), "--data", file}, cli.ExitCannotRun, "a-file"},

		{"help", nil, []string{"help"}, cli.ExitOK, ""},
		{"help", nil, []string{"help", "arch"}, cli.ExitOK, ""},
		{"help", nil, []string{"help", "evaluate"}, cli.ExitOK, ""},
		{"help", nil, []string{"help", "nosuch"}, cli.ExitUsage, "no command \"nosuch\""},

		{"--version", nil, []string{"--version"}, cli.ExitOK, ""},
		{"--version", nil, []string{"--version", "x"}, cli.ExitUsage, "takes no arguments"},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.cmd] = true
		name := strings.Join(c.args, " ")
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		code, stdout, stderr := runCmd(ctx, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (%s)\nstdout: %s\nstderr: %s", name, code, c.code, cli.Kind(c.code), stdout, stderr)
			continue
		}
		if c.code != cli.ExitOK && !strings.Contains(stderr, c.msg) {
			t.Errorf("%s: stderr %q, want a message with %q", name, stderr, c.msg)
		}
		if strings.Contains(stderr, "goroutine ") {
			t.Errorf("%s: panicked:\n%s", name, stderr)
		}
		if c.code == cli.ExitOK || !cli.WantsJSON(c.args) {
			continue
		}
		var rec cli.ErrorRecord
		if err := json.Unmarshal([]byte(stdout), &rec); err != nil || rec.ExitCode != c.code || rec.Error != cli.Kind(c.code) || rec.Reason == "" {
			t.Errorf("%s: stdout %q (%v): want an error record of exit code %d", name, stdout, err, c.code)
		}
	}
	for _, c := range commands {
		if !covered[c.name] {
			t.Errorf("command %q has no exit-code cases", c.name)
		}
	}
}

// TestJSONShapes validates fmtrain evaluate --json against docs/json.md, on success (the
// shape fminfer eval --json prints too) and on failure.
func TestJSONShapes(t *testing.T) {
	needData(t)
	b, err := os.ReadFile("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := jsonshape.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	model, _ := saveTinyModel(t, t.TempDir())
	for _, c := range []struct {
		args  []string
		shape string
	}{
		{[]string{"evaluate", "--json", "--model", model}, "evaluation"},
		{[]string{"evaluate", "--json", "--model", model + ".missing"}, "command-error"},
		{[]string{"evaluate", "--json", "--bogus"}, "command-error"},
		{[]string{"--version", "--json"}, "version"},
		{[]string{"--version", "--json", "x"}, "command-error"},
	} {
		_, out, errOut := runCmd(context.Background(), c.args...)
		if strings.Count(out, "\n") != 1 {
			t.Errorf("%v: want one line of JSON, got %q (stderr %q)", c.args, out, errOut)
			continue
		}
		if err := shapes[c.shape].Match([]byte(out)); err != nil {
			t.Errorf("%v: against the documented %q: %v\n%s", c.args, c.shape, err, out)
		}
	}
}

// flagLineRE matches a flag line of the help.
var flagLineRE = regexp.MustCompile(`^  (?:-[a-zA-Z], |    )--([a-z0-9-]+)(?: (\S+))?(?:\s{2,}|$)`)

// TestHelp: fmtrain --help lists every command with its summary, then the training
// flags; every command's flags have upper-case placeholders and real defaults; help
// COMMAND is COMMAND --help; usage errors point to their command's help.
func TestHelp(t *testing.T) {
	ctx := context.Background()
	code, top, errOut := runCmd(ctx, "--help")
	if code != exitOK || errOut != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, errOut)
	}
	for _, c := range commands {
		if !strings.Contains(top, c.synopsis+" ") || !strings.Contains(top, c.summary) {
			t.Errorf("--help lacks %q with %q", c.synopsis, c.summary)
		}
	}
	if !strings.Contains(top, "--epochs N") || !strings.Contains(top, "fmtrain help arch") || !strings.Contains(top, "--version") {
		t.Errorf("--help lacks the training flags, the pointer to help arch, or --version:\n%s", top)
	}
	for _, args := range [][]string{{"help"}, {"train", "--help"}} {
		if _, out, _ := runCmd(ctx, args...); out != top {
			t.Errorf("%v differs from --help", args)
		}
	}
	for _, c := range commands {
		if c.name == "help" {
			continue
		}
		code, help, errOut := runCmd(ctx, c.name, "--help")
		if code != exitOK || errOut != "" {
			t.Errorf("%s --help: exit %d, stderr %q", c.name, code, errOut)
		}
		if _, viaHelp, _ := runCmd(ctx, "help", c.name); viaHelp != help {
			t.Errorf("help %s differs from %s --help", c.name, c.name)
		}
		if n := strings.Count(help, "Flags:"); n != 1 {
			t.Errorf("%s: %d \"Flags:\" headings", c.name, n)
		}
		_, flags, _ := strings.Cut(help, "\nFlags:\n")
		for _, l := range strings.Split(flags, "\n") {
			if !strings.HasPrefix(l, "  -") && !strings.HasPrefix(l, "      --") {
				continue
			}
			m := flagLineRE.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("%s: flag line %q", c.name, l)
				continue
			}
			if m[2] != "" && (strings.ToUpper(m[2]) != m[2] || m[2] == "STRING" || m[2] == "VALUE") {
				t.Errorf("%s: --%s has the placeholder %q; want a capitalised word that says what it is", c.name, m[1], m[2])
			}
		}
		for _, bad := range []string{"(default -1)", "[=true|false]", " string ", " int ", " float "} {
			if strings.Contains(flags, bad) {
				t.Errorf("%s --help shows %q", c.name, bad)
			}
		}
	}
}

// TestArchHelp: fmtrain help arch documents every kind of layer, and each of its
// examples (and the built-in specs it lists) builds a model of the 1x28x28 input with ten
// outputs, with the parameter count it claims where it claims one.
func TestArchHelp(t *testing.T) {
	code, out, errOut := runCmd(context.Background(), "help", "arch")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, examples, ok := strings.Cut(out, "\nExamples:\n")
	if !ok {
		t.Fatalf("no examples in:\n%s", out)
	}
	kinds := map[string]bool{}
	n := 0
	specs := []string{train.BookSpec, train.SmallSpec}
	for _, l := range strings.Split(examples, "\n") {
		if strings.HasPrefix(l, "  ") && strings.TrimSpace(l) != "" {
			specs = append(specs, strings.Fields(l)[0])
			n++
		}
	}
	if n < 4 {
		t.Fatalf("only %d examples", n)
	}
	for _, spec := range specs {
		layers, err := train.ParseArch(spec)
		if err != nil {
			t.Errorf("example %q: %v", spec, err)
			continue
		}
		for _, l := range layers {
			kinds[l.Kind] = true
		}
		m, err := train.BuildModel(spec, train.Shape{1, 28, 28}, train.NewRNG(1))
		if err != nil {
			t.Errorf("example %q does not build: %v", spec, err)
			continue
		}
		if m.OutputShape().Size() != 10 {
			t.Errorf("example %q gives %v outputs, not 10", spec, m.OutputShape())
		}
	}
	for _, k := range []string{"conv", "pool", "avgpool", "flatten", "dense", "relu", "dropout", "bn", "softmax"} {
		if !kinds[k] {
			t.Errorf("no example of a %s layer", k)
		}
	}
	if !strings.Contains(out, "167,114") || !strings.Contains(out, train.BookSpec) {
		t.Error("help arch does not name the book's model and its parameter count")
	}
	// The grammar line of each token is documented.
	for _, tok := range []string{"c<filters>", "p<size>", "a<size>", "d<units>", "x<rate>", "bn ", "sm ", "f ", "r "} {
		if !strings.Contains(out, "\n  "+tok) {
			t.Errorf("help arch lacks the grammar of %q", tok)
		}
	}
}
