package onnxexport

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/train"
)

// MaxModelFileBytes caps a model file that fmkit's tools read into memory, ONNX or fmtrain's
// native format (told apart by content): the larger of onnx.MaxModelBytes (protobuf's own
// limit) and train.MaxCheckpointBytes. fminfer and fmtrain both read --model through it.
const MaxModelFileBytes = max(onnx.MaxModelBytes, train.MaxCheckpointBytes)

// ModelInfo describes an imported model beyond its layers: the ModelProto's header, its
// metadata_props, and how the graph's inputs and outputs map onto the train.Model.
type ModelInfo struct {
	IRVersion       int64
	Opset           int64 // default-domain opset
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	GraphName       string
	// Metadata holds metadata_props (for fmkit's exports: MetaClassNames,
	// MetaPreprocessing and the ExportOptions.Metadata entries).
	Metadata map[string]string
	// Input is the name of the single runtime input; InputShape its declared shape
	// (the batch dimension first).
	Input      string
	InputShape []onnx.Dim
	// Outputs lists the graph outputs in order, each with where the model computes it.
	Outputs []OutputInfo
	// MaxBatch is how many samples one Predict call may take within the gate's memory
	// limit (Gated.MaxBatch); callers with more split them.
	MaxBatch int
}

// OutputInfo places one graph output in the imported model.
type OutputInfo struct {
	Name string
	// Layers is how many of the model's layers compute this output, starting from the
	// input: len(m.Layers) for the model's final output, 0 for the input itself.
	Layers int
	// Logits marks the input of a softmax fused into the last layer (or of a final
	// Softmax layer): what Model.Logits returns.
	Logits bool
}

// ClassNames decodes the MetaClassNames entry; it returns nil and no error when there is
// none.
func (i *ModelInfo) ClassNames() ([]string, error) {
	s, ok := i.Metadata[MetaClassNames]
	if !ok {
		return nil, nil
	}
	var names []string
	if err := json.Unmarshal([]byte(s), &names); err != nil {
		return nil, &onnx.InvalidError{Node: "model", Attribute: "metadata_props " + MetaClassNames, Reason: "not a JSON list of strings: " + err.Error()}
	}
	return names, nil
}

