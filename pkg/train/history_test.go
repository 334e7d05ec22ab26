package train

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameFloat reports whether a and b are the same float64, NaN equal to NaN.
func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

func sameEpochs(a, b []Epoch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Epoch != y.Epoch || !sameFloat(x.Loss, y.Loss) || !sameFloat(x.Accuracy, y.Accuracy) ||
			!sameFloat(x.ValLoss, y.ValLoss) || !sameFloat(x.ValAccuracy, y.ValAccuracy) {
			return false
		}
	}
	return true
}

var (
	nan = math.NaN()
	// tenth + 0.2 is 0.30000000000000004 at run time (constants would fold to 0.3).
	tenth = 0.1
	// historyCases are histories whose floats need all 17 digits, or are
	// not finite.
	historyCases = map[string]History{
		"with validation": {Epochs: []Epoch{
			{1, tenth + 0.2, 1.0 / 3, 0.30000000000000004, 0.8889, 12.5},
			{2, math.Nextafter(0.25, 1), 0.9, 1e-300, 0.99999999999999989, 11.0},
		}},
		"without validation": {Epochs: []Epoch{
			{1, 0.5, 0.75, nan, nan, 3},
			{2, 0.25, 0.875, nan, nan, 2.9999999999999996},
		}},
		"diverged": {Epochs: []Epoch{
			{1, math.Inf(1), 0.1, nan, nan, 1},
			{2, nan, 0.1, math.Inf(-1), 0, 1},
		}},
		"empty": {},
	}
)

func TestHistoryJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for name, h := range historyCases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
			if err := h.WriteJSON(path); err != nil {
				t.Fatal(err)
			}
			got, err := ReadHistoryJSON(path)
			if err != nil {
				t.Fatal(err)
			}
			if !sameEpochs(got.Epochs, h.Epochs) {
				t.Errorf("read back %+v, want %+v", got.Epochs, h.Epochs)
			}
			// Writing what was read gives the same bytes.
			again := filepath.Join(dir, "again.json")
			if err := got.WriteJSON(again); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(path)
			b, _ := os.ReadFile(again)
			if string(a) != string(b) {
				t.Errorf("rewrite differs:\n%s\n%s", a, b)
			}
		})
	}
}

