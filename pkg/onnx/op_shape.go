package onnx

import (
	"math"
	"slices"
	"strconv"
)

// The shape arithmetic exporters write around Reshape (ONNX Operators.md: Shape, Gather,
// Unsqueeze, Squeeze, Concat, Cast, Transpose): the IR types, attribute checks, shape
// rules and reference evaluation. On constants they fold away (PyTorch's
// x.view(x.size(0), -1) is Shape -> Gather -> Unsqueeze -> Concat -> Reshape); Transpose
// and Unsqueeze/Squeeze also run on data.

// Shape is ONNX Shape (opset 1/13/15): the input's shape as a 1-D INT64 tensor, sliced to
// [Start, End) from opset 15 (negative counts from the end; out of range is clamped).
type Shape struct {
	NodeBase
	Start int64
	End   *int64 // nil: the rank
}

// Gather is ONNX Gather (opset 1/11/13): entries of Data along Axis at the INT64 indices
// (negative counts from the end).
//
//	data (d0..dr-1), indices (q...) -> (d0..d(axis-1), q..., d(axis+1)..dr-1)
type Gather struct {
	NodeBase
	Axis int64
}

// Unsqueeze is ONNX Unsqueeze (opset 1/11/13): Axes of size 1 inserted (an attribute
// before 13, an input from 13; negative from 11).
type Unsqueeze struct {
	NodeBase
	Axes []int64 // nil when the axes input is only known at run time
}

// Squeeze is ONNX Squeeze (opset 1/11/13): Axes of size 1 removed (an attribute before 13,
// an optional input from 13); no axes removes every axis of size 1.
type Squeeze struct {
	NodeBase
	Axes    []int64
	AxesIn  bool // opset >= 13 with an axes input
	axesSet bool // axes were given (attribute or constant input)
}

// Concat is ONNX Concat (opset 1/4/11/13): the inputs joined along Axis (default 1 at
// opset 1, required from 4, negative from 11).
type Concat struct {
	NodeBase
	Axis int64
}

// Cast is ONNX Cast (opset 1/6/9/13) between FLOAT, INT64 and BOOL (opset 1 names the type
// as a string). FLOAT to INT64 truncates toward zero; NaN or out-of-range values are
// refused.
type Cast struct {
	NodeBase
	To DataType
}

// Transpose is ONNX Transpose (opset 1/13): the axes permuted by Perm (default: reversed).
type Transpose struct {
	NodeBase
	Perm []int64 // nil: reversed
}

func lowerShape(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Shape{NodeBase: b}
	if ctx.opset >= 15 {
		n.Start = r.int("start", 0)
		if r.has("end") {
			e := r.int("end", 0)
			n.End = &e
		}
	}
	return n, b.arity(1, 1, 1, 1, r)
}

func lowerGather(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Gather{NodeBase: b, Axis: r.int("axis", 0)}
	return n, b.arity(2, 2, 1, 1, r)
}

// lowerAxes reads the axes of Unsqueeze or Squeeze: the attribute before opset 13, the
// (constant) input from 13, refusing negative axes before opset 11. It reports whether
// axes were given.
func lowerAxes(b *NodeBase, r *attrReader, ctx *lowerCtx, required bool) ([]int64, bool, error) {
	if ctx.opset < 13 {
		if required && !r.has("axes") {
			r.fail("axes", "required attribute is missing")
		}
		given := r.has("axes")
		axes := r.ints("axes")
		if err := b.arity(1, 1, 1, 1, r); err != nil {
			return nil, false, err
		}
		if axes == nil {
			axes = []int64{}
		}
		if ctx.opset < 11 {
			for _, a := range axes {
				if a < 0 {
					return nil, false, b.Errorf("axes", "= %v: negative axes need opset 11", axes)
				}
			}
		}
		return axes, given, nil
	}
	minIn := 1
	if required {
		minIn = 2
	}
	if err := b.arity(minIn, 2, 1, 1, r); err != nil {
		return nil, false, err
	}
	name := b.Input(1)
	if name == "" {
		return []int64{}, false, nil
	}
	t, ok := ctx.consts[name]
	if !ok {
		return nil, true, nil
	}
	if t.DataType != Int64 || len(t.Dims) != 1 {
		return nil, false, b.Errorf("input 1", "axes must be a 1-D INT64 tensor, got %s %v", t.DataType, t.Dims)
	}
	return slices.Clone(t.Int64), true, nil
}

func lowerUnsqueeze(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	axes, _, err := lowerAxes(&b, r, ctx, true)
	if err != nil {
		return nil, err
	}
	return &Unsqueeze{NodeBase: b, Axes: axes}, nil
}

