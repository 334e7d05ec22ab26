package onnxexport

import (
	"fmt"
	"strings"

	"github.com/fmkit/fmkit/pkg/onnx"
)

// nativeSupport says how the native engine runs each claimed op (see Import); an op missing
// here is folded when its inputs are constant and refused on the chain's value.
var nativeSupport = map[string]string{
	"Conv":               "Conv2D (2-D; 1-D as 2-D; a grouped convolution as a dense one with block-diagonal weights); constant W and B",
	"MaxPool":            "MaxPool2D (2-D and 1-D; pads smaller than the window)",
	"AveragePool":        "AvgPool2D (2-D and 1-D; pads smaller than the window)",
	"GlobalAveragePool":  "AvgPool2D over the whole plane (N, C, H, W)",
	"GlobalMaxPool":      "MaxPool2D over the whole plane (N, C, H, W)",
	"ReduceMean":         "AvgPool2D over the whole plane, the spatial axes of (N, C, H, W) or (N, C, L) only",
	"ReduceMax":          "MaxPool2D over the whole plane, the spatial axes of (N, C, H, W) or (N, C, L) only",
	"BatchNormalization": "BatchNorm over (N, C, ...), constant statistics",
	"Gemm":               "Dense (alpha, beta and transB folded into the weights; not transA)",
	"MatMul":             "Dense, with a constant 2-D right operand",
	"Add":                "folded into the bias of the Conv, Gemm or MatMul before it, else an Arith layer (a constant the same for every sample)",
	"Sub":                "Arith (x - c or c - x; a constant the same for every sample)",
	"Mul":                "Arith (a constant the same for every sample)",
	"Div":                "Arith (x / c: a constant divisor the same for every sample)",
	"Relu":               "fused into the Conv2D or Dense before it, or a ReLU layer",
	"LeakyRelu":          "LeakyReLU",
	"Elu":                "ELU",
	"Sigmoid":            "Sigmoid",
	"Tanh":               "Tanh",
	"Clip":               "Clip, with constant bounds",
	"Pad":                "all-zero pads dropped; a zero pad folded into the next Conv (or AveragePool where exact); else a Pad layer; not the batch axis",
	"Flatten":            "Flatten, axis 1",
	"Reshape":            "Flatten or a Reshape view keeping the batch first; the shape constant or shape arithmetic on the batch",
	"Transpose":          "keeping the batch first: a Reshape view when only size-1 axes move (NHWC with one channel), else a Transpose layer",
	"Unsqueeze":          "a Reshape view keeping the batch first",
	"Squeeze":            "a Reshape view keeping the batch first",
	"Shape":              "folded (the batch symbolic)",
	"Gather":             "folded",
	"Concat":             "folded",
	"Cast":               "folded",
	"Softmax":            "Softmax over each sample (fused into a final Dense) or over rows of the last axis",
	"LogSoftmax":         "LogSoftmax over each sample or over rows of the last axis",
	"Identity":           "dropped",
	"Dropout":            "Dropout (the identity at inference); not the mask output",
	"Constant":           "folded",
}

// SupportTable returns the Markdown table of the ONNX ops fmkit reads: for each, the opset
// versions that defined or changed it, the attributes supported, and how the native engine
// runs it. docs/onnx-support.md is generated from it (TestSupportDocCurrent).
func SupportTable() string {
	var b strings.Builder
	b.WriteString("| op | opsets | attributes and inputs | native engine |\n| --- | --- | --- | --- |\n")
	for _, op := range onnx.SupportedOps() {
		vs := make([]string, len(op.Opsets))
		for i, v := range op.Opsets {
			vs[i] = fmt.Sprint(v)
		}
		native := nativeSupport[op.Op]
		if native == "" {
			native = "folded when constant"
		}
		fmt.Fprintf(&b, "| %s | %s-%d (changed at %s) | %s | %s |\n", op.Op, vs[0], onnx.MaxOpset, strings.Join(vs, ", "), op.Attributes, native)
	}
	return b.String()
}

// SupportDoc returns docs/onnx-support.md: what the importer, the model gate and the native
// engine accept, generated from the op table of pkg/onnx and the native engine's notes.
func SupportDoc() string {
	return `# ONNX support

<!-- Generated from pkg/onnx's op table and pkg/onnxexport/support.go by
     go test ./pkg/onnxexport -run TestSupportDocCurrent -update; a test fails when it is stale. -->

fmkit reads models of the default ONNX domain at opsets ` + fmt.Sprintf("%d to %d", onnx.MinOpset, onnx.MaxOpset) + ` (IR version 3 or later),
with FLOAT, INT64 and BOOL tensors. Every model passes the model gate first (pkg/onnx, Gate), which
checks each node against the operator's spec at the model's opset; onnxruntime then runs any model
the gate lets through. The native engine runs a sequential chain from one float input
(N, d1, ..., dk): the last column says how each op becomes one of its layers. Any other op, attribute
or form is refused with an error naming the node, the op and the attribute, and pointing here.

Inputs: one 28x28 grayscale image per row, as [N,1,28,28], [N,28,28,1], [N,28,28] or [N,784], the
batch N fixed or symbolic, in both engines.

` + SupportTable() + `
"changed at" lists the opset versions of the ONNX operator changelog (onnx/docs/Changelog.md) that
the lowering checks separately; an opset between two of them behaves as the earlier one.
`
}
