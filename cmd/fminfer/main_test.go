package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/pkg/fmnist"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

const (
	imgFixtures  = "../../pkg/fmnist/testdata/img"
	runtimeModel = "../../testdata/runtime"
	torchBook    = "../../testdata/onnx/torch_book"
)

func runCmd(stdin []byte, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func needData(t *testing.T) *fmnist.Set {
	t.Helper()
	dir, err := fmnist.Locate("")
	if err != nil {
		t.Skipf("Fashion-MNIST not available (run make setup): %v", err)
	}
	s, err := fmnist.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func needORT(t *testing.T) {
	t.Helper()
	if _, err := fmrt.LoadLibrary(""); err != nil {
		t.Skipf("onnxruntime not available (run make setup): %v", err)
	}
}

// writeTestPNGs writes test images [0,n) as PNG files and returns the paths.
func writeTestPNGs(t *testing.T, s *fmnist.Set, n int) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := 0; i < n; i++ {
		img := &image.Gray{Pix: append([]uint8(nil), s.Image(i)...), Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("test-%04d.png", i))
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// catalogJPEG renders test image i as a catalog photo (fmnist.CatalogStyle:
// dark on white, 224x224) saved as JPEG quality 90.
func catalogJPEG(t *testing.T, s *fmnist.Set, i int) []byte {
	t.Helper()
	g := &image.Gray{Pix: s.Image(i), Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, fmnist.CatalogStyle(g), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decodeLines(t *testing.T, out string) []result {
	t.Helper()
	var rs []result
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestClassifyTestImages: the embedded model classifies real test images
// written as PNG, through both engines, with identical answers.
func TestClassifyTestImages(t *testing.T) {
	s := needData(t)
	const n = 20
	paths := writeTestPNGs(t, s, n)
	engines := []string{engineNative}
	if _, err := fmrt.LoadLibrary(""); err == nil {
		engines = append(engines, engineORT)
	}
	var first []result
	for _, eng := range engines {
		code, out, errOut := runCmd(nil, append([]string{"--json", "--engine", eng}, paths...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", eng, code, errOut)
		}
		rs := decodeLines(t, out)
		if len(rs) != n {
			t.Fatalf("%s: %d results for %d images", eng, len(rs), n)
		}
		right := 0
		for i, r := range rs {
			if r.Engine != eng || r.Provider != "cpu" || len(r.Probabilities) != 10 || r.File != paths[i] {
				t.Errorf("%s: bad record %+v", eng, r)
			}
			if r.Index == int(s.Labels[i]) {
				right++
			}
			if first != nil && first[i].Index != r.Index {
				t.Errorf("image %d: %s says %d, %s says %d", i, engines[0], first[i].Index, eng, r.Index)
			}
		}
		// The default model reaches about 91% on the test set; 20 images
		// leave room for two or three mistakes, not more.
		if right < n-4 {
			t.Errorf("%s: only %d of %d test images right", eng, right, n)
		}
		first = rs
	}
}

// TestClassifyCatalogPhoto: a dark-on-white JPEG read from standard input
// is inverted automatically and classified like the original.
func TestClassifyCatalogPhoto(t *testing.T) {
	s := needData(t)
	code, out, errOut := runCmd(catalogJPEG(t, s, 0), "--json", "--engine", "native", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeLines(t, out)[0]
	if !r.Inverted || r.File != "-" || r.Index != int(s.Labels[0]) {
		t.Errorf("catalog photo of a %s: %+v", fmnist.ClassNames[s.Labels[0]], r)
	}
}

// TestBadInputs: each bad input gets a message and the documented exit
// code; good inputs beside bad ones are still classified.
func TestBadInputs(t *testing.T) {
	s := needData(t)
	good := writeTestPNGs(t, s, 1)[0]
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.png")
	os.WriteFile(zero, nil, 0o644)
	noImages := filepath.Join(dir, "empty-dir")
	os.Mkdir(noImages, 0o755)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.png"), good}, exitInputs, "no such file"},
		{"not an image", []string{filepath.Join(imgFixtures, "text.png"), good}, exitInputs, "not an image"},
		{"zero-byte file", []string{zero, good}, exitInputs, "zero.png"},
		{"huge PNG", []string{filepath.Join(imgFixtures, "huge.png"), good}, exitInputs, "100000x100000"},
		{"truncated PNG", []string{filepath.Join(imgFixtures, "truncated.png"), good}, exitInputs, "truncated.png"},
		{"directory without images", []string{noImages}, exitUsage, "holds no images"},
		{"no arguments", nil, exitUsage, "no images"},
		{"bad flag", []string{"--top", "11", good}, exitUsage, "--top"},
		{"bad engine", []string{"--engine", "gpu", good}, exitUsage, "--engine"},
		{"bad polarity", []string{"--polarity", "purple", good}, exitUsage, "--polarity"},
		{"garbage model", []string{"--engine", "native", "--model", filepath.Join(runtimeModel, "garbage.onnx"), good}, exitRuntime, "garbage.onnx"},
		{"wrong input shape", []string{"--engine", "native", "--model", filepath.Join(runtimeModel, "wrong_input_shape.onnx"), good}, exitRuntime, "wrong_input_shape.onnx"},
		{"missing model", []string{"--model", filepath.Join(dir, "none.onnx"), good}, exitRuntime, "none.onnx"},
		{"model is a directory", []string{"--model", dir, good}, exitRuntime, "not a regular file"},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%s: exit %d (want %d), stderr %q", c.name, code, c.code, errOut)
		}
		if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine") {
			t.Errorf("%s: panicked: %s", c.name, errOut)
		}
		if c.code == exitInputs && !strings.Contains(out, good+": ") {
			t.Errorf("%s: the good image was not classified: %q", c.name, out)
		}
	}
}

func TestORTModelErrors(t *testing.T) {
	needData(t)
	needORT(t)
	good := writeTestPNGs(t, needData(t), 1)[0]
	for _, m := range []string{"garbage.onnx", "wrong_input_shape.onnx"} {
		code, _, errOut := runCmd(nil, "--engine", "ort", "--model", filepath.Join(runtimeModel, m), good)
		if code != exitRuntime || !strings.Contains(errOut, m) {
			t.Errorf("%s: exit %d, stderr %q", m, code, errOut)
		}
	}
}

// TestProviders: cuda is refused with its own exit code on a CPU-only
// library; auto falls back with one warning line and says so in JSON.
func TestProviders(t *testing.T) {
	s := needData(t)
	needORT(t)
	good := writeTestPNGs(t, s, 1)[0]
	code, _, errOut := runCmd(nil, "--engine", "ort", "--provider", "cuda", good)
	if code != exitProvider || !strings.Contains(errOut, "libonnxruntime_providers") {
		t.Errorf("cuda: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := runCmd(nil, "--engine", "ort", "--provider", "auto", "--json", good)
	if code != exitOK {
		t.Fatalf("auto: exit %d: %s", code, errOut)
	}
	if n := strings.Count(errOut, "\n"); n != 1 || !strings.Contains(errOut, "warning") {
		t.Errorf("auto: want exactly one warning line, got %q", errOut)
	}
	if r := decodeLines(t, out)[0]; r.Provider != "cpu" || r.Engine != "ort" {
		t.Errorf("auto: ran %s on %s", r.Engine, r.Provider)
	}
}

func TestSavePreprocessed(t *testing.T) {
	s := needData(t)
	paths := writeTestPNGs(t, s, 2)
	dir := t.TempDir()
	if code, _, errOut := runCmd(nil, append([]string{"--engine", "native", "--save-preprocessed", dir}, paths...)...); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for i := range paths {
		f, err := os.Open(filepath.Join(dir, fmt.Sprintf("%03d-test-%04d.png", i, i)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		g, ok := img.(*image.Gray)
		if !ok || !bytes.Equal(g.Pix, s.Image(i)) {
			t.Errorf("image %d: what the model saw differs from the dataset image", i)
		}
	}
}

func TestEvalAndParity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 10,000 images through both engines")
	}
	needData(t)
	needORT(t)
	code, out, errOut := runCmd(nil, "eval", "--json", "--engine", "native")
	if code != exitOK {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	var ev struct {
		Accuracy float64 `json:"accuracy"`
		N        int     `json:"n"`
		IPS      float64 `json:"images_per_second"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.N != 10000 || ev.IPS <= 0 || ev.Accuracy < 0.5 {
		t.Errorf("eval: %+v (%v) from %q", ev, err, out)
	}
	code, out, errOut = runCmd(nil, "parity", "--json")
	if code != exitOK {
		t.Fatalf("parity: exit %d: %s%s", code, out, errOut)
	}
	var p parityReport
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.N != 10000 || p.MaxAbsDiff > 1e-5 || p.ArgmaxAgreement != 1 || p.A.Accuracy == nil {
		t.Fatalf("parity: %+v (%v)", p, err)
	}
	if p.A.Engine != engineNative || p.B.Engine != engineORT || *p.A.Accuracy != ev.Accuracy {
		t.Errorf("parity's sides %+v, %+v: want native (with eval's accuracy %v) against ort", p.A, p.B, ev.Accuracy)
	}
	// An impossible tolerance fails the gate with exit 1, and the report still comes.
	code, out, _ = runCmd(nil, "parity", "--atol", "0", "--json")
	if err := json.Unmarshal([]byte(out), &p); err != nil || (p.MaxAbsDiff > 0 && (code != exitInputs || p.Pass || p.Outside == 0)) {
		t.Errorf("parity with tolerance 0: exit %d, report %+v (%v), want exit %d and a failed report", code, p, err, exitInputs)
	}
}

func TestVerify(t *testing.T) {
	engines := []string{engineNative}
	if _, err := fmrt.LoadLibrary(""); err == nil {
		engines = append(engines, engineORT)
	}
	for _, eng := range engines {
		code, out, errOut := runCmd(nil, "verify", "--engine", eng, torchBook)
		if code != exitOK || !strings.Contains(out, ": ok") {
			t.Errorf("verify %s: exit %d\n%s%s", eng, code, out, errOut)
		}
	}
	// A corrupted expectation is a mismatch: exit 1.
	dir := t.TempDir()
	copyDir(t, torchBook, dir)
	out0 := filepath.Join(dir, "test_data_set_0", "output_0.pb")
	b, err := os.ReadFile(out0)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-2] ^= 0x40
	os.WriteFile(out0, b, 0o644)
	if code, out, _ := runCmd(nil, "verify", dir); code != exitInputs || !strings.Contains(out, "MISMATCH") {
		t.Errorf("corrupted bundle: exit %d\n%s", code, out)
	}
	if code, out, _ := runCmd(nil, "verify", filepath.Join(dir, "missing")); code != exitRuntime || !strings.Contains(out, "no such directory") {
		t.Errorf("missing directory: exit %d, want %d (could not run)\n%s", code, exitRuntime, out)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDoctor(t *testing.T) {
	code, out, errOut := runCmd(nil, "doctor", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := json.Unmarshal(r.Metadata["class_names"], &names); err != nil || len(names) != 10 || names[9] != "Ankle boot" {
		t.Errorf("doctor: class_names %s (%v): want the list itself, not a JSON string", r.Metadata["class_names"], err)
	}
	var recipe map[string]any
	if err := json.Unmarshal(r.Metadata["recipe"], &recipe); err != nil || recipe["epochs"] == nil {
		t.Errorf("doctor: recipe %s (%v): want an object", r.Metadata["recipe"], err)
	}
	if r.ModelErr != "" || r.ModelFormat != "onnx" || !r.Providers["native"].Available {
		t.Errorf("doctor: %+v", r)
	}
	if c, ok := r.Providers["cuda"]; ok && !c.Available && (c.Reason == "" || len(c.Reason) > 250) {
		t.Errorf("doctor: cuda's reason %q: want a short line", c.Reason)
	}
}

// TestExplain writes the prediction picture and checks it is a real,
// non-blank PNG; --truth without --explain is a usage error.
func TestExplain(t *testing.T) {
	s := needData(t)
	img := writeTestPNGs(t, s, 1)[0]
	out := filepath.Join(t.TempDir(), "explain.png")
	truth := fmnist.ClassNames[s.Labels[0]]
	if code, _, errOut := runCmd(nil, "--engine", "native", "--explain", out, "--truth", truth, img); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pic, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := pic.Bounds()
	if b.Dx() < 400 || b.Dy() < 200 {
		t.Errorf("explain picture is only %v", b)
	}
	colours := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			colours[color.RGBAModel.Convert(pic.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(colours) < 8 {
		t.Errorf("explain picture looks blank: %d colours", len(colours))
	}
	if code, _, _ := runCmd(nil, "--truth", "Bag", img); code != exitUsage {
		t.Errorf("--truth without --explain: exit %d", code)
	}
	if code, _, _ := runCmd(nil, "--explain", out, "--truth", "Spaceship", img); code != exitUsage {
		t.Errorf("unknown --truth: exit %d", code)
	}
}

// TestCatalogAccuracy measures the embedded model on 200 test images in two
// forms: as the dataset's PNGs, and as catalog-style photos of the same
// items (dark on white, 224x224, JPEG). It logs both accuracies and how
// often the two forms get the same class.
func TestCatalogAccuracy(t *testing.T) {
	s := needData(t)
	const n = 200
	pngs := writeTestPNGs(t, s, n)
	dir := t.TempDir()
	var jpegs []string
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("catalog-%04d.jpg", i))
		if err := os.WriteFile(p, catalogJPEG(t, s, i), 0o644); err != nil {
			t.Fatal(err)
		}
		jpegs = append(jpegs, p)
	}
	classify := func(paths []string) []result {
		code, out, errOut := runCmd(nil, append([]string{"--json", "--engine", "native"}, paths...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return decodeLines(t, out)
	}
	rp, rc := classify(pngs), classify(jpegs)
	rightP, rightC, same, inverted := 0, 0, 0, 0
	for i := 0; i < n; i++ {
		if rp[i].Index == int(s.Labels[i]) {
			rightP++
		}
		if rc[i].Index == int(s.Labels[i]) {
			rightC++
		}
		if rp[i].Index == rc[i].Index {
			same++
		}
		if rc[i].Inverted {
			inverted++
		}
	}
	t.Logf("200 test images: PNG accuracy %.3f, catalog-photo accuracy %.3f, same class %d/%d, catalog photos inverted %d/%d",
		float64(rightP)/n, float64(rightC)/n, same, n, inverted, n)
	if inverted != n {
		t.Errorf("only %d of %d catalog photos were recognised as dark on light", inverted, n)
	}
	if rightP < n*85/100 || same < n*80/100 {
		t.Errorf("PNG accuracy %d/%d (want >= 85%%), same class %d/%d (want >= 80%%)", rightP, n, same, n)
	}
}

// Pictures of nothing are reported as such, never classified: a line in the
// text, an error record (no_item_found and a reason) in the JSON, a failed input (exit 1); --explain
// still draws why.
func TestNoObject(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, img image.Image) string {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flat := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for i := range flat.Pix {
		flat.Pix[i] = []uint8{200, 120, 90, 255}[i%4]
	}
	white := image.NewGray(image.Rect(0, 0, 120, 90))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	blanks := []string{write("flat.png", flat), write("white.png", white), write("dot.png", image.NewGray(image.Rect(0, 0, 1, 1)))}
	boot := filepath.Join(imgFixtures, "boot.png")

	code, out, errOut := runCmd(nil, append([]string{"--engine", "native"}, append(blanks, boot)...)...)
	if code != exitInputs {
		t.Fatalf("exit %d, want %d (failed inputs): %s", code, exitInputs, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("output %q", out)
	}
	for i, l := range lines[:3] {
		if !strings.HasPrefix(l, blanks[i]+": no item found: ") {
			t.Errorf("line %q, want %s: no item found: ...", l, blanks[i])
		}
	}
	if !strings.Contains(lines[3], "Ankle boot") || !strings.Contains(errOut, "3 of 4 inputs failed") {
		t.Errorf("the boot: %q; stderr %q", lines[3], errOut)
	}

	code, out, _ = runCmd(nil, "--engine", "native", "--json", blanks[0])
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitInputs {
		t.Fatalf("exit %d, %v: %q", code, err, out)
	}
	// An error record and nothing else: no class, index or probability never computed.
	reason, _ := r["reason"].(string)
	if len(r) != 3 || r["file"] != blanks[0] || r["error"] != errNoItem || !strings.HasPrefix(reason, "no item found: ") {
		t.Errorf("JSON %v: want {file, error: %s, reason: no item found: ...}", r, errNoItem)
	}

	pic := filepath.Join(dir, "why.png")
	if code, _, errOut := runCmd(nil, "--engine", "native", "--explain", pic, blanks[0]); code != exitInputs {
		t.Fatalf("explain: exit %d: %s", code, errOut)
	}
	if st, err := os.Stat(pic); err != nil || st.Size() < 1000 {
		t.Errorf("no explanation for the blank picture: %v", err)
	}
}

// The same photo stored under each EXIF orientation (the PIL-written
// orient-N fixtures) gets the class of the upright one, and --explain shows
// the steps.
func TestEXIFOrientation(t *testing.T) {
	var files []string
	for n := 1; n <= 8; n++ {
		files = append(files, filepath.Join(imgFixtures, fmt.Sprintf("orient-%d.jpg", n)))
	}
	code, out, errOut := runCmd(nil, append([]string{"--engine", "native", "--json"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var classes []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ Class string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		classes = append(classes, r.Class)
	}
	for i, c := range classes {
		if c != "Ankle boot" {
			t.Errorf("orient-%d.jpg: %s, want Ankle boot (as upright)", i+1, c)
		}
	}
	pic := filepath.Join(t.TempDir(), "explain.png")
	if code, _, errOut := runCmd(nil, "--engine", "native", "--explain", pic, files[5]); code != exitOK {
		t.Fatalf("explain: exit %d: %s", code, errOut)
	}
	f, err := os.Open(pic)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// The steps row above Explain's figure makes it taller than Explain alone.
	if b := img.Bounds(); b.Dy() < 500 || b.Dx() < 700 {
		t.Errorf("explain picture %v: the steps are missing", b)
	}
}

// A temporary file that a killed run left beside --explain's picture is
// removed by the next run that writes it.
func TestStaleExplainTemporary(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "explain.png")
	stale := filepath.Join(dir, atomicfile.TempPrefix("explain.png")+"123456")
	if err := os.WriteFile(stale, []byte("half a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(nil, "--engine", "native", "--explain", out, filepath.Join(imgFixtures, "boot.png"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) || !strings.Contains(errOut, "left by an interrupted write") {
		t.Errorf("stale temporary still there (%v); stderr %q", err, errOut)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}
