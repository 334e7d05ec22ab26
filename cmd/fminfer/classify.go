package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
	"github.com/fmkit/fmkit/pkg/train"
)

// classifyBatch is the default number of images per engine call when classifying, as for
// eval: a bounded engine call (256 x 3 KB of input) whatever the number of files; the model
// gate lowers it for a model whose activations would not fit its memory limit.
const classifyBatch = 256

// maxImageBytes bounds an image file read into memory: fmnist's own limit
// (its pixel cap bounds the decoded size).
const maxImageBytes = fmnist.DefaultMaxBytes

// imageExts are the extensions a directory argument is scanned for.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true,
	".tif": true, ".tiff": true, ".webp": true}

type classifyOptions struct {
	eng      engineOptions
	top      int
	batch    int
	asJSON   bool
	polarity string
	savePre  string
	explain  string
	truth    string
}

// result is one input's outcome, printed as text or as one JSON line.
type result struct {
	File          string    `json:"file"`
	Class         string    `json:"class,omitempty"`
	Index         int       `json:"index"`
	Probability   float32   `json:"probability"`
	Probabilities []float32 `json:"probabilities,omitempty"`
	Top           []ranked  `json:"top,omitempty"`
	Inverted      bool      `json:"inverted"`
	Engine        string    `json:"engine,omitempty"`
	Provider      string    `json:"provider,omitempty"`
	Error         string    `json:"error,omitempty"`
	NoObject      bool      `json:"no_object,omitempty"`
	Reason        string    `json:"reason,omitempty"`

	pre *fmnist.Preprocessed
}

type ranked struct {
	Class       string  `json:"class"`
	Index       int     `json:"index"`
	Probability float32 `json:"probability"`
}

func runClassify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var o classifyOptions
	fs := newFlags("fminfer", stdout, strings.TrimSpace(usage)+"\n\nClassification flags:")
	o.eng.register(fs, true)
	fs.IntVarP(&o.top, "top", "k", 1, "show the K most probable classes")
	fs.IntVar(&o.batch, "batch", classifyBatch, "images per engine call (the model check may lower it to fit its memory limit)")
	fs.BoolVar(&o.asJSON, "json", false, "print one JSON object per line and image")
	fs.StringVar(&o.polarity, "polarity", "auto", "source polarity: auto, light (light object on dark, like the dataset) or dark (dark object on light, like catalog photos)")
	fs.StringVar(&o.savePre, "save-preprocessed", "", "write the 28x28 image the model saw, as PNG, into this directory")
	fs.StringVar(&o.explain, "explain", "", "write a picture of the prediction (image and class probabilities) to this PNG file (one image only)")
	fs.StringVar(&o.truth, "truth", "", "with --explain: the true class (name or index), to title the picture \"true (predicted)\" in blue or red")
	if err := parse(fs, args, true); err != nil {
		return err
	}
	if err := o.eng.check(); err != nil {
		return err
	}
	if o.top < 1 || o.top > fmnist.NumClasses {
		return cli.Usage(fmt.Errorf("--top must be between 1 and %d, got %d", fmnist.NumClasses, o.top))
	}
	if o.batch < 1 {
		return cli.Usage(fmt.Errorf("--batch must be at least 1, got %d", o.batch))
	}
	pol, err := parsePolarity(o.polarity)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usage(errors.New("no images given (pass files, a directory, or - for standard input)"))
	}
	if o.savePre != "" {
		if st, err := os.Stat(o.savePre); err != nil || !st.IsDir() {
			return cli.Usage(fmt.Errorf("--save-preprocessed %s: not an existing directory", o.savePre))
		}
	}
	inputs, err := expandInputs(fs.Args())
	if err != nil {
		return err
	}
	if o.explain != "" && len(inputs) != 1 {
		return cli.Usage(fmt.Errorf("--explain takes exactly one image, got %d", len(inputs)))
	}
	truth := -1
	if o.truth != "" {
		if o.explain == "" {
			return cli.Usage(errors.New("--truth goes with --explain"))
		}
		if truth = classIndex(o.truth); truth < 0 {
			return cli.Usage(fmt.Errorf("--truth %q is neither a class name nor an index 0-9", o.truth))
		}
	}
	if err := checkOutputs(o.explain, o.savePre, inputs); err != nil {
		return err
	}
	if o.explain != "" {
		cleanStale(stderr, o.explain)
	}
	if o.savePre != "" {
		for i, in := range inputs {
			cleanStale(stderr, preprocessedPath(o.savePre, i, in))
		}
	}

	results := make([]*result, len(inputs))
	var batch []float32
	var good []*result
	for i, in := range inputs {
		r := &result{File: in, Index: -1}
		results[i] = r
		pre, err := preprocess(in, stdin, pol, o.explain != "")
		if err != nil {
			r.Error = err.Error()
			continue
		}
		r.pre = pre
		r.Inverted = pre.Inverted
		if pre.NoObject {
			// Never a class for a picture of nothing: a failed input.
			r.NoObject, r.Reason = true, pre.Reason
			r.Error = "no item found: " + pre.Reason
			continue
		}
		batch = append(batch, pre.Input...)
		good = append(good, r)
	}

	if len(good) > 0 {
		p, err := o.eng.open(o.eng.engine, stderr)
		if err != nil {
			return err
		}
		defer p.Close()
		info := p.Info()
		if o.eng.verbose {
			fmt.Fprintln(stderr, "fminfer:", describe(info))
		}
		probs, _, err := predictAll(p, batch, len(good), o.batch)
		if err != nil {
			return err
		}
		for i, r := range good {
			r.fill(probs[i*fmnist.NumClasses:(i+1)*fmnist.NumClasses], o.top, info)
		}
	}

	failed := 0
	for i, r := range results {
		if r.Error == "" && o.savePre != "" {
			if err := savePreprocessed(o.savePre, i, r); err != nil {
				r.Error = err.Error()
			}
		}
		if (r.Error == "" || r.NoObject) && o.explain != "" {
			// A picture of nothing gets its explanation too: it shows why.
			if err := explain(o.explain, r, truth); err != nil {
				r.Error = err.Error()
			}
		}
		if r.Error != "" {
			failed++
			fmt.Fprintf(stderr, "fminfer: %s: %s\n", userpath.Show(r.File), userpath.Sanitize(r.Error))
		}
		if err := r.print(stdout, o.asJSON); err != nil {
			return err
		}
	}
	if failed > 0 {
		return checkFailed{fmt.Sprintf("%d of %d inputs failed", failed, len(results))}
	}
	return nil
}

