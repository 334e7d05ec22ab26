//go:build cgo

package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tolerance bounds |onnxruntime - float64 reference| per probability. onnxruntime computes the
// 784-term dot products and the softmax in float32; with tiny.onnx's weights (|w| <= 0.11) and
// pixels in [0,1] the logits' rounding error stays near 1e-6 at worst, and a probability moves
// by at most p(1-p) <= 1/4 times that; 1e-6 leaves a margin over the 5e-8 observed on the
// Fashion-MNIST test images.
const tolerance = 1e-6

func modelPath(name string) string { return filepath.Join(testdataDir, name) }

// openTiny opens tiny.onnx on the CPU with one intra-op thread (the test machine is shared).
func openTiny(tb testing.TB) Predictor {
	tb.Helper()
	p, err := OpenORT(modelPath("tiny.onnx"), ORTOptions{Gate: trustGate, IntraOpThreads: 1})
	if err != nil {
		tb.Fatalf("OpenORT: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

func TestORTMatchesReference(t *testing.T) {
	p := openTiny(t)
	x := fashionImages(t, 64)
	for _, n := range []int{1, 2, 7, 32, 64} {
		got, err := p.Predict(x[:n*PixelsPerImage], n, nil)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		want := tinyReference(x, n)
		if d := maxAbsDiff(got, want); d > tolerance {
			t.Errorf("n=%d: max |ort - reference| = %.3g > %g", n, d, tolerance)
		} else {
			t.Logf("n=%d: maxdiff %.3g", n, d)
		}
		for k := range n {
			var s float64
			for _, v := range got[k*NumClasses : (k+1)*NumClasses] {
				s += float64(v)
			}
			if s < 1-1e-5 || s > 1+1e-5 {
				t.Errorf("n=%d image %d: probabilities sum to %v", n, k, s)
			}
		}
	}
}

func TestORTInfo(t *testing.T) {
	p := openTiny(t)
	info := p.Info()
	if info.Engine != EngineORT || info.Provider != (Provider{Kind: ProviderCPU}) || info.Fallback != "" {
		t.Errorf("engine/provider = %q %v %q, want ort cpu", info.Engine, info.Provider, info.Fallback)
	}
	if info.InputName != "input" || !equalShape(info.InputShape, -1, 1, 28, 28) {
		t.Errorf("input = %q %v, want input [-1 1 28 28]", info.InputName, info.InputShape)
	}
	if info.OutputName != "probabilities" || !equalShape(info.OutputShape, -1, 10) {
		t.Errorf("output = %q %v, want probabilities [-1 10]", info.OutputName, info.OutputShape)
	}
	if !strings.HasPrefix(info.Library.Version, RequiredVersion+".") || info.Library.Path == "" {
		t.Errorf("library = %+v, want a %s.x path", info.Library, RequiredVersion)
	}
	if info.IntraOpThreads != 1 {
		t.Errorf("IntraOpThreads = %d, want 1", info.IntraOpThreads)
	}
	// Info returns copies.
	info.InputShape[0] = 99
	if p.Info().InputShape[0] != -1 {
		t.Error("Info shares its shape slice with the predictor")
	}
	t.Log(p.Info())
}

func equalShape(got []int64, want ...int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestORTLoadErrors maps each bad model to the error it must produce.
func TestORTLoadErrors(t *testing.T) {
	tests := []struct {
		file   string
		tensor string // LoadError.Tensor
		want   string // substring of the message
	}{
		{"wrong_input_shape.onnx", `input "input"`, "has shape [-1 2 14 28], want one 28x28 grayscale image per row"},
		{"wrong_input_type.onnx", `input "input"`, "is a uint8 tensor, want a float (float32) tensor"},
		{"wrong_output_shape.onnx", `output "probabilities"`, "has shape [-1 5], want [N 10]"},
		{"two_inputs.onnx", "", `has 2 inputs ("input" [-1 1 28 28], "scale" [1])`},
		{"garbage.onnx", "", "not an ONNX model: malformed protobuf: mismatching end group marker"},
		{"does_not_exist.onnx", "", "cannot read the file: no such file or directory"},
		{".", "", "is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := modelPath(tt.file)
			p, err := OpenORT(path, ORTOptions{Gate: trustGate, IntraOpThreads: 1})
			if err == nil {
				p.Close()
				t.Fatal("OpenORT succeeded, want an error")
			}
			var me *LoadError
			if !errors.As(err, &me) {
				t.Fatalf("error %T %v, want *LoadError", err, err)
			}
			if me.Model != path || me.Tensor != tt.tensor || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q (tensor %q), want model %s, tensor %q, message containing %q", err, me.Tensor, path, tt.tensor, tt.want)
			}
		})
	}
	t.Run("missing file is ErrNotExist", func(t *testing.T) {
		_, err := OpenORT(modelPath("does_not_exist.onnx"), ORTOptions{Gate: trustGate})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
		}
	})
	t.Run("empty in-memory model", func(t *testing.T) {
		_, err := NewORT(nil, ORTOptions{Gate: trustGate, ModelName: "embedded"})
		if err == nil || err.Error() != "runtime: model embedded: is empty" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		data, _ := os.ReadFile(modelPath("tiny.onnx"))
		for _, o := range []ORTOptions{{Gate: trustGate, IntraOpThreads: -1}, {Gate: trustGate, IntraOpThreads: MaxThreads() + 1}, {Gate: trustGate, IntraOpThreads: 1 << 31}, {Gate: trustGate, Provider: Provider{Kind: 7}}, {Gate: trustGate, Provider: Provider{Kind: ProviderCUDA, DeviceID: -2}}} {
			if p, err := NewORT(data, o); err == nil {
				p.Close()
				t.Errorf("NewORT(%+v) succeeded", o)
			}
		}
	})
}

// TestORTOutputChoice checks which output is used and the fixed-batch path.
func TestORTOutputChoice(t *testing.T) {
	x := fashionImages(t, 8)
	tests := []struct {
		file, output string
		batch        int64
	}{
		{"multi_output.onnx", "probabilities", -1}, // "probabilities" preferred over the first output
		{"fixed_batch.onnx", "out", 3},             // the only (first) output; batch fixed at 3
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := OpenORT(modelPath(tt.file), ORTOptions{Gate: trustGate, IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			info := p.Info()
			if info.OutputName != tt.output || info.InputShape[0] != tt.batch {
				t.Errorf("output %q batch %d, want %q %d", info.OutputName, info.InputShape[0], tt.output, tt.batch)
			}
			for _, n := range []int{1, 3, 4, 6, 8} {
				got, err := p.Predict(x[:n*PixelsPerImage], n, nil)
				if err != nil {
					t.Fatalf("n=%d: %v", n, err)
				}
				if d := maxAbsDiff(got, first10Reference(x, n)); d > tolerance {
					t.Errorf("n=%d: maxdiff %.3g", n, d)
				}
			}
		})
	}
}

func TestORTPredictArguments(t *testing.T) {
	p := openTiny(t)
	x := fashionImages(t, 2)
	t.Run("length mismatch", func(t *testing.T) {
		for _, c := range []struct{ len, n int }{{PixelsPerImage, 2}, {2 * PixelsPerImage, 1}, {PixelsPerImage + 1, 1}, {PixelsPerImage, -1}} {
			_, err := p.Predict(make([]float32, c.len), c.n, nil)
			var be *BatchError
			if !errors.As(err, &be) || be.N != c.n || be.Len != c.len {
				t.Errorf("len %d n %d: got %v, want *BatchError", c.len, c.n, err)
			}
		}
	})
	t.Run("n=0", func(t *testing.T) {
		dst := make([]float32, 5, 50)
		got, err := p.Predict(nil, 0, dst)
		if err != nil || len(got) != 0 || cap(got) != 50 {
			t.Errorf("got len %d cap %d err %v, want dst[:0]", len(got), cap(got), err)
		}
	})
	t.Run("dst reused", func(t *testing.T) {
		dst := make([]float32, 0, 64)
		got, err := p.Predict(x, 2, dst)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 20 || &got[0] != &dst[:1][0] {
			t.Errorf("len %d, reused %v; want 20 values written into dst", len(got), &got[0] == &dst[:1][0])
		}
		small := make([]float32, 3)
		got2, err := p.Predict(x, 2, small)
		if err != nil || len(got2) != 20 || maxAbsDiff(got2, tinyReference(x, 2)) > tolerance {
			t.Errorf("small dst: len %d err %v", len(got2), err)
		}
	})
	t.Run("x unchanged", func(t *testing.T) {
		c := append([]float32(nil), x...)
		if _, err := p.Predict(x, 2, nil); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			if x[i] != c[i] {
				t.Fatalf("x[%d] changed", i)
			}
		}
	})
}

