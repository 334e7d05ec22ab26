package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/fmkit/fmkit/internal/atomicfile"
)

// Epoch holds the metrics of one training epoch, as Keras' fit() reports
// them: Loss and Accuracy are running means over the epoch's batches,
// ValLoss and ValAccuracy are computed over the whole validation set at the
// epoch's end, and are NaN when there is no validation set.
type Epoch struct {
	Epoch       int     // 1-based epoch number
	Loss        float64 // mean training loss over the epoch's batches
	Accuracy    float64 // mean training accuracy over the epoch's batches
	ValLoss     float64 // validation loss, NaN without validation
	ValAccuracy float64 // validation accuracy, NaN without validation
	Seconds     float64 // wall time of the epoch, validation included; not saved (see History)
}

// HasValidation reports whether e carries validation metrics.
func (e Epoch) HasValidation() bool {
	return !math.IsNaN(e.ValLoss) || !math.IsNaN(e.ValAccuracy)
}

// History is the per-epoch record of a training run, the counterpart of
// the History object Keras' fit() returns.
//
// The files hold the metrics only, not the epochs' wall time, so that two
// runs with the same seed and thread count write identical files.
//
// On disk it is JSON (WriteJSON, ReadHistoryJSON) or CSV (WriteCSV). Both
// keep every float to full precision (the shortest decimal that reads back
// to the same float64), so two runs compare byte for byte. JSON has no NaN
// or infinity: a missing validation metric (NaN) is left out of the epoch's
// object, and a non-finite loss or accuracy (a diverged run) is written as
// the string "NaN", "+Inf" or "-Inf". In CSV a missing validation metric is
// an empty cell and non-finite values are written NaN, +Inf, -Inf.
type History struct {
	Epochs []Epoch
	// Validation says what the val_ metrics were computed on, for a
	// reader ("" when unknown or there were none), such as "the last 10% of
	// the training samples (validation_split 0.1)" or "the TEST set
	// (--validate-on-test, the book's choice)".
	Validation string
	// Test holds the test set's figures, scored once after training; nil
	// when the test set was not scored.
	Test *TestScore
}

// TestScore is a model's loss and accuracy on the test set.
type TestScore struct {
	Loss     float64
	Accuracy float64
}

// Add appends e.
func (h *History) Add(e Epoch) { h.Epochs = append(h.Epochs, e) }

// HasValidation reports whether any epoch carries validation metrics.
func (h *History) HasValidation() bool {
	for _, e := range h.Epochs {
		if e.HasValidation() {
			return true
		}
	}
	return false
}

// historyFormat and historyVersion identify the JSON document.
// Version 2 added the optional "validation", "test_loss" and
// "test_accuracy"; version 1 files are still read.
const (
	historyFormat  = "fmkit-history"
	historyVersion = 2
)

// jsonFloat is a float64 that encodes NaN and infinities as strings.
type jsonFloat float64

