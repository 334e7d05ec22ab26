package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestNativeMatchesReference(t *testing.T) {
	f := newRefForwarder()
	p := NewNative(f, Info{})
	x := fashionImages(t, 16)
	for _, n := range []int{1, 5, 16} {
		got, err := p.Predict(x[:n*PixelsPerImage], n, nil)
		if err != nil {
			t.Fatal(err)
		}
		// refForwarder accumulates in float32, the reference in float64.
		if d := maxAbsDiff(got, tinyReference(x, n)); d > 1e-6 {
			t.Errorf("n=%d: maxdiff %.3g", n, d)
		}
	}
	if err := p.Close(); err != nil || f.closed != 1 {
		t.Errorf("Close: %v, forwarder closed %d times, want once", err, f.closed)
	}
	if err := p.Close(); err != nil || f.closed != 1 {
		t.Errorf("second Close: %v, forwarder closed %d times, want once", err, f.closed)
	}
	if _, err := p.Predict(x[:PixelsPerImage], 1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Predict after Close: %v, want ErrClosed", err)
	}
}

func TestNativeInfo(t *testing.T) {
	p := NewNative(newRefForwarder(), Info{Engine: "bogus", Provider: Provider{Kind: ProviderCUDA}, OutputName: "probs", IntraOpThreads: 3})
	want := Info{
		Engine:         EngineNative,
		Provider:       Provider{Kind: ProviderCPU},
		InputName:      "input",
		InputShape:     []int64{-1, 1, 28, 28},
		OutputName:     "probs",
		OutputShape:    []int64{-1, 10},
		IntraOpThreads: 3,
	}
	if got := p.Info(); !reflect.DeepEqual(got, want) {
		t.Errorf("Info() = %+v, want %+v", got, want)
	}
	if s := p.Info().String(); s != "native (cpu) input [-1 1 28 28] -> probs [-1 10]" {
		t.Errorf("String() = %q", s)
	}
}

func TestNativeArguments(t *testing.T) {
	p := NewNative(newRefForwarder(), Info{})
	tests := []struct {
		len, n int
		want   string // error text; "" for success
	}{
		{0, 0, ""},
		{PixelsPerImage, 1, ""},
		{PixelsPerImage, 2, "runtime: Predict: len(x) = 784, want n*784 = 1568 for n = 2 images"},
		{PixelsPerImage - 1, 1, "runtime: Predict: len(x) = 783, want n*784 = 784 for n = 1 images"},
		{PixelsPerImage, -1, "runtime: Predict: n = -1 images is negative"},
		{PixelsPerImage, 1 << 62, "runtime: Predict: len(x) = 784"}, // n*784 overflows int: still an error
	}
	for _, tt := range tests {
		got, err := p.Predict(make([]float32, tt.len), tt.n, nil)
		switch {
		case tt.want == "" && (err != nil || len(got) != tt.n*NumClasses):
			t.Errorf("len %d n %d: %d values, %v", tt.len, tt.n, len(got), err)
		case tt.want != "":
			var be *BatchError
			if !errors.As(err, &be) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("len %d n %d: %v, want *BatchError %q", tt.len, tt.n, err, tt.want)
			}
		}
	}
}

