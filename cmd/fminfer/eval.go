package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
	"github.com/fmkit/fmkit/pkg/train"
)

// evalBatch is how many test images go through the engine per call.
const evalBatch = 256

// testSet loads the 10,000 test images, scaled to [0,1].
func testSet(dir string) (x []float32, labels []uint8, err error) {
	loc, err := fmnist.Locate(dir)
	if err != nil {
		return nil, nil, err
	}
	s, err := fmnist.LoadTest(loc)
	if err != nil {
		return nil, nil, err
	}
	x = make([]float32, len(s.Images))
	fmnist.Scale(x, s.Images)
	return x, s.Labels, nil
}

// predictAll runs p over n images in batches and returns the probabilities
// and the images per second.
func predictAll(p fmrt.Predictor, x []float32, n, batch int) ([]float32, float64, error) {
	out := make([]float32, n*fmnist.NumClasses)
	start := time.Now()
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		got, err := p.Predict(x[lo*fmrt.PixelsPerImage:hi*fmrt.PixelsPerImage], hi-lo, out[lo*fmnist.NumClasses:hi*fmnist.NumClasses])
		if err != nil {
			return nil, 0, err
		}
		if err := checkFinite(got, lo); err != nil {
			return nil, 0, err
		}
	}
	secs := time.Since(start).Seconds()
	return out, float64(n) / max(secs, 1e-9), nil
}

