package onnx

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
)

// The opset range of the default domain that lowering accepts. The claimed ops have the
// same semantics in opset 18 as in 17 (their next versions are 19+), so 18 is accepted too.
const (
	MinOpset = 7
	MaxOpset = 18
)

// MaxModelBytes caps the size of a model file or buffer (2 GiB, protobuf's own limit).
const MaxModelBytes = 1<<31 - 1

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
// models that use anything beyond the claimed ops and attributes, and with a *ModelError or
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
		return nil, &ModelError{Node: "model", Reason: fmt.Sprintf("%d bytes exceed the %d-byte cap", len(b), MaxModelBytes)}
	}
	if m, ok := decodeModelWire(b); ok {
		return m, nil
	}
	m := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, &ModelError{Node: "model", Reason: "protobuf: " + err.Error()}
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
		return nil, &ModelError{Node: "model", Attribute: "graph", Reason: "missing"}
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
				return nil, &ModelError{Node: "model", Attribute: "opset_import", Reason: "default domain imported twice"}
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
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("initializer %d", i), Reason: "has no name"}
		}
		if defined[t.Name] {
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("initializer %q", t.Name), Reason: "defined twice"}
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
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("input %q", name), Reason: "empty or duplicate name"}
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
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("output %q", v.Name), Reason: "not produced by any node, input or initializer"}
		}
		if seen[v.Name] {
			return nil, &ModelError{Node: "graph", Attribute: fmt.Sprintf("output %q", v.Name), Reason: "listed twice"}
		}
		seen[v.Name] = true
		g.Outputs = append(g.Outputs, v)
	}
	if len(g.Outputs) == 0 {
		return nil, &ModelError{Node: "graph", Attribute: "output", Reason: "the graph has no outputs"}
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
			return &ModelError{Node: "graph", Attribute: fmt.Sprintf("output %q", o.Name), Reason: "not produced by any node, input or initializer"}
		}
	}
	return nil
}

