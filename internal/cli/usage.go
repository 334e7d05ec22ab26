package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// helpWidth is the width the flag lists are wrapped to.
const helpWidth = 100

// helpColumn caps the column the flags' descriptions start in; a longer flag
// gets its description on the next line.
const helpColumn = 34

// Placeholder returns the word that stands for a flag's value in the help: the
// back-quoted word of its usage (pflag's convention, "the `FILE` to read"), else N for
// an integer, X for a number and the upper-cased type name for other values; "" for a
// boolean. The back-quotes are removed from the usage returned.
func Placeholder(f *pflag.Flag) (name, usage string) {
	name, usage = pflag.UnquoteUsage(f)
	if strings.Contains(f.Usage, "`") {
		return name, usage
	}
	switch f.Value.Type() {
	case "bool":
		return "", usage
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "count":
		return "N", usage
	case "float32", "float64":
		return "X", usage
	}
	return strings.ToUpper(name), usage
}

// zeroDefault reports whether a flag's default says nothing worth printing.
func zeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "[]", "<nil>":
		return true
	}
	if v, err := strconv.ParseFloat(f.DefValue, 64); err == nil && v == 0 {
		return true
	}
	return false
}

// FlagUsages formats the flags of fs, one per line (wrapped to helpWidth): "-k, --top N",
// then the description and the default when it is not a zero value. Unlike pflag's own
// list, booleans carry no "[=true|false]" and every value has an upper-case placeholder.
func FlagUsages(fs *pflag.FlagSet) string {
	type line struct{ left, right string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		name, usage := Placeholder(f)
		if name != "" {
			left += " " + name
		}
		if !zeroDefault(f) && !strings.Contains(usage, "(default") {
			usage += " (default " + f.DefValue + ")"
		}
		if f.Deprecated != "" {
			usage += " (deprecated: " + f.Deprecated + ")"
		}
		lines = append(lines, line{left, usage})
		if len(left) < helpColumn {
			width = max(width, len(left))
		}
	})
	col := width + 3
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.left)
		if len(l.left)+2 > col {
			b.WriteString("\n" + strings.Repeat(" ", col))
		} else {
			b.WriteString(strings.Repeat(" ", col-len(l.left)))
		}
		for i, w := range wrap(l.right, helpWidth-col) {
			if i > 0 {
				b.WriteString("\n" + strings.Repeat(" ", col))
			}
			b.WriteString(w)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// wrap breaks s into lines of at most width bytes at spaces (a longer word stands alone).
func wrap(s string, width int) []string {
	width = max(width, 20)
	var out []string
	var cur strings.Builder
	for _, w := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(w) > width {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 || len(out) == 0 {
		out = append(out, cur.String())
	}
	return out
}