func runEval(args []string, stdout, stderr io.Writer) error {
	var eng engineOptions
	fs := newFlags("fminfer eval", stdout, "Usage: fminfer eval [flags]\n\nAccuracy, per-class accuracy, confusion matrix and throughput over the 10,000 test images.")
	eng.register(fs, true)
	data := fs.String("data", "", "Fashion-MNIST directory (default: discovered)")
	asJSON := fs.Bool("json", false, "print JSON")
	batch := fs.Int("batch", evalBatch, "images per engine call")
	plot := fs.String("plot", "", "write a confusion-matrix heatmap to this PNG file")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := eng.check(); err != nil {
		return err
	}
	if *batch < 1 {
		return cli.Usage(fmt.Errorf("--batch must be at least 1, got %d", *batch))
	}
	if *plot != "" {
		// Checked before the evaluation, not after it.
		if err := cli.CheckOutputFile("--plot", *plot); err != nil {
			return err
		}
		if err := userpath.Distinct(userpath.Role{Flag: "--model", Path: eng.model, Input: true}, userpath.Role{Flag: "--plot", Path: *plot}); err != nil {
			return cli.Usage(err)
		}
		cleanStale(stderr, *plot)
	}
	x, labels, err := testSet(*data)
	if err != nil {
		return err
	}
	p, err := eng.open(eng.engine, stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	info := p.Info()
	probs, ips, err := predictAll(p, x, len(labels), *batch)
	if err != nil {
		return err
	}
	conf := train.NewConfusion(fmnist.NumClasses)
	conf.AddProbs(probs, labels, len(labels))
	if *plot != "" {
		if err := plotConfusion(*plot, conf); err != nil {
			return err
		}
	}
	if *asJSON {
		perClass := map[string]float64{}
		for k, name := range fmnist.ClassNames {
			perClass[name] = conf.Recall(k)
		}
		return writeJSON(stdout, map[string]any{
			"accuracy": conf.Accuracy(), "n": conf.Total(), "images_per_second": ips,
			"per_class_accuracy": perClass, "confusion": conf.Counts,
			"engine": info.Engine, "provider": info.Provider.String(), "batch": *batch,
		})
	}
	fmt.Fprintf(stdout, "%s; %d images in batches of %d: %.0f images/s\n", describe(info), conf.Total(), *batch, ips)
	return conf.Report(stdout, fmnist.ClassNames[:])
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// parityReport compares two engines' probabilities.
type parityReport struct {
	N               int     `json:"n"`
	MaxAbsDiff      float64 `json:"max_abs_diff"`
	MeanAbsDiff     float64 `json:"mean_abs_diff"`
	ArgmaxAgreement float64 `json:"argmax_agreement"`
	Agree           int     `json:"argmax_agree"`
	NativeAccuracy  float64 `json:"native_accuracy"`
	ORTAccuracy     float64 `json:"ort_accuracy"`
	Tolerance       float64 `json:"tolerance"`
	MinAgreement    float64 `json:"min_agreement"`
	Provider        string  `json:"provider"`
	Pass            bool    `json:"pass"`
}

// compareProbs fills the difference and agreement figures of r.
func (r *parityReport) compare(a, b []float32, labels []uint8) {
	n := len(labels)
	k := fmnist.NumClasses
	var sum float64
	ca, cb := 0, 0
	for i := 0; i < n; i++ {
		pa, pb := a[i*k:(i+1)*k], b[i*k:(i+1)*k]
		for j := range pa {
			d := math.Abs(float64(pa[j]) - float64(pb[j]))
			if d > r.MaxAbsDiff || d != d {
				r.MaxAbsDiff = d
			}
			sum += d
		}
		ia, ib := train.Argmax(pa), train.Argmax(pb)
		if ia == ib {
			r.Agree++
		}
		if ia == int(labels[i]) {
			ca++
		}
		if ib == int(labels[i]) {
			cb++
		}
	}
	r.N = n
	r.MeanAbsDiff = sum / float64(n*k)
	r.ArgmaxAgreement = float64(r.Agree) / float64(n)
	r.NativeAccuracy = float64(ca) / float64(n)
	r.ORTAccuracy = float64(cb) / float64(n)
	r.Pass = r.MaxAbsDiff <= r.Tolerance && r.ArgmaxAgreement >= r.MinAgreement
}

func runParity(args []string, stdout, stderr io.Writer) error {
	var eng engineOptions
	fs := newFlags("fminfer parity", stdout, "Usage: fminfer parity [flags]\n\nRuns the native engine and onnxruntime over the 10,000 test images and compares their\nprobabilities; exits 1 past the tolerance.")
	eng.register(fs, false)
	data := fs.String("data", "", "Fashion-MNIST directory (default: discovered)")
	asJSON := fs.Bool("json", false, "print JSON")
	tol := fs.Float64("max-abs-diff", 1e-5, "largest absolute difference of any probability allowed")
	minAgree := fs.Float64("min-agreement", 1, "smallest fraction of images whose predicted class must agree")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := eng.check(); err != nil {
		return err
	}
	if !(*tol >= 0) || !(*minAgree >= 0 && *minAgree <= 1) {
		return cli.Usage(fmt.Errorf("--max-abs-diff must be >= 0 and --min-agreement in [0,1]"))
	}
	x, labels, err := testSet(*data)
	if err != nil {
		return err
	}
	native, err := eng.open(engineNative, stderr)
	if err != nil {
		return err
	}
	defer native.Close()
	ort, err := eng.open(engineORT, stderr)
	if err != nil {
		return err
	}
	defer ort.Close()
	pn, _, err := predictAll(native, x, len(labels), evalBatch)
	if err != nil {
		return err
	}
	po, _, err := predictAll(ort, x, len(labels), evalBatch)
	if err != nil {
		return err
	}
	r := parityReport{Tolerance: *tol, MinAgreement: *minAgree, Provider: ort.Info().Provider.String()}
	r.compare(pn, po, labels)
	if *asJSON {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "parity over %d test images (native vs onnxruntime on %s):\n", r.N, r.Provider)
		fmt.Fprintf(stdout, "  max abs diff     %.3g (tolerance %.3g)\n  mean abs diff    %.3g\n", r.MaxAbsDiff, r.Tolerance, r.MeanAbsDiff)
		fmt.Fprintf(stdout, "  argmax agreement %d/%d (%.4f, required %.4f)\n", r.Agree, r.N, r.ArgmaxAgreement, r.MinAgreement)
		fmt.Fprintf(stdout, "  accuracy         native %.4f, onnxruntime %.4f\n", r.NativeAccuracy, r.ORTAccuracy)
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintln(stdout, verdict)
	}
	if !r.Pass {
		return checkFailed{fmt.Sprintf("parity failed: max abs diff %.3g (tolerance %.3g), argmax agreement %d/%d", r.MaxAbsDiff, r.Tolerance, r.Agree, r.N)}
	}
	return nil
}
