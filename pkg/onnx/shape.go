package onnx

import (
	"fmt"
	"strconv"
)

// WindowOutput returns the output size of one spatial axis of Conv, MaxPool or
// AveragePool, and the padding actually applied before and after it. It is the single
// place where this package does pad arithmetic (ONNX Operators.md, Conv and MaxPool):
//
//   - NOTSET: with ek = (kernel-1)*dilation + 1 the effective kernel extent,
//     out = floor((in + padBegin + padEnd - ek) / stride) + 1, or ceil(...) + 1 in ceil
//     mode, where a last window that would start beyond the input and the begin padding
//     (i.e. entirely in the end padding) is dropped: if (out-1)*stride >= in + padBegin,
//     out--. The given pads are returned.
//   - VALID: no padding; out = floor((in - ek) / stride) + 1.
//   - SAME_UPPER / SAME_LOWER: out = ceil(in / stride); the total padding
//     max(0, (out-1)*stride + ek - in) is split in two halves, the odd unit going at the end
//     (SAME_UPPER) or at the beginning (SAME_LOWER). ceil mode has no effect.
//
// The explicit pads are ignored unless autoPad is NotSet. It fails when the kernel does not
// fit (out < 1) or sizes are out of range.
func WindowOutput(in, kernel, stride, dilation, padBegin, padEnd int64, autoPad AutoPad, ceil bool) (out, begin, end int64, err error) {
	const limit = 1 << 40 // far beyond any real size; keeps the arithmetic from overflowing
	if in < 0 || in > limit || kernel < 1 || kernel > limit || stride < 1 || stride > limit ||
		dilation < 1 || dilation > limit || padBegin < 0 || padBegin > limit || padEnd < 0 || padEnd > limit {
		return 0, 0, 0, fmt.Errorf("window sizes out of range: input %d, kernel %d, stride %d, dilation %d, pads %d,%d",
			in, kernel, stride, dilation, padBegin, padEnd)
	}
	if (kernel - 1) > limit/dilation {
		return 0, 0, 0, fmt.Errorf("kernel %d with dilation %d is too large", kernel, dilation)
	}
	ek := (kernel-1)*dilation + 1
	switch autoPad {
	case SameUpper, SameLower:
		out = (in + stride - 1) / stride
		total := max(0, (out-1)*stride+ek-in)
		if autoPad == SameUpper {
			begin, end = total/2, total-total/2
		} else {
			begin, end = total-total/2, total/2
		}
	case Valid:
		if in < ek {
			return 0, 0, 0, fmt.Errorf("input size %d is smaller than the kernel extent %d", in, ek)
		}
		out = (in-ek)/stride + 1
	case NotSet:
		begin, end = padBegin, padEnd
		span := in + begin + end - ek
		if span < 0 {
			return 0, 0, 0, fmt.Errorf("padded input size %d is smaller than the kernel extent %d", in+begin+end, ek)
		}
		if ceil {
			out = (span+stride-1)/stride + 1
			if (out-1)*stride >= in+begin {
				out--
			}
		} else {
			out = span/stride + 1
		}
	default:
		return 0, 0, 0, fmt.Errorf("unknown auto_pad %d", autoPad)
	}
	if out < 1 {
		return 0, 0, 0, fmt.Errorf("empty output (input %d, kernel extent %d, stride %d)", in, ek, stride)
	}
	return out, begin, end, nil
}

// TensorType is the static type of a value: its element type and shape.
type TensorType struct {
	DataType DataType
	Shape    []int64
}

// String returns e.g. "FLOAT[1 3 5 5]".
func (t TensorType) String() string { return fmt.Sprintf("%s%v", t.DataType, t.Shape) }

// InferShapes computes the type of every value of g, given the concrete shapes of its
// runtime inputs (by name; an input missing from the map takes its declared shape, which
// must then be fully static). It checks element types and shapes op by op and fails with
// a *ModelError naming the node at fault. A Reshape whose shape is only known at run time
// cannot be inferred statically and fails.
func (g *Graph) InferShapes(inputs map[string][]int64) (map[string]TensorType, error) {
	types := map[string]TensorType{}
	for name, t := range g.Initializers {
		types[name] = TensorType{t.DataType, t.Dims}
	}
	for _, in := range g.Inputs {
		shape, ok := inputs[in.Name]
		if !ok {
			if in.Shape == nil {
				return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: "no shape given and none declared"}
			}
			shape = make([]int64, len(in.Shape))
			for i, d := range in.Shape {
				if d.Value < 0 {
					return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name),
						Reason: fmt.Sprintf("dim %d is %s: give a concrete shape", i, d)}
				}
				shape[i] = d.Value
			}
		}
		if err := in.CheckShape(shape); err != nil {
			return nil, err
		}
		types[in.Name] = TensorType{in.DataType, shape}
	}
	for _, n := range g.Nodes {
		b := n.Base()
		in := make([]TensorType, len(b.Inputs))
		for i, name := range b.Inputs {
			if name != "" {
				in[i] = types[name]
			}
		}
		out, err := InferNode(n, in, func(string) *Tensor { return nil })
		if err != nil {
			return nil, err
		}
		for i, name := range b.Outputs {
			if name != "" && i < len(out) {
				types[name] = out[i]
			}
		}
	}
	return types, nil
}