// ImportFile reads an .onnx file and imports it (see Import). Errors name the file.
func ImportFile(path string) (*train.Model, *ModelInfo, error) {
	b, err := onnx.ReadModelFile(path)
	if err != nil {
		return nil, nil, err
	}
	m, info, err := Import(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, info, nil
}

// Import decodes a serialized ONNX model and builds the equivalent train.Model.
//
// The graph must be a sequential chain from a single float input (N, d1..dk) to its
// outputs: every value computed from the input feeds at most one node. Subgraphs of
// constants (initializers, Constant nodes and any node whose inputs are all constant,
// e.g. Constant -> Reshape's shape) are folded first, and so is shape arithmetic on a
// symbolic batch (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, PyTorch's
// x.view(x.size(0), -1)). The chain's nodes become layers: Conv (2-D, 1-D as 2-D, groups
// as a dense convolution with block-diagonal weights) -> Conv2D; MaxPool, AveragePool and
// their global forms, and ReduceMax and ReduceMean over the spatial axes -> MaxPool2D, AvgPool2D; BatchNormalization -> BatchNorm; Gemm,
// MatMul and an Add folded into the bias -> Dense; Add, Sub, Mul and Div with a constant
// operand the same for every sample (in-graph normalisation) -> Arith; Relu (fused where it can be), Sigmoid,
// Tanh, LeakyRelu, Elu, Clip -> their layers; Softmax and LogSoftmax over each sample or
// rows of the last axis; Pad -> nothing (all-zero pads), the next Conv's or AveragePool's
// pads, or a Pad layer; Flatten, Reshape, Unsqueeze, Squeeze and Transpose keeping the
// batch first -> Flatten, Reshape or Transpose; Identity is dropped and Dropout is the
// identity at inference. docs/onnx-support.md lists every op, opset and attribute.
//
// Anything else is an *UnsupportedError naming the node, its op and the attribute at
// fault (e.g. a 1-D convolution: the native engine is 2-D); an invalid model is a
// *InvalidError or *TensorError. Weights with NaN or Inf are refused naming the initializer.
// The imported model keeps the weights bit for bit unless alpha or beta scale them.
//
// The model passes the gate first (see Gate) with the default GateOptions: external data
// is refused and the default limits apply. ImportWith takes other options.
func Import(data []byte) (*train.Model, *ModelInfo, error) {
	return ImportWith(data, onnx.GateOptions{})
}

// ImportWith is Import with the gate's options opts (e.g. a directory allowed for external
// data, or higher limits).
func ImportWith(data []byte, opts onnx.GateOptions) (*train.Model, *ModelInfo, error) {
	gd, err := onnx.GateGraph(data, nil, nil, opts)
	if err != nil {
		return nil, nil, err
	}
	m, info, err := importGraph(gd.Graph, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	fillInfo(info, gd.Graph)
	info.MaxBatch = int(gd.MaxBatch)
	return m, info, nil
}

func fillInfo(info *ModelInfo, g *onnx.Graph) {
	info.ProducerName = g.ProducerName
	info.ProducerVersion = g.ProducerVersion
	info.Domain = g.Domain
	info.ModelVersion = g.ModelVersion
	info.DocString = g.DocString
	info.Metadata = g.MetadataMap()
}

// importer holds the state of the walk along the chain.
type importer struct {
	g       *onnx.Graph
	consts  map[string]*onnx.Tensor
	cur     string      // the chain's current value
	shape   train.Shape // its per-sample shape
	steps   []step
	pos     map[string]int // chain value -> number of steps that compute it
	side    map[string]string
	fixedB  int64 // the declared batch size, or -1 when it is symbolic
	inShape train.Shape
	// shapes holds the per-sample shape of each chain value, for Shape nodes.
	shapes map[string]train.Shape
	// symA and symB hold the values that depend on a symbolic batch size (shape
	// arithmetic such as Shape -> Gather -> Concat), computed with the batch taken as
	// symBatchA and as symBatchB; a value in neither map nor consts is not known.
	symA, symB map[string]*onnx.Tensor
}

// The batch sizes a symbolic batch stands for while the importer folds shape arithmetic:
// an element that differs between the two evaluations depends on the batch, and is the
// batch itself when it equals each stand-in. Both are primes, exact in float32.
const (
	symBatchA = 65521
	symBatchB = 65519
)

// step is one layer of the chain and the node it came from.
type step struct {
	layer train.Layer
	node  *onnx.NodeBase
	// dense and conv point at the layer's weights for bias folding.
	foldBias bool // an Add of a constant may fold into this step's bias
}

// importGraph builds the model of g. bound gives constant values for some of g's inputs
// (the native engine binds all but the first); sample, when not nil, is the per-sample
// shape of the runtime input, used where its declaration is symbolic.
func importGraph(g *onnx.Graph, bound map[string]*onnx.Tensor, sample []int64) (*train.Model, *ModelInfo, error) {
	im := &importer{g: g, consts: map[string]*onnx.Tensor{}, pos: map[string]int{}, side: map[string]string{},
		shapes: map[string]train.Shape{}, symA: map[string]*onnx.Tensor{}, symB: map[string]*onnx.Tensor{}}
	for name, t := range g.Initializers {
		im.consts[name] = t
	}
	var runtime []onnx.ValueInfo
	for _, in := range g.Inputs {
		if t, ok := bound[in.Name]; ok {
			im.consts[in.Name] = t
			continue
		}
		runtime = append(runtime, in)
	}
	if len(runtime) != 1 {
		names := make([]string, len(runtime))
		for i, in := range runtime {
			names[i] = strconv.Quote(in.Name)
		}
		return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: "input",
			Reason: fmt.Sprintf("%d runtime inputs %v: the native engine takes exactly one", len(runtime), names)}
	}
	in := runtime[0]
	info := &ModelInfo{IRVersion: g.IRVersion, Opset: g.Opset, GraphName: g.Name, Input: in.Name,
		InputShape: slices.Clone(in.Shape)}
	place := fmt.Sprintf("input %q", in.Name)
	if in.DataType != onnx.Float {
		return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("type %s: the native engine takes FLOAT", in.DataType)}
	}
	if in.Shape == nil && sample == nil {
		return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: place, Reason: "the shape is not declared: the native engine needs (N, d1, ..., dk)"}
	}
	if in.Shape != nil && len(in.Shape) < 2 {
		return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: place,
			Reason: fmt.Sprintf("rank %d: the native engine needs a batch dimension and at least one more, (N, d1, ..., dk)", len(in.Shape))}
	}
	if sample != nil && in.Shape != nil && len(sample)+1 != len(in.Shape) {
		return nil, nil, &onnx.InvalidError{Node: "graph", Attribute: place,
			Reason: fmt.Sprintf("given a rank-%d value, declared rank %d", len(sample)+1, len(in.Shape))}
	}
	im.fixedB = -1
	if in.Shape != nil {
		im.fixedB = in.Shape[0].Value
		for i, d := range in.Shape[1:] {
			v := d.Value
			if sample != nil {
				if v >= 0 && v != sample[i] {
					return nil, nil, &onnx.InvalidError{Node: "graph", Attribute: place,
						Reason: fmt.Sprintf("dim %d is %d, declared %d", i+1, sample[i], v)}
				}
				v = sample[i]
			}
			if v < 0 {
				return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: place,
					Reason: fmt.Sprintf("dim %d is %s: the native engine needs fixed per-sample dims", i+1, d)}
			}
			im.inShape = append(im.inShape, 0)
			im.inShape[i] = int(v)
		}
	} else {
		for _, v := range sample {
			im.inShape = append(im.inShape, int(v))
		}
	}
	if n, err := onnx.NumElements(shapeInt64(im.inShape)); err != nil || n < 1 || n > onnx.MaxTensorBytes/4 {
		return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("per-sample shape %v is empty or too large", im.inShape)}
	}
	im.cur, im.shape = in.Name, im.inShape.Clone()
	im.pos[in.Name] = 0
	im.shapes[in.Name] = im.shape

	for _, n := range g.Nodes {
		if err := im.node(n); err != nil {
			return nil, nil, err
		}
	}

	// Place the outputs.
	outPos := make([]int, len(g.Outputs))
	last := 0
	for i, o := range g.Outputs {
		p, ok := im.pos[o.Name]
		if !ok {
			if _, c := im.consts[o.Name]; c {
				return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("output %q", o.Name), Reason: "a constant output: the native engine computes outputs from the input"}
			}
			if by, s := im.side[o.Name]; s {
				return nil, nil, &onnx.UnsupportedError{Node: by, Attribute: fmt.Sprintf("output %q", o.Name), Reason: "a secondary output of a node: the native engine computes one value per node"}
			}
			return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("output %q", o.Name), Reason: "not on the chain from the input"}
		}
		outPos[i] = p
		last = max(last, p)
	}
	if last == 0 {
		return nil, nil, &onnx.UnsupportedError{Node: "graph", Attribute: "output",
			Reason: "the outputs are the input itself: the native engine needs at least one layer"}
	}
	steps := im.steps[:last] // a dead tail is dropped

	// Fuse activations where no output needs the value between them.
	isOut := map[int]bool{}
	for _, p := range outPos {
		isOut[p] = true
	}
	newPos := make([]int, last+1) // old position -> new position
	logitsAt := -1                // old position of a fused final softmax's input
	var layers []train.Layer
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		if len(layers) > 0 && !isOut[i] {
			switch prev := layers[len(layers)-1].(type) {
			case *train.Conv2D:
				if _, ok := s.layer.(*train.ReLU); ok && prev.Act == train.ActNone {
					prev.Act = train.ActReLU
					newPos[i+1] = len(layers)
					newPos[i] = -1
					continue
				}
			case *train.Dense:
				if _, ok := s.layer.(*train.ReLU); ok && prev.Act == train.ActNone {
					prev.Act = train.ActReLU
					newPos[i+1] = len(layers)
					newPos[i] = -1
					continue
				}
			}
		}
		if d, ok := lastLayer(layers).(*train.Dense); ok && i == len(steps)-1 && d.Act == train.ActNone {
			if _, ok := s.layer.(*train.Softmax); ok {
				d.Act = train.ActSoftmax
				logitsAt = i
				newPos[i+1] = len(layers)
				continue
			}
		}
		layers = append(layers, s.layer)
		newPos[i+1] = len(layers)
	}
	for i, o := range g.Outputs {
		p := outPos[i]
		oi := OutputInfo{Name: o.Name, Layers: newPos[p]}
		if p == logitsAt {
			oi = OutputInfo{Name: o.Name, Layers: len(layers), Logits: true}
		}
		info.Outputs = append(info.Outputs, oi)
	}
	m, err := train.NewModel(im.inShape, layers...)
	if err != nil {
		var se *train.ShapeError
		if errors.As(err, &se) {
			for _, s := range steps {
				if s.layer.Name() == se.Layer {
					return nil, nil, &onnx.UnsupportedError{Node: s.node.ID(), Op: s.node.Op, Reason: "the native engine refuses it: " + se.Msg}
				}
			}
		}
		return nil, nil, &onnx.UnsupportedError{Node: "graph", Reason: "the native engine refuses the model: " + err.Error()}
	}
	return m, info, nil
}

func lastLayer(ls []train.Layer) train.Layer {
	if len(ls) == 0 {
		return nil
	}
	return ls[len(ls)-1]
}

// node handles one node of the graph: it folds it, adds it to the chain, or fails.
func (im *importer) node(n onnx.Node) error {
	b := n.Base()
	if s, ok := n.(*onnx.Shape); ok {
		if sh, ok := im.shapes[b.Input(0)]; ok {
			return im.foldShape(s, sh)
		}
	}
	var dyn []int // positions of inputs that are not constant
	for i, name := range b.Inputs {
		if name == "" {
			continue
		}
		if !im.known(name) {
			dyn = append(dyn, i)
		}
	}
	if len(dyn) == 0 {
		return im.fold(n)
	}
	for _, i := range dyn {
		name := b.Inputs[i]
		if name == im.cur {
			continue
		}
		if _, ok := im.pos[name]; ok {
			return b.Unsupported("input "+strconv.Itoa(i),
				"value %q feeds more than one node: the native engine runs a sequential chain", name)
		}
		if by, ok := im.side[name]; ok {
			return b.Unsupported("input "+strconv.Itoa(i),
				"value %q is a secondary output of node %s: the native engine computes one value per node", name, by)
		}
		return b.Errorf("input "+strconv.Itoa(i), "value %q is not defined", name)
	}
	if len(dyn) > 1 {
		return b.Unsupported("inputs", "takes the chain's value %q twice: the native engine runs a sequential chain", im.cur)
	}
	for i, out := range b.Outputs {
		if i > 0 && out != "" {
			im.side[out] = b.ID()
		}
	}
	im.cur = b.Outputs[0]
	if err := im.chain(n, dyn[0]); err != nil {
		return err
	}
	im.pos[im.cur] = len(im.steps)
	im.shapes[im.cur] = im.shape
	return nil
}

