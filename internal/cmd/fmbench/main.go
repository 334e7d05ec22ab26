// Command fmbench measures the native engine against onnxruntime and
// PyTorch on this machine, in one run, and prints the ratios that the speed
// targets are stated in:
//
//   - training: native samples/s over PyTorch's (the book's model, batch 32,
//     Adam, real Fashion-MNIST images, warm-up excluded);
//   - inference: native images/s over onnxruntime's at batch 1, 32 and 256
//     (the same weights, exported with pkg/onnxexport);
//   - latency: microseconds for one image with one thread, native over
//     onnxruntime.
//
// Usage:
//
//	go run ./internal/cmd/fmbench [--threads 2] [--duration 3s] [--json]
//
// PyTorch is measured by scripts/bench_torch.py run with Debian's
// /usr/bin/python3 (--python, --torch-script); onnxruntime through
// pkg/runtime (set ONNXRUNTIME_SHARED_LIBRARY_PATH or --ort-library). A
// peer that cannot run is reported as unavailable, with the reason, and its
// ratios are left out; the exit status is then still 0. Absolute numbers
// vary with the machine's load: compare the ratios, which come from one run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/fmkit/fmkit/internal/gemm"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
	"github.com/fmkit/fmkit/pkg/train"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// config holds the parsed flags.
type config struct {
	threads     int
	duration    time.Duration
	json        bool
	dataDir     string
	imagesFile  string
	labelsFile  string
	python      string
	torchScript string
	noTorch     bool
	noORT       bool
	ortLibrary  string
	images      int
}

// Batch sizes measured for inference.
var inferBatches = []int{1, 32, 256}

// trainBatch is the batch size of the training measurement (Keras' default).
const trainBatch = 32

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := pflag.NewFlagSet("fmbench", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.threads, "threads", 2, "threads for every engine (training and batched inference)")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "time spent on each measurement, after a warm-up of a fifth of it")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&c.dataDir, "data", "", "Fashion-MNIST directory (default: fmnist.Locate's search)")
	fs.StringVar(&c.imagesFile, "images-file", "", "IDX image file (raw or gzip) to use instead of the verified training set, e.g. a subset; needs --labels-file")
	fs.StringVar(&c.labelsFile, "labels-file", "", "IDX label file going with --images-file")
	fs.StringVar(&c.python, "python", "/usr/bin/python3", "Python with torch for the PyTorch measurement")
	fs.StringVar(&c.torchScript, "torch-script", "", "path of bench_torch.py (default: scripts/bench_torch.py in the repository)")
	fs.BoolVar(&c.noTorch, "no-torch", false, "skip PyTorch")
	fs.BoolVar(&c.noORT, "no-ort", false, "skip onnxruntime")
	fs.StringVar(&c.ortLibrary, "ort-library", "", "onnxruntime shared library (default: pkg/runtime's discovery)")
	fs.IntVar(&c.images, "images", 4096, "distinct images cycled through by the measurements")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.threads < 1 || c.threads > 256 {
		return c, fmt.Errorf("--threads %d: want 1..256", c.threads)
	}
	if c.duration < 10*time.Millisecond || c.duration > 10*time.Minute {
		return c, fmt.Errorf("--duration %v: want 10ms..10m", c.duration)
	}
	if (c.imagesFile == "") != (c.labelsFile == "") {
		return c, errors.New("--images-file and --labels-file go together")
	}
	if c.imagesFile != "" && c.dataDir != "" {
		return c, errors.New("--data and --images-file exclude each other")
	}
	if c.images < 256 {
		return c, fmt.Errorf("--images %d: want at least 256", c.images)
	}
	return c, nil
}

