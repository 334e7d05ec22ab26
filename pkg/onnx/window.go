package onnx

import (
	"fmt"
	"strconv"
)

// The sliding-window geometry that Conv, MaxPool and AveragePool share: its attributes,
// their checks and defaults, and all of the pad arithmetic.

// AutoPad is the auto_pad attribute of Conv and the pooling ops.
type AutoPad int

// The auto_pad values (ONNX Operators.md, Conv/MaxPool/AveragePool).
const (
	NotSet    AutoPad = iota // explicit pads (default)
	Valid                    // no padding
	SameUpper                // output = ceil(input/stride); an odd total pad puts the extra at the end
	SameLower                // as SameUpper, with the extra pad at the beginning
)

// String returns the ONNX spelling, e.g. "SAME_UPPER".
func (a AutoPad) String() string {
	switch a {
	case NotSet:
		return "NOTSET"
	case Valid:
		return "VALID"
	case SameUpper:
		return "SAME_UPPER"
	case SameLower:
		return "SAME_LOWER"
	}
	return "AutoPad(" + strconv.Itoa(int(a)) + ")"
}

// Window is the sliding-window geometry shared by Conv, MaxPool and AveragePool. All
// slices have one entry per spatial axis (Pads two: all beginnings, then all ends); they
// are filled with the defaults (strides 1, dilations 1, pads 0) by lowering, except
// KernelShape, which Conv may leave nil (then it is W's spatial shape).
type Window struct {
	KernelShape []int64
	Strides     []int64
	Dilations   []int64
	Pads        []int64 // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; ignored unless AutoPad == NotSet
	AutoPad     AutoPad
	CeilMode    bool // pooling only: round the output size up (see WindowOutput)
}

// lowerWindow reads the window attributes shared by Conv and the pooling ops. withCeil and
// withDilations say whether ceil_mode and dilations exist for this op and opset.
func lowerWindow(b *NodeBase, r *attrReader, kernelRequired, withCeil, withDilations bool) Window {
	var w Window
	w.KernelShape = r.ints("kernel_shape")
	w.Strides = r.ints("strides")
	w.Pads = r.ints("pads")
	if withDilations {
		w.Dilations = r.ints("dilations")
	}
	if withCeil {
		w.CeilMode = r.bool("ceil_mode", false)
	}
	switch s := r.str("auto_pad", "NOTSET"); s {
	case "NOTSET", "":
		w.AutoPad = NotSet
	case "VALID":
		w.AutoPad = Valid
	case "SAME_UPPER":
		w.AutoPad = SameUpper
	case "SAME_LOWER":
		w.AutoPad = SameLower
	default:
		r.fail("auto_pad", "= %q, want NOTSET, VALID, SAME_UPPER or SAME_LOWER", s)
	}
	if r.err != nil {
		return w
	}
	if kernelRequired && !r.has("kernel_shape") {
		r.fail("kernel_shape", "required attribute is missing")
		return w
	}
	// The spatial rank, when any attribute tells it; all must agree.
	rank := -1
	agree := func(name string, n int) {
		if r.err != nil || !r.has(name) {
			return
		}
		if rank >= 0 && n != rank {
			r.fail(name, "has %d spatial entries, but other attributes have %d", n, rank)
		}
		rank = n
	}
	agree("kernel_shape", len(w.KernelShape))
	agree("strides", len(w.Strides))
	agree("dilations", len(w.Dilations))
	if len(w.Pads)%2 != 0 {
		r.fail("pads", "has %d entries, want 2 per spatial axis", len(w.Pads))
	}
	agree("pads", len(w.Pads)/2)
	if r.err != nil {
		return w
	}
	if rank == 0 {
		r.fail("kernel_shape", "no spatial axes")
	}
	positive := func(name string, v []int64) {
		for i, x := range v {
			if x <= 0 && r.err == nil {
				r.fail(name, "[%d] = %d, want > 0", i, x)
			}
		}
	}
	positive("kernel_shape", w.KernelShape)
	positive("strides", w.Strides)
	positive("dilations", w.Dilations)
	for i, p := range w.Pads {
		if p < 0 && r.err == nil {
			r.fail("pads", "[%d] = %d, want >= 0", i, p)
		}
	}
	// Operators.md: pads "cannot be used simultaneously with auto_pad", zeros included
	// (onnxruntime refuses the pair too).
	if r.has("pads") && w.AutoPad != NotSet && r.err == nil {
		r.fail("pads", "given together with auto_pad %s (the spec allows one or the other)", w.AutoPad)
	}
	if rank > 0 {
		w.fillDefaults(rank)
	}
	return w
}

// fillDefaults gives every unset window attribute its default for rank spatial axes.
func (w *Window) fillDefaults(rank int) {
	fill := func(v []int64, n int, def int64) []int64 {
		if v != nil {
			return v
		}
		v = make([]int64, n)
		for i := range v {
			v[i] = def
		}
		return v
	}
	w.Strides = fill(w.Strides, rank, 1)
	w.Dilations = fill(w.Dilations, rank, 1)
	w.Pads = fill(w.Pads, 2*rank, 0)
}

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

// window returns w; through embedding it gives Conv and the pooling ops their window, for
// messages.
func (w Window) window() Window { return w }
