package runtime

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// graphIO reads a model's graph inputs and outputs straight from its protobuf bytes, as
// onnxruntime reports them for a session: the inputs that are not initializers, every
// output, each with its declared type and shape (a symbolic or unknown dimension is -1).
//
// It walks the wire format and skips everything else, initializer data included, so it
// costs microseconds where onnxruntime's GetInputOutputInfo builds and discards a whole
// session. Only the fields it needs are read (onnx.proto field numbers):
//
//	ModelProto.graph = 7
//	GraphProto.initializer = 5, sparse_initializer = 15, input = 11, output = 12
//	TensorProto.name = 8; SparseTensorProto.values = 1
//	ValueInfoProto.name = 1, type = 2
//	TypeProto.tensor_type = 1, sequence_type = 4, map_type = 5, sparse_tensor_type = 8, optional_type = 9
//	TypeProto.Tensor.elem_type = 1, shape = 2
//	TensorShapeProto.dim = 1; Dimension.dim_value = 1, dim_param = 2
//
// Messages are merged as protobuf merges them: repeated fields concatenate, and a later
// scalar wins. It validates only the wire format; onnxruntime still checks the model when
// the session is created.
func graphIO(model []byte) (ins, outs []tensorDesc, err error) {
	var g graphFields
	err = walk(model, func(num protowire.Number, typ protowire.Type, b []byte) error {
		if num == 7 && typ == protowire.BytesType {
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
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 5: // initializer: TensorProto, name = 8
			return g.initializer(v, 8)
		case 15: // sparse_initializer: SparseTensorProto, values = 1 (a TensorProto named as the initializer)
			return walk(v, func(num protowire.Number, typ protowire.Type, t []byte) error {
				if num == 1 && typ == protowire.BytesType {
					return g.initializer(t, 8)
				}
				return nil
			})
		case 11, 12:
			d, err := valueInfo(v)
			if err != nil {
				return err
			}
			if num == 11 {
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
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
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
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			d.Name = string(v)
		case 2:
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
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			if t.kind != "tensor" {
				*t = typeInfo{kind: "tensor"}
			}
			return t.readTensor(v)
		case 4:
			*t = typeInfo{kind: "sequence"}
		case 5:
			*t = typeInfo{kind: "map"}
		case 8:
			*t = typeInfo{kind: "sparse tensor"}
		case 9:
			*t = typeInfo{kind: "optional"}
		}
		return nil
	})
}

// readTensor merges a TypeProto.Tensor into t.
func (t *typeInfo) readTensor(b []byte) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return wireError(n)
			}
			t.elemType = x
		case num == 2 && typ == protowire.BytesType:
			if t.shape == nil {
				t.shape = []int64{}
			}
			return walk(v, func(num protowire.Number, typ protowire.Type, dim []byte) error {
				if num != 1 || typ != protowire.BytesType {
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
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return wireError(n)
			}
			d = int64(x)
		case num == 2 && typ == protowire.BytesType:
			d = -1
		}
		return nil
	})
	return d, err
}

// walk calls fn for each field of the message in b, with the field's bytes: the payload of
// a length-delimited field, or the raw encoding of a varint or fixed-size one. A group
// (deprecated, never used by ONNX) is skipped. It fails on malformed wire data.
func walk(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return wireError(n)
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				v = b[:n]
			}
		}
		if n < 0 {
			return wireError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

// wireError describes protowire's negative length n in plain words (its own message has a
// deliberately unstable prefix).
func wireError(n int) error {
	msg := strings.ReplaceAll(protowire.ParseError(n).Error(), "\u00a0", " ")
	return errors.New("malformed protobuf: " + strings.TrimSpace(strings.TrimPrefix(msg, "proto:")))
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
