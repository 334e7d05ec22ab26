// Package onnxexport is the bridge between the ONNX format (pkg/onnx) and the native
// training engine (pkg/train). It holds no protobuf: both directions go through the IR.
//
//   - Export, WriteModel and WriteBundle write a train.Model as ONNX: Export builds an
//     onnx.Graph (input "input" [N,...] with a symbolic batch, output "probabilities" and
//     optionally "logits"; opsets 13..17; stable names such as conv1.weight), checks it
//     with Graph.Build and writes it with onnx.Encode (deterministic bytes). Class names
//     and preprocessing text come from the caller through ExportOptions (fmnist.ModelFacts
//     has Fashion-MNIST's; this package does not import pkg/fmnist). A caller that passes
//     none still gets Fashion-MNIST's, from one compatibility copy (defaults.go).
//   - Import, ImportWith and ImportFile gate and lower a model (ours or another
//     exporter's, e.g. PyTorch's) and map the IR to a sequential train.Model, folding
//     constant subgraphs, Gemm's alpha/beta/transB, MatMul+Add and bias Adds into the
//     layers; ModelInfo tells the metadata and where each graph output sits. What the
//     native engine cannot express is an *onnx.UnsupportedError naming node, op and
//     attribute.
//   - NativeEngine and NativeEngineWith are onnx.Engine implementations over the native
//     engine, for onnx.Verify. The native engine takes one runtime input; further inputs
//     are bound as constants.
//
// Adding an op: its IR type, attribute checks, shape rule and reference evaluation go in
// pkg/onnx; here only its lowering to a layer (importer.chain) and, when the exporter
// writes it, its node in exportGraph.
package onnxexport
