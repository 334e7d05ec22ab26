package train

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Built-in architectures, in the spec grammar of ParseArch.
const (
	// BookSpec is the book's model: Conv 32, pool, Conv 64, pool, Conv 128,
	// Flatten, Dense 64, Dense 10 (3x3 kernels, 2x2 pools, ReLU, softmax
	// output); 167,114 parameters on a 1x28x28 input.
	BookSpec = "c32k3-p2-c64k3-p2-c128k3-f-d64-d10"
	// SmallSpec is a smaller, faster model: Conv 32, pool, Conv 64,
	// Flatten, Dense 32, Dense 10.
	SmallSpec = "c32k3-p2-c64k3-f-d32-d10"
)

// Limits on spec numbers, so that a typo cannot ask for terabytes.
const (
	maxArchWidth  = 1 << 14 // filters, units
	maxArchWindow = 64      // kernel, pool, stride, dilation
	maxArchLayers = 256
	// maxLayerParams bounds one layer's parameter count when a model is
	// built (64 Mi values = 256 MiB of float32).
	maxLayerParams = 1 << 26
)

// LayerSpec is one parsed token of an architecture spec.
type LayerSpec struct {
	Token string // the token as written
	Pos   int    // its byte offset in the spec
	// Kind is "conv", "pool", "avgpool", "flatten", "dense", "relu",
	// "dropout", "bn" or "softmax".
	Kind     string
	Filters  int        // conv
	KH, KW   int        // conv kernel
	Size     int        // pool window
	Stride   int        // conv, pool (0: default)
	Dilation int        // conv
	Same     bool       // conv, pool: 'same' padding
	Units    int        // dense
	Act      Activation // conv, dense (after defaults)
	Rate     float64    // dropout
}

// ArchError reports a bad architecture spec, naming the token and its byte
// offset.
type ArchError struct {
	Spec  string
	Token string
	Pos   int
	Msg   string
	Err   error // the underlying error, such as a *ShapeError, if any
}

// Error formats the error with the spec, the token and its offset.
func (e *ArchError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("train: arch %q: %s", e.Spec, e.Msg)
	}
	return fmt.Sprintf("train: arch %q: token %q at offset %d: %s", e.Spec, e.Token, e.Pos, e.Msg)
}

// Unwrap returns the underlying error.
func (e *ArchError) Unwrap() error { return e.Err }

// ParseArch parses a compact architecture spec: "book", "small", or tokens
// joined by '-':
//
//	c<filters>[k<size>[x<width>]][s<stride>][d<dilation>][same][:<act>]
//	                   Conv2D; kernel 3x3, stride 1, 'valid' by default
//	p<size>[s<stride>][same]  MaxPool2D (stride defaults to size)
//	a<size>[s<stride>][same]  AvgPool2D
//	f                  Flatten
//	d<units>[:<act>]   Dense
//	r                  ReLU
//	x<rate>            Dropout, rate in [0, 1), e.g. x0.5
//	bn                 BatchNorm (inference form)
//	sm                 Softmax
//
// <act> is relu, linear or softmax. Conv and Dense default to relu, except
// the last Dense of the spec, which defaults to softmax. Example: the book's
// model is "c32k3-p2-c64k3-p2-c128k3-f-d64-d10". Errors are *ArchError values
// naming the token and its offset. For "book" and "small" the tokens and
// offsets refer to BookSpec and SmallSpec.
func ParseArch(spec string) ([]LayerSpec, error) {
	switch spec {
	case "book":
		spec = BookSpec
	case "small":
		spec = SmallSpec
	}
	if strings.TrimSpace(spec) == "" {
		return nil, &ArchError{Spec: spec, Msg: "empty spec"}
	}
	var out []LayerSpec
	pos := 0
	for _, tok := range strings.Split(spec, "-") {
		if len(out) == maxArchLayers {
			return nil, &ArchError{Spec: spec, Token: tok, Pos: pos, Msg: fmt.Sprintf("more than %d layers", maxArchLayers)}
		}
		ls, err := parseToken(tok)
		if err != nil {
			return nil, &ArchError{Spec: spec, Token: tok, Pos: pos, Msg: err.Error()}
		}
		ls.Token, ls.Pos = tok, pos
		out = append(out, ls)
		pos += len(tok) + 1
	}
	last := -1
	for i := range out {
		if out[i].Kind == "dense" {
			last = i
		}
	}
	for i := range out {
		if (out[i].Kind == "conv" || out[i].Kind == "dense") && out[i].Act == actDefault {
			out[i].Act = ActReLU
			if i == last {
				out[i].Act = ActSoftmax
			}
		}
	}
	return out, nil
}

