package onnx

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/internal/onnxwire"
)

// The opset range of the default domain that lowering accepts: every version onnxruntime
// runs (ONNX's legacy pytorch-converted backend tests are opset 6). Each claimed op is
// checked against its spec at the model's opset (see opTable); of the claimed ops only Pad
// changed at 18 (the axes input), and 18 is the last opset before Pad, the pooling ops and
// others changed again at 19.
const (
	MinOpset = 1
	MaxOpset = 18
)

// MaxModelBytes caps the size of a model file or buffer: 2 GiB - 1, protobuf's own limit
// (internal/onnxwire.MaxMessageBytes, the one definition).
const MaxModelBytes = onnxwire.MaxMessageBytes

// ReadModelFile reads an .onnx file of at most MaxModelBytes; a larger or irregular file
// (a directory, a device) is refused before it is read.
func ReadModelFile(path string) ([]byte, error) {
	return readFileCapped(path, MaxModelBytes)
}

// LoadModel reads an .onnx file and lowers it (see DecodeModel). Errors name the file.
func LoadModel(path string) (*Graph, error) {
	b, err := ReadModelFile(path)
	if err != nil {
		return nil, err
	}
	g, err := DecodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// DecodeModel decodes a serialized ModelProto and lowers its graph to the IR. It fails
// with an error matching ErrUnsupported (an *UnsupportedError or a *TensorError) for valid
// models that use anything beyond the claimed ops and attributes, and with an *InvalidError or
// *TensorError for invalid ones. Nothing is allocated from sizes the model claims before
// they are checked against the data actually present.
func DecodeModel(b []byte) (*Graph, error) {
	m, err := decodeModelProto(b)
	if err != nil {
		return nil, err
	}
	return lowerModel(m)
}

// decodeModelProto decodes a serialized ModelProto: with decodeModelWire when the model
// is in its subset, else with proto.Unmarshal. The result's raw_data may alias b, so it
// must be lowered (which copies the data out) before b can change.
func decodeModelProto(b []byte) (*onnxpb.ModelProto, error) {
	if len(b) > MaxModelBytes {
		return nil, &InvalidError{Node: "model", Reason: fmt.Sprintf("%d bytes exceed the %d-byte cap", len(b), MaxModelBytes)}
	}
	if m, ok := decodeModelWire(b); ok {
		return m, nil
	}
	m := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, &InvalidError{Node: "model", Reason: "not an ONNX model (its protobuf does not parse: " + err.Error() + ")"}
	}
	return m, nil
}

