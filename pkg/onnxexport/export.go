package onnxexport

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/train"
)

// Export defaults and limits.
const (
	// DefaultOpset is the default-domain opset Export writes unless told otherwise.
	DefaultOpset = 13
	// MinExportOpset and MaxExportOpset bound ExportOptions.Opset: 17 is the newest opset
	// that Debian's onnx 1.12 checker knows.
	MinExportOpset = 13
	MaxExportOpset = 17
	// ProducerName is written to ModelProto.producer_name.
	ProducerName = "fmkit"
)

// The value names of an exported model's interface.
const (
	InputName         = "input"         // float32 [N, model input shape...]
	ProbabilitiesName = "probabilities" // float32 [N, classes]: the softmax output
	LogitsName        = "logits"        // float32 [N, classes]: the softmax's input
)

// The metadata_props keys Export writes itself; ExportOptions.Metadata may not use them.
const (
	MetaClassNames    = "class_names"   // JSON list of strings, indexed by class
	MetaPreprocessing = "preprocessing" // JSON object, see Preprocessing
)

// irVersions maps each exportable opset to the IR version of the ONNX release that
// introduced it (onnx/helper.py VERSION_TABLE: 1.8 -> IR 7 opset 13, 1.9 -> 7/14,
// 1.10 -> 8/15, 1.11 -> 8/16, 1.12 -> 8/17).
var irVersions = map[int]int64{13: 7, 14: 7, 15: 8, 16: 8, 17: 8}

// IRVersionFor returns the IR version Export writes for an opset in
// MinExportOpset..MaxExportOpset, and false for any other opset.
func IRVersionFor(opset int) (int64, bool) {
	v, ok := irVersions[opset]
	return v, ok
}

// Preprocessing describes how raw images become the model's input; Export stores it as
// JSON under MetaPreprocessing so that any consumer can prepare inputs the same way.
type Preprocessing struct {
	Scale      float64 `json:"scale"`      // multiply each 8-bit pixel by this (1/255)
	Offset     float64 `json:"offset"`     // then add this (0)
	Layout     string  `json:"layout"`     // "NCHW"
	Height     int     `json:"height"`     // 28
	Width      int     `json:"width"`      // 28
	Object     string  `json:"object"`     // "light object on dark background"
	Centred    bool    `json:"centred"`    // objects are centred in the frame
	ColorSpace string  `json:"colorspace"` // "grayscale"
}

// ExportOptions configures Export. The dataset facts (ClassNames, Preprocessing) come from
// the caller, e.g. from fmnist.ModelFacts; until every caller passes them, the zero value
// exports Fashion-MNIST's (see defaults.go) at DefaultOpset.
type ExportOptions struct {
	// Opset is the default-domain opset, MinExportOpset..MaxExportOpset; 0 means
	// DefaultOpset. The IR version follows it (see IRVersionFor).
	Opset int
	// Logits adds a second graph output, LogitsName, the input of the final softmax.
	// It is an error for a model without a final softmax (whose only output is already
	// named LogitsName).
	Logits bool
	// ClassNames label the outputs; a non-nil list must have one name per output. nil
	// means the compatibility default (Fashion-MNIST's names) when the model has 10
	// outputs, and no class_names entry otherwise.
	ClassNames []string
	// Preprocessing is stored under MetaPreprocessing; nil means the compatibility
	// default (Fashion-MNIST's).
	Preprocessing *Preprocessing
	// Metadata holds further metadata_props, e.g. the training recipe and the test
	// accuracy ("recipe", "test_accuracy"). Keys are written sorted; MetaClassNames and
	// MetaPreprocessing are reserved.
	Metadata map[string]string
	// DocString is the model's doc_string; empty means a generated description.
	DocString string
	// ProducerVersion is ModelProto.producer_version; empty means the package constant
	// ProducerVersion.
	ProducerVersion string
	// GraphName names the graph; empty means "fmkit".
	GraphName string
}

// ExportError reports a model or option that Export cannot write. Layer names the train
// layer at fault ("conv1"), or is empty for an option.
type ExportError struct {
	Layer  string
	Reason string
}

