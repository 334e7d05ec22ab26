package main

import (
	"errors"
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
	x, labels = s.Input(s.N)
	return x, labels, nil
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
	fs := newFlags("fminfer eval", stdout, "Usage: fminfer eval [flags]\n\nAccuracy, per-class precision and recall, confusion matrix and throughput over the\n10,000 test images. --json prints the same shape as fmtrain evaluate --json.")
	eng.register(fs, true)
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR` (default: discovered)")
	asJSON := fs.Bool("json", false, "print JSON (docs/json.md)")
	batch := fs.Int("batch", evalBatch, "images per engine call")
	plot := fs.String("plot", "", "write a confusion-matrix heatmap to the PNG `FILE`")
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
		ev := cli.NewEvaluation(conf, fmnist.ClassNames[:])
		ev.Model, ev.Engine, ev.Provider, ev.ImagesPerSecond = eng.modelName(), info.Engine, info.Provider.String(), ips
		return cli.WriteJSON(stdout, ev)
	}
	fmt.Fprintf(stdout, "%s; %d images in batches of %d: %.0f images/s\n", describe(info), conf.Total(), *batch, ips)
	return conf.Report(stdout, fmnist.ClassNames[:])
}

// side is one of the two sides parity compares: a model on an engine.
type side struct {
	Model    string `json:"model"`
	Engine   string `json:"engine"`
	Provider string `json:"provider"`
	// Accuracy is the fraction of the test images classified right; absent for images
	// without labels (--images).
	Accuracy *float64 `json:"accuracy,omitempty"`
}

// parityReport compares two sides' probabilities on the same inputs.
type parityReport struct {
	// Inputs says what was compared: "test set" or the --images argument.
	Inputs string `json:"inputs"`
	N      int    `json:"n"`
	A      side   `json:"a"`
	B      side   `json:"b"`
	// The largest absolute and relative (to B) differences of any probability, the mean
	// absolute difference, and how many probabilities lie outside atol + rtol*|b|.
	MaxAbsDiff  float64 `json:"max_abs_diff"`
	MaxRelDiff  float64 `json:"max_rel_diff"`
	MeanAbsDiff float64 `json:"mean_abs_diff"`
	Outside     int     `json:"outside_tolerance"`
	// Agree counts the inputs whose predicted class is the same on both sides.
	Agree           int     `json:"argmax_agree"`
	ArgmaxAgreement float64 `json:"argmax_agreement"`
	Atol            float64 `json:"atol"`
	Rtol            float64 `json:"rtol"`
	MinAgreement    float64 `json:"min_agreement"`
	// Failed lists the inputs (with --images) that could not be read: not compared.
	Failed []cli.InputError `json:"failed"`
	Pass   bool             `json:"pass"`
}

// compare fills the difference and agreement figures of r from the probabilities of the
// two sides (n inputs); labels, when not nil, give each side's accuracy.
func (r *parityReport) compare(a, b []float32, n int, labels []uint8) {
	k := fmnist.NumClasses
	var sum float64
	ca, cb := 0, 0
	r.MaxAbsDiff, r.MaxRelDiff, r.Outside, r.Agree = 0, 0, 0, 0
	for i := 0; i < n; i++ {
		pa, pb := a[i*k:(i+1)*k], b[i*k:(i+1)*k]
		for j := range pa {
			ref := math.Abs(float64(pb[j]))
			d := math.Abs(float64(pa[j]) - float64(pb[j]))
			if d > r.MaxAbsDiff || d != d {
				r.MaxAbsDiff = d
			}
			if ref > 0 && d/ref > r.MaxRelDiff {
				r.MaxRelDiff = d / ref
			}
			if !(d <= r.Atol+r.Rtol*ref) {
				r.Outside++
			}
			sum += d
		}
		ia, ib := train.Argmax(pa), train.Argmax(pb)
		if ia == ib {
			r.Agree++
		}
		if labels != nil {
			if ia == int(labels[i]) {
				ca++
			}
			if ib == int(labels[i]) {
				cb++
			}
		}
	}
	r.N = n
	if n > 0 {
		r.MeanAbsDiff = sum / float64(n*k)
		r.ArgmaxAgreement = float64(r.Agree) / float64(n)
	}
	if labels != nil && n > 0 {
		accA, accB := float64(ca)/float64(n), float64(cb)/float64(n)
		r.A.Accuracy, r.B.Accuracy = &accA, &accB
	}
	r.Pass = n > 0 && r.Outside == 0 && r.ArgmaxAgreement >= r.MinAgreement && len(r.Failed) == 0
}

// parityOptions are parity's flags.
type parityOptions struct {
	eng       engineOptions
	data      string
	asJSON    bool
	atol      float64
	rtol      float64
	minAgree  float64
	against   string
	images    string
	recursive bool
	polarity  fmnist.Polarity
	limit     int
}

func runParity(args []string, stdout, stderr io.Writer) error {
	var o parityOptions
	fs := newFlags("fminfer parity", stdout, `Usage: fminfer parity [flags]

Runs the same inputs (the 10,000 test images, or --images DIR) through two sides and compares
their probabilities: by default the model on the native engine against the same model on
onnxruntime; with --against B.onnx the model against model B, both on one engine (--engine).
Fails (exit 1) when any probability differs by more than --atol + --rtol * |B's|, or when
fewer than --min-agreement of the inputs get the same class on both sides.

Examples:
  fminfer parity --images photos/ --limit 100
  fminfer parity --model new.onnx --against release.onnx --min-agreement 0.999 --atol 1e-3`)
	o.eng.register(fs, true)
	fs.StringVar(&o.against, "against", "", "compare --model against the model `FILE` B, both on --engine (default: the model on native against onnxruntime)")
	fs.StringVar(&o.images, "images", "", "compare on the images in `DIR` (or one image file), preprocessed as classification does, instead of the test set")
	fs.BoolVarP(&o.recursive, "recursive", "r", false, "with --images: read the directory recursively")
	fs.Var(&o.polarity, "polarity", "with --images: the source polarity `P`: auto, light or dark (default auto)")
	fs.IntVar(&o.limit, "limit", 0, "compare the first N inputs only (0: all)")
	fs.StringVar(&o.data, "data", "", "the Fashion-MNIST directory `DIR` (default: discovered)")
	fs.Float64Var(&o.atol, "atol", 1e-5, "absolute tolerance of any probability")
	fs.Float64Var(&o.rtol, "rtol", 0, "relative tolerance, as a fraction of B's probability")
	fs.Float64Var(&o.atol, "max-abs-diff", 1e-5, "the old name of --atol")
	fs.MarkDeprecated("max-abs-diff", "use --atol")
	fs.Float64Var(&o.minAgree, "min-agreement", 1, "smallest fraction of inputs whose predicted class must agree")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON (docs/json.md)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := o.eng.check(); err != nil {
		return err
	}
	if fs.Changed("engine") && o.against == "" {
		return cli.Usage(errors.New("--engine chooses the one engine of --against; without --against, parity runs the native engine against onnxruntime"))
	}
	if !(o.atol >= 0) || !(o.rtol >= 0) || math.IsInf(o.atol, 0) || math.IsInf(o.rtol, 0) {
		return cli.Usage(fmt.Errorf("--atol and --rtol must be finite and >= 0, got %v and %v", o.atol, o.rtol))
	}
	if !(o.minAgree >= 0 && o.minAgree <= 1) {
		return cli.Usage(fmt.Errorf("--min-agreement must be a fraction in [0, 1], got %v", o.minAgree))
	}
	if o.limit < 0 {
		return cli.Usage(fmt.Errorf("--limit must be 0 (all) or positive, got %d", o.limit))
	}
	if o.images == "-" {
		return cli.Usage(errors.New("--images needs a directory or an image file, not standard input"))
	}
	if o.images == "" && (fs.Changed("recursive") || fs.Changed("polarity")) {
		return cli.Usage(errors.New("-r and --polarity go with --images"))
	}
	r := parityReport{Inputs: "test set", Atol: o.atol, Rtol: o.rtol, MinAgreement: o.minAgree, Failed: []cli.InputError{}}
	var x []float32
	var labels []uint8
	var err error
	n := 0
	if o.images != "" {
		r.Inputs = o.images
		if x, n, r.Failed, err = parityImages(o.images, o.recursive, o.polarity, o.limit, stderr); err != nil {
			return err
		}
	} else {
		if x, labels, err = testSet(o.data); err != nil {
			return err
		}
		n = len(labels)
		if o.limit > 0 && o.limit < n {
			n, labels = o.limit, labels[:o.limit]
		}
	}

	// The two sides: the model on native and on onnxruntime, or two models on one engine.
	engA, engB := engineNative, engineORT
	optsB := o.eng
	if o.against != "" {
		engA, engB = o.eng.engine, o.eng.engine
		optsB.model = o.against
		if err := userpath.Distinct(userpath.Role{Flag: "--model", Path: o.eng.model, Input: true}, userpath.Role{Flag: "--against", Path: o.against, Input: true}); err != nil {
			return cli.Usage(err)
		}
	}
	pa, err := o.eng.open(engA, stderr)
	if err != nil {
		return err
	}
	defer pa.Close()
	pb, err := optsB.open(engB, stderr)
	if err != nil {
		return err
	}
	defer pb.Close()
	r.A = side{Model: o.eng.modelName(), Engine: pa.Info().Engine, Provider: pa.Info().Provider.String()}
	r.B = side{Model: optsB.modelName(), Engine: pb.Info().Engine, Provider: pb.Info().Provider.String()}
	var probA, probB []float32
	if n > 0 {
		if probA, _, err = predictAll(pa, x, n, evalBatch); err != nil {
			return fmt.Errorf("%s on %s: %w", r.A.Model, r.A.Engine, err)
		}
		if probB, _, err = predictAll(pb, x, n, evalBatch); err != nil {
			return fmt.Errorf("%s on %s: %w", r.B.Model, r.B.Engine, err)
		}
	}
	r.compare(probA, probB, n, labels)
	if o.asJSON {
		if err := cli.WriteJSON(stdout, r); err != nil {
			return err
		}
	} else {
		r.printText(stdout)
	}
	if !r.Pass {
		return cli.Failed("parity failed: %s", r.verdict())
	}
	return nil
}

// verdict says in a line why r failed.
func (r *parityReport) verdict() string {
	switch {
	case r.N == 0:
		return "no input could be compared"
	case len(r.Failed) > 0:
		return fmt.Sprintf("%d inputs could not be read", len(r.Failed))
	}
	return fmt.Sprintf("%d probabilities outside atol %.3g + rtol %.3g (max abs diff %.3g), argmax agreement %d/%d (required %.4f)",
		r.Outside, r.Atol, r.Rtol, r.MaxAbsDiff, r.Agree, r.N, r.MinAgreement)
}

// printText writes the report as text.
func (r *parityReport) printText(w io.Writer) {
	what := fmt.Sprintf("%d test images", r.N)
	if r.Inputs != "test set" {
		what = fmt.Sprintf("%d images of %s", r.N, userpath.Show(r.Inputs))
	}
	fmt.Fprintf(w, "parity over %s: A %s on %s (%s) vs B %s on %s (%s)\n", what, r.A.Model, r.A.Engine, r.A.Provider, r.B.Model, r.B.Engine, r.B.Provider)
	fmt.Fprintf(w, "  max abs diff     %.3g (atol %.3g, rtol %.3g: %d of %d probabilities outside)\n", r.MaxAbsDiff, r.Atol, r.Rtol, r.Outside, r.N*fmnist.NumClasses)
	fmt.Fprintf(w, "  max rel diff     %.3g\n  mean abs diff    %.3g\n", r.MaxRelDiff, r.MeanAbsDiff)
	fmt.Fprintf(w, "  argmax agreement %d/%d (%.4f, required %.4f)\n", r.Agree, r.N, r.ArgmaxAgreement, r.MinAgreement)
	if r.A.Accuracy != nil {
		fmt.Fprintf(w, "  accuracy         A %.4f, B %.4f\n", *r.A.Accuracy, *r.B.Accuracy)
	}
	if len(r.Failed) > 0 {
		fmt.Fprintf(w, "  not compared     %d inputs that could not be read\n", len(r.Failed))
	}
	if r.Pass {
		fmt.Fprintln(w, "PASS")
	} else {
		fmt.Fprintln(w, "FAIL")
	}
}

// parityImages reads the images of arg (a directory or one file) as classification does,
// the first limit of them if limit > 0, and returns their model inputs, how many, and the
// records of those that could not be read (also said on stderr).
func parityImages(arg string, recursive bool, pol fmnist.Polarity, limit int, stderr io.Writer) ([]float32, int, []cli.InputError, error) {
	inputs, err := expandInputs([]string{arg}, recursive, stderr)
	if err != nil {
		return nil, 0, nil, err
	}
	if limit > 0 && limit < len(inputs) {
		inputs = inputs[:limit]
	}
	var x []float32
	failed := []cli.InputError{}
	n := 0
	for _, in := range inputs {
		pre, err := preprocess(in, nil, pol, false)
		rec := cli.InputError{File: in}
		switch {
		case err != nil:
			rec.Error, rec.Reason = inputErrorKind(err), cli.Message(err)
		case pre.NoObject:
			rec.Error, rec.Reason = errNoItem, "no item found: "+pre.Reason
		default:
			x = append(x, pre.Input...)
			n++
			continue
		}
		fmt.Fprintf(stderr, "fminfer: %s: %s\n", userpath.Show(in), userpath.Sanitize(rec.Reason))
		failed = append(failed, rec)
	}
	return x, n, failed, nil
}
