package train

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for progress tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) set(d time.Duration) { c.t = time.Unix(1_700_000_000, 0).Add(d) }
func newFakeClock() *fakeClock           { c := &fakeClock{}; c.set(0); return c }
func ms(n int) time.Duration             { return time.Duration(n) * time.Millisecond }
func sec(n float64) time.Duration        { return time.Duration(n * float64(time.Second)) }

// progressEvent is one call on a Progress, at a clock time.
type progressEvent struct {
	at    time.Duration
	start [3]int // epoch, epochs, steps; used when end == nil && step == 0
	step  int
	loss  float64
	acc   float64
	end   *Epoch
}

func runProgress(p Progress, clock *fakeClock, events []progressEvent) {
	for _, ev := range events {
		clock.set(ev.at)
		switch {
		case ev.end != nil:
			p.EpochEnd(*ev.end)
		case ev.step == 0:
			p.EpochStart(ev.start[0], ev.start[1], ev.start[2])
		default:
			p.Step(ev.step, ev.loss, ev.acc)
		}
	}
}

// twoEpochs is a 2-epoch run of 4 steps per epoch: the first with
// validation, the second without and with a tiny loss.
var twoEpochs = []progressEvent{
	{at: 0, start: [3]int{1, 2, 4}},
	{at: sec(25), step: 1, loss: 0.9, acc: 0.5},           // drawn: ETA 75s -> 1:15
	{at: sec(25) + ms(50), step: 2, loss: 0.8, acc: 0.55}, // within 100 ms: skipped
	{at: sec(30), step: 3, loss: 0.7, acc: 0.6},           // drawn: ETA 10s, shorter line
	{at: sec(40), step: 4, loss: 0.6, acc: 0.625},         // drawn: no ETA
	{at: sec(42), end: &Epoch{Epoch: 1, Loss: 0.6, Accuracy: 0.625, ValLoss: 0.65432, ValAccuracy: 0.7, Seconds: 42}},
	{at: sec(42), start: [3]int{2, 2, 4}},
	{at: sec(42.5), step: 1, loss: 0.0005, acc: 1},
	{at: sec(42.55), end: &Epoch{Epoch: 2, Loss: 0.0004, Accuracy: 1, ValLoss: math.NaN(), ValAccuracy: math.NaN(), Seconds: 0.55}},
}

func TestBarProgressOutput(t *testing.T) {
	var buf bytes.Buffer
	clock := newFakeClock()
	p := NewProgressClock(&buf, true, clock.now)
	if _, ok := p.(*BarProgress); !ok {
		t.Fatalf("terminal Progress is %T, want *BarProgress", p)
	}
	runProgress(p, clock, twoEpochs)
	want := "Epoch 1/2\n" +
		"\r1/4 [======>.......................] - ETA: 1:15 - loss: 0.9000 - accuracy: 0.5000" +
		"\r3/4 [=====================>........] - ETA: 10s - loss: 0.7000 - accuracy: 0.6000 " +
		"\r4/4 [==============================] - loss: 0.6000 - accuracy: 0.6250           " +
		"\r4/4 [==============================] - 42s 10s/step - loss: 0.6000 - accuracy: 0.6250 - val_loss: 0.6543 - val_accuracy: 0.7000\n" +
		"Epoch 2/2\n" +
		"\r1/4 [======>.......................] - ETA: 1s - loss: 5.0000e-04 - accuracy: 1.0000" +
		"\r4/4 [==============================] - 1s 138ms/step - loss: 4.0000e-04 - accuracy: 1.0000\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestLineProgressOutput(t *testing.T) {
	var buf bytes.Buffer
	clock := newFakeClock()
	p := NewProgressClock(&buf, false, clock.now)
	if _, ok := p.(*LineProgress); !ok {
		t.Fatalf("non-terminal Progress is %T, want *LineProgress", p)
	}
	runProgress(p, clock, twoEpochs)
	want := "Epoch 1/2 - 42s 10s/step - loss: 0.6000 - accuracy: 0.6250 - val_loss: 0.6543 - val_accuracy: 0.7000\n" +
		"Epoch 2/2 - 1s 138ms/step - loss: 4.0000e-04 - accuracy: 1.0000\n"
	got := buf.String()
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	for i, r := range got {
		if r < 0x20 && r != '\n' || r == 0x7f {
			t.Errorf("control character %q at byte %d of non-terminal output", r, i)
		}
	}
}

