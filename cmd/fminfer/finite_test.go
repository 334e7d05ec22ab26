package main

import (
	"math"
	"strings"
	"testing"
)

func TestCheckFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	row := func(k int, v float32) []float32 {
		r := make([]float32, 10)
		r[0] = 1
		if k >= 0 {
			r[k] = v
		}
		return r
	}
	cases := []struct {
		name  string
		probs []float32
		first int
		want  string // "" for no error
	}{
		{"all finite", append(row(-1, 0), row(-1, 0)...), 0, ""},
		{"empty", nil, 0, ""},
		{"NaN in second image", append(row(-1, 0), row(3, nan)...), 0, "NaN as probability 3 of image 1"},
		{"Inf with offset", row(9, inf), 256, "+Inf as probability 9 of image 256"},
		{"-Inf", row(0, -inf), 7, "-Inf as probability 0 of image 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkFinite(c.probs, c.first)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
