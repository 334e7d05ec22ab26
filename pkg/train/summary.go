package train

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Summary writes a Keras-style table of the model: each layer's name and
// type, its output shape with the batch dimension as None (in this engine's
// NCHW order, so (None, 32, 26, 26) where Keras would print
// (None, 26, 26, 32)), its parameter count, and the totals, e.g.
// "Total params: 167,114". It returns the first write error.
func (m *Model) Summary(w io.Writer) error {
	bw := bufio.NewWriter(w)
	const width = 65
	rule := strings.Repeat("_", width)
	fmt.Fprintf(bw, "Model: %q\n%s\n", "sequential", rule)
	fmt.Fprintf(bw, "%-29s%-26s%s\n%s\n", "Layer (type)", "Output Shape", "Param #", strings.Repeat("=", width))
	for i, l := range m.Layers {
		count := 0
		for _, p := range l.Params() {
			count += p.Size()
		}
		shape := "(None"
		for _, d := range l.OutShape() {
			shape += ", " + strconv.Itoa(d)
		}
		shape += ")"
		fmt.Fprintf(bw, "%-29s%-26s%s\n", l.Name()+" ("+l.TypeName()+")", shape, groupDigits(count))
		if i < len(m.Layers)-1 {
			fmt.Fprintln(bw, rule)
		}
	}
	tr, nt := m.NumParams()
	fmt.Fprintf(bw, "%s\nTotal params: %s\nTrainable params: %s\nNon-trainable params: %s\n%s\n",
		strings.Repeat("=", width), groupDigits(tr+nt), groupDigits(tr), groupDigits(nt), rule)
	return bw.Flush()
}

// groupDigits formats n with commas between groups of three digits.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