func TestProgressFormatting(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{string(progAppendMetric(nil, "loss", 0.30125)), " - loss: 0.3013"},
		{string(progAppendMetric(nil, "loss", 0.001)), " - loss: 1.0000e-03"},
		{string(progAppendMetric(nil, "loss", -2)), " - loss: -2.0000"},
		{string(progAppendMetric(nil, "loss", math.NaN())), " - loss: nan"},
		{string(progAppendMetric(nil, "loss", math.Inf(1))), " - loss: inf"},
		{string(progAppendMetric(nil, "loss", 0)), " - loss: 0.0000e+00"},
		{string(progAppendETA(nil, 59.9)), "59s"},
		{string(progAppendETA(nil, 60.5)), "1:00"},
		{string(progAppendETA(nil, 3725)), "1:02:05"},
		{string(progAppendETA(nil, -1)), "0s"},
		{string(progAppendETA(nil, math.Inf(1))), "277777777:46:40"},
		{string(progAppendPerStep(nil, 2.5)), "2s/step"},
		{string(progAppendPerStep(nil, 0.0084)), "8ms/step"},
		{string(progAppendPerStep(nil, 0.000095)), "95us/step"},
		{string(progAppendPerStep(nil, 0)), "0s/step"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestBarProgressBarShapes(t *testing.T) {
	p := &BarProgress{steps: 1875}
	tests := []struct {
		step int
		want string
	}{
		{0, "   0/1875 [..............................]"},
		{1, "   1/1875 [..............................]"},
		{63, "  63/1875 [>.............................]"},
		{1200, "1200/1875 [==================>...........]"}, // int(30*0.64) = 19: 18 "=", ">",
		{1874, "1874/1875 [============================>.]"}, // int(29.98) = 29,
		{1875, "1875/1875 [==============================]"},
	}
	for _, tt := range tests {
		if got := string(p.bar(nil, tt.step)); got != tt.want {
			t.Errorf("step %d: got %q, want %q", tt.step, got, tt.want)
		}
	}
}

// failWriter fails every write.
type failWriter struct{ n int }

func (w *failWriter) Write(b []byte) (int, error) { w.n++; return 0, errors.New("disk full") }

func TestProgressKeepsWriteError(t *testing.T) {
	clock := newFakeClock()
	for _, terminal := range []bool{true, false} {
		w := &failWriter{}
		p := NewProgressClock(w, terminal, clock.now)
		runProgress(p, clock, twoEpochs)
		err := p.(interface{ Err() error }).Err()
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("terminal=%v: Err() = %v", terminal, err)
		}
		if w.n != 1 {
			t.Errorf("terminal=%v: %d writes after the first failure, want none", terminal, w.n-1)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "notatty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
	if IsTerminal(nil) {
		t.Error("nil is a terminal")
	}
	var _ Progress = NopProgress{}
}

var progressBenchSink int

func BenchmarkBarProgressStep(b *testing.B) {
	var buf bytes.Buffer
	clock := newFakeClock()
	p := NewProgressClock(&buf, true, clock.now)
	p.EpochStart(1, 1, 1875)
	i := 0
	for b.Loop() {
		i++
		clock.set(time.Duration(i) * ms(1)) // redraws every 100th step
		p.Step(i%1875+1, 0.3, 0.9)
		if buf.Len() > 1<<20 {
			buf.Reset()
		}
	}
	progressBenchSink = buf.Len()
}

func ExampleNewProgress() {
	// Not a terminal (a log file, a pipe): one line per epoch.
	p := NewProgress(os.Stdout, false)
	p.EpochStart(1, 10, 1875)
	for step := 1; step <= 1875; step++ {
		p.Step(step, 0.5, 0.8)
	}
	p.EpochEnd(Epoch{Epoch: 1, Loss: 0.4521, Accuracy: 0.8377, ValLoss: 0.3312, ValAccuracy: 0.8801, Seconds: 15.2})
	// Output:
	// Epoch 1/10 - 15s 8ms/step - loss: 0.4521 - accuracy: 0.8377 - val_loss: 0.3312 - val_accuracy: 0.8801
}
