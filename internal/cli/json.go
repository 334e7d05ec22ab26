package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/fmkit/fmkit/pkg/train"
)

// The JSON that both tools print with --json: one style, documented in docs/json.md
// (snake_case keys, numbers as numbers, one object per line, records without fields
// that hold no information).

// WriteJSON writes v as one line of JSON, without escaping &, < and > (nothing here is
// meant for an HTML page, and "\u0026" only hinders a reader).
func WriteJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ErrorRecord is what a command prints on standard output, with --json, when it fails as a
// whole (a usage error, a model that cannot be read, a missing provider): the kind of failure
// (Kind of the exit code), the message, and the exit code.
type ErrorRecord struct {
	Error    string `json:"error"`
	Reason   string `json:"reason"`
	ExitCode int    `json:"exit_code"`
}

// InputError is the record of one input (an image, a directory) that failed: the file, the
// kind of failure (a snake_case word from the list in docs/json.md) and the message.
type InputError struct {
	File   string `json:"file"`
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// WantsJSON reports whether args ask for JSON output (--json, or --json=true), looking only
// before a "--" that ends the flags. A command whose flags do not parse uses it to report the
// usage error as JSON too.
func WantsJSON(args []string) bool {
	want := false
	for _, a := range args {
		switch {
		case a == "--":
			return want
		case a == "--json":
			want = true
		case strings.HasPrefix(a, "--json="):
			v := strings.TrimPrefix(a, "--json=")
			want = v == "true" || v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "True"
		}
	}
	return want
}

// Evaluation is the JSON of fminfer eval and of fmtrain evaluate: the same shape for both.
type Evaluation struct {
	// Model names the model evaluated: its file, or the embedded model.
	Model string `json:"model"`
	// Engine and Provider say what ran it ("native" and "cpu" for fmtrain).
	Engine   string `json:"engine"`
	Provider string `json:"provider"`
	// N is the number of images, Accuracy the fraction classified right.
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	// AccuracyCI95 is the 95% Wilson score interval of Accuracy over N
	// images (train.WilsonInterval): [low, high].
	AccuracyCI95 [2]float64 `json:"accuracy_ci95"`
	// Classes holds one entry per class, in class order.
	Classes []ClassScore `json:"classes"`
	// Confusion is the confusion matrix: Confusion[truth][predicted].
	Confusion [][]int `json:"confusion"`
	// ImagesPerSecond is the throughput of the engine calls alone.
	ImagesPerSecond float64 `json:"images_per_second"`
}

// ClassScore is one class's figures in an Evaluation. Recall is the class's accuracy (the
// fraction of its images classified as it).
type ClassScore struct {
	Index     int     `json:"index"`
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Samples   int     `json:"samples"`
}

// NewEvaluation fills an Evaluation's figures from a confusion matrix and the class names;
// the caller sets Model, Engine, Provider and ImagesPerSecond.
func NewEvaluation(c *train.Confusion, names []string) Evaluation {
	e := Evaluation{N: c.Total(), Accuracy: c.Accuracy(), Confusion: c.Counts}
	if lo, hi, err := train.WilsonInterval(c.Correct(), e.N, 0.95); err == nil {
		e.AccuracyCI95 = [2]float64{lo, hi}
	}
	for k := range c.Counts {
		samples := 0
		for _, v := range c.Counts[k] {
			samples += v
		}
		name := ""
		if k < len(names) {
			name = names[k]
		}
		e.Classes = append(e.Classes, ClassScore{Index: k, Class: name, Precision: c.Precision(k), Recall: c.Recall(k), Samples: samples})
	}
	return e
}
