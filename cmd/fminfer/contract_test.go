package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/jsonshape"
	"github.com/fmkit/fmkit/pkg/onnx"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
	"github.com/fmkit/fmkit/pkg/train"
)

// contractFixtures are the files the contract tests run on.
type contractFixtures struct {
	good, missing, fmk, garbage, unsupportedDir, mismatchDir, wrongShapeDir, file, imagesDir string
}

func newContractFixtures(t *testing.T) contractFixtures {
	t.Helper()
	dir := t.TempDir()
	f := contractFixtures{
		good:    filepath.Join(imgFixtures, "boot.png"),
		missing: filepath.Join(dir, "missing.png"),
		fmk:     filepath.Join(dir, "tiny.fmk"),
		garbage: filepath.Join(runtimeModel, "garbage.onnx"),
		file:    filepath.Join(dir, "a-file"),
	}
	m, err := train.BuildModel("c4k3-p2-f-d10", train.Shape{1, 28, 28}, train.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := train.SaveModel(f.fmk, m, "c4k3-p2-f-d10", map[string]string{"note": "tiny"}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(f.file, []byte("not a directory"), 0o644)
	// A backend-test directory whose model uses an op the importer does not have.
	f.unsupportedDir = filepath.Join(dir, "unsupported")
	copyDir(t, torchBook, f.unsupportedDir)
	b, err := os.ReadFile(filepath.Join(runtimeModel, "wrong_input_shape.onnx")) // Slice
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(f.unsupportedDir, "model.onnx"), b, 0o644)
	// One whose expectation is corrupted: a mismatch.
	f.mismatchDir = filepath.Join(dir, "mismatch")
	copyDir(t, torchBook, f.mismatchDir)
	out0 := filepath.Join(f.mismatchDir, "test_data_set_0", "output_0.pb")
	b, err = os.ReadFile(out0)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-2] ^= 0x40
	os.WriteFile(out0, b, 0o644)
	// One that expects half the outputs per row: the model runs, and computes another shape.
	f.wrongShapeDir = filepath.Join(dir, "wrong-shape")
	copyDir(t, torchBook, f.wrongShapeDir)
	out0 = filepath.Join(f.wrongShapeDir, "test_data_set_0", "output_0.pb")
	want, err := onnx.ReadTensorFile(out0)
	if err != nil {
		t.Fatal(err)
	}
	half := onnx.NewFloat(want.Name, []int64{want.Dims[0], want.Dims[1] / 2}, want.Float[:want.Len()/2])
	if err := onnx.WriteTensorFile(out0, half); err != nil {
		t.Fatal(err)
	}
	// Images for parity --images: two pictures and a file that is not one.
	f.imagesDir = filepath.Join(dir, "photos")
	os.Mkdir(f.imagesDir, 0o755)
	for _, name := range []string{"boot.png", "orient-1.jpg"} {
		b, err := os.ReadFile(filepath.Join(imgFixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(f.imagesDir, name), b, 0o644)
	}
	os.WriteFile(filepath.Join(f.imagesDir, "notes.png"), []byte("not a picture"), 0o644)
	return f
}

// TestExitCodes enforces the README's exit-code table over every command: each case runs
// in-process and must end with its code; a failure says so on stderr; with --json, stdout
// is JSON lines, and a command that could not do its work ends with an error record
// naming the same code.
func TestExitCodes(t *testing.T) {
	needData(t)
	f := newContractFixtures(t)
	_, ortErr := fmrt.LoadLibrary("")
	cases := []struct {
		cmd  string // the command the case exercises, "" for classification
		args []string
		code int
		msg  string // a fragment of stderr
		ort  bool   // needs onnxruntime
	}{
		{"", []string{"--engine", "native", f.good}, cli.ExitOK, "", false},
		{"", []string{"--engine", "native", f.missing, f.good}, cli.ExitFailed, "1 of 2 inputs failed", false},
		{"", []string{"--engine", "native", "--json", f.missing}, cli.ExitFailed, "no such file", false},
		{"", []string{"--top", "0", f.good}, cli.ExitUsage, "Run 'fminfer --help'", false},
		{"", []string{"--json", "--csv", f.good}, cli.ExitUsage, "give one", false},
		{"", nil, cli.ExitUsage, "no images given", false},
		{"", []string{"--engine", "native", "--json", "--model", f.garbage, f.good}, cli.ExitCannotRun, "garbage.onnx", false},
		{"", []string{"--engine", "ort", "--model", f.fmk, f.good}, cli.ExitCannotRun, "fmtrain export --model", false},
		{"", []string{"--ort-library", f.file, f.good}, cli.ExitCannotRun, "--ort-library", false},
		{"", []string{"--engine", "ort", "--provider", "cuda", "--json", f.good}, cli.ExitProvider, "not available", true},

		{"eval", []string{"eval", "--engine", "native", "--json"}, cli.ExitOK, "", false},
		{"eval", []string{"eval", "--batch", "0", "--json"}, cli.ExitUsage, "Run 'fminfer eval --help'", false},
		{"eval", []string{"eval", "--data", f.file, "--json"}, cli.ExitCannotRun, "a-file", false},
		{"eval", []string{"eval", "--engine", "native", "--model", f.garbage}, cli.ExitCannotRun, "garbage.onnx", false},
		{"eval", []string{"eval", "--engine", "ort", "--provider", "cuda", "--json"}, cli.ExitProvider, "not available", true},

		{"parity", []string{"parity", "--limit", "50", "--json"}, cli.ExitOK, "", true},
		{"parity", []string{"parity", "--against", filepath.Join(torchBook, "model.onnx"), "--engine", "native", "--limit", "20", "--json"}, cli.ExitFailed, "parity failed", false},
		{"parity", []string{"parity", "--images", f.imagesDir, "--json"}, cli.ExitFailed, "1 inputs could not be read", true},
		{"parity", []string{"parity", "--min-agreement", "2", "--json"}, cli.ExitUsage, "Run 'fminfer parity --help'", false},
		{"parity", []string{"parity", "--against", f.garbage, "--engine", "native", "--json"}, cli.ExitCannotRun, "garbage.onnx", false},
		{"parity", []string{"parity", "--model", f.fmk, "--json"}, cli.ExitCannotRun, "onnxruntime cannot read", true},
		{"parity", []string{"parity", "--provider", "cuda", "--limit", "10", "--json"}, cli.ExitProvider, "not available", true},

		{"verify", []string{"verify", "--engine", "native", "--json", torchBook}, cli.ExitOK, "", false},
		{"verify", []string{"verify", "--engine", "native", "--json", f.mismatchDir}, cli.ExitFailed, "did not verify", false},
		{"verify", []string{"verify", "--json"}, cli.ExitUsage, "Run 'fminfer verify --help'", false},
		{"verify", []string{"verify", "--engine", "native", "--json", f.unsupportedDir}, cli.ExitCannotRun, "could not be verified", false},
		{"verify", []string{"verify", "--engine", "native", filepath.Join(f.file, "nowhere")}, cli.ExitCannotRun, "could not be verified", false},
		{"verify", []string{"verify", "--engine", "native", f.file}, cli.ExitCannotRun, "could not be verified", false},
		{"verify", []string{"verify", "--engine", "native", f.mismatchDir, f.unsupportedDir}, cli.ExitCannotRun, "1 did not match", false},
		{"verify", []string{"verify", "--engine", "native", f.wrongShapeDir}, cli.ExitFailed, "did not verify", false},
		{"verify", []string{"verify", "--engine", "ort", "--ort-library", f.file, torchBook}, cli.ExitCannotRun, "a-file", false},

		{"doctor", []string{"doctor", "--json"}, cli.ExitOK, "", false},
		{"doctor", []string{"doctor", "stray", "--json"}, cli.ExitUsage, "Run 'fminfer doctor --help'", false},
		{"doctor", []string{"doctor", "--model", f.missing, "--json"}, cli.ExitCannotRun, "missing.png", false},

		{"help", []string{"help"}, cli.ExitOK, "", false},
		{"help", []string{"help", "parity"}, cli.ExitOK, "", false},
		{"help", []string{"help", "nosuch"}, cli.ExitUsage, "no command \"nosuch\"", false},
		{"help", []string{"eval", "--help"}, cli.ExitOK, "", false},

		{"--version", []string{"--version"}, cli.ExitOK, "", false},
		{"--version", []string{"--version", "extra"}, cli.ExitUsage, "takes no arguments", false},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.cmd] = true
		name := strings.Join(c.args, " ")
		if c.ort && ortErr != nil {
			t.Logf("%s: skipped, no onnxruntime (%v)", name, ortErr)
			continue
		}
		code, out, errOut := runCmd(nil, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (%s)\nstdout: %s\nstderr: %s", name, code, c.code, cli.Kind(c.code), out, errOut)
			continue
		}
		if c.code != cli.ExitOK && (!strings.HasPrefix(errOut, "fminfer: ") && !strings.Contains(errOut, "\nfminfer: ") || !strings.Contains(errOut, c.msg)) {
			t.Errorf("%s: stderr %q, want a message with %q", name, errOut, c.msg)
		}
		if strings.Contains(errOut, "goroutine ") {
			t.Errorf("%s: panicked:\n%s", name, errOut)
		}
		if !cli.WantsJSON(c.args) || c.code == cli.ExitOK {
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var last map[string]any
		for _, l := range lines {
			if err := json.Unmarshal([]byte(l), &last); err != nil {
				t.Errorf("%s: stdout line %q is not JSON: %v", name, l, err)
			}
		}
		// A command that could not do its work ends with an error record of its code; one
		// that ran (a failed check, failed inputs, directories that could not run) ends
		// with its own records.
		if _, isRecord := last["exit_code"]; isRecord != (c.code == cli.ExitUsage || c.code == cli.ExitProvider || (c.code == cli.ExitCannotRun && c.cmd != "verify")) {
			t.Errorf("%s: last line %v: an error record is %v, want %v", name, last, isRecord, !isRecord)
		} else if isRecord && (last["exit_code"] != float64(c.code) || last["error"] != cli.Kind(c.code)) {
			t.Errorf("%s: error record %v, want exit_code %d and error %q", name, last, c.code, cli.Kind(c.code))
		}
	}
	for _, c := range commands() {
		name := c.name
		if name == "" && c.run != nil {
			name = ""
		}
		if !covered[name] {
			t.Errorf("command %q has no exit-code cases", name)
		}
	}
	if !covered["--version"] {
		t.Error("--version has no exit-code cases")
	}
}

// jsonDoc reads the documented shapes of docs/json.md.
func jsonDoc(t *testing.T) map[string]jsonshape.Shape {
	t.Helper()
	b, err := os.ReadFile("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := jsonshape.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return shapes
}

// TestJSONShapes validates each command's --json output, on success and on failure,
// against the shapes docs/json.md documents; every documented shape is checked (here, or
// by fmtrain's TestJSONShapes for fmtrain evaluate).
func TestJSONShapes(t *testing.T) {
	needData(t)
	needORT(t) // the documented doctor and parity shapes are those of a machine with onnxruntime
	f := newContractFixtures(t)
	shapes := jsonDoc(t)
	cases := []struct {
		args  []string
		lines []string // the shape of each line of stdout
	}{
		{[]string{"--json", "--top", "2", f.good}, []string{"classify"}},
		{[]string{"--json", "--engine", "native", f.missing, f.good}, []string{"input-error", "classify"}},
		{[]string{"--json", "--engine", "native", "--model", f.fmk, f.good}, []string{"classify"}},
		{[]string{"--json", "--top", "11", f.good}, []string{"command-error"}},
		{[]string{"--json", "--model", f.missing, f.good}, []string{"command-error"}},
		{[]string{"eval", "--json", "--engine", "native"}, []string{"evaluation"}},
		{[]string{"eval", "--json", "--data", f.file}, []string{"command-error"}},
		{[]string{"parity", "--json", "--limit", "100"}, []string{"parity"}},
		{[]string{"parity", "--json", "--atol", "0", "--limit", "100"}, []string{"parity"}},
		{[]string{"parity", "--json", "--images", f.imagesDir}, []string{"parity-images"}},
		{[]string{"parity", "--json", "--against", f.garbage, "--engine", "native"}, []string{"command-error"}},
		{[]string{"verify", "--json", torchBook, f.mismatchDir, f.unsupportedDir, f.file}, []string{"verify", "verify", "input-error", "input-error"}},
		{[]string{"verify", "--json", "--engine", "native", f.wrongShapeDir}, []string{"verify-mismatch"}},
		{[]string{"doctor", "--json"}, []string{"doctor"}},
		{[]string{"doctor", "--json", "--model", f.missing}, []string{"command-error"}},
		{[]string{"--version", "--json"}, []string{"version"}},
		{[]string{"version", "--json", "extra"}, []string{"command-error"}},
	}
	used := map[string]bool{"evaluation": true} // fmtrain evaluate checks it too
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		_, out, errOut := runCmd(nil, c.args...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(c.lines) {
			t.Errorf("%s: %d lines of JSON, want %d\nstdout: %s\nstderr: %s", name, len(lines), len(c.lines), out, errOut)
			continue
		}
		for i, l := range lines {
			s, ok := shapes[c.lines[i]]
			if !ok {
				t.Fatalf("docs/json.md documents no shape %q", c.lines[i])
			}
			used[c.lines[i]] = true
			if err := s.Match([]byte(l)); err != nil {
				t.Errorf("%s: line %d against the documented %q: %v\n%s", name, i+1, c.lines[i], err, l)
			}
		}
	}
	for name := range shapes {
		if !used[name] {
			t.Errorf("docs/json.md documents %q, which no test checks", name)
		}
	}
}

// placeholderRE matches a flag line of the help: the flag, its placeholder (if any), the
// description.
var placeholderRE = regexp.MustCompile(`^  (?:-[a-zA-Z], |    )--([a-z0-9-]+)(?: (\S+))?(?:\s{2,}|$)`)

// checkFlagHelp checks one command's --help: every flag line has an upper-case
// placeholder or none, no sentinel default is shown, and "Flags:" appears once.
func checkFlagHelp(t *testing.T, name, help string) {
	t.Helper()
	if n := strings.Count(help, "Flags:"); n != 1 {
		t.Errorf("%s: %d \"Flags:\" headings, want 1", name, n)
	}
	_, flags, _ := strings.Cut(help, "\nFlags:\n")
	seen := 0
	for _, l := range strings.Split(flags, "\n") {
		if !strings.HasPrefix(l, "  -") && !strings.HasPrefix(l, "      --") {
			continue
		}
		m := placeholderRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("%s: flag line %q is not \"--flag PLACEHOLDER  description\"", name, l)
			continue
		}
		seen++
		if m[2] != "" && (strings.ToUpper(m[2]) != m[2] || m[2] == "STRING" || m[2] == "VALUE") {
			t.Errorf("%s: --%s has the placeholder %q; want a word in capitals that says what it is (FILE, DIR, N...)", name, m[1], m[2])
		}
	}
	if seen == 0 {
		t.Errorf("%s: no flags in the help:\n%s", name, help)
	}
	for _, bad := range []string{"(default -1)", "[=true|false]", " string ", " int ", " float "} {
		if strings.Contains(flags, bad) {
			t.Errorf("%s: the flag list holds %q", name, bad)
		}
	}
}

// TestHelp: fminfer --help lists every command with its one-line summary; each command's
// help has consistent placeholders and real defaults; help COMMAND is COMMAND --help; a
// usage error points to its command's help.
func TestHelp(t *testing.T) {
	code, top, errOut := runCmd(nil, "--help")
	if code != exitOK || errOut != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, errOut)
	}
	if _, help, _ := runCmd(nil, "help"); help != top {
		t.Error("fminfer help differs from fminfer --help")
	}
	for _, c := range commands() {
		if !strings.Contains(top, c.synopsis) || !strings.Contains(top, c.summary) {
			t.Errorf("--help lacks %q with its summary %q", c.synopsis, c.summary)
		}
		if c.run == nil {
			continue
		}
		args := []string{"--help"}
		if c.name != "" {
			args = []string{c.name, "--help"}
		}
		code, help, errOut := runCmd(nil, args...)
		if code != exitOK || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		checkFlagHelp(t, strings.Join(args, " "), help)
		if c.name != "" {
			if _, viaHelp, _ := runCmd(nil, "help", c.name); viaHelp != help {
				t.Errorf("fminfer help %s differs from fminfer %s --help", c.name, c.name)
			}
		}
	}
	if !strings.Contains(top, "--version") || !strings.Contains(top, "Exit codes:") {
		t.Error("--help lacks --version or the exit codes")
	}
	// The defaults shown are the ones that run.
	_, evalHelp, _ := runCmd(nil, "eval", "--help")
	for _, want := range []string{"--engine ENGINE", "(default auto)", "--batch N", "(default 256)"} {
		if !strings.Contains(evalHelp, want) {
			t.Errorf("eval --help lacks %q", want)
		}
	}
	_, verifyHelp, _ := runCmd(nil, "verify", "--help")
	if !strings.Contains(verifyHelp, "(default auto)") {
		t.Error("verify's --engine default is not auto")
	}
}