// known reports whether a value is constant, or shape arithmetic on a symbolic batch.
func (im *importer) known(name string) bool {
	if _, ok := im.consts[name]; ok {
		return true
	}
	_, ok := im.symA[name]
	return ok
}

// foldShape records the output of Shape on a chain value of per-sample shape sh: a
// constant for a fixed batch, else one value for each stand-in batch size.
func (im *importer) foldShape(n *onnx.Shape, sh train.Shape) error {
	eval := func(batch int64) (*onnx.Tensor, error) {
		x := &onnx.Tensor{DataType: onnx.Float, Dims: append([]int64{batch}, shapeInt64(sh)...)}
		types := []onnx.TensorType{{DataType: onnx.Float, Shape: x.Dims}}
		outT, err := onnx.InferNode(n, types, noValue)
		if err != nil {
			return nil, err
		}
		out, err := onnx.EvalNode(n, []*onnx.Tensor{x}, outT)
		if err != nil {
			return nil, err
		}
		out[0].Name = n.Outputs[0]
		return out[0], nil
	}
	if im.fixedB >= 0 {
		t, err := eval(im.fixedB)
		im.consts[n.Outputs[0]] = t
		return err
	}
	a, err := eval(symBatchA)
	if err != nil {
		return err
	}
	c, err := eval(symBatchB)
	if err != nil {
		return err
	}
	im.store(n.Outputs[0], a, c)
	return nil
}

// store records a folded value: a constant when both evaluations agree.
func (im *importer) store(name string, a, b *onnx.Tensor) {
	if sameTensor(a, b) {
		im.consts[name] = a
		return
	}
	im.symA[name], im.symB[name] = a, b
}

func sameTensor(a, b *onnx.Tensor) bool {
	return a.DataType == b.DataType && slices.Equal(a.Dims, b.Dims) && slices.Equal(a.Int64, b.Int64) &&
		slices.Equal(a.Bool, b.Bool) && slices.EqualFunc(a.Float, b.Float, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// fold evaluates a node whose inputs are all known (constant, or shape arithmetic on a
// symbolic batch, which is evaluated for each stand-in batch size) and records its outputs.
func (im *importer) fold(n onnx.Node) error {
	b := n.Base()
	symbolic := false
	for _, name := range b.Inputs {
		if _, ok := im.symA[name]; ok && name != "" {
			symbolic = true
		}
	}
	evalWith := func(sym map[string]*onnx.Tensor) ([]*onnx.Tensor, error) {
		lookup := func(name string) *onnx.Tensor {
			if t, ok := sym[name]; ok {
				return t
			}
			return im.consts[name]
		}
		in := make([]*onnx.Tensor, len(b.Inputs))
		types := make([]onnx.TensorType, len(b.Inputs))
		for i, name := range b.Inputs {
			if name != "" {
				in[i] = lookup(name)
				types[i] = onnx.TensorType{DataType: in[i].DataType, Shape: in[i].Dims}
			}
		}
		outTypes, err := onnx.InferNode(n, types, lookup)
		if err != nil {
			return nil, err
		}
		return onnx.EvalNode(n, in, outTypes)
	}
	outA, err := evalWith(im.symA)
	if err != nil {
		return err
	}
	outB := outA
	if symbolic {
		if outB, err = evalWith(im.symB); err != nil {
			return err
		}
	}
	for i, name := range b.Outputs {
		if name != "" && i < len(outA) {
			outA[i].Name, outB[i].Name = name, name
			im.store(name, outA[i], outB[i])
		}
	}
	return nil
}

// shapeInput returns the value of input i of b, an INT64 shape that may hold the
// symbolic batch size: batchAt lists the positions that are the batch itself. Anything
// else computed from the batch is unsupported.
func (im *importer) shapeInput(b *onnx.NodeBase, i int) (vals []int64, batchAt []int, err error) {
	name := b.Input(i)
	if t, ok := im.consts[name]; ok {
		if t.DataType != onnx.Int64 {
			return nil, nil, b.Errorf("input "+strconv.Itoa(i), "type %s, want INT64", t.DataType)
		}
		return t.Int64, nil, nil
	}
	a, ok := im.symA[name]
	if !ok {
		return nil, nil, b.Unsupported("input "+strconv.Itoa(i), "%q is computed at run time: the native engine needs it constant", name)
	}
	c := im.symB[name]
	if a.DataType != onnx.Int64 {
		return nil, nil, b.Errorf("input "+strconv.Itoa(i), "type %s, want INT64", a.DataType)
	}
	vals = slices.Clone(a.Int64)
	for j := range vals {
		switch {
		case a.Int64[j] == c.Int64[j]:
		case a.Int64[j] == symBatchA && c.Int64[j] == symBatchB:
			batchAt = append(batchAt, j)
		default:
			return nil, nil, b.Unsupported("input "+strconv.Itoa(i), "element %d of %q is arithmetic on the symbolic batch size: the native engine needs it constant", j, name)
		}
	}
	return vals, batchAt, nil
}

// add appends a layer made from node b; the chain's shape becomes out.
func (im *importer) add(l train.Layer, b *onnx.NodeBase, out train.Shape, foldBias bool) {
	im.steps = append(im.steps, step{layer: l, node: b, foldBias: foldBias})
	im.shape = out
}

// weights returns the constant input i of b, checking that it exists and is finite.
func (im *importer) weights(b *onnx.NodeBase, i int, what string) (*onnx.Tensor, error) {
	name := b.Input(i)
	t, ok := im.consts[name]
	if !ok {
		return nil, b.Unsupported("input "+strconv.Itoa(i), "%s %q is computed at run time: the native engine needs constant weights", what, name)
	}
	if t.DataType != onnx.Float {
		return nil, b.Errorf("input "+strconv.Itoa(i), "%s %q has type %s, want FLOAT", what, name, t.DataType)
	}
	for j, v := range t.Float {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, b.Errorf("input "+strconv.Itoa(i), "initializer %q (%s) holds %v at element %d: weights must be finite", name, what, v, j)
		}
	}
	return t, nil
}

func newParam(dims []int64, data []float32) *train.Param {
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = int(d)
	}
	return &train.Param{Shape: shape, Data: data}
}

// full returns the chain value's whole shape with the declared batch size (or 1).
func (im *importer) full() []int64 {
	return append([]int64{max(im.fixedB, 1)}, shapeInt64(im.shape)...)
}

// noValue is inferNode's value lookup when only static types are known.
func noValue(string) *onnx.Tensor { return nil }

func toShape(d []int64) train.Shape {
	s := make(train.Shape, len(d))
	for i, v := range d {
		s[i] = int(v)
	}
	return s
}