func lowerSqueeze(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	axes, given, err := lowerAxes(&b, r, ctx, false)
	if err != nil {
		return nil, err
	}
	return &Squeeze{NodeBase: b, Axes: axes, AxesIn: ctx.opset >= 13 && b.Input(1) != "", axesSet: given}, nil
}

func lowerConcat(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	if ctx.opset >= 4 && !r.has("axis") {
		r.fail("axis", "required attribute is missing")
	}
	n := &Concat{NodeBase: b, Axis: r.int("axis", 1)}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if n.Axis < 0 && ctx.opset < 11 {
		return nil, b.Errorf("axis", "= %d: negative axes need opset 11", n.Axis)
	}
	if err := b.checkArity(1, math.MaxInt32, 1, 1); err != nil {
		return nil, err
	}
	for i, in := range b.Inputs {
		if in == "" {
			return nil, b.Errorf("input "+strconv.Itoa(i), "required input is empty")
		}
	}
	return n, nil
}

// dataTypeNames are the TensorProto.DataType names Cast's opset-1 string attribute uses.
var dataTypeNames = map[string]DataType{"FLOAT": Float, "INT64": Int64, "BOOL": Bool}

func lowerCast(b NodeBase, r *attrReader, ctx *lowerCtx) (Node, error) {
	n := &Cast{NodeBase: b}
	if !r.has("to") {
		r.fail("to", "required attribute is missing")
	}
	if ctx.opset < 6 {
		s := r.str("to", "")
		dt, ok := dataTypeNames[s]
		if !ok && r.err == nil {
			if err := r.finish(); err != nil {
				return nil, err
			}
			return nil, b.Unsupported("to", "= %q: only FLOAT, INT64 and BOOL", s)
		}
		n.To = dt
	} else {
		n.To = DataType(r.int("to", 0))
	}
	if err := b.arity(1, 1, 1, 1, r); err != nil {
		return nil, err
	}
	if !n.To.Supported() {
		return nil, b.Unsupported("to", "= %s: only FLOAT, INT64 and BOOL", n.To)
	}
	return n, nil
}

func lowerTranspose(b NodeBase, r *attrReader, _ *lowerCtx) (Node, error) {
	n := &Transpose{NodeBase: b, Perm: r.ints("perm")}
	if err := b.arity(1, 1, 1, 1, r); err != nil {
		return nil, err
	}
	if n.Perm != nil {
		seen := make([]bool, len(n.Perm))
		for _, p := range n.Perm {
			if p < 0 || p >= int64(len(n.Perm)) || seen[p] {
				return nil, b.Errorf("perm", "%v is not a permutation of 0..%d", n.Perm, len(n.Perm)-1)
			}
			seen[p] = true
		}
	}
	return n, nil
}

// ShapeSlice returns the [start, end) range Shape takes of a rank-rank shape.
func (n *Shape) ShapeSlice(rank int) (lo, hi int) {
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(rank)
		}
		return int(min(max(v, 0), int64(rank)))
	}
	lo, hi = clamp(n.Start), rank
	if n.End != nil {
		hi = clamp(*n.End)
	}
	return lo, max(lo, hi)
}

func (n *Shape) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if !in[0].DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", in[0].DataType)
	}
	lo, hi := n.ShapeSlice(len(in[0].Shape))
	return []TensorType{{Int64, []int64{int64(hi - lo)}}}, nil
}

// valueOf returns Shape's output from its input's type alone.
func (n *Shape) valueOf(in []TensorType) *Tensor {
	lo, hi := n.ShapeSlice(len(in[0].Shape))
	return NewInt64("", []int64{int64(hi - lo)}, slices.Clone(in[0].Shape[lo:hi]))
}

func (n *Shape) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return []*Tensor{n.valueOf([]TensorType{{in[0].DataType, in[0].Dims}})}, nil
}

func (n *Gather) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if !in[0].DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", in[0].DataType)
	}
	if err := wantType(b, in, 1, Int64, 0, -1); err != nil {
		return nil, err
	}
	x := in[0].Shape
	if len(x) == 0 {
		return nil, b.Errorf("input 0", "a scalar has no axis to gather along")
	}
	axis, err := NormAxis(b, "axis", n.Axis, len(x), false)
	if err != nil {
		return nil, err
	}
	if t := value(b.Inputs[1]); t != nil {
		for _, i := range t.Int64 {
			if i < -x[axis] || i >= x[axis] {
				return nil, b.Errorf("input 1", "index %d is out of range for axis %d of %v", i, axis, x)
			}
		}
	}
	out := append(append(slices.Clone(x[:axis]), in[1].Shape...), x[axis+1:]...)
	return []TensorType{{in[0].DataType, out}}, nil
}

