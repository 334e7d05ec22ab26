package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/pkg/fmnist"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// TestCSV: --csv prints a header and one row per input, the prediction's cells empty for
// a failed input, the same figures as --json.
func TestCSV(t *testing.T) {
	good := filepath.Join(imgFixtures, "boot.png")
	missing := filepath.Join(t.TempDir(), "gone.png")
	code, out, _ := runCmd(nil, "--engine", "native", "--csv", good, missing)
	if code != exitInputs {
		t.Fatalf("exit %d, want %d (one input failed)", code, exitInputs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("%d rows (%v):\n%s", len(rows), err, out)
	}
	if strings.Join(rows[0], ",") != "file,class,index,probability,"+strings.Join(fmnist.ClassNames[:], ",")+",error,reason" {
		t.Errorf("header %q", rows[0])
	}
	_, js, _ := runCmd(nil, "--engine", "native", "--json", good)
	var r result
	json.Unmarshal([]byte(js), &r)
	if rows[1][0] != good || rows[1][1] != r.Class || rows[1][2] != "9" || rows[1][3] != js[strings.Index(js, `"probability":`)+14:strings.Index(js, `,"probabilities"`)] || rows[1][14] != "" {
		t.Errorf("prediction row %q; JSON %s", rows[1], js)
	}
	if rows[2][0] != missing || strings.Join(rows[2][1:14], "") != "" || rows[2][14] != errUnreadable || rows[2][15] != "no such file" {
		t.Errorf("failed row %q", rows[2])
	}
}

// TestDirectoryInputs: a directory's subdirectories are skipped with a warning that lists
// them and the files that are not images; -r reads them.
func TestDirectoryInputs(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(imgFixtures, "boot.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755)
	for _, p := range []string{"a.png", "sub/b.PNG", "sub/deeper/c.png"} {
		os.WriteFile(filepath.Join(dir, p), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "data.csv"), []byte("x"), 0o644)

	code, out, errOut := runCmd(nil, "--engine", "native", dir)
	if code != exitOK || strings.Count(out, "Ankle boot") != 1 {
		t.Errorf("without -r: exit %d, want the top level's one image:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "notes.txt") || !strings.Contains(errOut, "sub/") || !strings.Contains(errOut, "-r reads subdirectories") {
		t.Errorf("without -r: the warning %q does not list notes.txt and sub/", errOut)
	}
	code, out, errOut = runCmd(nil, "--engine", "native", "-r", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 3 || !strings.HasPrefix(lines[0], filepath.Join(dir, "a.png")) || !strings.HasPrefix(lines[2], filepath.Join(dir, "sub", "deeper", "c.png")) {
		t.Errorf("-r: exit %d, want the three images in order:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "2 entries") || !strings.Contains(errOut, filepath.Join("sub", "data.csv")) || strings.Contains(errOut, "-r reads") {
		t.Errorf("-r: the warning %q should list notes.txt and sub/data.csv only", errOut)
	}
	// A directory of images only: no warning.
	if _, _, errOut := runCmd(nil, "--engine", "native", filepath.Join(dir, "sub", "deeper")); errOut != "" {
		t.Errorf("a directory of images only: stderr %q", errOut)
	}
}

// TestSavePreprocessedCreates: --save-preprocessed creates its directory when its parent
// exists, and refuses (exit 2) a missing parent or a file.
func TestSavePreprocessedCreates(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(imgFixtures, "boot.png")
	out := filepath.Join(dir, "seen")
	if code, _, errOut := runCmd(nil, "--engine", "native", "--save-preprocessed", out, good); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "000-boot.png")); err != nil {
		t.Error(err)
	}
	if code, _, errOut := runCmd(nil, "--save-preprocessed", filepath.Join(dir, "no", "such"), good); code != exitUsage || !strings.Contains(errOut, "parent directory") {
		t.Errorf("missing parent: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCmd(nil, "--save-preprocessed", good, good); code != exitUsage || !strings.Contains(errOut, "not a directory") {
		t.Errorf("a file: exit %d, %q", code, errOut)
	}
}

// TestNativeModelFile: fminfer reads fmtrain's .fmk format with the native engine (auto
// picks it), and with --engine ort says how to run or convert it.
func TestNativeModelFile(t *testing.T) {
	f := newContractFixtures(t)
	for _, engine := range []string{"native", "auto"} {
		code, out, errOut := runCmd(nil, "--engine", engine, "--json", "--model", f.fmk, f.good)
		var r result
		if err := json.Unmarshal([]byte(out), &r); code != exitOK || err != nil || r.Engine != "native" || len(r.Probabilities) != 10 {
			t.Errorf("--engine %s: exit %d, %+v (%v) %s", engine, code, r, err, errOut)
		}
	}
	code, _, errOut := runCmd(nil, "--engine", "ort", "--model", f.fmk, f.good)
	if code != exitRuntime || !strings.Contains(errOut, "tiny.fmk is a native fmtrain model") || !strings.Contains(errOut, "--engine native") ||
		!strings.Contains(errOut, "fmtrain export --model "+f.fmk+" --out "+strings.TrimSuffix(f.fmk, ".fmk")+".onnx") {
		t.Errorf("--engine ort: exit %d, %q", code, errOut)
	}
	code, out, _ := runCmd(nil, "doctor", "--json", "--model", f.fmk)
	var d doctorReport
	if err := json.Unmarshal([]byte(out), &d); code != exitOK || err != nil || d.ModelFormat != "fmk" || string(d.Metadata["arch"]) != `"c4k3-p2-f-d10"` {
		t.Errorf("doctor: exit %d, %+v (%v)", code, d, err)
	}
}

// packageRE finds a Go package prefix where a message or a part of it starts.
var packageRE = regexp.MustCompile(`(^|: |\()(onnx|onnxexport|runtime|train|fmnist|proto): `)

// TestMessagesWithoutPackages: errors from the libraries reach the user without their Go
// package prefixes, and still name the file and the node.
func TestMessagesWithoutPackages(t *testing.T) {
	good := filepath.Join(imgFixtures, "boot.png")
	engines := []string{"native"}
	if _, err := fmrt.LoadLibrary(""); err == nil {
		engines = append(engines, "ort")
	}
	for _, engine := range engines {
		for _, m := range []struct{ file, want string }{
			{"garbage.onnx", "not an ONNX model"},
			{"wrong_input_shape.onnx", `node "first10" (Slice)`},
		} {
			code, _, errOut := runCmd(nil, "--engine", engine, "--model", filepath.Join(runtimeModel, m.file), good)
			if code != exitRuntime || !strings.Contains(errOut, m.want) {
				t.Errorf("%s on %s: exit %d, %q: want %q", m.file, engine, code, errOut, m.want)
			}
			if p := packageRE.FindString(errOut); p != "" || strings.Contains(errOut, "\u00a0") {
				t.Errorf("%s on %s: the message holds the package prefix %q: %s", m.file, engine, p, errOut)
			}
		}
	}
	if got := cli.Message(&os.PathError{Op: "open", Path: "train: x", Err: os.ErrNotExist}); !strings.Contains(got, "open train: x") {
		t.Errorf("Message removed a prefix in the middle of a file name: %q", got)
	}
}

// TestParityOptions: parity on your own images, a subset, tolerances, and two models
// through one engine with an agreement threshold.
func TestParityOptions(t *testing.T) {
	needData(t)
	f := newContractFixtures(t)
	parity := func(args ...string) (int, parityReport, string) {
		t.Helper()
		code, out, errOut := runCmd(nil, append([]string{"parity", "--json"}, args...)...)
		var r parityReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: exit %d, not a report: %q %s", args, code, out, errOut)
		}
		return code, r, errOut
	}
	torch := filepath.Join(torchBook, "model.onnx")
	// The same model against itself on one engine: identical, whatever the tolerance.
	code, r, _ := parity("--against", filepath.Join(runtimeModel, "..", "..", "models", "fmnist.onnx"), "--engine", "native", "--limit", "30", "--atol", "0")
	if code != exitOK || r.N != 30 || r.MaxAbsDiff != 0 || r.A.Engine != "native" || r.B.Engine != "native" || !r.Pass {
		t.Errorf("the embedded model against its own file: exit %d, %+v", code, r)
	}
	// Another model: far apart; a low --min-agreement and a huge --atol let it pass.
	code, r, _ = parity("--against", torch, "--engine", "native", "--limit", "40")
	if code != exitInputs || r.Pass || r.N != 40 || r.Outside == 0 || r.Agree == 40 || r.B.Model != torch {
		t.Fatalf("against %s: exit %d, %+v", torch, code, r)
	}
	agreement := r.ArgmaxAgreement
	code, r, _ = parity("--against", torch, "--engine", "native", "--limit", "40", "--atol", "1", "--min-agreement", "0")
	if code != exitOK || !r.Pass || r.Outside != 0 {
		t.Errorf("with --atol 1 --min-agreement 0: exit %d, %+v", code, r)
	}
	code, _, _ = parity("--against", torch, "--engine", "native", "--limit", "40", "--atol", "1", "--min-agreement", "1")
	if code != exitInputs {
		t.Errorf("agreement %v with --min-agreement 1: exit %d, want %d", agreement, code, exitInputs)
	}
	// --rtol: the relative part of the tolerance is counted against B's probability.
	code, r, _ = parity("--against", torch, "--engine", "native", "--limit", "40", "--atol", "0", "--rtol", "1e9", "--min-agreement", "0")
	if code != exitOK || r.Rtol != 1e9 {
		t.Errorf("with --rtol 1e9: exit %d, %+v", code, r)
	}
	if _, err := fmrt.LoadLibrary(""); err != nil {
		t.Logf("onnxruntime not available: --images is checked by TestExitCodes' native cases only")
		return
	}
	// Your own images: the two good ones are compared, the bad one is listed.
	code, r, errOut := parity("--images", f.imagesDir)
	if code != exitInputs || r.N != 2 || len(r.Failed) != 1 || r.Failed[0].Error != errNotImage || r.A.Accuracy != nil || r.Inputs != f.imagesDir || !strings.Contains(errOut, "notes.png") {
		t.Errorf("--images: exit %d, %+v\n%s", code, r, errOut)
	}
	code, r, _ = parity("--images", f.imagesDir, "--limit", "1")
	if code != exitOK || r.N != 1 || len(r.Failed) != 0 || !r.Pass {
		t.Errorf("--images --limit 1: exit %d, %+v", code, r)
	}
}

// TestVersion: --version names the tool, the module's version, the revision (or says the
// build has none), the Go version and the onnxruntime library when one loads.
func TestVersion(t *testing.T) {
	code, out, _ := runCmd(nil, "--version")
	if code != exitOK || !strings.HasPrefix(out, "fminfer version ") || !strings.Contains(out, "go:          go1.") || !strings.Contains(out, "revision:") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if lib, err := fmrt.LoadLibrary(""); err == nil && !strings.Contains(out, "onnxruntime: "+lib.Version+" at ") {
		t.Errorf("no onnxruntime %s in:\n%s", lib.Version, out)
	}
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Path: "github.com/fmkit/fmkit", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2030-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}, {Key: "CGO_ENABLED", Value: "0"}}}
	got := cli.NewVersion("fminfer", bi).String()
	for _, want := range []string{"fminfer version v1.2.3\n", "module:      github.com/fmkit/fmkit\n", "revision:    0123abcd (committed 2030-01-02T03:04:05Z, with uncommitted changes)\n", "go:          go1.99 ", "cgo off"} {
		if !strings.Contains(got, want) {
			t.Errorf("NewVersion: %q lacks %q", got, want)
		}
	}
}