// chain turns node n, whose input at index at is the chain's value, into layers.
func (im *importer) chain(n onnx.Node, at int) error {
	b := n.Base()
	rank := len(im.shape) + 1
	x := im.full()
	switch n.(type) {
	case *onnx.Add, *onnx.Arith: // the chain's value may be either operand
	default:
		if at != 0 {
			return b.Unsupported("input "+strconv.Itoa(at), "the chain's value is input %d of %s: the native engine needs it as input 0, with constant weights", at, b.Op)
		}
	}
	switch n := n.(type) {
	case *onnx.Conv:
		return im.chainConv(n, b, at, rank, x)
	case *onnx.MaxPool, *onnx.AveragePool:
		return im.chainPool(n, b, at, rank, x)
	case *onnx.BatchNormalization:
		return im.chainBatchNorm(n, b, at, rank, x)
	case *onnx.Gemm:
		return im.chainGemm(n, b, at, rank, x)
	case *onnx.MatMul:
		return im.chainMatMul(n, b, at, rank, x)
	case *onnx.Add:
		other := 1 - at
		c, err := im.constOperand(n, b, other, "addend", x)
		if err != nil {
			return err
		}
		err = im.foldAdd(b, c, other)
		var ue *onnx.UnsupportedError
		if errors.As(err, &ue) {
			// Nothing to fold into: an Add layer of its own.
			return im.chainArith(b, c, train.ArithAdd, x)
		}
		return err
	case *onnx.Arith:
		return im.chainArithNode(n, b, at, x)
	case *onnx.Relu:
		im.add(&train.ReLU{}, b, im.shape, false)
	case *onnx.Sigmoid:
		im.add(&train.Sigmoid{}, b, im.shape, false)
	case *onnx.Tanh:
		im.add(&train.Tanh{}, b, im.shape, false)
	case *onnx.LeakyRelu:
		im.add(&train.LeakyReLU{Alpha: n.Alpha}, b, im.shape, false)
	case *onnx.Elu:
		im.add(&train.ELU{Alpha: n.Alpha}, b, im.shape, false)
	case *onnx.Clip:
		return im.chainClip(n, b)
	case *onnx.Softmax:
		return im.chainSoftmax(b, n.Axis, n.Coerce2D, false, rank, x)
	case *onnx.LogSoftmax:
		return im.chainSoftmax(b, n.Axis, n.Coerce2D, true, rank, x)
	case *onnx.Flatten:
		return im.chainFlatten(n, b, at, rank, x)
	case *onnx.Reshape:
		return im.chainReshape(n, b, at, rank, x)
	case *onnx.Unsqueeze, *onnx.Squeeze, *onnx.Transpose:
		return im.chainView(n, b, x)
	case *onnx.Pad:
		return im.chainPad(n, b, rank, x)
	case *onnx.GlobalAveragePool, *onnx.GlobalMaxPool:
		return im.chainGlobalPool(n, b, rank, x)
	case *onnx.Reduce:
		return im.chainReduce(n, b, rank, x)
	case *onnx.Identity:
	case *onnx.Dropout:
		im.add(&train.Dropout{Rate: float64(n.Ratio)}, b, im.shape, false)
	default:
		return b.Unsupported("", "op %s on the chain's value is not supported by the native engine", b.Op)
	}
	return nil
}

// chainConv is the Conv lowering: a Conv2D layer (2-D only, with constant weights).
func (im *importer) chainConv(n *onnx.Conv, b *onnx.NodeBase, at, rank int, x []int64) error {
	if at != 0 {
		return b.Unsupported("input "+strconv.Itoa(at), "the chain's value is the weights: the native engine needs constant weights")
	}
	w, err := im.weights(b, 1, "W")
	if err != nil {
		return err
	}
	if len(w.Dims) != rank {
		return b.Errorf("input 0", "the input %q has rank %d, W %v has rank %d", b.Inputs[0], rank, w.Dims, len(w.Dims))
	}
	if rank != 4 && rank != 3 {
		return b.Unsupported("kernel_shape", "%d-D convolution: the native engine is 2-D (and 1-D as 2-D)", rank-2)
	}
	var bias *onnx.Tensor
	types := []onnx.TensorType{{DataType: onnx.Float, Shape: x}, {DataType: onnx.Float, Shape: w.Dims}}
	if b.Input(2) != "" {
		if bias, err = im.weights(b, 2, "B"); err != nil {
			return err
		}
		types = append(types, onnx.TensorType{DataType: onnx.Float, Shape: bias.Dims})
	}
	outT, err := onnx.InferNode(n, types, noValue)
	if err != nil {
		return err
	}
	win, _ := n.Window.Resolve(b, rank-2, w.Dims[2:])
	_, pads, _ := win.OutputShape(b, x)
	bd := make([]float32, w.Dims[0])
	if bias != nil {
		copy(bd, bias.Float)
	}
	wd, wdims, err := denseGroups(b, w, n.Group)
	if err != nil {
		return err
	}
	if rank == 3 {
		// 1-D as 2-D: (C, L) -> (C, 1, L), a 1 x k kernel, and back.
		l := &train.Conv2D{Filters: int(w.Dims[0]), KH: 1, KW: int(w.Dims[2]),
			Stride: [2]int{1, int(win.Strides[0])}, Dilation: [2]int{1, int(win.Dilations[0])},
			Pads: [4]int{0, int(pads[0]), 0, int(pads[1])}, Padding: train.PadExplicit,
			W: newParam([]int64{wdims[0], wdims[1], 1, wdims[2]}, wd), B: newParam([]int64{w.Dims[0]}, bd)}
		out := toShape(outT[0].Shape[1:])
		im.add(&train.Reshape{To: train.Shape{im.shape[0], 1, im.shape[1]}}, b, train.Shape{im.shape[0], 1, im.shape[1]}, false)
		im.add(l, b, train.Shape{out[0], 1, out[1]}, false)
		im.add(&train.Reshape{To: out}, b, out, false)
		return nil
	}
	p4 := [4]int{int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])}
	if q, ok := im.foldPad(b, func([4]int) bool { return true }); ok {
		for i := range p4 {
			p4[i] += q[i]
		}
	}
	l := &train.Conv2D{Filters: int(w.Dims[0]), KH: int(w.Dims[2]), KW: int(w.Dims[3]),
		Stride:   [2]int{int(win.Strides[0]), int(win.Strides[1])},
		Dilation: [2]int{int(win.Dilations[0]), int(win.Dilations[1])},
		Pads:     p4,
		Padding:  train.PadExplicit,
		W:        newParam(wdims, wd), B: newParam([]int64{w.Dims[0]}, bd)}
	im.add(l, b, toShape(outT[0].Shape[1:]), true)
	return nil
}

// maxDenseGroupWeights bounds the weights of a grouped convolution made dense.
const maxDenseGroupWeights = 1 << 24

// denseGroups returns the weights of a convolution with group groups as those of a
// dense one: W (M, C/g, k...) becomes (M, C, k...) with zeros outside each output
// channel's group, which computes the same sums (the extra terms are exact zeros for
// finite inputs). Fine-tuning may make the zeros non-zero: the layer trains as a dense
// convolution.
func denseGroups(b *onnx.NodeBase, w *onnx.Tensor, groups int64) ([]float32, []int64, error) {
	if groups == 1 {
		return slices.Clone(w.Float), slices.Clone(w.Dims), nil
	}
	m, cg, k := w.Dims[0], w.Dims[1], prod64(w.Dims[2:])
	c := cg * groups
	if m*c*k > maxDenseGroupWeights {
		return nil, nil, b.Unsupported("group", "group=%d: the native engine runs it as a dense convolution, and %d weights are too many", groups, m*c*k)
	}
	dims := append([]int64{m, c}, w.Dims[2:]...)
	out := make([]float32, m*c*k)
	mPer := m / groups
	for o := int64(0); o < m; o++ {
		g := o / mPer
		copy(out[(o*c+g*cg)*k:(o*c+(g+1)*cg)*k], w.Float[o*cg*k:(o+1)*cg*k])
	}
	return out, dims, nil
}

func prod64(d []int64) int64 {
	p := int64(1)
	for _, v := range d {
		p *= v
	}
	return p
}

