// Package onnxexport reads and writes ONNX models and tensors for fmkit.
//
// Its first layer has no dependency on the training engine:
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
//   - The model gate (Gate, GateOptions.Check): the one check every model passes before
//     either engine runs it, onnxruntime included. It bounds what the decoder builds
//     (nodes, initializers, ranks), reads external data only from a directory the caller
//     names (no "..", absolute paths or links out) and inlines it, lowers the graph (the
//     claimed ops, attributes range-checked), infers every shape so that each weight fits
//     its op, refuses a model whose estimated activation memory or operations exceed the
//     limits (*LimitError, naming the node), and re-encodes the model from what it
//     checked, so that onnxruntime never sees a field the gate did not.
//
// On top of it sits the bridge to the native engine (pkg/train):
//
//   - Export, WriteModel and WriteBundle write a train.Model as ONNX (input "input"
//     [N,...] with a symbolic batch, output "probabilities" and optionally "logits";
//     opsets 13..17; stable names such as conv1.weight; deterministic bytes).
//   - Import, ImportWith and ImportFile gate and lower a model (ours or another exporter's, e.g. PyTorch's)
//     and rebuild it as a sequential train.Model, folding constant subgraphs, Gemm's
//     alpha/beta/transB, MatMul+Add and bias Adds into the layers; ModelInfo tells the
//     metadata and where each graph output sits. What the native engine cannot express is
//     an *UnsupportedError naming node, op and attribute.
//   - Verify checks a model-zoo / backend-test directory with an Engine: NativeEngine here,
//     onnxruntime from pkg/runtime. The native engine takes one runtime input; further
//     inputs are bound as constants.
//
// Layout: tensors are NCHW, float32, row-major, the same as ONNX. Inputs are never
// modified; every function returns fresh tensors. Files are written atomically
// (temporary file, fsync, rename).
//
// The protobuf types live in internal/onnxpb, generated from Debian's onnx.proto (ONNX
// 1.12.0); see that package for regeneration.
package onnxexport