// actDefault marks "no :act suffix" while parsing.
const actDefault Activation = -1

// tokenScanner reads a token's letters and numbers.
type tokenScanner struct {
	s string
	i int
}

func (t *tokenScanner) done() bool { return t.i >= len(t.s) }

// num reads a decimal integer in [1, limit].
func (t *tokenScanner) num(what string, limit int) (int, error) {
	j := t.i
	for j < len(t.s) && t.s[j] >= '0' && t.s[j] <= '9' {
		j++
	}
	if j == t.i {
		return 0, fmt.Errorf("%s: expected a number at %q", what, t.s[t.i:])
	}
	v, err := strconv.Atoi(t.s[t.i:j])
	if err != nil || v < 1 || v > limit {
		return 0, fmt.Errorf("%s %s out of range [1, %d]", what, t.s[t.i:j], limit)
	}
	t.i = j
	return v, nil
}

func (t *tokenScanner) eat(prefix string) bool {
	if strings.HasPrefix(t.s[t.i:], prefix) {
		t.i += len(prefix)
		return true
	}
	return false
}

func (t *tokenScanner) act() (Activation, error) {
	if !t.eat(":") {
		return actDefault, nil
	}
	name := t.s[t.i:]
	t.i = len(t.s)
	switch name {
	case "relu":
		return ActReLU, nil
	case "linear":
		return ActNone, nil
	case "softmax":
		return ActSoftmax, nil
	}
	return 0, fmt.Errorf("unknown activation %q (want relu, linear or softmax)", name)
}

func parseToken(tok string) (LayerSpec, error) {
	var ls LayerSpec
	if tok == "" {
		return ls, errors.New("empty token (two '-' in a row, or a leading or trailing '-')")
	}
	t := &tokenScanner{s: tok}
	var err error
	switch {
	case tok == "f":
		ls.Kind = "flatten"
		return ls, nil
	case tok == "r":
		ls.Kind = "relu"
		return ls, nil
	case tok == "bn":
		ls.Kind = "bn"
		return ls, nil
	case tok == "sm":
		ls.Kind = "softmax"
		return ls, nil
	case t.eat("c"):
		ls.Kind, ls.KH, ls.KW = "conv", 3, 3
		if ls.Filters, err = t.num("filters", maxArchWidth); err != nil {
			return ls, err
		}
		if t.eat("k") {
			if ls.KH, err = t.num("kernel size", maxArchWindow); err != nil {
				return ls, err
			}
			ls.KW = ls.KH
			if t.eat("x") {
				if ls.KW, err = t.num("kernel width", maxArchWindow); err != nil {
					return ls, err
				}
			}
		}
		if !strings.HasPrefix(t.s[t.i:], "same") && t.eat("s") {
			if ls.Stride, err = t.num("stride", maxArchWindow); err != nil {
				return ls, err
			}
		}
		if t.eat("d") {
			if ls.Dilation, err = t.num("dilation", maxArchWindow); err != nil {
				return ls, err
			}
		}
		ls.Same = t.eat("same")
		if !ls.Same {
			t.eat("valid")
		}
		if ls.Act, err = t.act(); err != nil {
			return ls, err
		}
	case t.eat("p"), t.eat("a"):
		ls.Kind = "pool"
		if tok[0] == 'a' {
			ls.Kind = "avgpool"
		}
		if ls.Size, err = t.num("pool size", maxArchWindow); err != nil {
			return ls, err
		}
		if !strings.HasPrefix(t.s[t.i:], "same") && t.eat("s") {
			if ls.Stride, err = t.num("stride", maxArchWindow); err != nil {
				return ls, err
			}
		}
		ls.Same = t.eat("same")
	case t.eat("d"):
		ls.Kind = "dense"
		if ls.Units, err = t.num("units", maxArchWidth); err != nil {
			return ls, err
		}
		if ls.Act, err = t.act(); err != nil {
			return ls, err
		}
	case t.eat("x"):
		ls.Kind = "dropout"
		r, perr := strconv.ParseFloat(t.s[t.i:], 64)
		if perr != nil || !(r >= 0 && r < 1) {
			return ls, fmt.Errorf("dropout rate %q must be a number in [0, 1)", t.s[t.i:])
		}
		ls.Rate = r
		t.i = len(t.s)
	default:
		return ls, fmt.Errorf("unknown layer %q (want c, p, a, f, d, r, x, bn or sm)", tok)
	}
	if !t.done() {
		return ls, fmt.Errorf("unexpected %q after %q", t.s[t.i:], t.s[:t.i])
	}
	return ls, nil
}

