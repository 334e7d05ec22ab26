package train

import (
	"fmt"
	"io"
	"strings"
)

// Confusion is a confusion matrix: Counts[truth][predicted].
type Confusion struct {
	Counts [][]int
}

// NewConfusion returns an empty k-class confusion matrix.
func NewConfusion(k int) *Confusion {
	c := &Confusion{Counts: make([][]int, k)}
	for i := range c.Counts {
		c.Counts[i] = make([]int, k)
	}
	return c
}

// Add counts one sample. Labels outside the matrix are a programmer error.
func (c *Confusion) Add(truth, predicted int) { c.Counts[truth][predicted]++ }

// AddProbs counts n samples given their class scores (n*k, row-major) and
// true labels, predicting the argmax (the first on ties).
func (c *Confusion) AddProbs(probs []float32, labels []uint8, n int) {
	k := len(c.Counts)
	for i := 0; i < n; i++ {
		c.Add(int(labels[i]), Argmax(probs[i*k:(i+1)*k]))
	}
}

// Argmax returns the index of the largest value (the first on ties), or -1
// for an empty slice.
func Argmax(v []float32) int {
	best := -1
	for i, x := range v {
		if best < 0 || x > v[best] {
			best = i
		}
	}
	return best
}

// Total returns the number of samples counted.
func (c *Confusion) Total() int {
	t := 0
	for _, row := range c.Counts {
		for _, v := range row {
			t += v
		}
	}
	return t
}

// Correct returns the number of samples on the diagonal: those classified
// right.
func (c *Confusion) Correct() int {
	d := 0
	for i := range c.Counts {
		d += c.Counts[i][i]
	}
	return d
}

// Accuracy returns the fraction of samples on the diagonal.
func (c *Confusion) Accuracy() float64 {
	t := c.Total()
	if t == 0 {
		return 0
	}
	return float64(c.Correct()) / float64(t)
}

// Precision returns, for class k, the fraction of the samples predicted as k
// that are k (0 when none was predicted as k).
func (c *Confusion) Precision(k int) float64 {
	col := 0
	for i := range c.Counts {
		col += c.Counts[i][k]
	}
	if col == 0 {
		return 0
	}
	return float64(c.Counts[k][k]) / float64(col)
}

// Recall returns, for class k, the fraction of the samples of class k
// predicted as k (its per-class accuracy; 0 when there is none).
func (c *Confusion) Recall(k int) float64 {
	row := 0
	for _, v := range c.Counts[k] {
		row += v
	}
	if row == 0 {
		return 0
	}
	return float64(c.Counts[k][k]) / float64(row)
}

// Report writes the accuracy, per-class precision and recall, and the
// matrix with the given class names (rows: truth, columns: prediction).
func (c *Confusion) Report(w io.Writer, names []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "accuracy: %.4f (%d/%d", c.Accuracy(), c.Correct(), c.Total())
	if lo, hi, err := WilsonInterval(c.Correct(), c.Total(), 0.95); err == nil {
		fmt.Fprintf(&b, "; 95%% interval %.4f-%.4f, Wilson", lo, hi)
	}
	b.WriteString(")\n\n")
	width := 5
	for k := range c.Counts {
		width = max(width, len(name(names, k)))
	}
	fmt.Fprintf(&b, "%-*s  %9s  %6s  %7s\n", width, "class", "precision", "recall", "samples")
	for k := range c.Counts {
		row := 0
		for _, v := range c.Counts[k] {
			row += v
		}
		fmt.Fprintf(&b, "%-*s  %9.4f  %6.4f  %7d\n", width, name(names, k), c.Precision(k), c.Recall(k), row)
	}
	// The matrix's row labels are "INDEX NAME": their column is as wide as the
	// longest of them, and each count's column as wide as the largest count
	// (at least 5), so that every row lines up under the header.
	labels := make([]string, len(c.Counts))
	labelWidth, cell := 0, 5
	for i, row := range c.Counts {
		labels[i] = fmt.Sprintf("%d %s", i, name(names, i))
		labelWidth = max(labelWidth, len(labels[i]))
		for _, v := range row {
			cell = max(cell, len(fmt.Sprint(v)))
		}
	}
	fmt.Fprintf(&b, "\nconfusion matrix (rows: true class, columns: predicted)\n%-*s", labelWidth, "")
	for k := range c.Counts {
		fmt.Fprintf(&b, " %*d", cell, k)
	}
	b.WriteByte('\n')
	for i, row := range c.Counts {
		fmt.Fprintf(&b, "%-*s", labelWidth, labels[i])
		for _, v := range row {
			fmt.Fprintf(&b, " %*d", cell, v)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func name(names []string, k int) string {
	if k < len(names) {
		return names[k]
	}
	return fmt.Sprint(k)
}