// Result is what one run measured; the JSON form is printed by --json.
type Result struct {
	Threads    int     `json:"threads"`
	DurationS  float64 `json:"duration_s"`
	GoVersion  string  `json:"go_version"`
	GemmKernel string  `json:"gemm_kernel"`
	Vec512     bool    `json:"vec512"`
	CPUs       int     `json:"cpus"`
	LoadBefore string  `json:"load_before,omitempty"`
	LoadAfter  string  `json:"load_after,omitempty"`

	NativeTrain     float64         `json:"native_train_samples_per_s"`
	NativeInfer     map[int]float64 `json:"native_infer_images_per_s"`
	NativeLatencyUs float64         `json:"native_latency_us_1thread"`

	ORT          *PeerInfer      `json:"ort,omitempty"`
	ORTError     string          `json:"ort_error,omitempty"`
	Torch        *TorchRun       `json:"torch,omitempty"`
	TorchError   string          `json:"torch_error,omitempty"`
	TrainRatio   float64         `json:"native_over_torch_train,omitempty"`
	InferRatio   map[int]float64 `json:"native_over_ort_infer,omitempty"`
	LatencyRatio float64         `json:"native_over_ort_latency,omitempty"`
}

// PeerInfer holds onnxruntime's inference figures.
type PeerInfer struct {
	ImagesPerS map[int]float64 `json:"images_per_s"`
	LatencyUs  float64         `json:"latency_us_1thread"`
	Version    string          `json:"version,omitempty"`
}

// TorchRun is what scripts/bench_torch.py prints.
type TorchRun struct {
	Version      string             `json:"torch_version"`
	Threads      int                `json:"threads"`
	TrainPerS    float64            `json:"train_samples_per_s"`
	InferPerS    map[string]float64 `json:"infer_images_per_s,omitempty"`
	Batch        int                `json:"batch"`
	Steps        int                `json:"steps"`
	DataFromFile bool               `json:"real_data"`
}

func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "fmbench:", err)
		return 2
	}
	res, err := bench(c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "fmbench:", err)
		return 1
	}
	if c.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "fmbench:", err)
			return 1
		}
		return 0
	}
	printTable(stdout, res)
	return 0
}

// data holds the images (scaled to [0, 1]) and labels the measurements
// cycle through.
type data struct {
	x      []float32
	labels []uint8
	n      int
}

func loadData(c config) (data, error) {
	var set *fmnist.Set
	var err error
	if c.imagesFile != "" {
		set, err = fmnist.Load(c.imagesFile, c.labelsFile)
	} else {
		dir := c.dataDir
		if dir == "" {
			if dir, err = fmnist.Locate(""); err != nil {
				return data{}, err
			}
		}
		set, err = fmnist.LoadTrain(dir)
	}
	if err != nil {
		return data{}, err
	}
	if set.Rows != fmnist.Size || set.Cols != fmnist.Size || set.N < 256 {
		return data{}, fmt.Errorf("need at least 256 images of 28x28, have %d of %dx%d", set.N, set.Rows, set.Cols)
	}
	d := data{n: min(c.images, set.N)}
	d.x, d.labels = set.Input(d.n)
	return d, nil
}