// Layer returns a new, unbuilt layer configured by the spec.
func (ls LayerSpec) Layer() Layer {
	pad := PadValid
	if ls.Same {
		pad = PadSame
	}
	switch ls.Kind {
	case "conv":
		return &Conv2D{Filters: ls.Filters, KH: ls.KH, KW: ls.KW, Stride: [2]int{ls.Stride, ls.Stride},
			Dilation: [2]int{ls.Dilation, ls.Dilation}, Padding: pad, Act: ls.Act}
	case "pool":
		return &MaxPool2D{KH: ls.Size, KW: ls.Size, Stride: [2]int{ls.Stride, ls.Stride}, Padding: pad}
	case "avgpool":
		return &AvgPool2D{KH: ls.Size, KW: ls.Size, Stride: [2]int{ls.Stride, ls.Stride}, Padding: pad}
	case "flatten":
		return &Flatten{}
	case "dense":
		return &Dense{Units: ls.Units, Act: ls.Act}
	case "relu":
		return &ReLU{}
	case "dropout":
		return &Dropout{Rate: ls.Rate}
	case "bn":
		return &BatchNorm{}
	case "softmax":
		return &Softmax{}
	}
	panic("train: LayerSpec with unknown kind " + ls.Kind)
}

// BuildModel parses spec (see ParseArch) and builds the model for inputs of
// shape inShape, drawing the initial weights (and the dropout generators)
// from rng. Shape errors name the token that caused them.
func BuildModel(spec string, inShape Shape, rng *RNG) (*Model, error) {
	specs, err := ParseArch(spec)
	if err != nil {
		return nil, err
	}
	layers := make([]Layer, len(specs))
	for i, ls := range specs {
		layers[i] = ls.Layer()
	}
	m, err := newModel(inShape, rng, layers)
	if err != nil {
		var se *ShapeError
		if errors.As(err, &se) {
			for i, l := range layers {
				if l.Name() == se.Layer {
					return nil, &ArchError{Spec: spec, Token: specs[i].Token, Pos: specs[i].Pos, Msg: "layer " + se.Layer + ": " + se.Msg, Err: err}
				}
			}
		}
		return nil, &ArchError{Spec: spec, Msg: err.Error(), Err: err}
	}
	return m, nil
}

// mustBuild builds a built-in spec, which cannot fail on a valid shape.
func mustBuild(spec string, rng *RNG) *Model {
	m, err := BuildModel(spec, DefaultInputShape(), rng)
	if err != nil {
		panic(err)
	}
	return m
}

// BookModel returns the book's model (BookSpec) for 1x28x28 inputs,
// initialised from rng like Keras: Glorot-uniform kernels, zero biases.
func BookModel(rng *RNG) *Model { return mustBuild(BookSpec, rng) }

// SmallModel returns SmallSpec's model for 1x28x28 inputs, initialised from
// rng.
func SmallModel(rng *RNG) *Model { return mustBuild(SmallSpec, rng) }
