package onnxwire

import "google.golang.org/protobuf/encoding/protowire"

// Field numbers of onnx.proto (ONNX 1.12, internal/onnxpb/onnx.proto), by message.
const (
	// ModelProto
	ModelIRVersion       protowire.Number = 1
	ModelProducerName    protowire.Number = 2
	ModelProducerVersion protowire.Number = 3
	ModelDomain          protowire.Number = 4
	ModelModelVersion    protowire.Number = 5
	ModelDocString       protowire.Number = 6
	ModelGraph           protowire.Number = 7
	ModelOpsetImport     protowire.Number = 8
	ModelMetadataProps   protowire.Number = 14
	ModelTrainingInfo    protowire.Number = 20
	ModelFunctions       protowire.Number = 25

	// OperatorSetIdProto
	OpsetDomain  protowire.Number = 1
	OpsetVersion protowire.Number = 2

	// StringStringEntryProto
	EntryKey   protowire.Number = 1
	EntryValue protowire.Number = 2

	// GraphProto
	GraphNode              protowire.Number = 1
	GraphName              protowire.Number = 2
	GraphInitializer       protowire.Number = 5
	GraphDocString         protowire.Number = 10
	GraphInput             protowire.Number = 11
	GraphOutput            protowire.Number = 12
	GraphValueInfo         protowire.Number = 13
	GraphQuantization      protowire.Number = 14
	GraphSparseInitializer protowire.Number = 15

	// NodeProto
	NodeInput     protowire.Number = 1
	NodeOutput    protowire.Number = 2
	NodeName      protowire.Number = 3
	NodeOpType    protowire.Number = 4
	NodeAttribute protowire.Number = 5
	NodeDocString protowire.Number = 6
	NodeDomain    protowire.Number = 7

	// AttributeProto
	AttrName        protowire.Number = 1
	AttrF           protowire.Number = 2
	AttrI           protowire.Number = 3
	AttrS           protowire.Number = 4
	AttrT           protowire.Number = 5
	AttrG           protowire.Number = 6
	AttrFloats      protowire.Number = 7
	AttrInts        protowire.Number = 8
	AttrStrings     protowire.Number = 9
	AttrTensors     protowire.Number = 10
	AttrGraphs      protowire.Number = 11
	AttrDocString   protowire.Number = 13
	AttrTP          protowire.Number = 14
	AttrTypeProtos  protowire.Number = 15
	AttrType        protowire.Number = 20
	AttrRefAttrName protowire.Number = 21
	AttrSparse      protowire.Number = 22
	AttrSparses     protowire.Number = 23

	// TensorProto
	TensorDims         protowire.Number = 1
	TensorDataType     protowire.Number = 2
	TensorSegment      protowire.Number = 3
	TensorFloatData    protowire.Number = 4
	TensorInt32Data    protowire.Number = 5
	TensorStringData   protowire.Number = 6
	TensorInt64Data    protowire.Number = 7
	TensorName         protowire.Number = 8
	TensorRawData      protowire.Number = 9
	TensorDoubleData   protowire.Number = 10
	TensorUint64Data   protowire.Number = 11
	TensorDocString    protowire.Number = 12
	TensorExternalData protowire.Number = 13
	TensorDataLocation protowire.Number = 14

	// SparseTensorProto
	SparseValues protowire.Number = 1

	// ValueInfoProto
	ValueInfoName      protowire.Number = 1
	ValueInfoType      protowire.Number = 2
	ValueInfoDocString protowire.Number = 3

	// TypeProto
	TypeTensorType       protowire.Number = 1
	TypeSequenceType     protowire.Number = 4
	TypeMapType          protowire.Number = 5
	TypeDenotation       protowire.Number = 6
	TypeSparseTensorType protowire.Number = 8
	TypeOptionalType     protowire.Number = 9

	// TypeProto.Tensor
	TensorTypeElemType protowire.Number = 1
	TensorTypeShape    protowire.Number = 2

	// TensorShapeProto and its Dimension
	ShapeDim      protowire.Number = 1
	DimValue      protowire.Number = 1
	DimParam      protowire.Number = 2
	DimDenotation protowire.Number = 3
)