// chainPool is the pooling lowering: a MaxPool2D or AvgPool2D layer (2-D, no dilation, pads smaller than the window).
func (im *importer) chainPool(n onnx.Node, b *onnx.NodeBase, at, rank int, x []int64) error {
	var win onnx.Window
	avg, cip := false, false
	if mp, ok := n.(*onnx.MaxPool); ok {
		win = mp.Window
	} else {
		ap := n.(*onnx.AveragePool)
		win, avg, cip = ap.Window, true, ap.CountIncludePad
	}
	if rank != 4 && rank != 3 {
		return b.Unsupported("kernel_shape", "%d-D pooling on a rank-%d input: the native engine is 2-D (and 1-D as 2-D)", rank-2, rank)
	}
	outT, err := onnx.InferNode(n, []onnx.TensorType{{DataType: onnx.Float, Shape: x}}, noValue)
	if err != nil {
		return err
	}
	win, _ = win.Resolve(b, rank-2, nil)
	if avg && slices.ContainsFunc(win.Dilations, func(d int64) bool { return d != 1 }) {
		return b.Unsupported("dilations", "%v: the native engine averages without dilation", win.Dilations)
	}
	_, pads, _ := win.OutputShape(b, x)
	for i, p := range pads {
		if p >= win.KernelShape[i%(rank-2)] {
			return b.Unsupported("pads", "pad %d >= window %d: the native engine needs pads smaller than the window", p, win.KernelShape[i%(rank-2)])
		}
	}
	ceil := win.CeilMode && win.AutoPad == onnx.NotSet
	if rank == 3 {
		// 1-D as 2-D: (C, L) -> (C, 1, L), a 1 x k window, and back.
		win.KernelShape = []int64{1, win.KernelShape[0]}
		win.Strides = []int64{1, win.Strides[0]}
		win.Dilations = []int64{1, win.Dilations[0]}
		pads = []int64{0, pads[0], 0, pads[1]}
	}
	kh, kw := int(win.KernelShape[0]), int(win.KernelShape[1])
	stride := [2]int{int(win.Strides[0]), int(win.Strides[1])}
	p4 := [4]int{int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])}
	var l train.Layer
	if avg {
		// A zero Pad before folds in when the sums stay the same: the pool counts its
		// padding, or has none of its own (then the zeros count as input either way); in
		// ceil mode only without end pads (the last window's start is checked against the
		// input and its begin pad).
		ownPads := p4 != [4]int{}
		if q, ok := im.foldPad(b, func(q [4]int) bool {
			if ceil && (q[2] > 0 || q[3] > 0) {
				return false
			}
			for i := range q {
				if q[i]+p4[i] >= []int{kh, kw}[i%2] {
					return false
				}
			}
			return cip || !ownPads
		}); ok && rank == 4 {
			for i := range p4 {
				p4[i] += q[i]
			}
			cip = true
		}
		l = &train.AvgPool2D{KH: kh, KW: kw, Stride: stride, Pads: p4, Padding: train.PadExplicit, CeilMode: ceil, CountIncludePad: cip}
	} else {
		l = &train.MaxPool2D{KH: kh, KW: kw, Stride: stride, Pads: p4, Padding: train.PadExplicit, CeilMode: ceil,
			Dilation: [2]int{int(win.Dilations[0]), int(win.Dilations[1])}}
	}
	out := toShape(outT[0].Shape[1:])
	if rank == 3 {
		im.add(&train.Reshape{To: train.Shape{im.shape[0], 1, im.shape[1]}}, b, train.Shape{im.shape[0], 1, im.shape[1]}, false)
		im.add(l, b, train.Shape{out[0], 1, out[1]}, false)
		im.add(&train.Reshape{To: out}, b, out, false)
		return nil
	}
	im.add(l, b, out, false)
	return nil
}

// chainBatchNorm is the BatchNormalization lowering: a BatchNorm layer over (N, C) or (N, C, H, W).
func (im *importer) chainBatchNorm(n *onnx.BatchNormalization, b *onnx.NodeBase, at, rank int, x []int64) error {
	if rank < 2 {
		return b.Unsupported("input 0", "a rank-%d input: the native engine normalises (N, C, ...)", rank)
	}
	if n.Epsilon == 0 {
		return b.Unsupported("epsilon", "epsilon 0: the native engine needs epsilon > 0")
	}
	var ps [4]*onnx.Tensor
	types := []onnx.TensorType{{DataType: onnx.Float, Shape: x}}
	for i, what := range []string{"scale", "B", "mean", "var"} {
		t, err := im.weights(b, i+1, what)
		if err != nil {
			return err
		}
		ps[i] = t
		types = append(types, onnx.TensorType{DataType: onnx.Float, Shape: t.Dims})
	}
	if _, err := onnx.InferNode(n, types, noValue); err != nil {
		return err
	}
	for c, v := range ps[3].Float {
		if v < 0 {
			return b.Errorf("input 4", "var[%d] = %v is negative", c, v)
		}
	}
	mk := func(t *onnx.Tensor) *train.Param { return newParam(t.Dims, slices.Clone(t.Float)) }
	l := &train.BatchNorm{Epsilon: float64(n.Epsilon), Scale: mk(ps[0]), Bias: mk(ps[1]), Mean: mk(ps[2]), Var: mk(ps[3])}
	im.add(l, b, im.shape, false)
	return nil
}

// chainGemm is the Gemm lowering: a Dense layer, alpha, beta and the transposes folded into its weights.
func (im *importer) chainGemm(n *onnx.Gemm, b *onnx.NodeBase, at, rank int, x []int64) error {
	if at != 0 {
		return b.Unsupported("input "+strconv.Itoa(at), "the chain's value is B or C: the native engine needs constant weights")
	}
	if n.TransA {
		return b.Unsupported("transA", "transA=1 transposes the batch: the native engine needs A as (N, K)")
	}
	if rank != 2 {
		return b.Errorf("input 0", "A has rank %d, want 2", rank)
	}
	w, err := im.weights(b, 1, "B")
	if err != nil {
		return err
	}
	types := []onnx.TensorType{{DataType: onnx.Float, Shape: x}, {DataType: onnx.Float, Shape: w.Dims}}
	var c *onnx.Tensor
	if b.Input(2) != "" {
		if c, err = im.weights(b, 2, "C"); err != nil {
			return err
		}
		types = append(types, onnx.TensorType{DataType: onnx.Float, Shape: c.Dims})
	}
	outT, err := onnx.InferNode(n, types, noValue)
	if err != nil {
		return err
	}
	units, k := outT[0].Shape[1], int64(im.shape[0])
	wd := make([]float32, units*k)
	for u := int64(0); u < units; u++ {
		for j := int64(0); j < k; j++ {
			v := w.Float[j*units+u] // B (K, U)
			if n.TransB {
				v = w.Float[u*k+j] // B (U, K)
			}
			if n.Alpha != 1 {
				v *= n.Alpha
			}
			wd[u*k+j] = v
		}
	}
	bd := make([]float32, units)
	if c != nil {
		if len(c.Dims) == 2 && c.Dims[0] != 1 {
			return b.Unsupported("input 2", "C %v varies along the batch: the native engine needs one bias per unit", c.Dims)
		}
		for u := range bd {
			v := c.Float[0]
			if len(c.Float) > 1 {
				v = c.Float[u]
			}
			if n.Beta != 1 {
				v *= n.Beta
			}
			bd[u] = v
		}
	}
	l := &train.Dense{Units: int(units), W: newParam([]int64{units, k}, wd), B: newParam([]int64{units}, bd)}
	im.add(l, b, train.Shape{int(units)}, true)
	return nil
}