// Error implements error.
func (e *ExportError) Error() string {
	if e.Layer == "" {
		return "onnxexport: export: " + e.Reason
	}
	return "onnxexport: export: layer " + e.Layer + ": " + e.Reason
}

// ProducerVersion is the fmkit release written as ModelProto.producer_version when
// ExportOptions.ProducerVersion is empty. It is a constant, not the build's VCS stamp, so
// that the same model exports to the same bytes whichever commit built the tool.
const ProducerVersion = "0.1.0"

// producerVersion returns ProducerVersion.
func producerVersion() string { return ProducerVersion }

// exporter accumulates the graph while walking the layers: nodes not yet lowered, which
// Graph.Build checks once the names are final.
type exporter struct {
	g      *onnx.Graph
	nodes  []*onnx.NodeBase
	used   map[string]bool // node and value names taken
	counts map[string]int  // per-op counters for activation node names
}

func (x *exporter) add(n *onnx.NodeBase) {
	x.used[n.Name] = true
	x.nodes = append(x.nodes, n)
}

// newNode returns a node of the default domain, not yet lowered.
func newNode(name, op string, inputs, outputs []string, attrs ...onnx.Attribute) *onnx.NodeBase {
	return &onnx.NodeBase{Name: name, Op: op, Inputs: inputs, Outputs: outputs, Attrs: attrs}
}

// fresh returns base+k for the smallest k >= 1 not yet used (e.g. "relu1").
func (x *exporter) fresh(base string) string {
	for {
		x.counts[base]++
		name := base + strconv.Itoa(x.counts[base])
		if !x.used[name] {
			x.used[name] = true
			return name
		}
	}
}

func (x *exporter) init(p *train.Param) (string, error) {
	for i, v := range p.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return "", &ExportError{Layer: p.Name, Reason: fmt.Sprintf("parameter %s[%d] = %v is not finite", p.Name, i, v)}
		}
	}
	dims := make([]int64, len(p.Shape))
	for i, d := range p.Shape {
		dims[i] = int64(d)
	}
	x.g.Initializers[p.Name] = onnx.NewFloat(p.Name, dims, p.Data)
	x.g.InitializerOrder = append(x.g.InitializerOrder, p.Name)
	x.used[p.Name] = true
	return p.Name, nil
}

// Export serializes m as an ONNX model (see ExportOptions and the package doc for the
// graph's layout and names). The same model and options always give the same bytes.
//
// The graph takes InputName, float32 [N, m.InputShape...] with a symbolic batch "N", and
// produces ProbabilitiesName [N, classes] when the model ends in a softmax (plus
// LogitsName on request), or LogitsName alone otherwise. Layers map to nodes one to one
// and keep their names (conv1, pool1, dense1, ...): Conv2D -> Conv (bias as input 2),
// MaxPool2D -> MaxPool, AvgPool2D -> AveragePool, BatchNorm -> BatchNormalization,
// Flatten -> Flatten (axis 1), Dense -> Gemm (transB=1, since Dense W is (Units, In)),
// ReLU -> Relu, Softmax -> Softmax (axis 1); fused activations become their own Relu
// ("reluK") or Softmax ("softmax") nodes, and Dropout, the identity at inference, is left
// out. Padding is always written as explicit pads, the values the layer resolved.
// Initializers are the train parameters under their names ("conv1.weight"), as raw
// little-endian data; non-finite values are refused.
func Export(m *train.Model, opt ExportOptions) ([]byte, error) {
	g, err := exportGraph(m, opt)
	if err != nil {
		return nil, err
	}
	b, err := onnx.Encode(g)
	if err != nil {
		return nil, fmt.Errorf("onnxexport: export: %w", err)
	}
	return b, nil
}

// WriteModel exports m (see Export) to path atomically: path holds either its old content
// or the whole model.
func WriteModel(path string, m *train.Model, opt ExportOptions) error {
	b, err := Export(m, opt)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("onnxexport: %w", err)
	}
	return nil
}

