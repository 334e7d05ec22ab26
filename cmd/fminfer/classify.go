package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
	eng       engineOptions
	top       int
	batch     int
	asJSON    bool
	asCSV     bool
	recursive bool
	polarity  fmnist.Polarity
	savePre   string
	explain   string
	truth     string
}

// result is one input's outcome, printed as text, as one JSON line or as one CSV row. A
// prediction fills the fields up to Provider; a failed input only File, Error (the kind of
// failure, one of the inputError kinds) and Reason (the message), and is printed as a
// cli.InputError record: no class, index or probability that was never computed.
type result struct {
	File          string    `json:"file"`
	Class         string    `json:"class"`
	Index         int       `json:"index"`
	Probability   float32   `json:"probability"`
	Probabilities []float32 `json:"probabilities"`
	Top           []ranked  `json:"top"`
	Inverted      bool      `json:"inverted"`
	Engine        string    `json:"engine"`
	Provider      string    `json:"provider"`
	Error         string    `json:"error,omitempty"`
	Reason        string    `json:"reason,omitempty"`

	pre *fmnist.Preprocessed
}

// The kinds of a failed input, the "error" of its JSON record (docs/json.md).
const (
	errUnreadable  = "unreadable"        // the file cannot be read: missing, a directory, a device, ...
	errTooLarge    = "too_large"         // the file or the picture is larger than the limits
	errNotImage    = "not_an_image"      // no image format recognised
	errCorrupt     = "corrupt_image"     // an image format, but the data is damaged
	errUnsupported = "unsupported_image" // an image in a variant the decoders do not read
	errNoItem      = "no_item_found"     // a picture of nothing: flat, a gradient, noise, ...
	errNotWritten  = "not_written"       // --save-preprocessed or --explain could not write
)

// fail marks r as failed with the given kind and message.
func (r *result) fail(kind, msg string) { r.Error, r.Reason = kind, msg }

// failed reports whether r is a failed input.
func (r *result) failed() bool { return r.Error != "" }

// inputErrorKind classifies an error of reading or decoding an input.
func inputErrorKind(err error) string {
	var re readError
	switch {
	case errors.As(err, &re) && re.tooLarge, errors.Is(err, fmnist.ErrTooLarge):
		return errTooLarge
	case errors.As(err, &re):
		return errUnreadable
	case errors.Is(err, fmnist.ErrNotImage):
		return errNotImage
	case errors.Is(err, fmnist.ErrCorrupt):
		return errCorrupt
	case errors.Is(err, fmnist.ErrUnsupported):
		return errUnsupported
	}
	return errUnreadable
}

// readError is a failure to read an input file (not to decode it).
type readError struct {
	msg      string
	tooLarge bool
}

func (e readError) Error() string { return e.msg }

type ranked struct {
	Class       string  `json:"class"`
	Index       int     `json:"index"`
	Probability float32 `json:"probability"`
}