// lowerValueInfo converts a graph input or output declaration; it must be a tensor of a
// supported element type.
func lowerValueInfo(vi *onnxpb.ValueInfoProto, kind string) (ValueInfo, error) {
	place := fmt.Sprintf("%s %q", kind, vi.GetName())
	if vi.GetName() == "" {
		return ValueInfo{}, &ModelError{Node: "graph", Attribute: kind, Reason: "has no name"}
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
					return ValueInfo{}, &ModelError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("dim %d = %d is negative", i, x.DimValue)}
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
	var n Node
	switch b.Op {
	case "Conv":
		n, err = lowerConv(b, r, consts)
	case "MaxPool":
		n, err = lowerMaxPool(b, r, opset)
	case "AveragePool":
		n, err = lowerAveragePool(b, r, opset)
	case "BatchNormalization":
		n, err = lowerBatchNorm(b, r, opset)
	case "Gemm":
		n, err = lowerGemm(b, r, opset)
	case "MatMul":
		err = b.arity(2, 2, 1, 1, r)
		n = &MatMul{b}
	case "Add":
		err = b.arity(2, 2, 1, 1, r)
		n = &Add{b}
	case "Relu":
		err = b.arity(1, 1, 1, 1, r)
		n = &Relu{b}
	case "Identity":
		err = b.arity(1, 1, 1, 1, r)
		n = &Identity{b}
	case "Flatten":
		n, err = lowerFlatten(b, r, opset)
	case "Reshape":
		n, err = lowerReshape(b, r, opset, consts)
	case "Softmax":
		n, err = lowerSoftmax(b, r, opset)
	case "Dropout":
		n, err = lowerDropout(b, r, opset, consts)
	case "Constant":
		n, err = lowerConstant(b, r, opset)
	default:
		return nil, b.Unsupported("", "op type %q is not supported", b.Op)
	}
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

// lowerWindow reads the window attributes shared by Conv and the pooling ops. withCeil and
// withDilations say whether ceil_mode and dilations exist for this op and opset.
func lowerWindow(b *NodeBase, r *attrReader, kernelRequired, withCeil, withDilations bool) Window {
	var w Window
	w.KernelShape = r.ints("kernel_shape")
	w.Strides = r.ints("strides")
	w.Pads = r.ints("pads")
	if withDilations {
		w.Dilations = r.ints("dilations")
	}
	if withCeil {
		w.CeilMode = r.bool("ceil_mode", false)
	}
	switch s := r.str("auto_pad", "NOTSET"); s {
	case "NOTSET", "":
		w.AutoPad = NotSet
	case "VALID":
		w.AutoPad = Valid
	case "SAME_UPPER":
		w.AutoPad = SameUpper
	case "SAME_LOWER":
		w.AutoPad = SameLower
	default:
		r.fail("auto_pad", "= %q, want NOTSET, VALID, SAME_UPPER or SAME_LOWER", s)
	}
	if r.err != nil {
		return w
	}
	if kernelRequired && !r.has("kernel_shape") {
		r.fail("kernel_shape", "required attribute is missing")
		return w
	}
	// The spatial rank, when any attribute tells it; all must agree.
	rank := -1
	agree := func(name string, n int) {
		if r.err != nil || !r.has(name) {
			return
		}
		if rank >= 0 && n != rank {
			r.fail(name, "has %d spatial entries, but other attributes have %d", n, rank)
		}
		rank = n
	}
	agree("kernel_shape", len(w.KernelShape))
	agree("strides", len(w.Strides))
	agree("dilations", len(w.Dilations))
	if len(w.Pads)%2 != 0 {
		r.fail("pads", "has %d entries, want 2 per spatial axis", len(w.Pads))
	}
	agree("pads", len(w.Pads)/2)
	if r.err != nil {
		return w
	}
	if rank == 0 {
		r.fail("kernel_shape", "no spatial axes")
	}
	positive := func(name string, v []int64) {
		for i, x := range v {
			if x <= 0 && r.err == nil {
				r.fail(name, "[%d] = %d, want > 0", i, x)
			}
		}
	}
	positive("kernel_shape", w.KernelShape)
	positive("strides", w.Strides)
	positive("dilations", w.Dilations)
	for i, p := range w.Pads {
		if p < 0 && r.err == nil {
			r.fail("pads", "[%d] = %d, want >= 0", i, p)
		}
	}
	// Operators.md: pads "cannot be used simultaneously with auto_pad", zeros included
	// (onnxruntime refuses the pair too).
	if r.has("pads") && w.AutoPad != NotSet && r.err == nil {
		r.fail("pads", "given together with auto_pad %s (the spec allows one or the other)", w.AutoPad)
	}
	if rank > 0 {
		w.fillDefaults(rank)
	}
	return w
}

// fillDefaults gives every unset window attribute its default for rank spatial axes.
func (w *Window) fillDefaults(rank int) {
	fill := func(v []int64, n int, def int64) []int64 {
		if v != nil {
			return v
		}
		v = make([]int64, n)
		for i := range v {
			v[i] = def
		}
		return v
	}
	w.Strides = fill(w.Strides, rank, 1)
	w.Dilations = fill(w.Dilations, rank, 1)
	w.Pads = fill(w.Pads, 2*rank, 0)
}

func (r *attrReader) fail(attr, format string, args ...any) {
	if r.err == nil {
		r.err = r.b.Errorf(attr, format, args...)
	}
}

func lowerConv(b NodeBase, r *attrReader, consts map[string]*Tensor) (Node, error) {
	w := lowerWindow(&b, r, false, false, true)
	group := r.int("group", 1)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if group != 1 {
		return nil, b.Unsupported("group", "group=%d: only group=1 is supported", group)
	}
	if err := b.checkArity(2, 3, 1, 1); err != nil {
		return nil, err
	}
	if wt, ok := consts[b.Inputs[1]]; ok {
		if len(wt.Dims) < 3 {
			return nil, b.Errorf("input 1", "W has shape %v, want (M, C, k1, ..., kn)", wt.Dims)
		}
		if w.KernelShape == nil && w.Strides == nil { // nothing told the rank yet
			w.fillDefaults(len(wt.Dims) - 2)
		}
		if w.KernelShape == nil {
			w.KernelShape = append([]int64{}, wt.Dims[2:]...)
		}
	}
	if w.Strides != nil && w.KernelShape != nil && len(w.KernelShape) != len(w.Strides) {
		return nil, b.Errorf("kernel_shape", "W has %d spatial axes, attributes have %d", len(w.KernelShape), len(w.Strides))
	}
	return &Conv{NodeBase: b, Window: w}, nil
}

func lowerMaxPool(b NodeBase, r *attrReader, opset int64) (Node, error) {
	w := lowerWindow(&b, r, true, opset >= 10, opset >= 10)
	order := r.int("storage_order", 0)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if order != 0 {
		return nil, b.Unsupported("storage_order", "storage_order=%d: only 0 (row major) is supported", order)
	}
	if err := b.checkArity(1, 1, 1, 2); err != nil {
		return nil, err
	}
	if b.Output(1) != "" {
		return nil, b.Unsupported("output 1", "the Indices output is not supported")
	}
	return &MaxPool{NodeBase: b, Window: w}, nil
}

func lowerAveragePool(b NodeBase, r *attrReader, opset int64) (Node, error) {
	w := lowerWindow(&b, r, true, opset >= 10, false)
	cip := r.bool("count_include_pad", false)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := b.checkArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return &AveragePool{NodeBase: b, Window: w, CountIncludePad: cip}, nil
}

func lowerBatchNorm(b NodeBase, r *attrReader, opset int64) (Node, error) {
	eps := r.float("epsilon", 1e-5)
	r.float("momentum", 0.9) // training only
	spatial := true
	if opset < 9 {
		spatial = r.bool("spatial", true)
	}
	training := false
	if opset >= 14 {
		training = r.bool("training_mode", false)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if !spatial {
		return nil, b.Unsupported("spatial", "spatial=0 (per-activation statistics) is not supported")
	}
	if training {
		return nil, b.Unsupported("training_mode", "training_mode=1: only inference is supported")
	}
	maxOut := 5
	if opset >= 14 {
		maxOut = 3
	}
	if err := b.checkArity(5, 5, 1, maxOut); err != nil {
		return nil, err
	}
	for i := 1; i < len(b.Outputs); i++ {
		if b.Outputs[i] != "" {
			return nil, b.Unsupported("output "+strconv.Itoa(i), "running statistics outputs (training) are not supported")
		}
	}
	if !(eps >= 0) {
		return nil, b.Errorf("epsilon", "= %v, want >= 0", eps)
	}
	return &BatchNormalization{NodeBase: b, Epsilon: eps}, nil
}

func lowerGemm(b NodeBase, r *attrReader, opset int64) (Node, error) {
	n := &Gemm{NodeBase: b}
	n.Alpha = r.float("alpha", 1)
	n.Beta = r.float("beta", 1)
	n.TransA = r.bool("transA", false)
	n.TransB = r.bool("transB", false)
	if err := r.finish(); err != nil {
		return nil, err
	}
	minIn := 3
	if opset >= 11 {
		minIn = 2
	}
	if err := b.checkArity(minIn, 3, 1, 1); err != nil {
		return nil, err
	}
	return n, nil
}

func lowerFlatten(b NodeBase, r *attrReader, opset int64) (Node, error) {
	axis := r.int("axis", 1)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if axis < 0 && opset < 11 {
		return nil, b.Errorf("axis", "= %d: negative axes need opset 11", axis)
	}
	if err := b.checkArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return &Flatten{NodeBase: b, Axis: axis}, nil
}

func lowerReshape(b NodeBase, r *attrReader, opset int64, consts map[string]*Tensor) (Node, error) {
	allowZero := false
	if opset >= 14 {
		allowZero = r.bool("allowzero", false)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := b.checkArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	n := &Reshape{NodeBase: b, AllowZero: allowZero}
	if t, ok := consts[b.Inputs[1]]; ok {
		if err := CheckReshapeShape(&n.NodeBase, t, allowZero); err != nil {
			return nil, err
		}
		n.Shape = append([]int64{}, t.Int64...)
	}
	return n, nil
}

// CheckReshapeShape validates the shape input of Reshape on its own (without the data's
// shape): 1-D INT64, values >= -1, at most one -1, and not both 0 and -1 under allowzero.
func CheckReshapeShape(b *NodeBase, t *Tensor, allowZero bool) error {
	if t.DataType != Int64 || len(t.Dims) != 1 {
		return b.Errorf("input 1", "shape must be a 1-D INT64 tensor, got %s %v", t.DataType, t.Dims)
	}
	neg, zero := 0, false
	for i, v := range t.Int64 {
		switch {
		case v < -1:
			return b.Errorf("input 1", "shape[%d] = %d, want >= -1", i, v)
		case v == -1:
			neg++
		case v == 0:
			zero = true
		}
	}
	if neg > 1 {
		return b.Errorf("input 1", "shape %v has more than one -1", t.Int64)
	}
	if allowZero && zero && neg > 0 {
		return b.Errorf("input 1", "shape %v has both 0 and -1 with allowzero=1", t.Int64)
	}
	return nil
}

func lowerSoftmax(b NodeBase, r *attrReader, opset int64) (Node, error) {
	n := &Softmax{NodeBase: b, Coerce2D: opset < 13}
	def := int64(-1)
	if n.Coerce2D {
		def = 1
	}
	n.Axis = r.int("axis", def)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if n.Axis < 0 && opset < 11 {
		return nil, b.Errorf("axis", "= %d: negative axes need opset 11", n.Axis)
	}
	if err := b.checkArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return n, nil
}

func lowerDropout(b NodeBase, r *attrReader, opset int64, consts map[string]*Tensor) (Node, error) {
	n := &Dropout{NodeBase: b, Ratio: 0.5, floatMask: opset < 10}
	maxIn := 1
	if opset < 12 {
		n.Ratio = r.float("ratio", 0.5)
	} else {
		r.int("seed", 0) // training only
		maxIn = 3
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := b.checkArity(1, maxIn, 1, 2); err != nil {
		return nil, err
	}
	if name := b.Input(1); name != "" {
		if t, ok := consts[name]; ok {
			if t.DataType != Float || len(t.Dims) != 0 {
				return nil, b.Errorf("input 1", "ratio must be a FLOAT scalar, got %s %v", t.DataType, t.Dims)
			}
			n.Ratio = t.Float[0]
		}
	}
	if !(n.Ratio >= 0 && n.Ratio < 1) {
		return nil, b.Errorf("ratio", "= %v, want in [0, 1)", n.Ratio)
	}
	if name := b.Input(2); name != "" {
		t, ok := consts[name]
		if !ok {
			return nil, b.Unsupported("input 2", "training_mode given as a runtime input (only a constant false is supported)")
		}
		if t.DataType != Bool || len(t.Bool) != 1 {
			return nil, b.Errorf("input 2", "training_mode must be a BOOL scalar, got %s %v", t.DataType, t.Dims)
		}
		if t.Bool[0] {
			return nil, b.Unsupported("input 2", "training_mode=true: only inference is supported")
		}
	}
	return n, nil
}

func lowerConstant(b NodeBase, r *attrReader, opset int64) (Node, error) {
	for _, name := range []string{"sparse_value", "value_string", "value_strings"} {
		if r.has(name) {
			return nil, b.Unsupported(name, "constant of this kind is not supported")
		}
	}
	if len(r.m) != 1 {
		return nil, b.Errorf("value", "exactly one value attribute is required, got %d attributes", len(r.m))
	}
	var t *Tensor
	var err error
	switch {
	case r.has("value"):
		t, _, err = r.tensor("value")
		if err != nil {
			return nil, fmt.Errorf("node %s (Constant): attribute value: %w", b.ID(), err)
		}
	case opset >= 12 && r.has("value_float"):
		t = NewFloat("", []int64{}, []float32{r.float("value_float", 0)})
	case opset >= 12 && r.has("value_floats"):
		v := r.floats("value_floats")
		t = NewFloat("", []int64{int64(len(v))}, v)
	case opset >= 12 && r.has("value_int"):
		t = NewInt64("", []int64{}, []int64{r.int("value_int", 0)})
	case opset >= 12 && r.has("value_ints"):
		v := r.ints("value_ints")
		t = NewInt64("", []int64{int64(len(v))}, v)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, b.Errorf("value", "the value attribute holds no tensor")
	}
	if err := b.checkArity(0, 0, 1, 1); err != nil {
		return nil, err
	}
	t.Name = b.Outputs[0]
	return &Constant{NodeBase: b, Value: t}, nil
}