// measure runs f (which processes items items per call) for a warm-up of
// a fifth of dur, then for dur, and returns items per second.
func measure(dur time.Duration, items int, f func(i int)) float64 {
	i := 0
	for t0 := time.Now(); time.Since(t0) < dur/5; i++ {
		f(i)
	}
	calls := 0
	t0 := time.Now()
	for ; time.Since(t0) < dur || calls < 3; i++ {
		f(i)
		calls++
	}
	return float64(calls*items) / time.Since(t0).Seconds()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func bench(c config, log io.Writer) (*Result, error) {
	kern, vec := gemm.Kernel()
	res := &Result{Threads: c.threads, DurationS: c.duration.Seconds(), GoVersion: goruntime.Version(),
		GemmKernel: kern, Vec512: vec, CPUs: goruntime.NumCPU(), LoadBefore: loadAvg(),
		NativeInfer: map[int]float64{}}
	d, err := loadData(c)
	if err != nil {
		return nil, err
	}
	in := fmrt.PixelsPerImage

	// Native training through Model.TrainStep.
	fmt.Fprintf(log, "fmbench: native training, batch %d, %d threads...\n", trainBatch, c.threads)
	m := train.BookModel(train.NewRNG(1))
	m.SetThreads(c.threads)
	opt := train.NewAdam(m.Params())
	batches := d.n / trainBatch
	res.NativeTrain = measure(c.duration, trainBatch, func(i int) {
		b := i % batches
		m.TrainStep(opt, d.x[b*trainBatch*in:], d.labels[b*trainBatch:], trainBatch)
	})

	// Native inference through Model.Predict, on the trained weights.
	dst := make([]float32, 256*fmrt.NumClasses)
	for _, bs := range inferBatches {
		fmt.Fprintf(log, "fmbench: native inference, batch %d...\n", bs)
		nb := d.n / bs
		res.NativeInfer[bs] = measure(c.duration, bs, func(i int) {
			m.Predict(d.x[(i%nb)*bs*in:], bs, dst)
		})
	}
	m.SetThreads(1)
	res.NativeLatencyUs = 1e6 / measure(c.duration, 1, func(i int) { m.Predict(d.x[(i%d.n)*in:], 1, dst) })
	m.SetThreads(c.threads)

	if c.noORT {
		res.ORTError = "skipped (--no-ort)"
	} else if ort, err := benchORT(c, m, d, log); err != nil {
		res.ORTError = err.Error()
	} else {
		res.ORT = ort
		res.InferRatio = map[int]float64{}
		for _, bs := range inferBatches {
			res.InferRatio[bs] = res.NativeInfer[bs] / ort.ImagesPerS[bs]
		}
		res.LatencyRatio = res.NativeLatencyUs / ort.LatencyUs
	}

	if c.noTorch {
		res.TorchError = "skipped (--no-torch)"
	} else if tr, err := benchTorch(c, log); err != nil {
		res.TorchError = err.Error()
	} else {
		res.Torch = tr
		res.TrainRatio = res.NativeTrain / tr.TrainPerS
	}
	res.LoadAfter = loadAvg()
	return res, nil
}

// benchORT exports m and measures onnxruntime on it.
func benchORT(c config, m *train.Model, d data, log io.Writer) (*PeerInfer, error) {
	model, err := onnxexport.Export(m, onnxexport.ExportOptions{})
	if err != nil {
		return nil, err
	}
	open := func(threads int) (fmrt.Predictor, error) {
		return fmrt.NewORT(model, fmrt.ORTOptions{Gate: onnx.GateOptions{}.Check, LibraryPath: c.ortLibrary, IntraOpThreads: threads, Warn: io.Discard, ModelName: "fmbench book model"})
	}
	p, err := open(c.threads)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	out := &PeerInfer{ImagesPerS: map[int]float64{}, Version: p.Info().Library.Version}
	in := fmrt.PixelsPerImage
	dst := make([]float32, 256*fmrt.NumClasses)
	var runErr error
	for _, bs := range inferBatches {
		fmt.Fprintf(log, "fmbench: onnxruntime inference, batch %d...\n", bs)
		nb := d.n / bs
		out.ImagesPerS[bs] = measure(c.duration, bs, func(i int) {
			if _, err := p.Predict(d.x[(i%nb)*bs*in:(i%nb+1)*bs*in], bs, dst); err != nil && runErr == nil {
				runErr = err
			}
		})
	}
	p1, err := open(1)
	if err != nil {
		return nil, err
	}
	defer p1.Close()
	out.LatencyUs = 1e6 / measure(c.duration, 1, func(i int) {
		if _, err := p1.Predict(d.x[(i%d.n)*in:(i%d.n+1)*in], 1, dst); err != nil && runErr == nil {
			runErr = err
		}
	})
	if runErr != nil {
		return nil, runErr
	}
	return out, nil
}

// benchTorch runs scripts/bench_torch.py and parses the JSON it prints.
func benchTorch(c config, log io.Writer) (*TorchRun, error) {
	script := c.torchScript
	if script == "" {
		var err error
		if script, err = findScript(); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(log, "fmbench: PyTorch (%s %s)...\n", c.python, script)
	// Warm-up, three measurements and the interpreter's start: allow a
	// generous multiple of the duration.
	ctx, cancel := context.WithTimeout(context.Background(), 10*c.duration+2*time.Minute)
	defer cancel()
	args := []string{script, "--threads", fmt.Sprint(c.threads), "--duration", fmt.Sprint(c.duration.Seconds()),
		"--batch", fmt.Sprint(trainBatch), "--images", fmt.Sprint(c.images)}
	switch {
	case c.imagesFile != "":
		args = append(args, "--images-file", c.imagesFile, "--labels-file", c.labelsFile)
	case c.dataDir != "":
		args = append(args, "--data", c.dataDir)
	}
	cmd := exec.CommandContext(ctx, c.python, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, fmt.Errorf("%s %s: %v: %s", c.python, filepath.Base(script), err, msg)
	}
	var tr TorchRun
	if err := json.Unmarshal(stdout.Bytes(), &tr); err != nil {
		return nil, fmt.Errorf("%s printed no valid JSON: %v", filepath.Base(script), err)
	}
	if tr.TrainPerS <= 0 {
		return nil, fmt.Errorf("%s reported %g samples/s", filepath.Base(script), tr.TrainPerS)
	}
	return &tr, nil
}

// findScript looks for scripts/bench_torch.py in the working directory and
// its parents.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "bench_torch.py")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/bench_torch.py not found from the working directory; use --torch-script")
		}
		dir = parent
	}
}