// MarshalJSON writes finite values as shortest-round-trip numbers.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(`"` + strconv.FormatFloat(v, 'g', -1, 64) + `"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number or one of "NaN", "+Inf", "-Inf".
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*f = jsonFloat(math.NaN())
		case "+Inf", "Inf":
			*f = jsonFloat(math.Inf(1))
		case "-Inf":
			*f = jsonFloat(math.Inf(-1))
		default:
			return fmt.Errorf("%q is not a number, \"NaN\", \"+Inf\" or \"-Inf\"", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

// epochJSON is Epoch's JSON form, with the Keras metric names.
type epochJSON struct {
	Epoch       int        `json:"epoch"`
	Loss        jsonFloat  `json:"loss"`
	Accuracy    jsonFloat  `json:"accuracy"`
	ValLoss     *jsonFloat `json:"val_loss,omitempty"`
	ValAccuracy *jsonFloat `json:"val_accuracy,omitempty"`
}

// historyJSON is History's JSON document.
type historyJSON struct {
	Format       string      `json:"format"`
	Version      int         `json:"version"`
	Validation   string      `json:"validation,omitempty"`
	TestLoss     *jsonFloat  `json:"test_loss,omitempty"`
	TestAccuracy *jsonFloat  `json:"test_accuracy,omitempty"`
	Epochs       []epochJSON `json:"epochs"`
}

// optFloat returns nil for NaN, else a pointer to v.
func optFloat(v float64) *jsonFloat {
	if math.IsNaN(v) {
		return nil
	}
	f := jsonFloat(v)
	return &f
}

// MarshalJSON encodes h as described on History.
func (h *History) MarshalJSON() ([]byte, error) {
	doc := historyJSON{Format: historyFormat, Version: historyVersion, Validation: h.Validation, Epochs: make([]epochJSON, len(h.Epochs))}
	if h.Test != nil {
		l, a := jsonFloat(h.Test.Loss), jsonFloat(h.Test.Accuracy)
		doc.TestLoss, doc.TestAccuracy = &l, &a
	}
	for i, e := range h.Epochs {
		doc.Epochs[i] = epochJSON{
			Epoch:       e.Epoch,
			Loss:        jsonFloat(e.Loss),
			Accuracy:    jsonFloat(e.Accuracy),
			ValLoss:     optFloat(e.ValLoss),
			ValAccuracy: optFloat(e.ValAccuracy),
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// HistoryFormatError reports a history file that cannot be read: the file,
// the field at fault (such as "epochs[3].loss") and the byte offset in the
// file where decoding stopped, when known (-1 otherwise).
type HistoryFormatError struct {
	File   string
	Field  string
	Offset int64
	Err    error
}

// Error implements the error interface.
func (e *HistoryFormatError) Error() string {
	msg := "history " + e.File
	if e.Field != "" {
		msg += ": field " + e.Field
	}
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" at byte %d", e.Offset)
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *HistoryFormatError) Unwrap() error { return e.Err }

// decodeHistory parses a JSON history document; file names it in errors.
func decodeHistory(file string, data []byte) (*History, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc historyJSON
	if err := dec.Decode(&doc); err != nil {
		fe := &HistoryFormatError{File: file, Offset: dec.InputOffset(), Err: err}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			fe.Offset = se.Offset
		case errors.As(err, &te):
			fe.Offset, fe.Field = te.Offset, te.Field
		case errors.Is(err, io.EOF):
			fe.Err = io.ErrUnexpectedEOF
		}
		return nil, fe
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &HistoryFormatError{File: file, Offset: dec.InputOffset(), Err: errors.New("data after the JSON document")}
	}
	if doc.Format != historyFormat {
		return nil, &HistoryFormatError{File: file, Field: "format", Offset: -1, Err: fmt.Errorf("is %q, want %q", doc.Format, historyFormat)}
	}
	if doc.Version != 1 && doc.Version != historyVersion {
		return nil, &HistoryFormatError{File: file, Field: "version", Offset: -1, Err: fmt.Errorf("version %d is not supported (this build reads %d)", doc.Version, historyVersion)}
	}
	h := &History{Epochs: make([]Epoch, len(doc.Epochs)), Validation: doc.Validation}
	if (doc.TestLoss == nil) != (doc.TestAccuracy == nil) {
		return nil, &HistoryFormatError{File: file, Field: "test_loss", Offset: -1, Err: errors.New("test_loss and test_accuracy come together")}
	}
	if doc.TestLoss != nil {
		h.Test = &TestScore{Loss: float64(*doc.TestLoss), Accuracy: float64(*doc.TestAccuracy)}
	}
	for i, e := range doc.Epochs {
		if e.Epoch < 1 || (i > 0 && e.Epoch <= doc.Epochs[i-1].Epoch) {
			return nil, &HistoryFormatError{File: file, Field: fmt.Sprintf("epochs[%d].epoch", i), Offset: -1, Err: fmt.Errorf("epoch %d is not positive and increasing", e.Epoch)}
		}
		h.Epochs[i] = Epoch{
			Epoch:       e.Epoch,
			Loss:        float64(e.Loss),
			Accuracy:    float64(e.Accuracy),
			ValLoss:     math.NaN(),
			ValAccuracy: math.NaN(),
		}
		if e.ValLoss != nil {
			h.Epochs[i].ValLoss = float64(*e.ValLoss)
		}
		if e.ValAccuracy != nil {
			h.Epochs[i].ValAccuracy = float64(*e.ValAccuracy)
		}
	}
	return h, nil
}

// UnmarshalJSON decodes a document written by MarshalJSON.
func (h *History) UnmarshalJSON(data []byte) error {
	got, err := decodeHistory("<json>", data)
	if err != nil {
		return err
	}
	*h = *got
	return nil
}

// WriteJSON atomically writes h to path as indented JSON.
func (h *History) WriteJSON(path string) error {
	data, err := h.MarshalJSON()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}

// ReadHistoryJSON reads a history written by WriteJSON.
func ReadHistoryJSON(path string) (*History, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeHistory(path, data)
}

// HistoryCSVHeader is the header line of WriteCSV's output (Keras'
// CSVLogger names).
const HistoryCSVHeader = "epoch,loss,accuracy,val_loss,val_accuracy"

// AppendCSV appends h's rows, header first, to b.
func (h *History) AppendCSV(b []byte) []byte {
	b = append(b, HistoryCSVHeader...)
	b = append(b, '\n')
	for _, e := range h.Epochs {
		b = strconv.AppendInt(b, int64(e.Epoch), 10)
		for _, v := range []float64{e.Loss, e.Accuracy} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		for _, v := range []float64{e.ValLoss, e.ValAccuracy} {
			b = append(b, ',')
			if !math.IsNaN(v) {
				b = strconv.AppendFloat(b, v, 'g', -1, 64)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// WriteCSV atomically writes h to path as CSV with the header
// HistoryCSVHeader, one row per epoch.
func (h *History) WriteCSV(path string) error {
	return atomicfile.WriteFile(path, h.AppendCSV(nil), 0o644)
}