// endsInSoftmax reports whether m's output is a softmax: a final Softmax layer, or a final
// Dense (or Conv2D) with a fused softmax.
func endsInSoftmax(m *train.Model) bool {
	switch l := m.Layers[len(m.Layers)-1].(type) {
	case *train.Softmax:
		return true
	case *train.Dense:
		return l.Act == train.ActSoftmax
	case *train.Conv2D:
		return l.Act == train.ActSoftmax
	}
	return false
}

// exportGraph builds m's graph (see Export) and checks it as DecodeModel checks a decoded
// one, so that the reference evaluator can run it as it stands.
func exportGraph(m *train.Model, opt ExportOptions) (*onnx.Graph, error) {
	if m == nil || len(m.Layers) == 0 {
		return nil, &ExportError{Reason: "empty model"}
	}
	opset := opt.Opset
	if opset == 0 {
		opset = DefaultOpset
	}
	irv, ok := IRVersionFor(opset)
	if !ok {
		return nil, &ExportError{Reason: fmt.Sprintf("opset %d: want %d..%d", opset, MinExportOpset, MaxExportOpset)}
	}
	softmax := endsInSoftmax(m)
	if opt.Logits && !softmax {
		return nil, &ExportError{Reason: "Logits requested, but the model has no final softmax: its only output is already " + LogitsName}
	}
	outShape := m.OutputShape()
	classes := opt.ClassNames
	if classes == nil && outShape.Size() == len(compatClassNames) {
		classes = compatClassNames
	}
	if classes != nil && (len(outShape) != 1 || len(classes) != outShape[0]) {
		return nil, &ExportError{Reason: fmt.Sprintf("%d class names for an output of shape %v", len(classes), outShape)}
	}
	for k := range opt.Metadata {
		if k == MetaClassNames || k == MetaPreprocessing {
			return nil, &ExportError{Reason: fmt.Sprintf("metadata key %q is reserved (set it through its option)", k)}
		}
	}

	x := &exporter{g: &onnx.Graph{Opset: int64(opset), IRVersion: irv, Initializers: map[string]*onnx.Tensor{}},
		used: map[string]bool{InputName: true, ProbabilitiesName: true, LogitsName: true}, counts: map[string]int{}}
	for _, l := range m.Layers {
		x.used[l.Name()] = true
	}
	batch := onnx.Dim{Value: -1, Param: "N"}
	inDims := []onnx.Dim{batch}
	for _, d := range m.InputShape {
		inDims = append(inDims, onnx.Dim{Value: int64(d)})
	}
	x.g.Inputs = []onnx.ValueInfo{{Name: InputName, DataType: onnx.Float, Shape: inDims}}

	cur := InputName
	var err error
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *train.Conv2D:
			if cur, err = x.conv(l, cur, m); err != nil {
				return nil, err
			}
		case *train.Dense:
			if cur, err = x.dense(l, cur, m); err != nil {
				return nil, err
			}
		case *train.MaxPool2D:
			if cur, err = x.maxPool(l, cur, m); err != nil {
				return nil, err
			}
		case *train.AvgPool2D:
			if cur, err = x.avgPool(l, cur, m); err != nil {
				return nil, err
			}
		case *train.BatchNorm:
			if cur, err = x.batchNorm(l, cur, m); err != nil {
				return nil, err
			}
		case *train.Flatten:
			if cur, err = x.flatten(l, cur, m); err != nil {
				return nil, err
			}
		case *train.ReLU:
			cur = x.relu(cur)
		case *train.Softmax:
			if l.Width != 0 {
				return nil, &ExportError{Layer: l.Name(), Reason: fmt.Sprintf("a softmax over rows of %d values has no export yet", l.Width)}
			}
			cur = x.softmax(cur)
		case *train.Dropout:
			// The identity at inference: no node.
		default:
			return nil, &ExportError{Layer: l.Name(), Reason: fmt.Sprintf("layer type %T has no ONNX export", l)}
		}
	}
	// Give the final values their interface names.
	if softmax {
		sm := x.nodes[len(x.nodes)-1] // the final softmax
		if sm.Inputs[0] == InputName {
			if opt.Logits { // a lone softmax: its logits are the input itself
				id := newNode(x.fresh("identity"), "Identity", []string{InputName}, []string{LogitsName})
				x.nodes = append([]*onnx.NodeBase{id}, x.nodes...)
				sm.Inputs[0] = LogitsName
			}
		} else {
			x.rename(sm.Inputs[0], LogitsName)
		}
		x.rename(sm.Outputs[0], ProbabilitiesName)
	} else if cur == InputName {
		x.add(newNode(x.fresh("identity"), "Identity", []string{cur}, []string{LogitsName}))
	} else {
		x.rename(cur, LogitsName)
	}

	outs := make([]onnx.ValueInfo, 0, 2)
	outDims := []onnx.Dim{batch}
	for _, d := range outShape {
		outDims = append(outDims, onnx.Dim{Value: int64(d)})
	}
	if softmax {
		outs = append(outs, onnx.ValueInfo{Name: ProbabilitiesName, DataType: onnx.Float, Shape: outDims})
		if opt.Logits {
			outs = append(outs, onnx.ValueInfo{Name: LogitsName, DataType: onnx.Float, Shape: outDims})
		}
	} else {
		outs = append(outs, onnx.ValueInfo{Name: LogitsName, DataType: onnx.Float, Shape: outDims})
	}
	x.g.Outputs = outs
	x.g.Name = opt.GraphName
	if opt.GraphName == "" {
		x.g.Name = "fmkit"
	}

	meta := map[string]string{}
	for k, v := range opt.Metadata {
		meta[k] = v
	}
	if classes != nil {
		b, err := json.Marshal(classes)
		if err != nil {
			return nil, &ExportError{Reason: "class names: " + err.Error()}
		}
		meta[MetaClassNames] = string(b)
	}
	pre := compatPreprocessing
	if opt.Preprocessing != nil {
		pre = *opt.Preprocessing
	}
	pb, err := json.Marshal(pre)
	if err != nil {
		return nil, &ExportError{Reason: "preprocessing: " + err.Error()}
	}
	meta[MetaPreprocessing] = string(pb)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x.g.Metadata = append(x.g.Metadata, onnx.MetadataEntry{Key: k, Value: meta[k]})
	}

	doc := opt.DocString
	if doc == "" {
		trainable, _ := m.NumParams()
		doc = fmt.Sprintf("fmkit image classifier: input %q float32 [N,%s], output %q float32 [N,%s]; %d layers, %d trainable parameters. "+
			"Inputs are scaled by 1/255 (see the %q metadata).",
			InputName, joinInts(m.InputShape), outs[0].Name, joinInts(outShape), len(m.Layers), trainable, MetaPreprocessing)
	}
	ver := opt.ProducerVersion
	if ver == "" {
		ver = producerVersion()
	}
	x.g.ProducerName, x.g.ProducerVersion, x.g.DocString = ProducerName, ver, doc
	x.g.Nodes = make([]onnx.Node, len(x.nodes))
	for i, n := range x.nodes {
		x.g.Nodes[i] = n
	}
	if err := x.g.Build(); err != nil {
		return nil, fmt.Errorf("onnxexport: export: the graph fails its own check: %w", err)
	}
	return x.g, nil
}