func runClassify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var o classifyOptions
	fs := newFlags("fminfer", stdout, usageText())
	o.eng.register(fs, true)
	fs.IntVarP(&o.top, "top", "k", 1, "show the `K` most probable classes")
	fs.IntVar(&o.batch, "batch", classifyBatch, "images per engine call (the model check may lower it to fit its memory limit)")
	fs.BoolVar(&o.asJSON, "json", false, "print one JSON object per line and image (docs/json.md)")
	fs.BoolVar(&o.asCSV, "csv", false, "print CSV: a header, then one row per image (file, class, index, probability, the ten probabilities, error, reason)")
	fs.BoolVarP(&o.recursive, "recursive", "r", false, "read directories recursively (without it, their subdirectories are skipped, with a warning)")
	fs.Var(&o.polarity, "polarity", "source polarity `P`: auto, light (light object on dark, like the dataset) or dark (dark object on light, like catalog photos) (default auto)")
	fs.StringVar(&o.savePre, "save-preprocessed", "", "write the 28x28 image the model saw, as PNG, into directory `DIR` (created if missing)")
	fs.StringVar(&o.explain, "explain", "", "write a picture of the prediction (image and class probabilities) to the PNG `FILE` (one image only)")
	fs.StringVar(&o.truth, "truth", "", "with --explain: the true `CLASS` (name or index), to title the picture \"true (predicted)\" in blue or red")
	if err := parse(fs, args, true); err != nil {
		return err
	}
	if err := o.eng.check(); err != nil {
		return err
	}
	if o.asJSON && o.asCSV {
		return cli.Usage(errors.New("--json and --csv are two output formats; give one"))
	}
	if o.top < 1 || o.top > fmnist.NumClasses {
		return cli.Usage(fmt.Errorf("--top must be between 1 and %d, got %d", fmnist.NumClasses, o.top))
	}
	if o.batch < 1 {
		return cli.Usage(fmt.Errorf("--batch must be at least 1, got %d", o.batch))
	}
	if fs.NArg() == 0 {
		return cli.Usage(errors.New("no images given (pass files, a directory, or - for standard input)"))
	}
	if o.savePre != "" {
		if err := cli.CheckOutputDir("--save-preprocessed", o.savePre); err != nil {
			return err
		}
	}
	inputs, err := expandInputs(fs.Args(), o.recursive, stderr)
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
		if err := os.Mkdir(o.savePre, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("--save-preprocessed %s: %w", userpath.Show(o.savePre), errors.Unwrap(err))
		}
		for i, in := range inputs {
			cleanStale(stderr, preprocessedPath(o.savePre, i, in))
		}
	}

	results := make([]*result, len(inputs))
	var batch []float32
	var good []*result
	for i, in := range inputs {
		r := &result{File: in}
		results[i] = r
		pre, err := preprocess(in, stdin, o.polarity, o.explain != "")
		if err != nil {
			r.fail(inputErrorKind(err), err.Error())
			continue
		}
		r.pre = pre
		r.Inverted = pre.Inverted
		if pre.NoObject {
			// Never a class for a picture of nothing: a failed input.
			r.fail(errNoItem, "no item found: "+pre.Reason)
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
	var table *csv.Writer
	if o.asCSV {
		table = csv.NewWriter(stdout)
		table.Write(csvHeader())
	}
	for i, r := range results {
		if !r.failed() && o.savePre != "" {
			if err := savePreprocessed(o.savePre, i, r); err != nil {
				r.fail(errNotWritten, err.Error())
			}
		}
		if (!r.failed() || r.Error == errNoItem) && o.explain != "" {
			// A picture of nothing gets its explanation too: it shows why.
			if err := explain(o.explain, r, truth); err != nil {
				r.fail(errNotWritten, err.Error())
			}
		}
		if r.failed() {
			failed++
			fmt.Fprintf(stderr, "fminfer: %s: %s\n", userpath.Show(r.File), userpath.Sanitize(r.Reason))
		}
		var err error
		switch {
		case table != nil:
			table.Write(r.csvRow())
			table.Flush()
			err = table.Error()
		case o.asJSON:
			err = r.printJSON(stdout)
		default:
			err = r.printText(stdout)
		}
		if err != nil {
			return err
		}
	}
	if failed > 0 {
		return cli.Failed("%d of %d inputs failed", failed, len(results))
	}
	return nil
}

// csvHeader is the first row of --csv.
func csvHeader() []string {
	h := []string{"file", "class", "index", "probability"}
	h = append(h, fmnist.ClassNames[:]...)
	return append(h, "error", "reason")
}

// csvRow is r's row under csvHeader: a failed input leaves the prediction's cells empty.
func (r *result) csvRow() []string {
	row := make([]string, 0, 6+fmnist.NumClasses)
	if r.failed() {
		row = append(row, r.File, "", "", "")
		row = append(row, make([]string, fmnist.NumClasses)...)
		return append(row, r.Error, r.Reason)
	}
	f := func(p float32) string { return strconv.FormatFloat(float64(p), 'g', -1, 32) }
	row = append(row, r.File, r.Class, strconv.Itoa(r.Index), f(r.Probability))
	for _, p := range r.Probabilities {
		row = append(row, f(p))
	}
	return append(row, "", "")
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

// expandInputs turns the arguments into a list of inputs: files as given,
// directories as their image files (sorted; with recursive, those of their
// subdirectories too), "-" as standard input. What a directory holds that is
// not read (files without an image extension, subdirectories without
// recursive) is listed in one warning per directory on w.
func expandInputs(args []string, recursive bool, w io.Writer) ([]string, error) {
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
		names, skipped, err := scanDir(a, recursive)
		if err != nil {
			out = append(out, a) // reported with the results, as unreadable
			continue
		}
		if len(skipped) > 0 {
			fmt.Fprintf(w, "fminfer: warning: %s: skipped %s\n", userpath.Show(a), listSkipped(skipped, recursive))
		}
		if len(names) == 0 {
			return nil, cli.Usage(fmt.Errorf("directory %s holds no images (%s)", userpath.Show(a), extList()))
		}
		out = append(out, names...)
	}
	return out, nil
}

// scanDir returns the image files of dir (by extension, sorted) and what it skipped
// (paths relative to dir; directories end in "/"). Symbolic links to directories are
// not followed.
func scanDir(dir string, recursive bool) (images, skipped []string, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			skipped = append(skipped, rel+" (unreadable)")
			return nil
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir() && !recursive:
			skipped = append(skipped, rel+"/")
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case imageExts[strings.ToLower(filepath.Ext(p))]:
			images = append(images, p)
		default:
			skipped = append(skipped, rel)
		}
		return nil
	})
	sort.Strings(images)
	return images, skipped, err
}