// readModelProto reads and decodes an .onnx file without lowering it.
func readModelProto(path string) (*onnxpb.ModelProto, error) {
	b, err := readFileCapped(path, MaxModelBytes)
	if err != nil {
		return nil, err
	}
	m, err := decodeModelProto(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func isDefaultDomain(d string) bool { return d == "" || d == "ai.onnx" }

// lowerModel validates m and converts its graph to the IR.
func lowerModel(m *onnxpb.ModelProto) (*Graph, error) {
	gp := m.GetGraph()
	if gp == nil {
		return nil, &InvalidError{Node: "model", Attribute: "graph", Reason: "missing"}
	}
	g := &Graph{Name: gp.GetName(), IRVersion: m.GetIrVersion(), Initializers: map[string]*Tensor{}, Opset: -1,
		ProducerName: m.GetProducerName(), ProducerVersion: m.GetProducerVersion(), Domain: m.GetDomain(),
		ModelVersion: m.GetModelVersion(), DocString: m.GetDocString()}
	for _, p := range m.GetMetadataProps() {
		g.Metadata = append(g.Metadata, MetadataEntry{Key: p.GetKey(), Value: p.GetValue()})
	}
	if g.IRVersion < 3 {
		return nil, &UnsupportedError{Node: "model", Attribute: "ir_version",
			Reason: fmt.Sprintf("IR version %d: need 3 or later (opset_import)", g.IRVersion)}
	}
	for _, o := range m.GetOpsetImport() {
		if isDefaultDomain(o.GetDomain()) {
			if g.Opset >= 0 {
				return nil, &InvalidError{Node: "model", Attribute: "opset_import", Reason: "default domain imported twice"}
			}
			g.Opset = o.GetVersion()
		}
	}
	if g.Opset < MinOpset || g.Opset > MaxOpset {
		return nil, &UnsupportedError{Node: "model", Attribute: "opset_import",
			Reason: fmt.Sprintf("default-domain opset %d outside the supported range %d..%d", g.Opset, MinOpset, MaxOpset)}
	}
	if len(gp.GetSparseInitializer()) > 0 {
		return nil, &UnsupportedError{Node: "graph", Attribute: "sparse_initializer", Reason: "sparse initializers"}
	}

	defined := map[string]bool{}
	consts := map[string]*Tensor{} // initializers and Constant outputs
	for i, tp := range gp.GetInitializer() {
		t, err := TensorFromProto(tp)
		if err != nil {
			return nil, fmt.Errorf("initializer %d: %w", i, err)
		}
		if t.Name == "" {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("initializer %d", i), Reason: "has no name"}
		}
		if defined[t.Name] {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("initializer %q", t.Name), Reason: "defined twice"}
		}
		defined[t.Name] = true
		g.Initializers[t.Name] = t
		g.InitializerOrder = append(g.InitializerOrder, t.Name)
		consts[t.Name] = t
	}
	inputNames := map[string]bool{}
	for _, vi := range gp.GetInput() {
		name := vi.GetName()
		if name == "" || inputNames[name] {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", name), Reason: "empty or duplicate name"}
		}
		inputNames[name] = true
		g.InputOrder = append(g.InputOrder, name)
		if _, ok := g.Initializers[name]; ok {
			continue // an initializer listed as input (IR < 4 style): a constant here
		}
		v, err := lowerValueInfo(vi, "input")
		if err != nil {
			return nil, err
		}
		g.Inputs = append(g.Inputs, v)
		defined[name] = true
	}

	for i, np := range gp.GetNode() {
		n, err := lowerNode(nodeFromProto(np, i), g.Opset, consts, defined)
		if err != nil {
			return nil, err
		}
		g.Nodes = append(g.Nodes, n)
		if c, ok := n.(*Constant); ok {
			consts[c.Outputs[0]] = c.Value
		}
	}

	seen := map[string]bool{}
	for _, vi := range gp.GetOutput() {
		v, err := lowerValueInfo(vi, "output")
		if err != nil {
			return nil, err
		}
		if !defined[v.Name] {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("output %q", v.Name), Reason: "not produced by any node, input or initializer"}
		}
		if seen[v.Name] {
			return nil, &InvalidError{Node: "graph", Attribute: fmt.Sprintf("output %q", v.Name), Reason: "listed twice"}
		}
		seen[v.Name] = true
		g.Outputs = append(g.Outputs, v)
	}
	if len(g.Outputs) == 0 {
		return nil, &InvalidError{Node: "graph", Attribute: "output", Reason: "the graph has no outputs"}
	}
	return g, nil
}

// Build checks a graph assembled in code the way DecodeModel checks a decoded one, and
// lowers its nodes in place: each of g.Nodes is a bare *NodeBase (op type, value names and
// attributes as written), and becomes the typed node of its op, validated against the op's
// spec at g.Opset. Every input of a node must be an initializer, a runtime input or the
// output of an earlier node, and every graph output must be defined.
func (g *Graph) Build() error {
	if g.Opset < MinOpset || g.Opset > MaxOpset {
		return &UnsupportedError{Node: "model", Attribute: "opset_import",
			Reason: fmt.Sprintf("default-domain opset %d outside the supported range %d..%d", g.Opset, MinOpset, MaxOpset)}
	}
	defined := map[string]bool{}
	consts := map[string]*Tensor{}
	for name, t := range g.Initializers {
		defined[name] = true
		consts[name] = t
	}
	for _, in := range g.Inputs {
		defined[in.Name] = true
	}
	for i, n := range g.Nodes {
		b := *n.Base()
		b.Index = i
		ln, err := lowerNode(b, g.Opset, consts, defined)
		if err != nil {
			return err
		}
		g.Nodes[i] = ln
		if c, ok := ln.(*Constant); ok {
			consts[c.Outputs[0]] = c.Value
		}
	}
	for _, o := range g.Outputs {
		if !defined[o.Name] {
			return &InvalidError{Node: "graph", Attribute: fmt.Sprintf("output %q", o.Name), Reason: "not produced by any node, input or initializer"}
		}
	}
	return nil
}