func printTable(w io.Writer, r *Result) {
	fmt.Fprintf(w, "fmbench: book model, %d threads, %gs per measurement, %s, gemm %s (vec512 %v), %d CPUs; load %s -> %s\n\n",
		r.Threads, r.DurationS, r.GoVersion, r.GemmKernel, r.Vec512, r.CPUs, r.LoadBefore, r.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measurement\tnative\tonnxruntime\tpytorch\tratio\ttarget\t")
	torchTrain, torchV := "n/a", ""
	if r.Torch != nil {
		torchTrain = fmt.Sprintf("%.0f", r.Torch.TrainPerS)
		torchV = r.Torch.Version
	}
	fmt.Fprintf(tw, "train samples/s (batch %d)\t%.0f\t-\t%s\t%s\t%s\t\n", trainBatch, r.NativeTrain, torchTrain, ratio(r.TrainRatio, "native/torch"), ">= 1.50")
	for _, bs := range inferBatches {
		ortS, torchS, target := "n/a", "-", "-"
		if r.ORT != nil {
			ortS = fmt.Sprintf("%.0f", r.ORT.ImagesPerS[bs])
		}
		if r.Torch != nil {
			if v, ok := r.Torch.InferPerS[fmt.Sprint(bs)]; ok {
				torchS = fmt.Sprintf("%.0f", v)
			}
		}
		if bs == 32 {
			target = ">= 0.50"
		}
		fmt.Fprintf(tw, "infer images/s (batch %d)\t%.0f\t%s\t%s\t%s\t%s\t\n", bs, r.NativeInfer[bs], ortS, torchS, ratio(r.InferRatio[bs], "native/ort"), target)
	}
	ortL := "n/a"
	if r.ORT != nil {
		ortL = fmt.Sprintf("%.1f", r.ORT.LatencyUs)
	}
	fmt.Fprintf(tw, "latency us/image (batch 1, 1 thread)\t%.1f\t%s\t-\t%s\t%s\t\n", r.NativeLatencyUs, ortL, ratio(r.LatencyRatio, "native/ort"), "<= 2.00")
	tw.Flush()
	if r.ORTError != "" {
		fmt.Fprintln(w, "\nonnxruntime unavailable:", r.ORTError)
	} else if r.ORT != nil && r.ORT.Version != "" {
		fmt.Fprintln(w, "\nonnxruntime", r.ORT.Version)
	}
	if r.TorchError != "" {
		fmt.Fprintln(w, "pytorch unavailable:", r.TorchError)
	} else if torchV != "" {
		fmt.Fprintln(w, "pytorch", torchV)
	}
	fmt.Fprintln(w, "Ratios come from one run on one machine; absolute figures move with its load.")
}

func ratio(v float64, what string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%s %.2fx", what, v)
}