func (n *Gather) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	b := &n.NodeBase
	x, idx := in[0], in[1]
	axis, _ := NormAxis(b, "axis", n.Axis, len(x.Dims), false)
	outer, d, inner := prod(x.Dims[:axis]), x.Dims[axis], prod(x.Dims[axis+1:])
	y := newTensor(types[0])
	q := int64(len(idx.Int64))
	for o := int64(0); o < outer; o++ {
		for j, i := range idx.Int64 {
			if i < -d || i >= d {
				return nil, b.Errorf("input 1", "index %d is out of range for axis %d of %v", i, axis, x.Dims)
			}
			if i < 0 {
				i += d
			}
			for k := int64(0); k < inner; k++ {
				copyElem(y, (o*q+int64(j))*inner+k, x, (o*d+i)*inner+k)
			}
		}
	}
	return []*Tensor{y}, nil
}

// copyElem sets dst[di] = src[si] (same element type).
func copyElem(dst *Tensor, di int64, src *Tensor, si int64) {
	switch src.DataType {
	case Float:
		dst.Float[di] = src.Float[si]
	case Int64:
		dst.Int64[di] = src.Int64[si]
	case Bool:
		dst.Bool[di] = src.Bool[si]
	}
}

// axesOf returns the axes of Unsqueeze or Squeeze: known at lowering or the axes input's value.
func axesOf(b *NodeBase, axes []int64, value func(string) *Tensor) ([]int64, error) {
	if axes != nil {
		return axes, nil
	}
	t := value(b.Input(1))
	if t == nil {
		return nil, b.Errorf("input 1", "the axes are not a constant; they are only known at run time")
	}
	if t.DataType != Int64 || len(t.Dims) != 1 {
		return nil, b.Errorf("input 1", "axes must be a 1-D INT64 tensor, got %s %v", t.DataType, t.Dims)
	}
	return t.Int64, nil
}

// UnsqueezeShape returns x with size-1 axes inserted at axes (of the output's rank).
func UnsqueezeShape(b *NodeBase, x, axes []int64) ([]int64, error) {
	rank := len(x) + len(axes)
	ins := make([]bool, rank)
	for _, a := range axes {
		ax, err := NormAxis(b, "axes", a, rank, false)
		if err != nil {
			return nil, err
		}
		if ins[ax] {
			return nil, b.Errorf("axes", "%v repeats axis %d", axes, a)
		}
		ins[ax] = true
	}
	out := make([]int64, 0, rank)
	j := 0
	for i := 0; i < rank; i++ {
		if ins[i] {
			out = append(out, 1)
			continue
		}
		out = append(out, x[j])
		j++
	}
	return out, nil
}

// SqueezeShape returns x without the size-1 axes named (all of them when axes is empty and
// none were given).
func SqueezeShape(b *NodeBase, x, axes []int64, given bool) ([]int64, error) {
	drop := make([]bool, len(x))
	if !given || len(axes) == 0 {
		for i, d := range x {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, err := NormAxis(b, "axes", a, len(x), false)
		if err != nil {
			return nil, err
		}
		if x[ax] != 1 {
			return nil, b.Errorf("axes", "axis %d of %v has size %d, not 1", a, x, x[ax])
		}
		drop[ax] = true
	}
	out := []int64{}
	for i, d := range x {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

func (n *Unsqueeze) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if !in[0].DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", in[0].DataType)
	}
	axes, err := axesOf(b, n.Axes, value)
	if err != nil {
		return nil, err
	}
	out, err := UnsqueezeShape(b, in[0].Shape, axes)
	if err != nil {
		return nil, err
	}
	return []TensorType{{in[0].DataType, out}}, nil
}

func (n *Squeeze) infer(in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if !in[0].DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", in[0].DataType)
	}
	axes, given := n.Axes, n.axesSet
	if n.AxesIn && axes == nil {
		var err error
		if axes, err = axesOf(b, nil, value); err != nil {
			return nil, err
		}
		given = true
	}
	out, err := SqueezeShape(b, in[0].Shape, axes, given)
	if err != nil {
		return nil, err
	}
	return []TensorType{{in[0].DataType, out}}, nil
}

func (n *Unsqueeze) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return []*Tensor{copyAs(in[0], types[0].Shape)}, nil
}

func (n *Squeeze) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	return []*Tensor{copyAs(in[0], types[0].Shape)}, nil
}