// chainMatMul is the MatMul lowering: a Dense layer without bias (a following Add folds into it).
func (im *importer) chainMatMul(n *onnx.MatMul, b *onnx.NodeBase, at, rank int, x []int64) error {
	if at != 0 {
		return b.Unsupported("input 1", "the chain's value is MatMul's right operand: the native engine computes x W^T with constant W")
	}
	if rank != 2 {
		return b.Unsupported("input 0", "MatMul of a rank-%d value: the native engine multiplies (N, K) by a constant (K, U)", rank)
	}
	w, err := im.weights(b, 1, "B")
	if err != nil {
		return err
	}
	if len(w.Dims) != 2 {
		return b.Unsupported("input 1", "B %v: the native engine multiplies by a constant 2-D matrix", w.Dims)
	}
	if _, err := onnx.InferNode(n, []onnx.TensorType{{DataType: onnx.Float, Shape: x}, {DataType: onnx.Float, Shape: w.Dims}}, noValue); err != nil {
		return err
	}
	k, units := w.Dims[0], w.Dims[1]
	wd := make([]float32, units*k)
	for u := int64(0); u < units; u++ {
		for j := int64(0); j < k; j++ {
			wd[u*k+j] = w.Float[j*units+u]
		}
	}
	l := &train.Dense{Units: int(units), W: newParam([]int64{units, k}, wd), B: newParam([]int64{units}, make([]float32, units))}
	im.add(l, b, train.Shape{int(units)}, true)
	return nil
}

// chainSoftmax is the Softmax and LogSoftmax lowering: a Softmax or LogSoftmax layer over
// each sample's features, or over consecutive rows of them (the last axis, or the 2-D
// view of opsets before 13 from an axis after the batch).
func (im *importer) chainSoftmax(b *onnx.NodeBase, ax int64, coerce2D, log bool, rank int, x []int64) error {
	axis, err := onnx.NormAxis(b, "axis", ax, rank, false)
	if err != nil {
		return err
	}
	if axis == 0 {
		return b.Unsupported("axis", "axis %d normalises over the batch: the native engine normalises each sample", ax)
	}
	_, dim, inner := onnx.SoftmaxGroups(x, int64(axis), coerce2D)
	if inner != 1 {
		return b.Unsupported("axis", "axis %d of a rank-%d value is not the last: the native engine normalises consecutive values", ax, rank)
	}
	width := int(dim)
	if rank == 2 {
		width = 0 // the whole sample: a Dense layer before may fuse it
	}
	if log {
		im.add(&train.LogSoftmax{Width: width}, b, im.shape, false)
	} else {
		im.add(&train.Softmax{Width: width}, b, im.shape, false)
	}
	return nil
}

// chainClip is the Clip lowering: a Clip layer with constant bounds.
func (im *importer) chainClip(n *onnx.Clip, b *onnx.NodeBase) error {
	lo, hi := n.Min, n.Max
	for i, p := range []*float32{&lo, &hi} {
		name := b.Input(i + 1)
		if name == "" {
			continue
		}
		t, ok := im.consts[name]
		if !ok {
			return b.Unsupported("input "+strconv.Itoa(i+1), "the bound %q is computed at run time: the native engine needs it constant", name)
		}
		*p = t.Float[0]
	}
	if math.IsNaN(float64(lo)) || math.IsNaN(float64(hi)) {
		return b.Errorf("min", "bounds [%v, %v]: NaN", lo, hi)
	}
	im.add(&train.Clip{Min: lo, Max: hi}, b, im.shape, false)
	return nil
}

// chainView is the Unsqueeze, Squeeze and Transpose lowering: they must keep the batch
// first; a Reshape layer when the order of the values does not change (a Transpose that
// moves only axes of size 1, as an NHWC input of one channel does), else a Transpose.
func (im *importer) chainView(n onnx.Node, b *onnx.NodeBase, x []int64) error {
	types := []onnx.TensorType{{DataType: onnx.Float, Shape: x}}
	if b.Input(1) != "" {
		t, ok := im.consts[b.Input(1)]
		if !ok {
			return b.Unsupported("input 1", "the axes are computed at run time: the native engine needs them constant")
		}
		types = append(types, onnx.TensorType{DataType: t.DataType, Shape: t.Dims})
	}
	outT, err := onnx.InferNode(n, types, func(name string) *onnx.Tensor { return im.consts[name] })
	if err != nil {
		return err
	}
	out := outT[0].Shape
	if tr, ok := n.(*onnx.Transpose); ok {
		perm := tr.Permutation(len(x))
		if perm[0] != 0 {
			return b.Unsupported("perm", "%v moves the batch axis: the native engine keeps it first", perm)
		}
		var moved []int64 // the axes of size > 1, in output order
		for _, p := range perm {
			if x[p] > 1 {
				moved = append(moved, p)
			}
		}
		if slices.IsSorted(moved) {
			im.add(&train.Reshape{To: toShape(out[1:])}, b, toShape(out[1:]), false)
			return nil
		}
		sp := make([]int, len(perm)-1)
		for i, p := range perm[1:] {
			sp[i] = int(p) - 1
		}
		im.add(&train.Transpose{Perm: sp}, b, toShape(out[1:]), false)
		return nil
	}
	if len(out) == 0 || out[0] != x[0] || (im.fixedB < 0 && !keepsBatchAxis(n, len(x))) {
		return b.Unsupported("axes", "%s to %v does not keep the batch as the first axis", b.Op, out)
	}
	if len(out) == 1 {
		return b.Unsupported("axes", "%s to (N): the native engine needs at least one value per sample", b.Op)
	}
	im.add(&train.Reshape{To: toShape(out[1:])}, b, toShape(out[1:]), false)
	return nil
}

// keepsBatchAxis reports whether an Unsqueeze or Squeeze leaves axis 0 (of a rank-rank
// input) alone, whatever the batch size.
func keepsBatchAxis(n onnx.Node, rank int) bool {
	var axes []int64
	out := rank
	switch n := n.(type) {
	case *onnx.Unsqueeze:
		axes = n.Axes
		out = rank + len(axes)
	case *onnx.Squeeze:
		axes = n.Axes
		if len(axes) == 0 {
			return false // every size-1 axis: a batch of 1 would go too
		}
	}
	for _, a := range axes {
		if a == 0 || a == -int64(out) {
			return false
		}
	}
	return true
}

// chainPad is the Pad lowering: nothing for all-zero pads, else a Pad layer (which a
// following Conv or AveragePool may absorb, see foldPad). The batch axis is not padded.
func (im *importer) chainPad(n *onnx.Pad, b *onnx.NodeBase, rank int, x []int64) error {
	pads := n.Pads
	if pads == nil {
		p, batchAt, err := im.shapeInput(b, 1)
		if err != nil {
			return err
		}
		if len(batchAt) > 0 {
			return b.Unsupported("input 1", "pads computed from the batch size")
		}
		pads = p
	}
	value := n.Value
	if name := b.Input(2); name != "" {
		t, ok := im.consts[name]
		if !ok {
			return b.Unsupported("input 2", "the constant_value is computed at run time: the native engine needs it constant")
		}
		value = t.Float[0]
	}
	full, err := n.Resolve(rank, pads)
	if err != nil {
		return err
	}
	if _, err := n.OutputShape(x, full); err != nil {
		return err
	}
	if !slices.ContainsFunc(full, func(p int64) bool { return p != 0 }) {
		return nil // all-zero pads: the identity (torch's AvgPool2d writes one)
	}
	if full[0] != 0 || full[rank] != 0 {
		return b.Unsupported("pads", "%v pads the batch axis: the native engine pads each sample", full)
	}
	sp := make([]int, 0, 2*(rank-1))
	for _, p := range full[1:rank] {
		sp = append(sp, int(p))
	}
	for _, p := range full[rank+1:] {
		sp = append(sp, int(p))
	}
	mode := map[onnx.PadMode]train.FillMode{onnx.PadConstant: train.FillConstant, onnx.PadReflect: train.FillReflect, onnx.PadEdge: train.FillEdge}[n.Mode]
	out := make(train.Shape, rank-1)
	for i := range out {
		out[i] = im.shape[i] + sp[i] + sp[rank-1+i]
	}
	im.add(&train.Pad{Pads: sp, Mode: mode, Value: value}, b, out, false)
	return nil
}

