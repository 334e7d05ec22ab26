package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/internal/userpath"
)

// DataType is an ONNX tensor element type (TensorProto.DataType). Only Float, Int64 and
// Bool are supported; the other values exist so that errors can name them.
type DataType int32

// The supported element types, with their TensorProto.DataType numbers.
const (
	Undefined DataType = 0 // no type; never valid for a tensor
	Float     DataType = 1 // float32, IEEE 754, little-endian in raw_data
	Int64     DataType = 7 // int64, little-endian in raw_data (Reshape shapes)
	Bool      DataType = 9 // bool, one byte per element in raw_data, int32_data otherwise
)

// String returns the ONNX name of the type, e.g. "FLOAT".
func (d DataType) String() string {
	if s, ok := onnxpb.TensorProto_DataType_name[int32(d)]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// Supported reports whether d is one of Float, Int64 and Bool.
func (d DataType) Supported() bool { return d == Float || d == Int64 || d == Bool }

// size returns the element size in bytes of a supported type.
func (d DataType) size() int64 {
	switch d {
	case Float:
		return 4
	case Int64:
		return 8
	case Bool:
		return 1
	}
	panic("onnx: size of unsupported data type " + d.String())
}

// MaxTensorBytes caps the decoded size of one tensor (1 GiB). A tensor whose dims claim
// more is refused before anything is allocated for it.
const MaxTensorBytes = 1 << 30

// maxTensorFileBytes caps the size of a .pb tensor file read by ReadTensorFile: the data
// plus a generous allowance for name, dims and protobuf framing.
const maxTensorFileBytes = MaxTensorBytes + 1<<20

// Tensor is a dense tensor in row-major (C) order, the layout of ONNX. Exactly one of the
// data slices is used, the one matching DataType; its length is the product of Dims (1 for
// a scalar, whose Dims is empty).
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	Float    []float32 // DataType == Float
	Int64    []int64   // DataType == Int64
	Bool     []bool    // DataType == Bool
}

// NewFloat returns a Float tensor. It panics if len(data) differs from the product of dims.
func NewFloat(name string, dims []int64, data []float32) *Tensor {
	t := &Tensor{Name: name, DataType: Float, Dims: dims, Float: data}
	t.mustBeConsistent()
	return t
}

// NewInt64 returns an Int64 tensor. It panics if len(data) differs from the product of dims.
func NewInt64(name string, dims []int64, data []int64) *Tensor {
	t := &Tensor{Name: name, DataType: Int64, Dims: dims, Int64: data}
	t.mustBeConsistent()
	return t
}

func (t *Tensor) mustBeConsistent() {
	n, err := NumElements(t.Dims)
	if err != nil || n != int64(t.Len()) {
		panic(fmt.Sprintf("onnx: tensor %q: dims %v do not match %d elements", t.Name, t.Dims, t.Len()))
	}
}

// Len returns the number of elements held in the slice that matches DataType.
func (t *Tensor) Len() int {
	switch t.DataType {
	case Float:
		return len(t.Float)
	case Int64:
		return len(t.Int64)
	case Bool:
		return len(t.Bool)
	}
	return 0
}

// NumElements returns the product of dims, checking that every dim is non-negative and
// that the product stays within MaxTensorBytes elements (so it cannot overflow).
func NumElements(dims []int64) (int64, error) {
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("dims[%d] = %d is negative", i, d)
		}
		if d != 0 && n > MaxTensorBytes/d {
			return 0, fmt.Errorf("dims %v: more than %d elements", dims, int64(MaxTensorBytes))
		}
		n *= d
	}
	return n, nil
}

