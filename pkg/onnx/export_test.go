package onnx

// Hooks for the external tests (package onnx_test), which also import the bridge
// (pkg/onnxexport) and so cannot be internal tests: the bridge imports this package.
var (
	DecodeModelWire = decodeModelWire
	ReadModelProto  = readModelProto
	LowerModel      = lowerModel
	TinyModel       = tinyModel
)

// backendNodeDir holds ONNX's backend node tests (Debian package libonnx-testdata, ONNX
// 1.12.0); their expected outputs were computed by ONNX's numpy reference implementations.
const backendNodeDir = "/usr/include/onnx/backend/test/data/node"

// BackendNodeDir is backendNodeDir for the external tests.
const BackendNodeDir = backendNodeDir

// MaxGateBatch is maxGateBatch for the external tests.
const MaxGateBatch = maxGateBatch
