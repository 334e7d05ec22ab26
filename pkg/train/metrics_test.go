package train

import (
	"strings"
	"testing"
)

// TestConfusionReportAligned: every row of the report's matrix lines up with its header,
// whatever the length of the class names and counts; the matrix's rows are labelled
// "INDEX NAME" and the table above names every class.
func TestConfusionReportAligned(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		big   int // one count this large
	}{
		{"Fashion-MNIST names", []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}, 9},
		{"short names", []string{"a", "b", "c"}, 3},
		{"counts wider than 5", []string{"cat", "dog"}, 1234567},
		{"fewer names than classes", []string{"one"}, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := max(len(tc.names), 2)
			c := NewConfusion(k)
			for i := range k {
				for j := range k {
					c.Counts[i][j] = i*k + j
				}
			}
			c.Counts[k-1][0] = tc.big
			var b strings.Builder
			if err := c.Report(&b, tc.names); err != nil {
				t.Fatal(err)
			}
			text := b.String()
			_, matrix, ok := strings.Cut(text, "confusion matrix (rows: true class, columns: predicted)\n")
			if !ok {
				t.Fatalf("no matrix in:\n%s", text)
			}
			lines := strings.Split(strings.TrimRight(matrix, "\n"), "\n")
			if len(lines) != k+1 {
				t.Fatalf("%d matrix lines, want %d:\n%s", len(lines), k+1, matrix)
			}
			// Every line is as long as the header, and every column of counts ends
			// where the header's column index ends.
			ends := columnEnds(lines[0])
			if len(ends) != k {
				t.Fatalf("header %q has %d columns, want %d", lines[0], len(ends), k)
			}
			for i, l := range lines[1:] {
				if len(l) != len(lines[0]) {
					t.Errorf("row %d is %d wide, the header %d:\n%s", i, len(l), len(lines[0]), matrix)
				}
				got := columnEnds(l)
				got = got[len(got)-k:] // the label's own words come first
				for j := range ends {
					if got[j] != ends[j] {
						t.Errorf("row %d, column %d ends at %d, the header's at %d:\n%s", i, j, got[j], ends[j], matrix)
					}
				}
				label := name(tc.names, i)
				if !strings.HasPrefix(l, strings.Split(strings.TrimSpace(l), " ")[0]+" "+label) {
					t.Errorf("row %d %q is not labelled with its index and %q", i, l, label)
				}
			}
		})
	}
}

// columnEnds returns the offsets just past each space-separated field of l.
func columnEnds(l string) []int {
	var ends []int
	for i := range len(l) {
		if l[i] != ' ' && (i+1 == len(l) || l[i+1] == ' ') {
			ends = append(ends, i+1)
		}
	}
	return ends
}

// TestConfusionReportInterval: the report's accuracy line carries the 95% Wilson interval.
func TestConfusionReportInterval(t *testing.T) {
	c := NewConfusion(2)
	c.Counts = [][]int{{4551, 449}, {449, 4551}} // 9102 of 10000 right
	var b strings.Builder
	if err := c.Report(&b, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	lo, hi, _ := WilsonInterval(9102, 10000, 0.95)
	want := "accuracy: 0.9102 (9102/10000; 95% interval 0.9044-0.9156, Wilson)\n"
	if !strings.HasPrefix(b.String(), want) || lo > 0.90444 || hi < 0.91564 {
		t.Errorf("report starts %q, want %q", strings.SplitN(b.String(), "\n", 2)[0], want)
	}
}