// CheckShape checks a concrete shape against the declared one.
func (v ValueInfo) CheckShape(shape []int64) error {
	place := fmt.Sprintf("input %q", v.Name)
	if _, err := NumElements(shape); err != nil {
		return &ModelError{Node: "graph", Attribute: place, Reason: err.Error()}
	}
	if v.Shape == nil {
		return nil
	}
	if len(shape) != len(v.Shape) {
		return &ModelError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("shape %v has rank %d, declared %d", shape, len(shape), len(v.Shape))}
	}
	for i, d := range v.Shape {
		if d.Value >= 0 && d.Value != shape[i] {
			return &ModelError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("shape %v: dim %d is declared %d", shape, i, d.Value)}
		}
	}
	return nil
}

// InferNode computes the output types of n from its input types (zero TensorType for an
// absent optional input). value returns a runtime value by name, or nil when only static
// types are known (used for Reshape's shape input).
func InferNode(n Node, in []TensorType, value func(string) *Tensor) ([]TensorType, error) {
	b := n.Base()
	want := func(i int, dt DataType, minRank, maxRank int) error {
		t := in[i]
		if t.DataType != dt {
			return b.Errorf("input "+strconv.Itoa(i), "type %s, want %s", t.DataType, dt)
		}
		if len(t.Shape) < minRank || (maxRank >= 0 && len(t.Shape) > maxRank) {
			return b.Errorf("input "+strconv.Itoa(i), "shape %v: rank %d outside %d..%d", t.Shape, len(t.Shape), minRank, maxRank)
		}
		return nil
	}
	switch n := n.(type) {
	case *Conv:
		if err := want(0, Float, 3, -1); err != nil {
			return nil, err
		}
		x := in[0].Shape
		if err := want(1, Float, len(x), len(x)); err != nil {
			return nil, err
		}
		w := in[1].Shape
		if w[1] != x[1] {
			return nil, b.Errorf("input 1", "W %v has %d input channels, X %v has %d (group=1)", w, w[1], x, x[1])
		}
		if b.Input(2) != "" {
			if err := want(2, Float, 1, 1); err != nil {
				return nil, err
			}
			if in[2].Shape[0] != w[0] {
				return nil, b.Errorf("input 2", "B %v, want (%d)", in[2].Shape, w[0])
			}
		}
		win, err := n.Window.Resolve(b, len(x)-2, w[2:])
		if err != nil {
			return nil, err
		}
		out, _, err := win.OutputShape(b, x)
		if err != nil {
			return nil, err
		}
		out[1] = w[0]
		return []TensorType{{Float, out}}, nil
	case *MaxPool, *AveragePool:
		var win Window
		if mp, ok := n.(*MaxPool); ok {
			win = mp.Window
		} else {
			win = n.(*AveragePool).Window
		}
		if err := want(0, Float, 3, -1); err != nil {
			return nil, err
		}
		x := in[0].Shape
		win, err := win.Resolve(b, len(x)-2, nil)
		if err != nil {
			return nil, err
		}
		out, _, err := win.OutputShape(b, x)
		if err != nil {
			return nil, err
		}
		return []TensorType{{Float, out}}, nil
	case *BatchNormalization:
		if err := want(0, Float, 2, -1); err != nil {
			return nil, err
		}
		c := in[0].Shape[1]
		for i := 1; i < 5; i++ {
			if err := want(i, Float, 1, 1); err != nil {
				return nil, err
			}
			if in[i].Shape[0] != c {
				return nil, b.Errorf("input "+strconv.Itoa(i), "shape %v, want (%d)", in[i].Shape, c)
			}
		}
		return []TensorType{in[0]}, nil
	case *Gemm:
		if err := want(0, Float, 2, 2); err != nil {
			return nil, err
		}
		if err := want(1, Float, 2, 2); err != nil {
			return nil, err
		}
		m, k := in[0].Shape[0], in[0].Shape[1]
		if n.TransA {
			m, k = k, m
		}
		k2, nn := in[1].Shape[0], in[1].Shape[1]
		if n.TransB {
			k2, nn = nn, k2
		}
		if k != k2 {
			return nil, b.Errorf("input 1", "A' is (%d,%d) but B' is (%d,%d)", m, k, k2, nn)
		}
		if b.Input(2) != "" {
			if err := want(2, Float, 0, 2); err != nil {
				return nil, err
			}
			if _, err := BroadcastShapes(in[2].Shape, []int64{m, nn}); err != nil || !unidirectional(in[2].Shape, []int64{m, nn}) {
				return nil, b.Errorf("input 2", "C %v does not broadcast to (%d,%d)", in[2].Shape, m, nn)
			}
		}
		return []TensorType{{Float, []int64{m, nn}}}, nil
	case *MatMul:
		if err := want(0, Float, 1, -1); err != nil {
			return nil, err
		}
		if err := want(1, Float, 1, -1); err != nil {
			return nil, err
		}
		out, _, _, _, _, err := matmulShapes(in[0].Shape, in[1].Shape)
		if err != nil {
			return nil, b.Errorf("inputs", "%v", err)
		}
		return []TensorType{{Float, out}}, nil
	case *Add:
		if err := want(0, Float, 0, -1); err != nil {
			return nil, err
		}
		if err := want(1, Float, 0, -1); err != nil {
			return nil, err
		}
		out, err := BroadcastShapes(in[0].Shape, in[1].Shape)
		if err != nil {
			return nil, b.Errorf("inputs", "%v", err)
		}
		return []TensorType{{Float, out}}, nil
	case *Relu:
		if err := want(0, Float, 0, -1); err != nil {
			return nil, err
		}
		return []TensorType{in[0]}, nil
	case *Identity:
		if !in[0].DataType.Supported() {
			return nil, b.Errorf("input 0", "type %s", in[0].DataType)
		}
		return []TensorType{in[0]}, nil
	case *Dropout:
		if err := want(0, Float, 0, -1); err != nil {
			return nil, err
		}
		out := []TensorType{in[0]}
		if b.Output(1) != "" {
			out = append(out, TensorType{Bool, in[0].Shape})
			if n.maskIsFloat() {
				out[1].DataType = Float
			}
		}
		return out, nil
	case *Flatten:
		x := in[0].Shape
		axis, err := NormAxis(b, "axis", n.Axis, len(x), true)
		if err != nil {
			return nil, err
		}
		return []TensorType{{in[0].DataType, []int64{prod(x[:axis]), prod(x[axis:])}}}, nil
	case *Softmax:
		if err := want(0, Float, 1, -1); err != nil {
			return nil, err
		}
		if _, err := NormAxis(b, "axis", n.Axis, len(in[0].Shape), false); err != nil {
			return nil, err
		}
		return []TensorType{in[0]}, nil
	case *Reshape:
		if err := want(1, Int64, 1, 1); err != nil {
			return nil, err
		}
		shape := n.Shape
		if shape == nil {
			t := value(b.Inputs[1])
			if t == nil {
				return nil, b.Errorf("input 1", "the shape is not a constant; it is only known at run time")
			}
			if err := CheckReshapeShape(b, t, n.AllowZero); err != nil {
				return nil, err
			}
			shape = t.Int64
		}
		out, err := reshapeShape(b, in[0].Shape, shape, n.AllowZero)
		if err != nil {
			return nil, err
		}
		return []TensorType{{in[0].DataType, out}}, nil
	case *Constant:
		return []TensorType{{n.Value.DataType, n.Value.Dims}}, nil
	}
	panic(fmt.Sprintf("onnx: inferNode: unhandled node type %T", n))
}