func TestHistoryJSONFormat(t *testing.T) {
	h := History{Epochs: []Epoch{
		{1, tenth + 0.2, 0.5, nan, nan, 2},
		{2, nan, 0.75, 0.25, 0.875, 1.5},
	}}
	b, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "format": "fmkit-history",
  "version": 2,
  "epochs": [
    {
      "epoch": 1,
      "loss": 0.30000000000000004,
      "accuracy": 0.5
    },
    {
      "epoch": 2,
      "loss": "NaN",
      "accuracy": 0.75,
      "val_loss": 0.25,
      "val_accuracy": 0.875
    }
  ]
}`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	if h.HasValidation() != true || (&History{Epochs: h.Epochs[:1]}).HasValidation() {
		t.Error("HasValidation wrong")
	}
}

func TestHistoryCSV(t *testing.T) {
	h := History{Epochs: []Epoch{
		{1, tenth + 0.2, 1.0 / 3, nan, nan, 12.5},
		{2, 0.25, 0.875, 0.5, 0.8125, 11},
		{3, math.Inf(1), 0.1, nan, nan, 1e-7},
	}}
	path := filepath.Join(t.TempDir(), "h.csv")
	if err := h.WriteCSV(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The wall time (12.5, 11, 1e-7) is deliberately not written.
	want := "epoch,loss,accuracy,val_loss,val_accuracy\n" +
		"1,0.30000000000000004,0.3333333333333333,,\n" +
		"2,0.25,0.875,0.5,0.8125\n" +
		"3,+Inf,0.1,,\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestReadHistoryJSONErrors(t *testing.T) {
	tests := []struct {
		name, data string
		field      string // want this field named ("" for none)
		offset     int64  // want this offset (-2: do not check)
	}{
		{"empty file", ``, "", -2},
		{"truncated", `{"format":"fmkit-history","version":1,"epochs":[{"epoch":1,`, "", -2},
		{"syntax error", `{"format":"fmkit-history",,}`, "", 27},
		{"wrong type", `{"format":"fmkit-history","version":1,"epochs":[{"epoch":"one"}]}`, "epochs.epoch", -2},
		{"bad float string", `{"format":"fmkit-history","version":1,"epochs":[{"epoch":1,"loss":"lots"}]}`, "", -2},
		{"unknown field", `{"format":"fmkit-history","version":1,"epochs":[],"extra":1}`, "", -2},
		{"wrong format", `{"format":"keras","version":1,"epochs":[]}`, "format", -1},
		{"newer version", `{"format":"fmkit-history","version":3,"epochs":[]}`, "version", -1},
		{"epochs out of order", `{"format":"fmkit-history","version":1,"epochs":[{"epoch":2},{"epoch":2}]}`, "epochs[1].epoch", -1},
		{"trailing data", `{"format":"fmkit-history","version":1,"epochs":[]} {}`, "", -2},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "h.json")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadHistoryJSON(path)
			var fe *HistoryFormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *HistoryFormatError", err)
			}
			if fe.File != path || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if tt.field != "" && fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
			if tt.offset != -2 && fe.Offset != tt.offset {
				t.Errorf("offset = %d, want %d (%v)", fe.Offset, tt.offset, err)
			}
		})
	}
	if _, err := ReadHistoryJSON(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestHistoryWriteFailsCleanly(t *testing.T) {
	h := historyCases["with validation"]
	path := filepath.Join(t.TempDir(), "no-such-dir", "h.json")
	if err := h.WriteJSON(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("WriteJSON into a missing directory: err = %v", err)
	}
	if err := h.WriteCSV(path); err == nil {
		t.Error("WriteCSV into a missing directory succeeded")
	}
}

func FuzzReadHistoryJSON(f *testing.F) {
	for _, h := range historyCases {
		b, err := h.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"fmkit-history","version":1,"epochs":[{"epoch":1,"loss":"NaN"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := decodeHistory("fuzz.json", data)
		if err != nil {
			return
		}
		b, err := h.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		h2, err := decodeHistory("again.json", b)
		if err != nil {
			t.Fatalf("re-reading our own output: %v\n%s", err, b)
		}
		if !sameEpochs(h.Epochs, h2.Epochs) {
			t.Fatalf("round trip changed %+v to %+v", h.Epochs, h2.Epochs)
		}
	})
}

func ExampleHistory_AppendCSV() {
	var h History
	h.Add(Epoch{Epoch: 1, Loss: 0.5, Accuracy: 0.8125, ValLoss: 0.4375, ValAccuracy: 0.84375, Seconds: 12.5})
	h.Add(Epoch{Epoch: 2, Loss: 0.375, Accuracy: 0.875, ValLoss: math.NaN(), ValAccuracy: math.NaN(), Seconds: 12})
	os.Stdout.Write(h.AppendCSV(nil))
	// Output:
	// epoch,loss,accuracy,val_loss,val_accuracy
	// 1,0.5,0.8125,0.4375,0.84375
	// 2,0.375,0.875,,
}

func TestHistoryValidationAndTestRoundTrip(t *testing.T) {
	h := History{Epochs: []Epoch{{1, 0.5, 0.75, 0.25, 0.875, 1}}, Validation: "the last 6000 training samples", Test: &TestScore{Loss: 0.3, Accuracy: 0.91}}
	b, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"validation": "the last 6000 training samples"`, `"test_loss": 0.3`, `"test_accuracy": 0.91`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back History
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if back.Validation != h.Validation || back.Test == nil || *back.Test != *h.Test {
		t.Errorf("read back %+v", back)
	}
	// Version 1 files still read; a lone test figure does not.
	if err := back.UnmarshalJSON([]byte(`{"format":"fmkit-history","version":1,"epochs":[]}`)); err != nil {
		t.Errorf("version 1: %v", err)
	}
	if err := back.UnmarshalJSON([]byte(`{"format":"fmkit-history","version":2,"test_loss":1,"epochs":[]}`)); err == nil {
		t.Error("test_loss without test_accuracy accepted")
	}
}