// lowerValueInfo converts a graph input or output declaration; it must be a tensor of a
// supported element type.
func lowerValueInfo(vi *onnxpb.ValueInfoProto, kind string) (ValueInfo, error) {
	place := fmt.Sprintf("%s %q", kind, vi.GetName())
	if vi.GetName() == "" {
		return ValueInfo{}, &InvalidError{Node: "graph", Attribute: kind, Reason: "has no name"}
	}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		what := "no type"
		switch vi.GetType().GetValue().(type) {
		case *onnxpb.TypeProto_SequenceType:
			what = "a sequence type"
		case *onnxpb.TypeProto_OptionalType:
			what = "an optional type"
		case *onnxpb.TypeProto_MapType:
			what = "a map type"
		case *onnxpb.TypeProto_SparseTensorType:
			what = "a sparse tensor type"
		}
		return ValueInfo{}, &UnsupportedError{Node: "graph", Attribute: place, Reason: "has " + what + "; only tensors are supported"}
	}
	dt := DataType(tt.GetElemType())
	if !dt.Supported() {
		return ValueInfo{}, &UnsupportedError{Node: "graph", Attribute: place,
			Reason: fmt.Sprintf("element type %s (only FLOAT, INT64, BOOL)", dt)}
	}
	v := ValueInfo{Name: vi.GetName(), DataType: dt}
	if sh := tt.GetShape(); sh != nil {
		v.Shape = make([]Dim, 0, min(len(sh.GetDim()), 64))
		for i, d := range sh.GetDim() {
			switch x := d.GetValue().(type) {
			case *onnxpb.TensorShapeProto_Dimension_DimValue:
				if x.DimValue < 0 {
					return ValueInfo{}, &InvalidError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("dim %d = %d is negative", i, x.DimValue)}
				}
				v.Shape = append(v.Shape, Dim{Value: x.DimValue})
			case *onnxpb.TensorShapeProto_Dimension_DimParam:
				v.Shape = append(v.Shape, Dim{Value: -1, Param: x.DimParam})
			default:
				v.Shape = append(v.Shape, Dim{Value: -1})
			}
		}
	}
	return v, nil
}

// nodeFromProto converts a NodeProto to a node not yet lowered; nothing is checked here.
func nodeFromProto(np *onnxpb.NodeProto, index int) NodeBase {
	b := NodeBase{Name: np.GetName(), Index: index, Op: np.GetOpType(), domain: np.GetDomain(),
		Inputs: append([]string{}, np.GetInput()...), Outputs: append([]string{}, np.GetOutput()...)}
	if len(np.GetAttribute()) > 0 {
		b.Attrs = make([]Attribute, len(np.GetAttribute()))
		for i, a := range np.GetAttribute() {
			b.Attrs[i] = attributeFromProto(a)
		}
	}
	return b
}

// lowerNode validates one node against the spec of its op at the given opset and returns
// its IR node. defined holds the value names defined so far; the node's outputs are added
// to it.
func lowerNode(b NodeBase, opset int64, consts map[string]*Tensor, defined map[string]bool) (Node, error) {
	if !isDefaultDomain(b.domain) {
		return nil, b.Unsupported("domain", "operator domain %q (only the default domain)", b.domain)
	}
	for i, in := range b.Inputs {
		if in != "" && !defined[in] {
			return nil, b.Errorf("input "+strconv.Itoa(i), "value %q is not defined before this node", in)
		}
	}
	r, err := newAttrReader(&b)
	if err != nil {
		return nil, err
	}
	lower, ok := opLowerings[b.Op]
	if !ok {
		return nil, b.Unsupported("", "op type %q is not supported", b.Op)
	}
	n, err := lower(b, r, &lowerCtx{opset: opset, consts: consts})
	if err != nil {
		return nil, err
	}
	for i, out := range b.Outputs {
		if out == "" {
			continue
		}
		if defined[out] {
			return nil, b.Errorf("output "+strconv.Itoa(i), "value %q is defined twice", out)
		}
		defined[out] = true
	}
	return n, nil
}

// arity checks the number of inputs and outputs (omitted trailing optional ones count
// as absent), and that no attribute is present.
func (b *NodeBase) arity(minIn, maxIn, minOut, maxOut int, r *attrReader) error {
	if err := r.finish(); err != nil {
		return err
	}
	return b.checkArity(minIn, maxIn, minOut, maxOut)
}