// maskIsFloat reports whether the mask output has X's type (opsets before 10) rather
// than BOOL.
func (n *Dropout) maskIsFloat() bool { return n.floatMask }

// Resolve returns a copy of w with every default filled in for rank spatial axes and
// the kernel taken from kernel (Conv's W) when the attribute is absent; it checks that
// the attributes agree with the input rank and W. b names the node in errors.
func (w Window) Resolve(b *NodeBase, rank int, kernel []int64) (Window, error) {
	r := w
	if r.Strides == nil {
		r.fillDefaults(rank)
	}
	if r.KernelShape == nil {
		r.KernelShape = kernel
	}
	if len(r.KernelShape) != rank || len(r.Strides) != rank || len(r.Dilations) != rank || len(r.Pads) != 2*rank {
		return r, b.Errorf("kernel_shape", "window attributes have %d spatial axes, the input has %d", len(r.Strides), rank)
	}
	if kernel != nil {
		for i := range kernel {
			if kernel[i] != r.KernelShape[i] {
				return r, b.Errorf("kernel_shape", "%v does not match W's spatial shape %v", r.KernelShape, kernel)
			}
		}
	}
	return r, nil
}

// OutputShape returns the output shape (N, C, O1..On) for input x and the pads applied
// (begins then ends), with WindowOutput on each spatial axis of a resolved window.
func (w Window) OutputShape(b *NodeBase, x []int64) ([]int64, []int64, error) {
	rank := len(x) - 2
	out := append([]int64{}, x...)
	pads := make([]int64, 2*rank)
	for i := 0; i < rank; i++ {
		o, pb, pe, err := WindowOutput(x[2+i], w.KernelShape[i], w.Strides[i], w.Dilations[i], w.Pads[i], w.Pads[rank+i], w.AutoPad, w.CeilMode)
		if err != nil {
			return nil, nil, b.Errorf("kernel_shape", "spatial axis %d: %v", i, err)
		}
		out[2+i], pads[i], pads[rank+i] = o, pb, pe
	}
	return out, pads, nil
}