// outName is the name of a node's (only) output.
func outName(node string) string { return node + ".out" }

// conv writes a Conv2D layer as a Conv node (bias as input 2), and a Relu node for a fused ReLU.
func (x *exporter) conv(l *train.Conv2D, cur string, m *train.Model) (string, error) {
	if l.Act == train.ActSoftmax {
		return "", &ExportError{Layer: l.Name(), Reason: "a softmax fused into Conv2D (over all of a sample's channels and pixels) has no ONNX export: use a Flatten and a Dense or Softmax layer"}
	}
	w, err := x.init(l.W)
	if err != nil {
		return "", err
	}
	b, err := x.init(l.B)
	if err != nil {
		return "", err
	}
	y := outName(l.Name())
	x.add(newNode(l.Name(), "Conv", []string{cur, w, b}, []string{y},
		onnx.IntsAttr("kernel_shape", int64(l.KH), int64(l.KW)),
		onnx.IntsAttr("strides", int64(l.Stride[0]), int64(l.Stride[1])),
		onnx.IntsAttr("dilations", int64(l.Dilation[0]), int64(l.Dilation[1])),
		onnx.IntsAttr("pads", int64(l.Pads[0]), int64(l.Pads[1]), int64(l.Pads[2]), int64(l.Pads[3]))))
	cur = y
	if l.Act == train.ActReLU {
		cur = x.relu(cur)
	}
	return cur, nil
}

