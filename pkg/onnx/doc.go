// Package onnx is the ONNX format as fmkit reads, checks, evaluates and writes it. It
// knows nothing of the training engine (pkg/train never appears in its dependencies);
// pkg/onnxexport bridges the two.
//
//   - Tensor and its codec (TensorFromProto, ToProto, DecodeTensor, EncodeTensor,
//     ReadTensorFile, WriteTensorFile): FLOAT, INT64 and BOOL tensors, row-major, as ONNX
//     stores them; sizes are checked against the data present (and against
//     MaxTensorBytes) before anything is allocated; external data is refused.
//   - A typed, validated IR: Graph (the main graph, plus the model header and metadata, so
//     that nobody keeps the protobuf to read them) and the Node implementations, one per
//     op of ClaimedOps at default-domain opsets MinOpset..MaxOpset. DecodeModel and
//     LoadModel lower a serialized model; Graph.Build checks a graph assembled in code the
//     same way. Every attribute is type- and range-checked against the ONNX operator spec
//     (onnx/docs/Operators.md and Changelog.md); a valid feature that is not implemented
//     is an *UnsupportedError naming node, op and attribute, an invalid model an
//     *InvalidError.
//   - Static shape inference (Graph.InferShapes, InferNode), with all pad arithmetic in
//     WindowOutput.
//   - EvalNaive, the reference evaluator that defines what the IR computes (EvalNode for
//     one node, which the bridge uses to fold constant subgraphs).
//   - Encode, the one writer of models: deterministic, fields in field-number order as
//     proto.Marshal writes them, so that exporter and gate agree byte for byte.
//   - The model gate (Gate, GateGraph, GateOptions.Check): the one check every model
//     passes before either engine runs it, onnxruntime included. It bounds what the
//     decoder builds (nodes, initializers, ranks), reads external data only from a
//     directory the caller names (no "..", absolute paths or links out) and inlines it,
//     lowers the graph, infers every shape so that each weight fits its op, refuses a
//     model whose estimated activation memory or operations exceed the limits
//     (*LimitError, naming the node), and re-encodes the model from what it checked, so
//     that onnxruntime never sees a field the gate did not.
//   - The backend-test / model-zoo directory layout (LoadTestDir, WriteTestDataSet), the
//     numpy allclose comparison (Compare) and Verify, which checks such a directory with
//     any Engine (onnxexport.NativeEngine, or onnxruntime from pkg/runtime).
//
// Layout: tensors are NCHW, float32, row-major. Inputs are never modified; every function
// returns fresh tensors. Files are written atomically (internal/atomicfile).
//
// The protobuf types are internal/onnxpb's, generated from Debian's onnx.proto (ONNX
// 1.12.0); internal/onnxwire names its field numbers and walks its wire format.
package onnx