// TestORTConcurrent runs Predict from many goroutines on one predictor; every result must equal
// the serial one. Run it under -race: go test -race -run 'Concurrent' ./pkg/runtime/
func TestORTConcurrent(t *testing.T) {
	p := openTiny(t)
	const n = 4
	x := fashionImages(t, 16*n)
	want := make([][]float32, 16)
	for g := range want {
		var err error
		want[g], err = p.Predict(x[g*n*PixelsPerImage:(g+1)*n*PixelsPerImage], n, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(want))
	for g := range want {
		wg.Go(func() {
			var dst []float32
			for range 25 {
				var err error
				dst, err = p.Predict(x[g*n*PixelsPerImage:(g+1)*n*PixelsPerImage], n, dst)
				if err != nil {
					errs <- err
					return
				}
				for i := range dst {
					if dst[i] != want[g][i] {
						errs <- errors.New("goroutine " + strconv.Itoa(g) + ": result differs from the serial run")
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestORTCloseWhilePredicting closes a predictor under load: running calls finish, later ones
// get ErrClosed, and nothing crashes.
func TestORTCloseWhilePredicting(t *testing.T) {
	p, err := OpenORT(modelPath("tiny.onnx"), ORTOptions{Gate: trustGate, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := fashionImages(t, 8)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			<-start
			for {
				if _, err := p.Predict(x, 8, nil); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("Predict: %v, want nil or ErrClosed", err)
					}
					return
				}
			}
		})
	}
	close(start)
	time.Sleep(20 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// procStatus reads a "Name:  value kB" field of /proc/self/status.
func procStatus(tb testing.TB, field string) int {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v, err := strconv.Atoi(strings.Fields(rest)[0])
			if err != nil {
				tb.Fatal(err)
			}
			return v
		}
	}
	tb.Fatalf("/proc/self/status has no %s", field)
	return 0
}

// TestORTCloseReleases creates and closes many predictors: resident memory must not grow beyond
// a small bound after a warm-up, and goroutine and OS thread counts must return to where they
// started. A leaked session costs well over 100 kB (tiny.onnx alone is 31 kB, held twice), so
// 300 leaks would add tens of MB.
func TestORTCloseReleases(t *testing.T) {
	data, err := os.ReadFile(modelPath("tiny.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x := fashionImages(t, 4)
	cycle := func(count int) {
		for range count {
			p, err := NewORT(data, ORTOptions{Gate: trustGate, IntraOpThreads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Predict(x, 4, nil); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	settle := func() {
		goruntime.GC()
		debug.FreeOSMemory()
	}
	cycle(50) // warm-up: onnxruntime's allocator arenas, kernel registries, Go heap
	settle()
	g0, th0, rss0 := goruntime.NumGoroutine(), procStatus(t, "Threads"), procStatus(t, "VmRSS")
	const sessions = 300
	cycle(sessions)
	settle()
	g1, th1, rss1 := goruntime.NumGoroutine(), procStatus(t, "Threads"), procStatus(t, "VmRSS")
	t.Logf("%d sessions: RSS %d -> %d kB (%+d), goroutines %d -> %d, threads %d -> %d",
		sessions, rss0, rss1, rss1-rss0, g0, g1, th0, th1)
	const boundKB = 8 << 10
	if rss1-rss0 > boundKB {
		t.Errorf("RSS grew by %d kB over %d sessions, bound %d kB: a leak", rss1-rss0, sessions, boundKB)
	}
	if g1 > g0 {
		t.Errorf("goroutines %d -> %d", g0, g1)
	}
	if th1 > th0 {
		t.Errorf("OS threads %d -> %d: onnxruntime thread pools not released", th0, th1)
	}
}

// TestORTProviderCUDA asks for CUDA. Without a CUDA build of onnxruntime (this repository's
// set-up installs the CPU build) it must fail with a *ProviderError naming what is missing;
// where CUDA works, the results must match the reference.
func TestORTProviderCUDA(t *testing.T) {
	p, err := OpenORT(modelPath("tiny.onnx"), ORTOptions{Gate: trustGate, Provider: Provider{Kind: ProviderCUDA}})
	if err == nil {
		defer p.Close()
		if got := p.Info().Provider; got != (Provider{Kind: ProviderCUDA}) {
			t.Errorf("Info().Provider = %v, want cuda:0", got)
		}
		x := fashionImages(t, 32)
		got, err := p.Predict(x, 32, nil)
		if err != nil {
			t.Fatal(err)
		}
		// GPU kernels may sum in another order (and use TF32 off by default for Gemm):
		// allow float32 reassociation, still far below any class-changing difference.
		if d := maxAbsDiff(got, tinyReference(x, 32)); d > 1e-5 {
			t.Errorf("cuda: maxdiff %.3g", d)
		}
		t.Logf("CUDA available: %v", p.Info())
		return
	}
	var pe *ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v, want *ProviderError", err, err)
	}
	if pe.Provider != (Provider{Kind: ProviderCUDA}) || pe.Missing == "" || pe.Err == nil {
		t.Errorf("ProviderError %+v: want provider cuda:0, Missing and Err set", pe)
	}
	if !strings.Contains(err.Error(), pe.Missing+" is missing") {
		t.Errorf("message %q does not name %q", err, pe.Missing)
	}
	t.Logf("missing %q; message: %v", pe.Missing, err)
}

// TestORTProviderAuto falls back to the CPU with exactly one warning line when CUDA is missing.
func TestORTProviderAuto(t *testing.T) {
	var warn bytes.Buffer
	p, err := OpenORT(modelPath("tiny.onnx"), ORTOptions{Gate: trustGate, Provider: Provider{Kind: ProviderAuto}, Warn: &warn, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	info := p.Info()
	lines := strings.Count(warn.String(), "\n")
	switch info.Provider.Kind {
	case ProviderCPU:
		if lines != 1 || !strings.HasPrefix(warn.String(), "warning: CUDA execution provider unavailable (") || info.Fallback == "" {
			t.Errorf("fallback: warning %q (%d lines), Fallback %q; want exactly one line and a reason", warn.String(), lines, info.Fallback)
		}
	case ProviderCUDA:
		if lines != 0 || info.Fallback != "" {
			t.Errorf("cuda: warning %q, Fallback %q; want none", warn.String(), info.Fallback)
		}
	default:
		t.Fatalf("Info().Provider = %v", info.Provider)
	}
	x := fashionImages(t, 8)
	got, err := p.Predict(x, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(got, tinyReference(x, 8)); d > 1e-5 {
		t.Errorf("maxdiff %.3g", d)
	}
	t.Logf("auto -> %v; warning %q", info.Provider, warn.String())
}

// fakeLibrary compiles a shared library that exports OrtGetApiBase reporting version and
// returning a null API (as a too-new or too-old library answers an unknown API version).
func fakeLibrary(t *testing.T, version string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skipf("no C compiler to build a fake library: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "fake.c")
	code := `#include <stdint.h>
typedef struct { const void *(*GetApi)(uint32_t); const char *(*GetVersionString)(void); } Base;
static const void *get_api(uint32_t v) { (void)v; return 0; }
static const char *get_version(void) { return "` + version + `"; }
static const Base base = { get_api, get_version };
const Base *OrtGetApiBase(void) { return &base; }
`
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "libonnxruntime.so.1")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Skipf("cannot build a fake library: %v\n%s", err, out)
	}
	return lib
}

// TestLoadLibraryErrors unloads onnxruntime and loads bad libraries: each fails with a
// *LibraryError listing the path, and a later load of the real library still works.
func TestLoadLibraryErrors(t *testing.T) {
	real, err := LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	if err := Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	t.Cleanup(func() {
		if _, err := LoadLibrary(real.Path); err != nil {
			t.Errorf("reloading %s: %v", real.Path, err)
		}
	})
	notORT := "/usr/lib/x86_64-linux-gnu/libonnx.so.1" // a real ELF library without OrtGetApiBase
	if _, err := os.Stat(notORT); err != nil {
		notORT = ""
	}
	tests := []struct {
		name, path string
		want       string
		version    *VersionError
	}{
		{"missing", filepath.Join(t.TempDir(), "libonnxruntime.so.1"), ": not found", nil},
		{"directory", t.TempDir(), "is a directory", nil},
		{"not ELF", modelPath("garbage.onnx"), "cannot load: ", nil},
		{"old version", fakeLibrary(t, "1.16.3"), "is onnxruntime 1.16.3, but 1.24.x is required", &VersionError{Found: "1.16.3", Required: "1.24"}},
		{"new version", fakeLibrary(t, "1.25.0"), "is onnxruntime 1.25.0, but 1.24.x is required", &VersionError{Found: "1.25.0", Required: "1.24"}},
		{"right version, no API", fakeLibrary(t, "1.24.9"), "onnxruntime cannot initialise", nil},
	}
	if notORT != "" {
		tests = append(tests, struct {
			name, path string
			want       string
			version    *VersionError
		}{"not onnxruntime", notORT, "not an onnxruntime library (no OrtGetApiBase symbol)", nil})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadLibrary(tt.path)
			var le *LibraryError
			if !errors.As(err, &le) {
				t.Fatalf("LoadLibrary(%s) = %v, want *LibraryError", tt.path, err)
			}
			msg := err.Error()
			if len(le.Tried) != 1 || le.Tried[0].Path != tt.path || le.Tried[0].Source != SourceOption ||
				!strings.Contains(msg, tt.want) || !strings.Contains(msg, "make setup") || !strings.Contains(msg, LibraryEnv) {
				t.Errorf("got %q, want one attempt at %s containing %q and the fix", msg, tt.path, tt.want)
			}
			var ve *VersionError
			if tt.version != nil && (!errors.As(err, &ve) || ve.Found != tt.version.Found || ve.Required != tt.version.Required) {
				t.Errorf("errors.As VersionError: %+v, want %+v", ve, tt.version)
			}
		})
	}
	t.Run("environment variable", func(t *testing.T) {
		fake := fakeLibrary(t, "1.16.3")
		t.Setenv(LibraryEnv, fake)
		_, err := LoadLibrary("")
		var le *LibraryError
		if !errors.As(err, &le) || le.Tried[0].Source != SourceEnv || le.Tried[len(le.Tried)-1].Path != fake {
			t.Fatalf("got %v, want the env library tried first and reported", err)
		}
	})
	t.Run("retry succeeds", func(t *testing.T) {
		lib, err := LoadLibrary(real.Path)
		if err != nil || lib.Version != real.Version {
			t.Fatalf("LoadLibrary(%s) after failures = %+v, %v", real.Path, lib, err)
		}
		if _, err := LoadLibrary(modelPath("garbage.onnx")); err == nil || !strings.Contains(err.Error(), "is already loaded from "+real.Path) ||
			strings.Contains(err.Error(), "make setup") {
			t.Errorf("loading a second library: %v, want an already-loaded error", err)
		}
		p := openTiny(t)
		if err := Shutdown(); err == nil || !strings.Contains(err.Error(), "still open") {
			t.Errorf("Shutdown with an open predictor: %v", err)
		}
		p.Close()
	})
}

var benchSink []float32

// BenchmarkPredict measures Predict on tiny.onnx at batch 1 and 32, with onnxruntime (one
// intra-op thread) and with the pure-Go reference wrapped by NewNative, for the ratio.
func BenchmarkPredict(b *testing.B) {
	x := fashionImages(b, 32)
	ortP := openTiny(b)
	natP := NewNative(newRefForwarder(), Info{})
	for _, pr := range []struct {
		name string
		p    Predictor
	}{{"ort", ortP}, {"native-ref", natP}} {
		for _, n := range []int{1, 32} {
			b.Run(pr.name+"/batch="+strconv.Itoa(n), func(b *testing.B) {
				dst := make([]float32, n*NumClasses)
				b.SetBytes(int64(n * PixelsPerImage * 4))
				for b.Loop() {
					var err error
					dst, err = pr.p.Predict(x[:n*PixelsPerImage], n, dst)
					if err != nil {
						b.Fatal(err)
					}
				}
				benchSink = dst
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/image")
			})
		}
	}
}
