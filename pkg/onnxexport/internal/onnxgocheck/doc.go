// Package onnxgocheck holds a test that decodes fmkit's exported models with
// owulveryck/onnx-go, an independent Go decoder of ONNX files.
//
// It is a package of its own because onnx-go registers ONNX's protobuf messages under
// the same full names ("onnx.ModelProto", ...) as internal/onnxpb, and the protobuf
// runtime refuses (panics at init) a binary that links both. The test here links only
// onnx-go; onnxexport's TestOnnxGoDecodes writes the models and runs it with `go test`,
// naming them in $FMKIT_ONNXGO_MODELS. Run alone, it skips.
package onnxgocheck