// NormAxis maps axis into [0, rank) (or [0, rank] when inclusive, as Flatten allows).
func NormAxis(b *NodeBase, attr string, axis int64, rank int, inclusive bool) (int, error) {
	hi := int64(rank)
	if !inclusive {
		hi--
	}
	if axis < -int64(rank) || axis > hi {
		return 0, b.Errorf(attr, "= %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

func prod(d []int64) int64 {
	p := int64(1)
	for _, v := range d {
		p *= v
	}
	return p
}

// BroadcastShapes returns the numpy (multidirectional) broadcast of a and b.
func BroadcastShapes(a, b []int64) ([]int64, error) {
	n := max(len(a), len(b))
	out := make([]int64, n)
	for i := 0; i < n; i++ {
		da, db := int64(1), int64(1)
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// unidirectional reports whether c broadcasts to target without changing target.
func unidirectional(c, target []int64) bool {
	out, err := BroadcastShapes(c, target)
	if err != nil || len(out) != len(target) {
		return false
	}
	for i := range out {
		if out[i] != target[i] {
			return false
		}
	}
	return true
}

// matmulShapes returns numpy.matmul's output shape for a and b, with the batch shape and
// the matrix sizes m, k, n.
func matmulShapes(a, b []int64) (out, batch []int64, m, k, n int64, err error) {
	aa, bb := a, b
	if len(a) == 1 {
		aa = []int64{1, a[0]}
	}
	if len(b) == 1 {
		bb = []int64{b[0], 1}
	}
	m, k = aa[len(aa)-2], aa[len(aa)-1]
	k2 := bb[len(bb)-2]
	n = bb[len(bb)-1]
	if k != k2 {
		return nil, nil, 0, 0, 0, fmt.Errorf("MatMul of %v and %v: inner sizes %d and %d differ", a, b, k, k2)
	}
	batch, err = BroadcastShapes(aa[:len(aa)-2], bb[:len(bb)-2])
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	out = append([]int64{}, batch...)
	if len(a) > 1 {
		out = append(out, m)
	}
	if len(b) > 1 {
		out = append(out, n)
	}
	return out, batch, m, k, n, nil
}

// reshapeShape applies Reshape's 0 and -1 rules to shape for an input of shape x.
func reshapeShape(b *NodeBase, x, shape []int64, allowZero bool) ([]int64, error) {
	out := make([]int64, len(shape))
	known, neg := int64(1), -1
	for i, v := range shape {
		switch {
		case v == 0 && !allowZero:
			if i >= len(x) {
				return nil, b.Errorf("input 1", "shape[%d] = 0 copies a dimension the input %v does not have", i, x)
			}
			out[i] = x[i]
		case v == -1:
			neg = i
			continue
		default:
			out[i] = v
		}
		if out[i] != 0 && known > MaxTensorBytes/out[i] {
			return nil, b.Errorf("input 1", "shape %v is too large", shape)
		}
		known *= out[i]
	}
	total := prod(x)
	if neg >= 0 {
		if known == 0 || total%known != 0 {
			return nil, b.Errorf("input 1", "cannot infer -1 in shape %v for input %v", shape, x)
		}
		out[neg] = total / known
		known = total
	}
	if known != total {
		return nil, b.Errorf("input 1", "shape %v (%d elements) does not match input %v (%d elements)", shape, known, x, total)
	}
	return out, nil
}
