package onnx

import (
	"errors"
	"fmt"
)

// ErrUnsupported is matched (with errors.Is) by every error that reports a valid ONNX
// feature this package does not implement: *UnsupportedError, and *TensorError for a
// data type outside Float, Int64 and Bool. Anything else is a malformed input.
var ErrUnsupported = errors.New("unsupported ONNX feature")

// UnsupportedError reports a valid ONNX construct that this package does not implement,
// in the manner of onnx-go's ErrNotImplemented{Operator, AttributeName}.
type UnsupportedError struct {
	Node      string // node name, or "#<index>" when the node has none; a graph-level place otherwise
	Op        string // op type, e.g. "Conv"; empty for graph-level features
	Attribute string // attribute (or input/output) at fault; may be empty
	Reason    string // what is unsupported, e.g. "group=2: only group=1 is supported"
}

// SupportDoc names the page that lists what is supported; every UnsupportedError points to it.
const SupportDoc = "docs/onnx-support.md"

// Error implements error.
func (e *UnsupportedError) Error() string {
	return "onnx: " + where(e.Node, e.Op, e.Attribute) + ": unsupported: " + e.Reason + " (see " + SupportDoc + ")"
}

// Is reports whether target is ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// InvalidError reports an invalid model: one that violates the ONNX specification (an
// attribute of the wrong type or out of range, an undefined input, inconsistent shapes, a
// size past the protobuf cap...), or inputs handed to it that do not match what it
// declares. It is the counterpart of UnsupportedError, which reports a valid model this
// package does not implement. (pkg/runtime's LoadError, a model that cannot be served,
// may wrap one.)
type InvalidError struct {
	Node      string // node name, or "#<index>"; a graph-level place otherwise
	Op        string // op type; empty for graph-level errors
	Attribute string // attribute, input or output at fault; may be empty
	Reason    string
}

// Error implements error.
func (e *InvalidError) Error() string {
	return "onnx: " + where(e.Node, e.Op, e.Attribute) + ": " + e.Reason
}

func where(node, op, attr string) string {
	s := node
	if op != "" {
		s = fmt.Sprintf("node %s (%s)", node, op)
	}
	if attr != "" {
		s += ": " + attr
	}
	return s
}

// TensorError reports a TensorProto that cannot be decoded: it names the file (when the
// tensor came from one), the tensor and the TensorProto field at fault.
type TensorError struct {
	File   string // path of the .pb or .onnx file; empty when decoding from memory
	Tensor string // tensor name (may be empty in .pb files)
	Field  string // TensorProto field, e.g. "dims", "raw_data", "data_type"
	Reason string
	Err    error // ErrUnsupported for valid but unsupported tensors; nil otherwise
}

// Error implements error.
func (e *TensorError) Error() string {
	s := "onnx: "
	if e.File != "" {
		s += e.File + ": "
	}
	return s + fmt.Sprintf("tensor %q: %s: %s", e.Tensor, e.Field, e.Reason)
}

// Unwrap returns the wrapped sentinel, if any.
func (e *TensorError) Unwrap() error { return e.Err }