// foldPad returns the spatial pads [top, left, bottom, right] of a zero-constant Pad that
// is the chain's last step and computes input 0 of b (and is no graph output), and
// removes it; ok is false, and nothing changes, otherwise. A Conv absorbs such a Pad
// exactly (its own padding is zeros too); an AveragePool when it counts the padding.
func (im *importer) foldPad(b *onnx.NodeBase, accept func(p [4]int) bool) (pads [4]int, ok bool) {
	if len(im.steps) == 0 || im.pos[b.Input(0)] != len(im.steps) {
		return pads, false
	}
	p, isPad := im.steps[len(im.steps)-1].layer.(*train.Pad)
	if !isPad || p.Mode != train.FillConstant || p.Value != 0 || len(p.Pads) != 6 || p.Pads[0] != 0 || p.Pads[3] != 0 {
		return pads, false
	}
	for _, o := range im.g.Outputs {
		if o.Name == b.Input(0) {
			return pads, false
		}
	}
	pads = [4]int{p.Pads[1], p.Pads[2], p.Pads[4], p.Pads[5]}
	for _, v := range pads {
		if v < 0 {
			return pads, false
		}
	}
	if !accept(pads) {
		return pads, false
	}
	im.steps = im.steps[:len(im.steps)-1]
	return pads, true
}

// chainGlobalPool is the GlobalAveragePool and GlobalMaxPool lowering: a 2-D pooling
// layer whose window is the whole plane.
func (im *importer) chainGlobalPool(n onnx.Node, b *onnx.NodeBase, rank int, x []int64) error {
	if rank != 4 {
		return b.Unsupported("input 0", "global pooling of a rank-%d value: the native engine pools (N, C, H, W)", rank)
	}
	if _, err := onnx.InferNode(n, []onnx.TensorType{{DataType: onnx.Float, Shape: x}}, noValue); err != nil {
		return err
	}
	kh, kw := im.shape[1], im.shape[2]
	var l train.Layer = &train.AvgPool2D{KH: kh, KW: kw, Stride: [2]int{1, 1}, Padding: train.PadExplicit}
	if _, mx := n.(*onnx.GlobalMaxPool); mx {
		l = &train.MaxPool2D{KH: kh, KW: kw, Stride: [2]int{1, 1}, Padding: train.PadExplicit}
	}
	im.add(l, b, train.Shape{im.shape[0], 1, 1}, false)
	return nil
}

// chainReduce is the ReduceMean and ReduceMax lowering: over the spatial axes of
// (N, C, H, W) or (N, C, L), pooling over the whole plane (as GlobalAveragePool and
// GlobalMaxPool), then a Reshape when keepdims drops the axes.
func (im *importer) chainReduce(n *onnx.Reduce, b *onnx.NodeBase, rank int, x []int64) error {
	outT, err := onnx.InferNode(n, []onnx.TensorType{{DataType: onnx.Float, Shape: x}}, noValue)
	if err != nil {
		return err
	}
	axes, _ := n.Reduced(rank)
	if axes == nil {
		return nil // noop_with_empty_axes: the identity
	}
	spatial := make([]int, 0, rank-2)
	for i := 2; i < rank; i++ {
		spatial = append(spatial, i)
	}
	if (rank != 3 && rank != 4) || !slices.Equal(axes, spatial) {
		return b.Unsupported("axes", "%s over axes %v of a rank-%d value: the native engine reduces the spatial axes of (N, C, H, W) or (N, C, L) only", n.Op, axes, rank)
	}
	c, kh, kw := im.shape[0], 1, im.shape[len(im.shape)-1]
	if rank == 4 {
		kh = im.shape[1]
	} else {
		im.add(&train.Reshape{To: train.Shape{c, 1, kw}}, b, train.Shape{c, 1, kw}, false)
	}
	var l train.Layer = &train.AvgPool2D{KH: kh, KW: kw, Stride: [2]int{1, 1}, Padding: train.PadExplicit}
	if n.Op == "ReduceMax" {
		l = &train.MaxPool2D{KH: kh, KW: kw, Stride: [2]int{1, 1}, Padding: train.PadExplicit}
	}
	im.add(l, b, train.Shape{c, 1, 1}, false)
	if out := toShape(outT[0].Shape[1:]); !slices.Equal(out, im.shape) {
		im.add(&train.Reshape{To: out}, b, out, false)
	}
	return nil
}

// chainFlatten is the Flatten lowering: a Flatten layer at axis 1.
func (im *importer) chainFlatten(n *onnx.Flatten, b *onnx.NodeBase, at, rank int, x []int64) error {
	axis, err := onnx.NormAxis(b, "axis", n.Axis, rank, true)
	if err != nil {
		return err
	}
	if axis != 1 {
		return b.Unsupported("axis", "axis %d merges the batch with other dims: the native engine flattens to (N, features) (axis 1)", n.Axis)
	}
	im.add(&train.Flatten{}, b, train.Shape{im.shape.Size()}, false)
	return nil
}

// chainReshape is the Reshape lowering: nothing, or a Flatten, for a constant shape that keeps the batch.
func (im *importer) chainReshape(n *onnx.Reshape, b *onnx.NodeBase, at, rank int, x []int64) error {
	shape := n.Shape
	batchFirst := false
	if shape == nil {
		vals, batchAt, err := im.shapeInput(b, 1)
		if err != nil {
			return err
		}
		if len(batchAt) > 1 || (len(batchAt) == 1 && batchAt[0] != 0) {
			return b.Unsupported("input 1", "the batch size at position %v of the shape: the native engine keeps the batch first", batchAt)
		}
		batchFirst = len(batchAt) == 1
		if batchFirst {
			vals[0] = 1 // a placeholder for the checks below, which take it as the batch
		}
		t := onnx.NewInt64(b.Input(1), []int64{int64(len(vals))}, vals)
		if err := onnx.CheckReshapeShape(b, t, n.AllowZero); err != nil {
			return err
		}
		shape = vals
	}
	out, err := im.reshape(b, shape, n.AllowZero, batchFirst)
	if err != nil {
		return err
	}
	switch {
	case out.Equal(im.shape): // a no-op
	case len(out) == 1:
		im.add(&train.Flatten{}, b, out, false)
	default:
		im.add(&train.Reshape{To: out}, b, out, false)
	}
	return nil
}