// TensorFromProto decodes p. Data may be in raw_data (little-endian) or in the typed field
// (float_data, int64_data, int32_data for Bool), not both. It refuses external data
// (data_location EXTERNAL), segments, data types other than Float, Int64 and Bool (an
// error matching ErrUnsupported), negative dims, element counts that do not match dims,
// and tensors larger than MaxTensorBytes; sizes are checked before anything is allocated.
func TensorFromProto(p *onnxpb.TensorProto) (*Tensor, error) {
	name := p.GetName()
	fail := func(field, format string, args ...any) (*Tensor, error) {
		return nil, &TensorError{Tensor: name, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if p.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(p.GetExternalData()) > 0 {
		return nil, &TensorError{Tensor: name, Field: "data_location",
			Reason: "external data is not supported (store the tensor inside the model)", Err: ErrUnsupported}
	}
	if p.Segment != nil {
		return nil, &TensorError{Tensor: name, Field: "segment", Reason: "segmented tensors are not supported", Err: ErrUnsupported}
	}
	if p.DataType == nil {
		return fail("data_type", "missing")
	}
	dt := DataType(p.GetDataType())
	if !dt.Supported() {
		return nil, &TensorError{Tensor: name, Field: "data_type",
			Reason: fmt.Sprintf("data type %s is not supported (only FLOAT, INT64, BOOL)", dt), Err: ErrUnsupported}
	}
	n, err := NumElements(p.GetDims())
	if err != nil {
		return fail("dims", "%v", err)
	}
	if n*dt.size() > MaxTensorBytes {
		return fail("dims", "dims %v: %d bytes exceed the %d-byte cap", p.GetDims(), n*dt.size(), int64(MaxTensorBytes))
	}
	t := &Tensor{Name: name, DataType: dt, Dims: append([]int64{}, p.GetDims()...)}
	if t.Dims == nil {
		t.Dims = []int64{}
	}
	raw := p.GetRawData()
	typed := map[DataType]int{Float: len(p.GetFloatData()), Int64: len(p.GetInt64Data()), Bool: len(p.GetInt32Data())}[dt]
	typedField := map[DataType]string{Float: "float_data", Int64: "int64_data", Bool: "int32_data"}[dt]
	if p.RawData != nil && typed > 0 {
		return fail("raw_data", "both raw_data and %s are set", typedField)
	}
	// Data fields that do not belong to this type must be empty.
	others := len(p.GetDoubleData()) + len(p.GetUint64Data()) + len(p.GetStringData())
	if dt != Float {
		others += len(p.GetFloatData())
	}
	if dt != Int64 {
		others += len(p.GetInt64Data())
	}
	if dt != Bool {
		others += len(p.GetInt32Data())
	}
	if others > 0 {
		return fail("data", "holds a data field that does not match data_type %s", dt)
	}
	if p.RawData != nil {
		if int64(len(raw)) != n*dt.size() {
			return fail("raw_data", "%d bytes, want %d (%d elements of %s for dims %v)", len(raw), n*dt.size(), n, dt, t.Dims)
		}
		switch dt {
		case Float:
			t.Float = make([]float32, n)
			for i := range t.Float {
				t.Float[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case Int64:
			t.Int64 = make([]int64, n)
			for i := range t.Int64 {
				t.Int64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		case Bool:
			t.Bool = make([]bool, n)
			for i, b := range raw {
				if b > 1 {
					return fail("raw_data", "byte %d = %d is not a bool (0 or 1)", i, b)
				}
				t.Bool[i] = b == 1
			}
		}
		return t, nil
	}
	if int64(typed) != n {
		return fail(typedField, "%d elements, want %d for dims %v", typed, n, t.Dims)
	}
	switch dt {
	case Float:
		t.Float = append(make([]float32, 0, n), p.GetFloatData()...)
	case Int64:
		t.Int64 = append(make([]int64, 0, n), p.GetInt64Data()...)
	case Bool:
		t.Bool = make([]bool, n)
		for i, v := range p.GetInt32Data() {
			if v != 0 && v != 1 {
				return fail("int32_data", "element %d = %d is not a bool (0 or 1)", i, v)
			}
			t.Bool[i] = v == 1
		}
	}
	return t, nil
}

// ToProto encodes t as a TensorProto with its data in raw_data (little-endian; one byte
// per Bool). It panics if t is inconsistent (a programmer error).
func (t *Tensor) ToProto() *onnxpb.TensorProto {
	t.mustBeConsistent()
	dt := int32(t.DataType)
	p := &onnxpb.TensorProto{DataType: &dt, Dims: append([]int64{}, t.Dims...)}
	if t.Name != "" {
		p.Name = proto.String(t.Name)
	}
	raw := make([]byte, 0, int64(t.Len())*t.DataType.size())
	switch t.DataType {
	case Float:
		for _, v := range t.Float {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	case Int64:
		for _, v := range t.Int64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	case Bool:
		for _, v := range t.Bool {
			b := byte(0)
			if v {
				b = 1
			}
			raw = append(raw, b)
		}
	}
	p.RawData = raw
	return p
}

// DecodeTensor decodes a serialized TensorProto (the content of a backend-test .pb file).
func DecodeTensor(b []byte) (*Tensor, error) {
	if len(b) > maxTensorFileBytes {
		return nil, &TensorError{Field: "size", Reason: fmt.Sprintf("%d bytes exceed the %d-byte cap", len(b), maxTensorFileBytes)}
	}
	var p onnxpb.TensorProto
	if err := proto.Unmarshal(b, &p); err != nil {
		return nil, &TensorError{Field: "protobuf", Reason: err.Error()}
	}
	return TensorFromProto(&p)
}

// EncodeTensor serializes t as a TensorProto (see Tensor.ToProto).
func EncodeTensor(t *Tensor) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(t.ToProto())
}

// ReadTensorFile reads a .pb file holding one TensorProto. Errors name the file.
func ReadTensorFile(path string) (*Tensor, error) {
	b, err := readFileCapped(path, maxTensorFileBytes)
	if err != nil {
		return nil, err
	}
	t, err := DecodeTensor(b)
	if err != nil {
		if te, ok := err.(*TensorError); ok {
			te.File = path
		}
		return nil, err
	}
	return t, nil
}

// WriteTensorFile writes t to path as a TensorProto, atomically (temporary file in the same
// directory, fsync, rename): path never holds a partial tensor.
func WriteTensorFile(path string, t *Tensor) error {
	b, err := EncodeTensor(t)
	if err != nil {
		return fmt.Errorf("onnx: encoding tensor %q: %w", t.Name, err)
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

// readFileCapped reads path, refusing (before reading) a file longer than limit bytes. It
// opens through userpath.Open, which never blocks on a named pipe and refuses anything but a
// regular file.
func readFileCapped(path string, limit int64) ([]byte, error) {
	f, err := userpath.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("onnx: %s: not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("onnx: %s: %d bytes exceed the %d-byte cap", path, fi.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("onnx: %s: longer than the %d-byte cap", path, limit)
	}
	return b, nil
}
