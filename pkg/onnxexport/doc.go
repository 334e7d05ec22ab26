// Package onnxexport reads and writes ONNX models and tensors for fmkit.
//
// This first layer has no dependency on the training engine:
//
//   - Tensor and its codec (TensorFromProto, ToProto, ReadTensorFile, WriteTensorFile):
//     FLOAT, INT64 and BOOL tensors, row-major, as ONNX stores them; sizes are checked
//     against the data present (and against MaxTensorBytes) before anything is allocated;
//     external data is refused.
//   - The backend-test / model-zoo directory layout (LoadTestDir, WriteTestDataSet) and
//     the numpy allclose comparison (Compare).
//   - A typed, validated IR (Graph, Node and its implementations) lowered from a
//     ModelProto (DecodeModel, LoadModel) for the ops in ClaimedOps at default-domain
//     opsets MinOpset..MaxOpset. Every attribute is type- and range-checked against the ONNX
//     operator spec (onnx/docs/Operators.md and Changelog.md); a valid feature that is not
//     implemented is an *UnsupportedError naming node, op and attribute, an invalid model
//     a *ModelError.
//   - Static shape inference (Graph.InferShapes) with all pad arithmetic in WindowOutput.
//   - EvalNaive, the reference evaluator that defines what the IR computes.
//
// Layout: tensors are NCHW, float32, row-major, the same as ONNX. Inputs are never
// modified; every function returns fresh tensors. Files are written atomically
// (temporary file, fsync, rename).
//
// The protobuf types live in internal/onnxpb, generated from Debian's onnx.proto (ONNX
// 1.12.0); see that package for regeneration.
package onnxexport
