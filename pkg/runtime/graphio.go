package runtime

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fmkit/fmkit/internal/onnxwire"
)

// graphIO reads a model's graph inputs and outputs straight from its protobuf bytes, as
// onnxruntime reports them for a session: the inputs that are not initializers, every
// output, each with its declared type and shape (a symbolic or unknown dimension is -1).
//
// It walks the wire format and skips everything else, initializer data included, so it
// costs microseconds where onnxruntime's GetInputOutputInfo builds and discards a whole
// session. Only the fields it needs are read: the graph's initializer and
// sparse_initializer names, its inputs and outputs, and their declared types (field
// numbers named in internal/onnxwire, whose Walk it uses).
//
// Messages are merged as protobuf merges them: repeated fields concatenate, and a later
// scalar wins. It validates only the wire format; onnxruntime still checks the model when
// the session is created.
func graphIO(model []byte) (ins, outs []tensorDesc, err error) {
	var g graphFields
	err = onnxwire.Walk(model, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == onnxwire.ModelGraph && typ == protowire.BytesType {
			return g.read(b)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("not an ONNX model: %w", err)
	}
	if !g.seen {
		return nil, nil, errors.New("not an ONNX model: it has no graph")
	}
	for _, in := range g.inputs {
		if !g.initializers[in.Name] {
			ins = append(ins, in)
		}
	}
	return ins, g.outputs, nil
}

// graphFields collects what graphIO needs from a GraphProto.
type graphFields struct {
	seen         bool
	inputs       []tensorDesc
	outputs      []tensorDesc
	initializers map[string]bool
}

func (g *graphFields) read(b []byte) error {
	g.seen = true
	return onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case onnxwire.GraphInitializer:
			return g.initializer(v, onnxwire.TensorName)
		case onnxwire.GraphSparseInitializer: // its values are a TensorProto named as the initializer
			return onnxwire.Walk(v, func(num protowire.Number, typ protowire.Type, t []byte) error {
				if num == onnxwire.SparseValues && typ == protowire.BytesType {
					return g.initializer(t, onnxwire.TensorName)
				}
				return nil
			})
		case onnxwire.GraphInput, onnxwire.GraphOutput:
			d, err := valueInfo(v)
			if err != nil {
				return err
			}
			if num == onnxwire.GraphInput {
				g.inputs = append(g.inputs, d)
			} else {
				g.outputs = append(g.outputs, d)
			}
		}
		return nil
	})
}

// initializer records the name (field nameField) of the TensorProto in b.
func (g *graphFields) initializer(b []byte, nameField protowire.Number) error {
	name := ""
	err := onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num == nameField && typ == protowire.BytesType {
			name = string(v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if g.initializers == nil {
		g.initializers = make(map[string]bool)
	}
	g.initializers[name] = true
	return nil
}

// typeInfo is a TypeProto as far as graphIO reads it.
type typeInfo struct {
	kind     string // "" (unset), "tensor", "sequence", "map", "sparse tensor", "optional"
	elemType uint64
	shape    []int64 // nil until a shape field is seen
}

// valueInfo decodes a ValueInfoProto.
func valueInfo(b []byte) (tensorDesc, error) {
	var d tensorDesc
	var t typeInfo
	err := onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case onnxwire.ValueInfoName:
			d.Name = string(v)
		case onnxwire.ValueInfoType:
			return t.read(v)
		}
		return nil
	})
	if err != nil {
		return tensorDesc{}, err
	}
	d.IsTensor = t.kind == "tensor"
	switch {
	case d.IsTensor:
		d.IsFloat = t.elemType == 1
		d.Type = "a " + elemTypeName(t.elemType) + " tensor"
		d.Shape = t.shape
		if d.Shape == nil {
			d.Shape = []int64{}
		}
	case t.kind == "":
		d.Type = "of no declared type"
	case t.kind == "optional":
		d.Type = "an optional"
	default:
		d.Type = "a " + t.kind
	}
	return d, nil
}

// read merges the TypeProto in b into t.
func (t *typeInfo) read(b []byte) error {
	return onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case onnxwire.TypeTensorType:
			if t.kind != "tensor" {
				*t = typeInfo{kind: "tensor"}
			}
			return t.readTensor(v)
		case onnxwire.TypeSequenceType:
			*t = typeInfo{kind: "sequence"}
		case onnxwire.TypeMapType:
			*t = typeInfo{kind: "map"}
		case onnxwire.TypeSparseTensorType:
			*t = typeInfo{kind: "sparse tensor"}
		case onnxwire.TypeOptionalType:
			*t = typeInfo{kind: "optional"}
		}
		return nil
	})
}

// readTensor merges a TypeProto.Tensor into t.
func (t *typeInfo) readTensor(b []byte) error {
	return onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == onnxwire.TensorTypeElemType && typ == protowire.VarintType:
			t.elemType, _ = onnxwire.Scalar(typ, v) // Walk checked the varint
		case num == onnxwire.TensorTypeShape && typ == protowire.BytesType:
			if t.shape == nil {
				t.shape = []int64{}
			}
			return onnxwire.Walk(v, func(num protowire.Number, typ protowire.Type, dim []byte) error {
				if num != onnxwire.ShapeDim || typ != protowire.BytesType {
					return nil
				}
				d, err := dimension(dim)
				if err != nil {
					return err
				}
				t.shape = append(t.shape, d)
				return nil
			})
		}
		return nil
	})
}

// dimension decodes a TensorShapeProto.Dimension: its dim_value, or -1 for a symbolic or
// unknown dimension, as onnxruntime reports it.
func dimension(b []byte) (int64, error) {
	d := int64(-1)
	err := onnxwire.Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == onnxwire.DimValue && typ == protowire.VarintType:
			x, _ := onnxwire.Scalar(typ, v) // Walk checked the varint
			d = int64(x)
		case num == onnxwire.DimParam && typ == protowire.BytesType:
			d = -1
		}
		return nil
	})
	return d, err
}

// elemTypeNames are TensorProto.DataType's names, lower-cased as onnxruntime's messages
// spell them (ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT is "float").
var elemTypeNames = [...]string{
	0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
	7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64",
	14: "complex64", 15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz",
	19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
}

func elemTypeName(t uint64) string {
	if t < uint64(len(elemTypeNames)) {
		return elemTypeNames[t]
	}
	return fmt.Sprintf("type-%d", t)
}