func (n *Concat) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	first := in[0]
	if !first.DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", first.DataType)
	}
	if len(first.Shape) == 0 {
		return nil, b.Errorf("input 0", "scalars cannot be concatenated")
	}
	axis, err := NormAxis(b, "axis", n.Axis, len(first.Shape), false)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(first.Shape)
	for i, t := range in[1:] {
		place := "input " + strconv.Itoa(i+1)
		if t.DataType != first.DataType || len(t.Shape) != len(out) {
			return nil, b.Errorf(place, "%s does not match input 0 %s", t, first)
		}
		for d := range out {
			if d != axis && t.Shape[d] != out[d] {
				return nil, b.Errorf(place, "%s does not match input 0 %s off axis %d", t, first, axis)
			}
		}
		out[axis] += t.Shape[axis]
		if out[axis] > MaxTensorBytes {
			return nil, b.Errorf(place, "the result is too large")
		}
	}
	return []TensorType{{first.DataType, out}}, nil
}

func (n *Concat) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	b := &n.NodeBase
	y := newTensor(types[0])
	axis, _ := NormAxis(b, "axis", n.Axis, len(y.Dims), false)
	outer, inner := prod(y.Dims[:axis]), prod(y.Dims[axis+1:])
	at := int64(0) // offset along axis
	for _, x := range in {
		d := x.Dims[axis]
		for o := int64(0); o < outer; o++ {
			for k := int64(0); k < d*inner; k++ {
				copyElem(y, (o*y.Dims[axis]+at)*inner+k, x, o*d*inner+k)
			}
		}
		at += d
	}
	return []*Tensor{y}, nil
}

func (n *Cast) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if !in[0].DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", in[0].DataType)
	}
	return []TensorType{{n.To, in[0].Shape}}, nil
}

func (n *Cast) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	x := in[0]
	y := newTensor(types[0])
	for i := 0; i < x.Len(); i++ {
		var f float64 // the value, as a number
		switch x.DataType {
		case Float:
			f = float64(x.Float[i])
		case Int64:
			f = float64(x.Int64[i])
		case Bool:
			if x.Bool[i] {
				f = 1
			}
		}
		switch n.To {
		case Float:
			if x.DataType == Int64 {
				y.Float[i] = float32(x.Int64[i])
			} else {
				y.Float[i] = float32(f)
			}
		case Int64:
			if x.DataType == Int64 {
				y.Int64[i] = x.Int64[i]
				continue
			}
			if math.IsNaN(f) || f >= 1<<63 || f < -(1<<63) {
				return nil, n.Errorf("to", "value %v has no INT64 equivalent", f)
			}
			y.Int64[i] = int64(f) // truncates toward zero
		case Bool:
			y.Bool[i] = f != 0 || math.IsNaN(f)
		}
	}
	return []*Tensor{y}, nil
}

// Permutation returns Perm, or the reversal of rank axes when it is nil.
func (n *Transpose) Permutation(rank int) []int64 {
	if n.Perm != nil {
		return n.Perm
	}
	p := make([]int64, rank)
	for i := range p {
		p[i] = int64(rank - 1 - i)
	}
	return p
}

func (n *Transpose) infer(in []TensorType, _ func(string) *Tensor) ([]TensorType, error) {
	b := &n.NodeBase
	if !in[0].DataType.Supported() {
		return nil, b.Errorf("input 0", "type %s", in[0].DataType)
	}
	x := in[0].Shape
	perm := n.Permutation(len(x))
	if len(perm) != len(x) {
		return nil, b.Errorf("perm", "%v has %d entries, the input %v has rank %d", perm, len(perm), x, len(x))
	}
	out := make([]int64, len(x))
	for i, p := range perm {
		out[i] = x[p]
	}
	return []TensorType{{in[0].DataType, out}}, nil
}

func (n *Transpose) eval(in []*Tensor, types []TensorType) ([]*Tensor, error) {
	x := in[0]
	y := newTensor(types[0])
	perm := n.Permutation(len(x.Dims))
	o := make([]int64, len(y.Dims))
	strides := make([]int64, len(x.Dims)) // x's strides
	s := int64(1)
	for d := len(x.Dims) - 1; d >= 0; d-- {
		strides[d] = s
		s *= x.Dims[d]
	}
	for k := 0; k < y.Len(); k++ {
		unravel(int64(k), y.Dims, o)
		off := int64(0)
		for i, p := range perm {
			off += o[i] * strides[p]
		}
		copyElem(y, int64(k), x, off)
	}
	return []*Tensor{y}, nil
}
