package train

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseArch(t *testing.T) {
	cases := []struct {
		spec string
		want []LayerSpec
	}{
		{"c32k3-p2-f-d10", []LayerSpec{
			{Token: "c32k3", Pos: 0, Kind: "conv", Filters: 32, KH: 3, KW: 3, Act: ActReLU},
			{Token: "p2", Pos: 6, Kind: "pool", Size: 2},
			{Token: "f", Pos: 9, Kind: "flatten"},
			{Token: "d10", Pos: 11, Kind: "dense", Units: 10, Act: ActSoftmax},
		}},
		{"c8k5x3s2d2same:linear-a3s1same-bn-r-x0.25-d4-d3:relu-sm", []LayerSpec{
			{Token: "c8k5x3s2d2same:linear", Kind: "conv", Filters: 8, KH: 5, KW: 3, Stride: 2, Dilation: 2, Same: true, Act: ActNone},
			{Token: "a3s1same", Pos: 22, Kind: "avgpool", Size: 3, Stride: 1, Same: true},
			{Token: "bn", Pos: 31, Kind: "bn"},
			{Token: "r", Pos: 34, Kind: "relu"},
			{Token: "x0.25", Pos: 36, Kind: "dropout", Rate: 0.25},
			{Token: "d4", Pos: 42, Kind: "dense", Units: 4, Act: ActReLU},
			{Token: "d3:relu", Pos: 45, Kind: "dense", Units: 3, Act: ActReLU},
			{Token: "sm", Pos: 53, Kind: "softmax"},
		}},
		{"c4same-p2same", []LayerSpec{
			{Token: "c4same", Kind: "conv", Filters: 4, KH: 3, KW: 3, Same: true, Act: ActReLU},
			{Token: "p2same", Pos: 7, Kind: "pool", Size: 2, Same: true},
		}},
		{"c4s2valid", []LayerSpec{{Token: "c4s2valid", Kind: "conv", Filters: 4, KH: 3, KW: 3, Stride: 2, Act: ActReLU}}},
	}
	for _, c := range cases {
		got, err := ParseArch(c.spec)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %d layers, want %d", c.spec, len(got), len(c.want))
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q layer %d:\n got %+v\nwant %+v", c.spec, i, got[i], c.want[i])
			}
		}
	}
	book, _ := ParseArch("book")
	if len(book) != 8 || book[7].Act != ActSoftmax {
		t.Errorf("book: %+v", book)
	}
}

func TestParseArchErrors(t *testing.T) {
	cases := []struct {
		spec, token string
		pos         int
		msg         string
	}{
		{"", "", 0, "empty spec"},
		{"c32k3--d10", "", 6, "empty token"},
		{"c32k3-q2", "q2", 6, "unknown layer"},
		{"c0k3", "c0k3", 0, "filters 0 out of range"},
		{"c32k3-p2-c64k99", "c64k99", 9, "kernel size 99 out of range"},
		{"c32kx", "c32kx", 0, "kernel size: expected a number"},
		{"c32k3-d10:tanh", "d10:tanh", 6, "unknown activation"},
		{"c32k3-x1.5", "x1.5", 6, "dropout rate"},
		{"c32k3-xNaN", "xNaN", 6, "dropout rate"},
		{"c32k3z", "c32k3z", 0, `unexpected "z"`},
		{"d99999999999999999999", "d99999999999999999999", 0, "out of range"},
		{"f-", "", 2, "empty token"},
	}
	for _, c := range cases {
		_, err := ParseArch(c.spec)
		var ae *ArchError
		if !errors.As(err, &ae) {
			t.Errorf("%q: error %v, want *ArchError", c.spec, err)
			continue
		}
		if ae.Token != c.token || ae.Pos != c.pos || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: token %q pos %d err %q; want token %q pos %d containing %q", c.spec, ae.Token, ae.Pos, err, c.token, c.pos, c.msg)
		}
	}
}