// classIndex returns the class named (case-insensitively) or numbered s, or -1.
func classIndex(s string) int {
	for k, name := range fmnist.ClassNames {
		if strings.EqualFold(s, name) || s == fmt.Sprint(k) {
			return k
		}
	}
	return -1
}

func parsePolarity(s string) (fmnist.Polarity, error) {
	switch strings.ToLower(s) {
	case "auto":
		return fmnist.Auto, nil
	case "light", "light-on-dark":
		return fmnist.LightOnDark, nil
	case "dark", "dark-on-light":
		return fmnist.DarkOnLight, nil
	}
	return 0, cli.Usage(fmt.Errorf("--polarity must be auto, light or dark, got %q", s))
}

// expandInputs turns the arguments into a list of inputs: files as given,
// directories as their image files (sorted), "-" as standard input.
func expandInputs(args []string) ([]string, error) {
	var out []string
	stdinUsed := false
	for _, a := range args {
		if a == "-" {
			if stdinUsed {
				return nil, cli.Usage(errors.New("- (standard input) given more than once"))
			}
			stdinUsed = true
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a) // a missing file is reported with the results
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			out = append(out, a)
			continue
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
				names = append(names, filepath.Join(a, e.Name()))
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, cli.Usage(fmt.Errorf("directory %s holds no images (%s)", a, extList()))
		}
		out = append(out, names...)
	}
	return out, nil
}

func extList() string {
	var e []string
	for k := range imageExts {
		e = append(e, k)
	}
	sort.Strings(e)
	return strings.Join(e, " ")
}

// preprocess reads one input and turns it into the model's input.
func preprocess(name string, stdin io.Reader, pol fmnist.Polarity, steps bool) (*fmnist.Preprocessed, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, maxImageBytes+1))
	} else {
		data, err = readImageFile(name)
	}
	if err != nil {
		return nil, err
	}
	if len(data) > maxImageBytes {
		return nil, fmt.Errorf("file larger than %d MiB", maxImageBytes>>20)
	}
	return fmnist.PreprocessBytes(data, fmnist.PreprocessOptions{Polarity: pol, Steps: steps})
}

func readImageFile(name string) ([]byte, error) {
	// userpath never blocks on a named pipe and reads regular files only;
	// the messages follow the file name, so they do not repeat it.
	b, err := userpath.ReadFile(name, maxImageBytes)
	var nr *userpath.NotRegularError
	var le *userpath.LimitError
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, errors.New("no such file")
	case errors.As(err, &nr) && nr.Mode.IsDir():
		return nil, errors.New("is a directory")
	case errors.As(err, &nr):
		return nil, fmt.Errorf("not a regular file (%s)", userpath.Kind(nr.Mode))
	case errors.As(err, &le):
		return nil, fmt.Errorf("file larger than %d MiB", maxImageBytes>>20)
	}
	return nil, err
}

// fill sets the prediction fields from one image's probabilities.
func (r *result) fill(probs []float32, top int, info fmrt.Info) {
	r.Probabilities = append([]float32(nil), probs...)
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	r.Index = train.Argmax(probs)
	r.Class = fmnist.ClassNames[r.Index]
	r.Probability = probs[r.Index]
	for _, k := range order[:top] {
		r.Top = append(r.Top, ranked{fmnist.ClassNames[k], k, probs[k]})
	}
	r.Engine = info.Engine
	r.Provider = info.Provider.String()
}

func (r *result) print(w io.Writer, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if r.NoObject {
		_, err := fmt.Fprintf(w, "%s: no item found: %s\n", userpath.Show(r.File), userpath.Sanitize(r.Reason))
		return err
	}
	if r.Error != "" {
		_, err := fmt.Fprintf(w, "%s: error: %s\n", userpath.Show(r.File), userpath.Sanitize(r.Error))
		return err
	}
	var b strings.Builder
	// The name is quoted when it holds a control character: a newline in
	// a file name cannot make up a result line.
	fmt.Fprintf(&b, "%s: %s (%d) %.1f%%\n", userpath.Show(r.File), r.Class, r.Index, 100*r.Probability)
	if len(r.Top) > 1 {
		for i, t := range r.Top {
			fmt.Fprintf(&b, "  %d. %-12s %6.2f%%\n", i+1, t.Class, 100*t.Probability)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// savePreprocessed writes what the model saw as DIR/NNN-name.png.
func savePreprocessed(dir string, i int, r *result) error {
	path := preprocessedPath(dir, i, r.File)
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return png.Encode(w, r.pre.Gray) })
}