// constOperand returns the constant operand (input other) of an Add, Sub, Mul or Div whose
// other input is the chain's value x, with the dims numpy broadcasting gives it: before
// opset 7 only B (input 1) broadcasts, aligned at the axis attribute.
func (im *importer) constOperand(n *onnx.Add, b *onnx.NodeBase, other int, what string, x []int64) (*onnx.Tensor, error) {
	c, err := im.weights(b, other, what)
	if err != nil || !n.Legacy {
		return c, err
	}
	if other != 1 {
		return nil, b.Unsupported("input 0", "the constant is A of a legacy (opset < 7) %s: the native engine takes a constant B", b.Op)
	}
	dims, err := n.Operand1Shape(x, c.Dims)
	if err != nil {
		return nil, err
	}
	cc := *c
	cc.Dims = dims
	return &cc, nil
}

// chainArithNode is the Sub, Mul and Div lowering: an Arith layer with the other operand,
// which must be constant. The chain's value may be either operand, except a divisor.
func (im *importer) chainArithNode(n *onnx.Arith, b *onnx.NodeBase, at int, x []int64) error {
	c, err := im.constOperand(&n.Add, b, 1-at, "operand", x)
	if err != nil {
		return err
	}
	var op train.ArithOp
	switch {
	case n.Op == "Sub" && at == 0:
		op = train.ArithSub
	case n.Op == "Sub":
		op = train.ArithRSub
	case n.Op == "Mul":
		op = train.ArithMul
	case n.Op == "Div" && at == 0:
		op = train.ArithDiv
	default:
		return b.Unsupported("input 1", "the chain's value is the divisor: the native engine divides by a constant only")
	}
	return im.chainArith(b, c, op, x)
}

// chainArith adds an Arith layer computing the chain's value op c, c broadcast to one
// sample (the same for every sample: its batch axis, if it has one, is 1), with one value
// when c is a single one.
func (im *importer) chainArith(b *onnx.NodeBase, c *onnx.Tensor, op train.ArithOp, x []int64) error {
	at := "input 1"
	if op == train.ArithRSub {
		at = "input 0"
	}
	out, err := onnx.BroadcastShapes(x, c.Dims)
	if err != nil {
		return b.Errorf(at, "%v", err)
	}
	if !slices.Equal(out, x) {
		return b.Unsupported(at, "the constant %v broadcasts the value %v to %v: the native engine keeps the value's shape", c.Dims, x, out)
	}
	if len(c.Dims) == len(x) && c.Dims[0] != 1 {
		return b.Unsupported(at, "the constant %v differs across the batch: the native engine applies one constant to every sample", c.Dims)
	}
	var vals []float32
	if len(c.Float) == 1 {
		vals = []float32{c.Float[0]}
	} else {
		// Expand c over one sample: index (0, i1, ..., ik) of the value.
		sample := append([]int64{1}, shapeInt64(im.shape)...)
		vals = make([]float32, im.shape.Size())
		idx := make([]int64, len(sample))
		for i := range vals {
			r := int64(i)
			for d := len(sample) - 1; d >= 0; d-- {
				idx[d] = r % sample[d]
				r /= sample[d]
			}
			off, shift := int64(0), len(idx)-len(c.Dims)
			for d, n := range c.Dims {
				j := idx[shift+d]
				if n == 1 {
					j = 0
				}
				off = off*n + j
			}
			vals[i] = c.Float[off]
		}
	}
	im.add(&train.Arith{Op: op, C: vals}, b, im.shape, false)
	return nil
}

// foldAdd folds the constant c (input `at` of an Add) into the bias of the previous layer.
func (im *importer) foldAdd(b *onnx.NodeBase, c *onnx.Tensor, at int) error {
	var prev *step
	if len(im.steps) > 0 {
		prev = &im.steps[len(im.steps)-1]
	}
	// The chain value must be that layer's raw output.
	if prev == nil || !prev.foldBias || im.pos[b.Inputs[1-at]] != len(im.steps) {
		return b.Unsupported("input "+strconv.Itoa(at), "Add of a constant only folds into the bias of the Gemm, MatMul or Conv just before it")
	}
	for _, o := range im.g.Outputs {
		if p, ok := im.pos[o.Name]; ok && p == len(im.steps) {
			return b.Unsupported("input "+strconv.Itoa(1-at), "the value before the Add, %q, is also a graph output: the native engine folds the Add into the bias", o.Name)
		}
	}
	if _, err := onnx.BroadcastShapes(c.Dims, im.full()); err != nil {
		return b.Errorf("input "+strconv.Itoa(at), "%v", err)
	}
	var bias []float32
	switch l := prev.layer.(type) {
	case *train.Dense:
		bias = l.B.Data
		// c must be () or (U) or (1, U) or (1) ...: one value per unit, the same for every sample.
		if !perChannel(c.Dims, 1, int64(l.Units), 2) {
			return b.Unsupported("input "+strconv.Itoa(at), "addend %v is not one value per unit", c.Dims)
		}
	case *train.Conv2D:
		bias = l.B.Data
		if !perChannel(c.Dims, 3, int64(l.Filters), 4) {
			return b.Unsupported("input "+strconv.Itoa(at), "addend %v is not one value per channel (C, 1, 1)", c.Dims)
		}
	}
	for i := range bias {
		v := c.Float[0]
		if len(c.Float) > 1 {
			v = c.Float[i]
		}
		bias[i] += v
	}
	return nil
}

// perChannel reports whether dims, aligned right against a value of rank `rank` whose
// channel axis is `fromEnd` axes from the end, hold one value per channel (or a single
// value): every axis is 1 except possibly the channel axis, which is 1 or channels.
func perChannel(dims []int64, fromEnd int, channels int64, rank int) bool {
	if len(dims) > rank {
		return false
	}
	for i, d := range dims {
		axis := len(dims) - 1 - i // axes from the end
		if axis == fromEnd-1 {
			if d != 1 && d != channels {
				return false
			}
		} else if d != 1 {
			return false
		}
	}
	return true
}

// reshape returns the per-sample shape Reshape gives the chain's value, or an error when
// the target does not keep the batch as its first dimension.
// batchFirst says that shape[0] is the batch size itself (shape arithmetic on a symbolic
// batch).
func (im *importer) reshape(b *onnx.NodeBase, shape []int64, allowZero, batchFirst bool) (train.Shape, error) {
	if len(shape) == 0 {
		return nil, b.Unsupported("input 1", "Reshape to a scalar drops the batch")
	}
	x := shapeInt64(im.shape) // per sample
	size := int64(im.shape.Size())
	rest := make([]int64, len(shape)-1)
	known, neg := int64(1), -1
	for i, v := range shape[1:] {
		switch {
		case v == 0 && !allowZero:
			if i >= len(x) {
				return nil, b.Errorf("input 1", "shape[%d] = 0 copies a dimension the input does not have", i+1)
			}
			rest[i] = x[i]
		case v == -1:
			neg = i
			continue
		default:
			rest[i] = v
		}
		if rest[i] != 0 && known > onnx.MaxTensorBytes/rest[i] {
			return nil, b.Errorf("input 1", "shape %v is too large", shape)
		}
		known *= rest[i]
	}
	first := shape[0]
	keeps := (first == 0 && !allowZero) || (first > 0 && first == im.fixedB) || batchFirst
	if first == -1 && neg < 0 && known == size {
		keeps = true
	}
	if !keeps {
		return nil, b.Unsupported("input 1", "Reshape to %v does not keep the batch as the first dimension", shape)
	}
	if neg >= 0 {
		if known == 0 || size%known != 0 {
			return nil, b.Errorf("input 1", "cannot infer -1 in shape %v for a sample of %v", shape, im.shape)
		}
		rest[neg] = size / known
		known = size
	}
	if known != size {
		return nil, b.Errorf("input 1", "shape %v does not hold a sample of %v (%d elements)", shape, im.shape, size)
	}
	return toShape(rest), nil
}