// maxSkippedListed bounds the names one skipped-files warning lists.
const maxSkippedListed = 10

// listSkipped says what a directory scan skipped, for the warning.
func listSkipped(skipped []string, recursive bool) string {
	names := make([]string, 0, min(len(skipped), maxSkippedListed))
	dirs := 0
	for i, s := range skipped {
		if strings.HasSuffix(s, "/") {
			dirs++
		}
		if i < maxSkippedListed {
			names = append(names, userpath.Show(s))
		}
	}
	msg := fmt.Sprintf("%d entries that are not images by their extension (%s): %s", len(skipped), extList(), strings.Join(names, ", "))
	if len(skipped) == 1 {
		msg = fmt.Sprintf("1 entry that is not an image by its extension (%s): %s", extList(), names[0])
	}
	if len(skipped) > maxSkippedListed {
		msg += fmt.Sprintf(" and %d more", len(skipped)-maxSkippedListed)
	}
	if dirs > 0 && !recursive {
		msg += " (-r reads subdirectories)"
	}
	return msg
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
		return nil, readError{fmt.Sprintf("file larger than %d MiB", maxImageBytes>>20), true}
	}
	return fmnist.PreprocessBytes(data, fmnist.PreprocessOptions{Polarity: pol, Steps: steps})
}

func readImageFile(name string) ([]byte, error) {
	// userpath never blocks on a named pipe and reads regular files only;
	// the messages follow the file name, so they do not repeat it.
	b, err := userpath.ReadFile(name, maxImageBytes)
	var nr *userpath.NotRegularError
	var le *userpath.TooLargeError
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, readError{msg: "no such file"}
	case errors.As(err, &nr) && nr.Mode.IsDir():
		return nil, readError{msg: "is a directory"}
	case errors.As(err, &nr):
		return nil, readError{msg: fmt.Sprintf("not a regular file (%s)", userpath.Kind(nr.Mode))}
	case errors.As(err, &le):
		return nil, readError{fmt.Sprintf("file larger than %d MiB", maxImageBytes>>20), true}
	}
	return nil, readError{msg: err.Error()}
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

// printJSON writes r as one JSON line: the prediction, or a failed input's error record.
func (r *result) printJSON(w io.Writer) error {
	if r.failed() {
		return cli.WriteJSON(w, cli.InputError{File: r.File, Error: r.Error, Reason: r.Reason})
	}
	return cli.WriteJSON(w, r)
}

// printText writes r as text: "FILE: CLASS (INDEX) P%", the top K below it with --top.
func (r *result) printText(w io.Writer) error {
	if r.Error == errNoItem {
		_, err := fmt.Fprintf(w, "%s: %s\n", userpath.Show(r.File), userpath.Sanitize(r.Reason))
		return err
	}
	if r.failed() {
		_, err := fmt.Fprintf(w, "%s: error: %s\n", userpath.Show(r.File), userpath.Sanitize(r.Reason))
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
