package cli

import (
	"errors"
	"io"
	"testing"

	"github.com/spf13/pflag"
)

func TestParse(t *testing.T) {
	cases := []struct {
		args       []string
		positional bool
		usage      bool // a UsageError is expected
		help       bool // pflag.ErrHelp is expected
	}{
		{[]string{"--n", "3"}, false, false, false},
		{[]string{"--n", "x"}, false, true, false},
		{[]string{"--bogus"}, false, true, false},
		{[]string{"stray"}, false, true, false},
		{[]string{"stray"}, true, false, false},
		{[]string{"--help"}, false, false, true},
	}
	for _, c := range cases {
		fs := NewFlags("t", io.Discard, "usage")
		fs.Int("n", 0, "a number")
		err := Parse(fs, c.args, c.positional)
		var ue UsageError
		if got := errors.As(err, &ue); got != c.usage {
			t.Errorf("%v: usage error %v, want %v (%v)", c.args, got, c.usage, err)
		}
		if got := errors.Is(err, pflag.ErrHelp); got != c.help {
			t.Errorf("%v: ErrHelp %v, want %v", c.args, got, c.help)
		}
		if !c.usage && !c.help && err != nil {
			t.Errorf("%v: unexpected error %v", c.args, err)
		}
	}
}