// TestNativeConcurrent shares one wrapped, non-thread-safe Forwarder between goroutines: the
// mutex must serialise it (run under -race to see a data race if it did not) and every result
// must equal the serial one.
func TestNativeConcurrent(t *testing.T) {
	p := NewNative(newRefForwarder(), Info{})
	x := fashionImages(t, 8)
	want, err := p.Predict(x, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for range 8 {
		wg.Go(func() {
			for range 5 {
				got, err := p.Predict(x, 8, nil)
				if err != nil || !reflect.DeepEqual(got, want) {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if bad != 0 {
		t.Errorf("%d concurrent calls differed from the serial result", bad)
	}
}

type shortForwarder struct{}

func (shortForwarder) Predict(x []float32, n int, dst []float32) []float32 { return dst[:0] }

func TestNativeContractViolationPanics(t *testing.T) {
	p := NewNative(shortForwarder{}, Info{})
	defer func() {
		if recover() == nil {
			t.Error("a Forwarder returning too few values did not panic")
		}
	}()
	p.Predict(make([]float32, PixelsPerImage), 1, nil)
}

func TestParseProvider(t *testing.T) {
	tests := []struct {
		in   string
		want Provider
		err  string
	}{
		{in: "cpu", want: Provider{Kind: ProviderCPU}},
		{in: " CPU ", want: Provider{Kind: ProviderCPU}},
		{in: "cuda", want: Provider{Kind: ProviderCUDA}},
		{in: "cuda:0", want: Provider{Kind: ProviderCUDA}},
		{in: "cuda:3", want: Provider{Kind: ProviderCUDA, DeviceID: 3}},
		{in: "auto", want: Provider{Kind: ProviderAuto}},
		{in: "Auto:1", want: Provider{Kind: ProviderAuto, DeviceID: 1}},
		{in: "", err: `unknown execution provider ""`},
		{in: "tpu", err: `unknown execution provider "tpu"`},
		{in: "cpu:0", err: "cpu takes no device id"},
		{in: "cuda:", err: `device id "" is not a number`},
		{in: "cuda:-1", err: `device id "-1" is not a number`},
		{in: "cuda:+1", err: `device id "+1" is not a number`},
		{in: "cuda:x", err: `device id "x" is not a number`},
		{in: "cuda:99999999999999999999", err: "is not a number"},
		{in: "cuda:1:2", err: `device id "1:2"`},
	}
	for _, tt := range tests {
		got, err := ParseProvider(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseProvider(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseProvider(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back, err := ParseProvider(got.String()); err != nil || back != got {
			t.Errorf("round trip of %v via %q: %v, %v", got, got.String(), back, err)
		}
	}
}

func TestProviderFlagValue(t *testing.T) {
	var p Provider
	if err := p.Set("cuda:2"); err != nil || p != (Provider{Kind: ProviderCUDA, DeviceID: 2}) {
		t.Errorf("Set: %v %v", p, err)
	}
	if err := p.Set("nope"); err == nil || p.Kind != ProviderCUDA {
		t.Errorf("a failed Set changed the value or passed: %v %v", p, err)
	}
	if p.Type() != "provider" || p.String() != "cuda:2" {
		t.Errorf("Type %q String %q", p.Type(), p.String())
	}
}

// FuzzParseProvider checks that ParseProvider never panics and that whatever it accepts
// round-trips through String.
func FuzzParseProvider(f *testing.F) {
	for _, s := range []string{"cpu", "cuda", "cuda:1", "auto:0", "CUDA:007", "cpu:1", ":", "cuda:-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProvider(s)
		if err != nil {
			return
		}
		back, err := ParseProvider(p.String())
		if err != nil || back != p {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, p, p.String(), back, err)
		}
	})
}

func TestMissingLibrary(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"Failed to load library /x/libonnxruntime_providers_shared.so with error: /x/libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory",
			"libonnxruntime_providers_shared.so"},
		{"Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory",
			"libcudnn.so.9"},
		{"Failed to load library /usr/lib/libonnxruntime_providers_cuda.so with error: undefined symbol", "libonnxruntime_providers_cuda.so"},
		{"CUDA failure 100: no CUDA-capable device is detected", ""},
	}
	for _, tt := range tests {
		if got := missingLibrary(tt.msg); got != tt.want {
			t.Errorf("missingLibrary(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

func TestProviderErrorMessage(t *testing.T) {
	err := error(&ProviderError{Provider: Provider{Kind: ProviderCUDA, DeviceID: 1}, Missing: "libcudnn.so.9", Err: errors.New("boom")})
	msg := err.Error()
	for _, want := range []string{"execution provider cuda:1 is not available: libcudnn.so.9 is missing", "CUDA 12 and cuDNN 9", ": boom"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if errors.Unwrap(err).Error() != "boom" {
		t.Error("Unwrap")
	}
}

func TestChooseIO(t *testing.T) {
	f32 := func(name string, shape ...int64) tensorDesc {
		return tensorDesc{Name: name, IsTensor: true, IsFloat: true, Type: "a float tensor", Shape: shape}
	}
	in := f32("input", -1, 1, 28, 28)
	out := f32("probabilities", -1, 10)
	tests := []struct {
		name       string
		ins, outs  []tensorDesc
		wantOut    string
		wantBatch  int64
		wantTensor string
		wantErr    string
	}{
		{name: "dynamic", ins: []tensorDesc{in}, outs: []tensorDesc{out}, wantOut: "probabilities", wantBatch: -1},
		{name: "fixed batch", ins: []tensorDesc{f32("x", 4, 1, 28, 28)}, outs: []tensorDesc{f32("y", 4, 10)}, wantOut: "y", wantBatch: 4},
		{name: "fixed input, dynamic output", ins: []tensorDesc{f32("x", 4, 1, 28, 28)}, outs: []tensorDesc{f32("y", -1, 10)}, wantOut: "y", wantBatch: 4},
		{name: "prefers probabilities", ins: []tensorDesc{in}, outs: []tensorDesc{f32("logits", -1, 10), out}, wantOut: "probabilities", wantBatch: -1},
		{name: "else the first", ins: []tensorDesc{in}, outs: []tensorDesc{f32("a", -1, 10), f32("b", -1, 3)}, wantOut: "a", wantBatch: -1},
		{name: "no inputs", outs: []tensorDesc{out}, wantErr: "has 0 inputs"},
		{name: "NHWC", ins: []tensorDesc{f32("input", -1, 28, 28, 1)}, outs: []tensorDesc{out}, wantOut: "probabilities", wantBatch: -1},
		{name: "rank 3", ins: []tensorDesc{f32("input", 5, 28, 28)}, outs: []tensorDesc{out}, wantOut: "probabilities", wantBatch: 5},
		{name: "flat", ins: []tensorDesc{f32("input", -1, 784)}, outs: []tensorDesc{out}, wantOut: "probabilities", wantBatch: -1},
		{name: "two channels", ins: []tensorDesc{f32("input", -1, 2, 14, 28)}, outs: []tensorDesc{out}, wantTensor: `input "input"`,
			wantErr: "has shape [-1 2 14 28], want one 28x28 grayscale image per row: [N 1 28 28], [N 28 28 1], [N 28 28] or [N 784]"},
		{name: "no batch", ins: []tensorDesc{f32("input", 784)}, outs: []tensorDesc{out}, wantTensor: `input "input"`, wantErr: "has shape [784]"},
		{name: "zero batch", ins: []tensorDesc{f32("input", 0, 1, 28, 28)}, outs: []tensorDesc{out}, wantErr: "has shape [0 1 28 28]"},
		{name: "double input", ins: []tensorDesc{{Name: "input", IsTensor: true, Type: "a double tensor", Shape: in.Shape}}, outs: []tensorDesc{out}, wantErr: "is a double tensor"},
		{name: "sequence output", ins: []tensorDesc{in}, outs: []tensorDesc{{Name: "probabilities", Type: "a sequence"}}, wantTensor: `output "probabilities"`, wantErr: "is a sequence"},
		{name: "no outputs", ins: []tensorDesc{in}, wantErr: "has no outputs"},
		{name: "batch mismatch", ins: []tensorDesc{f32("x", 4, 1, 28, 28)}, outs: []tensorDesc{f32("y", 2, 10)}, wantErr: "has shape [2 10], want [N 10] with N dynamic or the input's N (4)"},
		{name: "fixed output, dynamic input", ins: []tensorDesc{in}, outs: []tensorDesc{f32("y", 2, 10)}, wantErr: "has shape [2 10]"},
		{name: "11 classes", ins: []tensorDesc{in}, outs: []tensorDesc{f32("probabilities", -1, 11)}, wantErr: "has shape [-1 11]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseIO("m.onnx", tt.ins, tt.outs)
			if tt.wantErr != "" {
				var me *LoadError
				if !errors.As(err, &me) || me.Model != "m.onnx" || !strings.Contains(err.Error(), tt.wantErr) ||
					(tt.wantTensor != "" && me.Tensor != tt.wantTensor) {
					t.Errorf("got %v, want *LoadError containing %q (tensor %q)", err, tt.wantErr, tt.wantTensor)
				}
				return
			}
			if err != nil || got.out.Name != tt.wantOut || got.batch != tt.wantBatch {
				t.Errorf("got out %q batch %d err %v, want %q %d", got.out.Name, got.batch, err, tt.wantOut, tt.wantBatch)
			}
		})
	}
}

// fakeEnv is a searchEnv over a temporary tree.
func fakeEnv(env map[string]string, exe, wd, userCache string, sys ...string) searchEnv {
	return searchEnv{
		getenv:     func(k string) string { return env[k] },
		executable: func() (string, error) { return exe, nil },
		getwd:      func() (string, error) { return wd, nil },
		userCache: func() (string, error) {
			if userCache == "" {
				return "", errors.New("no cache")
			}
			return userCache, nil
		},
		systemDirs: sys,
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLibraryCandidates(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "src", "fmkit")
	other := filepath.Join(root, "src", "other")
	writeFile(t, filepath.Join(repo, "go.mod"), "// comment\nmodule github.com/fmkit/fmkit\n\ngo 1.26\n")
	writeFile(t, filepath.Join(other, "go.mod"), "module example.com/other\n")
	writeFile(t, filepath.Join(repo, "cmd", "fminfer", "x.go"), "package main\n")
	repoLib := filepath.Join(repo, ".cache", "onnxruntime", "1.24.1", "libonnxruntime.so.1")
	userLib := filepath.Join(root, "home", ".cache", "fmkit", "onnxruntime", "1.24.1", "libonnxruntime.so.1")
	sys := []string{filepath.Join(root, "usr", "lib")}

	t.Run("explicit is the only candidate", func(t *testing.T) {
		e := fakeEnv(map[string]string{LibraryEnv: "/env/lib.so"}, filepath.Join(repo, "bin", "fminfer"), repo, "", sys...)
		got := e.candidates("/my/lib.so")
		if want := []Candidate{{"/my/lib.so", SourceOption}}; !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("full order", func(t *testing.T) {
		e := fakeEnv(map[string]string{LibraryEnv: "/env/lib.so", CacheEnv: "/fmkit-cache"},
			filepath.Join(repo, "bin", "fminfer"), filepath.Join(other, "sub"), filepath.Join(root, "home", ".cache"), sys...)
		got := e.candidates("")
		want := []Candidate{
			{"/env/lib.so", SourceEnv},
			{"/fmkit-cache/onnxruntime/1.24.1/libonnxruntime.so.1", SourceFMKIT},
			{repoLib, SourceRepo}, // found from the executable; the working directory is in another module
			{userLib, SourceUser},
			{filepath.Join(sys[0], "libonnxruntime.so.1"), SourceSystem},
			{filepath.Join(sys[0], "libonnxruntime.so"), SourceSystem},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got\n%v\nwant\n%v", got, want)
		}
	})
	t.Run("repo from the working directory, deduplicated", func(t *testing.T) {
		e := fakeEnv(nil, filepath.Join(repo, "bin", "fminfer"), filepath.Join(repo, "cmd", "fminfer"), "")
		got := e.candidates("")
		if want := []Candidate{{repoLib, SourceRepo}}; !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("no checkout", func(t *testing.T) {
		e := fakeEnv(nil, "/usr/bin/fminfer", other, "")
		if got := e.candidates(""); len(got) != 0 {
			t.Errorf("got %v, want none", got)
		}
	})
	t.Run("real process", func(t *testing.T) {
		// go test runs in pkg/runtime, inside this repository: its set-up cache must be listed,
		// as SourceRepo, or as SourceEnv when ONNXRUNTIME_SHARED_LIBRARY_PATH names that same
		// file (make exports it), since candidates are deduplicated.
		wd, _ := os.Getwd()
		want := filepath.Join(filepath.Dir(filepath.Dir(wd)), ".cache", "onnxruntime", CacheVersion, "libonnxruntime.so.1")
		found := false
		for _, c := range LibraryCandidates("") {
			found = found || (c.Path == want && (c.Source == SourceRepo || (c.Source == SourceEnv && os.Getenv(LibraryEnv) == want)))
		}
		if !found {
			t.Errorf("LibraryCandidates lacks %s", want)
		}
	})
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	present := filepath.Join(root, "a", "libonnxruntime.so.1")
	later := filepath.Join(root, "b", "libonnxruntime.so.1")
	writeFile(t, present, "x")
	writeFile(t, later, "x")
	missing := filepath.Join(root, "missing.so")
	e := fakeEnv(map[string]string{LibraryEnv: missing}, "/nowhere/bin", "/nowhere", "", filepath.Join(root, "a"), filepath.Join(root, "b"))

	var loaded []string
	ok := func(c Candidate) (Library, error) {
		loaded = append(loaded, c.Path)
		return Library{Path: c.Path, Version: "1.24.1", Source: c.Source}, nil
	}
	lib, err := e.discover("", ok)
	if err != nil || lib.Path != present || lib.Source != SourceSystem || !reflect.DeepEqual(loaded, []string{present}) {
		t.Errorf("discover = %+v, %v; loads %v; want the first present file, loaded once", lib, err, loaded)
	}

	// The first present file decides: its failure ends discovery, listing everything tried.
	bad := func(c Candidate) (Library, error) {
		return Library{}, &VersionError{Path: c.Path, Found: "1.16.3", Required: RequiredVersion}
	}
	_, err = e.discover("", bad)
	var le *LibraryError
	var ve *VersionError
	if !errors.As(err, &le) || !errors.As(err, &ve) || len(le.Tried) != 2 {
		t.Fatalf("got %v, want a *LibraryError with 2 attempts wrapping a *VersionError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"cannot load the onnxruntime 1.24.x shared library; tried:",
		missing + " (" + LibraryEnv + "): not found",
		present + " (system): " + present + " is onnxruntime 1.16.3, but 1.24.x is required",
		"fix: run `make setup`", "or set " + LibraryEnv,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, later) {
		t.Errorf("message lists %s, which comes after the deciding candidate", later)
	}

	// Nothing present.
	e.systemDirs = nil
	_, err = e.discover("", ok)
	if !errors.As(err, &le) || len(le.Tried) != 1 || !errors.Is(err, errNotFound) {
		t.Errorf("got %v, want not found", err)
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{"1.24.1": true, "1.24.0": true, "1.24": true, "1.24.12": true, "1.2": false, "1.240.0": false, "1.25.0": false, "1.16.3": false, "": false} {
		err := checkVersion("lib.so", v)
		if (err == nil) != ok {
			t.Errorf("checkVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

// Example shows the seam: any engine behind one Predictor.
func Example() {
	var p Predictor = NewNative(newRefForwarder(), Info{})
	defer p.Close()
	x := make([]float32, 2*PixelsPerImage) // two black images: the probabilities are softmax(bias)
	probs, err := p.Predict(x, 2, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Info().Engine, len(probs))
	fmt.Printf("%.4f\n", probs[:NumClasses])
	// Output:
	// native 20
	// [0.0612 0.0676 0.0748 0.0826 0.0913 0.1009 0.1115 0.1233 0.1362 0.1505]
}

func ExampleParseProvider() {
	p, err := ParseProvider("cuda:1")
	fmt.Println(p.Kind, p.DeviceID, err)
	_, err = ParseProvider("tpu")
	fmt.Println(err)
	// Output:
	// cuda 1 <nil>
	// runtime: unknown execution provider "tpu": want cpu, cuda, cuda:N, auto or auto:N
}
