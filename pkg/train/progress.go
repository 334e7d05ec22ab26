package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"golang.org/x/term"
)

// Progress receives the events of a Keras-like fit loop, in this order per
// epoch: EpochStart, Step for steps 1..steps (some may be skipped), then
// EpochEnd. Implementations report to a person; they never fail the run
// (write errors are kept, see BarProgress.Err).
type Progress interface {
	// EpochStart announces epoch (1-based) of epochs, made of steps batches.
	EpochStart(epoch, epochs, steps int)
	// Step reports that step (1-based) finished, with the epoch's running
	// mean loss and accuracy so far.
	Step(step int, loss, acc float64)
	// EpochEnd reports the finished epoch's metrics.
	EpochEnd(e Epoch)
}

// ProgressInterval is the shortest time between two redraws of the
// terminal progress bar (Keras redraws at most every 0.05 s; ten redraws a
// second are plenty and cost nothing measurable).
const ProgressInterval = 100 * time.Millisecond

// progressBarWidth is the bar's width in characters, as in Keras' Progbar.
const progressBarWidth = 30

// NewProgress returns the Progress for w: a redrawn Keras-style progress bar
// if isTerminal, else one plain line per epoch with no control characters
// (for logs and pipes). Pass IsTerminal(f) for isTerminal.
func NewProgress(w io.Writer, isTerminal bool) Progress {
	return NewProgressClock(w, isTerminal, time.Now)
}

// NewProgressClock is NewProgress with the clock injected, for tests.
func NewProgressClock(w io.Writer, isTerminal bool, now func() time.Time) Progress {
	if isTerminal {
		return &BarProgress{w: w, now: now}
	}
	return &LineProgress{w: w}
}

// IsTerminal reports whether f is a terminal. A nil f is not.
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// NopProgress reports nothing (Keras' verbose=0).
type NopProgress struct{}

// EpochStart does nothing.
func (NopProgress) EpochStart(epoch, epochs, steps int) {}

// Step does nothing.
func (NopProgress) Step(step int, loss, acc float64) {}

// EpochEnd does nothing.
func (NopProgress) EpochEnd(e Epoch) {}

// BarProgress draws Keras' verbose=1 display on a terminal:
//
//	Epoch 3/10
//	1200/1875 [==================>...........] - ETA: 12s - loss: 0.3012 - accuracy: 0.8890
//
// redrawn in place with a carriage return at most every ProgressInterval,
// and finished at the epoch's end with the time taken and the validation
// metrics:
//
//	1875/1875 [==============================] - 15s 8ms/step - loss: 0.3012 - accuracy: 0.8890 - val_loss: 0.3300 - val_accuracy: 0.8800
type BarProgress struct {
	w        io.Writer
	now      func() time.Time
	steps    int
	start    time.Time
	lastDraw time.Time
	drawn    bool // a bar line of this epoch is on screen
	width    int  // length of the line on screen
	buf      []byte
	err      error
}

// Err returns the first error from writing to the output, if any.
func (p *BarProgress) Err() error { return p.err }

// EpochStart prints the "Epoch i/n" line.
func (p *BarProgress) EpochStart(epoch, epochs, steps int) {
	p.steps = steps
	p.start = p.now()
	p.drawn = false
	p.width = 0
	p.write(fmt.Appendf(p.buf[:0], "Epoch %d/%d\n", epoch, epochs))
}

// Step redraws the bar unless it was drawn less than ProgressInterval ago.
func (p *BarProgress) Step(step int, loss, acc float64) {
	t := p.now()
	if p.drawn && t.Sub(p.lastDraw) < ProgressInterval {
		return
	}
	p.lastDraw = t
	b := p.bar(p.buf[:0], step)
	if step < p.steps {
		perStep := t.Sub(p.start).Seconds() / float64(step)
		b = append(b, " - ETA: "...)
		b = progAppendETA(b, perStep*float64(p.steps-step))
	}
	b = progAppendMetric(b, "loss", loss)
	b = progAppendMetric(b, "accuracy", acc)
	p.redraw(b, false)
}

// EpochEnd draws the finished bar with the epoch's time and metrics, and
// ends the line.
func (p *BarProgress) EpochEnd(e Epoch) {
	steps := max(p.steps, 1)
	b := p.bar(p.buf[:0], p.steps)
	b = append(b, " - "...)
	b = strconv.AppendFloat(b, e.Seconds, 'f', 0, 64)
	b = append(b, 's', ' ')
	b = progAppendPerStep(b, e.Seconds/float64(steps))
	b = progAppendEpochMetrics(b, e)
	p.redraw(b, true)
}

// bar appends "  12/1875 [====>.....]".
func (p *BarProgress) bar(b []byte, step int) []byte {
	if p.steps <= 0 {
		return fmt.Appendf(b, "%d/Unknown", step)
	}
	digits := len(strconv.Itoa(p.steps))
	b = fmt.Appendf(b, "%*d/%d [", digits, step, p.steps)
	filled := min(int(progressBarWidth*(float64(step)/float64(p.steps))), progressBarWidth)
	for i := range progressBarWidth {
		switch {
		case i < filled-1:
			b = append(b, '=')
		case i == filled-1 && step < p.steps:
			b = append(b, '>')
		case i == filled-1:
			b = append(b, '=')
		default:
			b = append(b, '.')
		}
	}
	return append(b, ']')
}