func (b *NodeBase) checkArity(minIn, maxIn, minOut, maxOut int) error {
	if len(b.Inputs) < minIn || len(b.Inputs) > maxIn {
		return b.Errorf("inputs", "%d inputs, want %d..%d", len(b.Inputs), minIn, maxIn)
	}
	for i := 0; i < minIn; i++ {
		if b.Inputs[i] == "" {
			return b.Errorf("input "+strconv.Itoa(i), "required input is empty")
		}
	}
	if len(b.Outputs) < minOut || len(b.Outputs) > maxOut {
		return b.Errorf("outputs", "%d outputs, want %d..%d", len(b.Outputs), minOut, maxOut)
	}
	if b.Outputs[0] == "" {
		return b.Errorf("output 0", "required output is empty")
	}
	return nil
}

// attrReader reads a node's attributes with type checks; the first error sticks.
type attrReader struct {
	b    *NodeBase
	m    map[string]*Attribute
	used map[string]bool
	err  error
}

func newAttrReader(b *NodeBase) (*attrReader, error) {
	r := &attrReader{b: b, m: map[string]*Attribute{}, used: map[string]bool{}}
	for i := range b.Attrs {
		a := &b.Attrs[i]
		if a.ref != "" {
			return nil, b.Unsupported(a.Name, "attribute references (ref_attr_name) are only valid in functions")
		}
		if _, dup := r.m[a.Name]; dup {
			return nil, b.Errorf(a.Name, "attribute given twice")
		}
		r.m[a.Name] = a
	}
	return r, nil
}

func (r *attrReader) get(name string, want AttrType) *Attribute {
	a, ok := r.m[name]
	r.used[name] = true
	if !ok || r.err != nil {
		return nil
	}
	if t := a.Type; t != want {
		r.err = r.b.Errorf(name, "attribute has type %s, want %s", t, want)
		return nil
	}
	return a
}

func (r *attrReader) has(name string) bool { _, ok := r.m[name]; return ok }

func (r *attrReader) int(name string, def int64) int64 {
	if a := r.get(name, AttrInt); a != nil {
		return a.I
	}
	return def
}

// bool reads an INT attribute that must be 0 or 1.
func (r *attrReader) bool(name string, def bool) bool {
	d := int64(0)
	if def {
		d = 1
	}
	v := r.int(name, d)
	if v != 0 && v != 1 && r.err == nil {
		r.err = r.b.Errorf(name, "= %d, want 0 or 1", v)
	}
	return v == 1
}

func (r *attrReader) ints(name string) []int64 {
	if a := r.get(name, AttrInts); a != nil {
		return append([]int64{}, a.Ints...)
	}
	return nil
}

func (r *attrReader) float(name string, def float32) float32 {
	if a := r.get(name, AttrFloat); a != nil {
		return a.F
	}
	return def
}

func (r *attrReader) floats(name string) []float32 {
	if a := r.get(name, AttrFloats); a != nil {
		return append([]float32{}, a.Floats...)
	}
	return nil
}

func (r *attrReader) str(name, def string) string {
	if a := r.get(name, AttrString); a != nil {
		return string(a.S)
	}
	return def
}

// tensor reads a TENSOR attribute, decoding it when it was read from a model; ok is false
// when it is absent or of another type.
func (r *attrReader) tensor(name string) (t *Tensor, ok bool, err error) {
	a := r.get(name, AttrTensor)
	switch {
	case a == nil:
		return nil, false, nil
	case a.T != nil:
		return a.T, true, nil
	case a.tp == nil:
		return nil, true, nil
	}
	t, err = TensorFromProto(a.tp)
	return t, true, err
}

// finish returns the first error, or an error for any attribute that was not read
// (i.e. is not defined for this op at this opset).
func (r *attrReader) finish() error {
	if r.err != nil {
		return r.err
	}
	for name := range r.m {
		if !r.used[name] {
			return r.b.Errorf(name, "attribute is not defined for %s at this opset", r.b.Op)
		}
	}
	return nil
}

func (r *attrReader) fail(attr, format string, args ...any) {
	if r.err == nil {
		r.err = r.b.Errorf(attr, format, args...)
	}
}