// dense writes a Dense layer as a Gemm node (transB=1, since Dense W is (Units, In)), and its fused activation.
func (x *exporter) dense(l *train.Dense, cur string, m *train.Model) (string, error) {
	w, err := x.init(l.W)
	if err != nil {
		return "", err
	}
	b, err := x.init(l.B)
	if err != nil {
		return "", err
	}
	y := outName(l.Name())
	x.add(newNode(l.Name(), "Gemm", []string{cur, w, b}, []string{y},
		onnx.FloatAttr("alpha", 1), onnx.FloatAttr("beta", 1), onnx.IntAttr("transB", 1)))
	cur = y
	switch l.Act {
	case train.ActReLU:
		cur = x.relu(cur)
	case train.ActSoftmax:
		cur = x.softmax(cur)
	}
	return cur, nil
}

// maxPool writes a MaxPool2D layer as a MaxPool node with the pads the layer resolved.
func (x *exporter) maxPool(l *train.MaxPool2D, cur string, m *train.Model) (string, error) {
	if l.Dilation != [2]int{1, 1} && l.Dilation != [2]int{} {
		return "", &ExportError{Layer: l.Name(), Reason: fmt.Sprintf("dilation %v has no export yet", l.Dilation)}
	}
	// Pads hold the resolved values whatever the padding mode.
	y := outName(l.Name())
	attrs := poolAttrs(l.KH, l.KW, l.Stride[0], l.Stride[1], l.Pads, l.CeilMode)
	x.add(newNode(l.Name(), "MaxPool", []string{cur}, []string{y}, attrs...))
	cur = y
	return cur, nil
}

// poolAttrs are a pooling node's window attributes, in the order every
// export has written them: kernel_shape, strides, the resolved pads, and
// ceil_mode when set.
func poolAttrs(kh, kw, sh, sw int, pads [4]int, ceil bool) []onnx.Attribute {
	attrs := []onnx.Attribute{
		onnx.IntsAttr("kernel_shape", int64(kh), int64(kw)),
		onnx.IntsAttr("strides", int64(sh), int64(sw)),
		onnx.IntsAttr("pads", int64(pads[0]), int64(pads[1]), int64(pads[2]), int64(pads[3]))}
	if ceil {
		attrs = append(attrs, onnx.IntAttr("ceil_mode", 1))
	}
	return attrs
}

// avgPool writes an AvgPool2D layer as an AveragePool node with the pads the layer resolved.
func (x *exporter) avgPool(l *train.AvgPool2D, cur string, m *train.Model) (string, error) {
	y := outName(l.Name())
	attrs := poolAttrs(l.KH, l.KW, l.Stride[0], l.Stride[1], l.Pads, l.CeilMode)
	if l.CountIncludePad {
		attrs = append(attrs, onnx.IntAttr("count_include_pad", 1))
	}
	x.add(newNode(l.Name(), "AveragePool", []string{cur}, []string{y}, attrs...))
	cur = y
	return cur, nil
}

// batchNorm writes a BatchNorm layer as a BatchNormalization node.
func (x *exporter) batchNorm(l *train.BatchNorm, cur string, m *train.Model) (string, error) {
	var names []string
	for _, p := range []*train.Param{l.Scale, l.Bias, l.Mean, l.Var} {
		n, err := x.init(p)
		if err != nil {
			return "", err
		}
		names = append(names, n)
	}
	eps := float32(l.Epsilon)
	if !(eps > 0) {
		return "", &ExportError{Layer: l.Name(), Reason: fmt.Sprintf("epsilon %v does not survive float32", l.Epsilon)}
	}
	y := outName(l.Name())
	x.add(newNode(l.Name(), "BatchNormalization", append([]string{cur}, names...), []string{y}, onnx.FloatAttr("epsilon", eps)))
	cur = y
	return cur, nil
}