// redraw replaces the line on screen with line, padding with spaces to
// cover a longer previous line, and ends it if final.
func (p *BarProgress) redraw(line []byte, final bool) {
	n := len(line)
	out := make([]byte, 0, n+p.width+2)
	out = append(out, '\r')
	out = append(out, line...)
	for i := n; i < p.width; i++ {
		out = append(out, ' ')
	}
	if final {
		out = append(out, '\n')
		p.drawn = false
		p.width = 0
	} else {
		p.drawn = true
		p.width = n
	}
	p.buf = line[:0]
	p.write(out)
}

func (p *BarProgress) write(b []byte) {
	if p.err != nil {
		return
	}
	if _, err := p.w.Write(b); err != nil {
		p.err = err
	}
}

// LineProgress writes one line per epoch and nothing else, free of control
// characters, for logs and pipes:
//
//	Epoch 3/10 - 15s 8ms/step - loss: 0.3012 - accuracy: 0.8890 - val_loss: 0.3300 - val_accuracy: 0.8800
type LineProgress struct {
	w             io.Writer
	epoch, epochs int
	steps         int
	err           error
}

// Err returns the first error from writing to the output, if any.
func (p *LineProgress) Err() error { return p.err }

// EpochStart remembers the epoch's numbering; it prints nothing.
func (p *LineProgress) EpochStart(epoch, epochs, steps int) {
	p.epoch, p.epochs, p.steps = epoch, epochs, steps
}

// Step does nothing.
func (p *LineProgress) Step(step int, loss, acc float64) {}

// EpochEnd writes the epoch's line.
func (p *LineProgress) EpochEnd(e Epoch) {
	b := fmt.Appendf(nil, "Epoch %d/%d - ", p.epoch, p.epochs)
	b = strconv.AppendFloat(b, e.Seconds, 'f', 0, 64)
	b = append(b, 's', ' ')
	b = progAppendPerStep(b, e.Seconds/float64(max(p.steps, 1)))
	b = progAppendEpochMetrics(b, e)
	b = append(b, '\n')
	if p.err == nil {
		if _, err := p.w.Write(b); err != nil {
			p.err = err
		}
	}
}

// progAppendEpochMetrics appends loss and accuracy, then the validation metrics
// if e has them.
func progAppendEpochMetrics(b []byte, e Epoch) []byte {
	b = progAppendMetric(b, "loss", e.Loss)
	b = progAppendMetric(b, "accuracy", e.Accuracy)
	if e.HasValidation() {
		b = progAppendMetric(b, "val_loss", e.ValLoss)
		b = progAppendMetric(b, "val_accuracy", e.ValAccuracy)
	}
	return b
}

// progAppendMetric appends " - name: value" formatted as Keras' Progbar does:
// %.4f, or %.4e when |value| <= 1e-3, and nan/inf spelled as Python does.
func progAppendMetric(b []byte, name string, v float64) []byte {
	b = append(b, " - "...)
	b = append(b, name...)
	b = append(b, ": "...)
	switch {
	case math.IsNaN(v):
		return append(b, "nan"...)
	case math.IsInf(v, 1):
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		return append(b, "-inf"...)
	case math.Abs(v) > 1e-3:
		return strconv.AppendFloat(b, v, 'f', 4, 64)
	default:
		return strconv.AppendFloat(b, v, 'e', 4, 64)
	}
}

// progAppendETA appends a remaining time as Keras does: 12s, 3:05 or 1:02:03.
func progAppendETA(b []byte, seconds float64) []byte {
	if math.IsNaN(seconds) || seconds < 0 {
		seconds = 0
	}
	s := int64(min(seconds, 1e12))
	switch {
	case seconds > 3600:
		return fmt.Appendf(b, "%d:%02d:%02d", s/3600, s%3600/60, s%60)
	case seconds > 60:
		return fmt.Appendf(b, "%d:%02d", s/60, s%60)
	default:
		return fmt.Appendf(b, "%ds", s)
	}
}

// progAppendPerStep appends the time per step as Keras does: 2s/step,
// 8ms/step or 95us/step.
func progAppendPerStep(b []byte, seconds float64) []byte {
	switch {
	case seconds >= 1 || seconds == 0 || math.IsNaN(seconds):
		b = strconv.AppendFloat(b, seconds, 'f', 0, 64)
		b = append(b, 's')
	case seconds >= 1e-3:
		b = strconv.AppendFloat(b, seconds*1e3, 'f', 0, 64)
		b = append(b, "ms"...)
	default:
		b = strconv.AppendFloat(b, seconds*1e6, 'f', 0, 64)
		b = append(b, "us"...)
	}
	return append(b, "/step"...)
}