func TestBuildModelErrors(t *testing.T) {
	cases := []struct {
		spec, token string
		msg         string
	}{
		{"c32k3-p2-c64k3-p2-c128k3-p2-c8k3-f-d10", "c8k3", "smaller than the window"},
		{"c32k3-d10", "d10", "add a Flatten"},
		{"f-c8k3", "c8k3", "needs a (C, H, W) input"},
		{"f-d16384-d16384", "d16384", "exceed the limit"},
		{"f-sm-p2", "p2", "pooling needs"},
	}
	for _, c := range cases {
		_, err := BuildModel(c.spec, Shape{1, 28, 28}, NewRNG(0))
		var ae *ArchError
		if !errors.As(err, &ae) || ae.Token != c.token || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v; want token %q and %q", c.spec, err, c.token, c.msg)
		}
	}
}

// TestParamCounts asserts the book's figures and SmallModel's count from a
// formula written out here.
func TestParamCounts(t *testing.T) {
	conv := func(in, out, k int) int { return out*in*k*k + out }
	dense := func(in, out int) int { return out*in + out }
	small := conv(1, 32, 3) + conv(32, 64, 3) + dense(64*11*11, 32) + dense(32, 10)
	cases := []struct {
		name  string
		model *Model
		want  int
	}{
		{"book", BookModel(NewRNG(1)), 167114},
		{"book without pooling", mustModel(t, "c32k3-c64k3-c128k3-f-d64-d10"), 4058314},
		{"small", SmallModel(NewRNG(1)), small},
	}
	for _, c := range cases {
		tr, nt := c.model.NumParams()
		if tr != c.want || nt != 0 {
			t.Errorf("%s: %d trainable, %d non-trainable, want %d", c.name, tr, nt, c.want)
		}
		var buf bytes.Buffer
		if err := c.model.Summary(&buf); err != nil {
			t.Fatal(err)
		}
		if want := "Total params: " + groupDigits(c.want) + "\n"; !strings.Contains(buf.String(), want) {
			t.Errorf("%s summary lacks %q:\n%s", c.name, want, buf.String())
		}
	}
	if small != 266986 {
		t.Errorf("small formula %d", small)
	}
}

func mustModel(t *testing.T, spec string) *Model {
	t.Helper()
	m, err := BuildModel(spec, Shape{1, 28, 28}, NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func FuzzParseArch(f *testing.F) {
	for _, s := range []string{BookSpec, SmallSpec, "book", "c8k5x3s2d2same:linear-a3s1same-bn-r-x0.25-d4-d3:relu-sm", "c-", "x0.", "p2s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		specs, err := ParseArch(spec)
		if err != nil {
			var ae *ArchError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T %v is not an *ArchError", err, err)
			}
			return
		}
		if len(specs) == 0 {
			t.Fatal("no layers and no error")
		}
		text := map[string]string{"book": BookSpec, "small": SmallSpec}[spec]
		if text == "" {
			text = spec
		}
		for _, s := range specs {
			if s.Pos < 0 || s.Pos+len(s.Token) > len(text) || text[s.Pos:s.Pos+len(s.Token)] != s.Token {
				t.Fatalf("token %q at %d does not match the spec", s.Token, s.Pos)
			}
			_ = s.Layer()
		}
		// Build on a tiny input so that fuzzing stays cheap; errors are fine.
		if m, err := BuildModel(spec, Shape{1, 6, 6}, NewRNG(0)); err == nil {
			tr, _ := m.NumParams()
			if tr < 0 {
				t.Fatal("negative parameter count")
			}
		}
	})
}

func TestSummaryFormat(t *testing.T) {
	m := mustModel(t, "c32k3-p2-f-x0.5-bn-d10")
	var buf bytes.Buffer
	if err := m.Summary(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Layer (type)                 Output Shape              Param #\n",
		"conv1 (Conv2D)               (None, 32, 26, 26)        320\n",
		"pool1 (MaxPooling2D)         (None, 32, 13, 13)        0\n",
		"flatten1 (Flatten)           (None, 5408)              0\n",
		"bn1 (BatchNormalization)     (None, 5408)              21,632\n",
		"dense1 (Dense)               (None, 10)                54,090\n",
		"Total params: 76,042\nTrainable params: 65,226\nNon-trainable params: 10,816\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 167114: "167,114", 4058314: "4,058,314", -1234: "-1,234"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}