// flatten writes a Flatten layer as a Flatten node (axis 1), named "flatten" when it is the model's only one.
func (x *exporter) flatten(l *train.Flatten, cur string, m *train.Model) (string, error) {
	name := l.Name()
	if countKind(m, "flatten") == 1 {
		name = "flatten"
	}
	y := outName(name)
	x.add(newNode(name, "Flatten", []string{cur}, []string{y}, onnx.IntAttr("axis", 1)))
	cur = y
	return cur, nil
}

// rename renames value from to to in every node of the graph.
func (x *exporter) rename(from, to string) {
	for _, n := range x.nodes {
		for i := range n.Inputs {
			if n.Inputs[i] == from {
				n.Inputs[i] = to
			}
		}
		for i := range n.Outputs {
			if n.Outputs[i] == from {
				n.Outputs[i] = to
			}
		}
	}
}

// relu appends a Relu node ("reluK") on in and returns its output.
func (x *exporter) relu(in string) string {
	name := x.fresh("relu")
	x.add(newNode(name, "Relu", []string{in}, []string{name + ".out"}))
	return name + ".out"
}

// softmax appends a Softmax node on in and returns its output. Axis 1 has the same
// meaning before and from opset 13 on a (N, classes) input.
func (x *exporter) softmax(in string) string {
	name := "softmax"
	if x.used[name] {
		name = x.fresh("softmax")
	}
	x.used[name] = true
	x.add(newNode(name, "Softmax", []string{in}, []string{name + ".out"}, onnx.IntAttr("axis", 1)))
	return name + ".out"
}

func countKind(m *train.Model, kind string) int {
	n := 0
	for _, l := range m.Layers {
		if l.Kind() == kind {
			n++
		}
	}
	return n
}

func joinInts(s train.Shape) string {
	b := make([]byte, 0, 16)
	for i, d := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	return string(b)
}

// WriteBundle writes a model-zoo style bundle that any ONNX stack can check:
//
//	dir/model.onnx                      m exported with opt
//	dir/test_data_set_0/input_0.pb      the n images (float32 [n, input shape...])
//	dir/test_data_set_0/output_0.pb     the native engine's outputs for them
//	dir/test_data_set_0/output_1.pb     the logits, when opt.Logits
//
// images holds n samples of m.InputShape, already preprocessed. dir is created if needed;
// every file is written atomically, the model last.
func WriteBundle(dir string, m *train.Model, opt ExportOptions, images []float32, n int) error {
	b, err := Export(m, opt)
	if err != nil {
		return err
	}
	in := m.InputShape.Size()
	if n < 1 || len(images) != n*in {
		return &ExportError{Reason: fmt.Sprintf("bundle: %d image values for %d samples of %v (want %d)", len(images), n, m.InputShape, n*in)}
	}
	dims := append([]int64{int64(n)}, shapeInt64(m.InputShape)...)
	x := onnx.NewFloat(InputName, dims, slices.Clone(images))
	outDims := append([]int64{int64(n)}, shapeInt64(m.OutputShape())...)
	name := LogitsName
	if endsInSoftmax(m) {
		name = ProbabilitiesName
	}
	outs := []*onnx.Tensor{onnx.NewFloat(name, outDims, m.Predict(images, n, nil))}
	if opt.Logits {
		outs = append(outs, onnx.NewFloat(LogitsName, outDims, slices.Clone(m.Logits(images, n, false))))
	}
	if err := onnx.WriteTestDataSet(filepath.Join(dir, "test_data_set_0"), []*onnx.Tensor{x}, outs); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("onnxexport: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "model.onnx"), b, 0o644); err != nil {
		return fmt.Errorf("onnxexport: %w", err)
	}
	return nil
}

func shapeInt64(s train.Shape) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}
