package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// This file is the model gate: the one check every model passes before any engine runs it,
// the native engine (Import, NativeEngine) and onnxruntime (pkg/runtime, through
// GateOptions.Check) alike. onnxruntime trusts a graph's attributes: strides of 0, negative
// pads or a bias shorter than the output channels have crashed it (SIGFPE, SIGSEGV) or made
// it read out of bounds, and it resolves external data against any path a model names. The
// gate refuses all of that before onnxruntime sees a byte, and hands it a self-contained,
// re-encoded model that holds only what the gate checked.
//
// It uses the IR layer only (lowering, shape inference), never pkg/train, so that it moves
// with that layer.

// Default limits of the gate. Each is far above what a Fashion-MNIST classifier needs (the
// book model has 13 nodes, takes an estimated 0.42 MB of activations and 6.4 MFLOP an image)
// and far below what makes a machine swap or a run take hours.
const (
	// DefaultMaxNodes bounds the nodes of a graph, and its initializers and declared
	// values, so that a small file cannot make the decoder and the engines build millions
	// of objects (20,000 Relu nodes are a 1.3 MB file).
	DefaultMaxNodes = 4096
	// DefaultMaxActivationBytes bounds the estimated memory of one run: the sum of every
	// value the graph computes (no reuse assumed) plus the largest convolution workspace.
	// A dynamic-batch model runs at most floor(limit / one image's estimate) images at a
	// time; a fixed-batch model must fit its whole batch.
	DefaultMaxActivationBytes = 256 << 20
	// DefaultMaxFLOPs bounds the estimated floating-point operations per sample (per image).
	DefaultMaxFLOPs = 1e9
	// maxGateBatch caps Gated.MaxBatch for a dynamic batch.
	maxGateBatch = 1 << 16
	// maxAttributes bounds the attributes of one node (no claimed op has more than 8).
	maxAttributes = 64
)

// GateOptions are the gate's policy. The zero value refuses external data and applies the
// default limits.
type GateOptions struct {
	// ExternalDataDir is the only directory external tensor data (data_location EXTERNAL)
	// may come from; empty refuses external data. Locations are resolved inside it only:
	// no absolute paths, no "..", no symbolic link leading out, regular files only, offset
	// and length within the file (as onnx does since CVE-2022-25882 and CVE-2024-27318).
	ExternalDataDir string
	// MaxNodes bounds the graph's nodes (0: DefaultMaxNodes).
	MaxNodes int
	// MaxActivationBytes bounds the estimated memory of one run (0: DefaultMaxActivationBytes).
	MaxActivationBytes int64
	// MaxFLOPs bounds the estimated floating-point operations per sample (0: DefaultMaxFLOPs).
	MaxFLOPs float64
}

func (o GateOptions) withDefaults() GateOptions {
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	if o.MaxActivationBytes <= 0 {
		o.MaxActivationBytes = DefaultMaxActivationBytes
	}
	if !(o.MaxFLOPs > 0) {
		o.MaxFLOPs = DefaultMaxFLOPs
	}
	return o
}

// Gated is a model the gate let through.
type Gated struct {
	// Model is the model to hand to an engine: re-encoded from what the gate checked, with
	// external data inlined, every attribute in its checked type only, and nothing else
	// (no doc strings, value_info, functions or unknown fields).
	Model []byte
	// Graph is the lowered graph.
	Graph *Graph
	// Inputs are the concrete shapes of the runtime inputs the estimates are for: the given
	// ones, or the declared ones with a dynamic batch dimension taken as 1.
	Inputs [][]int64
	// FixedBatch is the batch size the first input declares, or -1 when it is dynamic (or
	// when the shapes were given).
	FixedBatch int64
	// RunBytes and RunFLOPs are the estimated memory and floating-point operations of one
	// run at Inputs.
	RunBytes int64
	RunFLOPs float64
	// MaxBatch is how many samples one run may take within MaxActivationBytes: FixedBatch
	// for a fixed batch, floor(limit / RunBytes) (1 at least, at most 65,536) for a dynamic
	// one, and the given batch when the shapes were given.
	MaxBatch int64
}

// ErrExternalData is matched (with errors.Is) by the error for a model whose tensors keep
// their data in external files when the gate allows no directory for it.
var ErrExternalData = errors.New("external data is not allowed")

// LimitError reports a model beyond one of the gate's limits.
type LimitError struct {
	Node   string  // node ID, or "graph" for counts and inputs
	Op     string  // op type; empty for graph-level limits
	Limit  string  // "nodes", "activation memory", "operations" or "tensor size"
	Value  float64 // what the model needs (count, bytes or FLOP)
	Max    float64 // the limit
	Reason string  // what was measured, e.g. `output "conv1.out" [1 32 3026 3026]`
}

// Error implements error.
func (e *LimitError) Error() string {
	return "onnx: " + where(e.Node, e.Op, "") + ": " + e.Reason + ", over the limit of " + e.limitText()
}

func (e *LimitError) limitText() string {
	switch e.Limit {
	case LimitActivation:
		return formatBytes(e.Max) + " of estimated activation memory"
	case LimitFLOPs:
		return formatFLOPs(e.Max) + " of estimated operations per sample"
	case LimitTensor:
		return formatBytes(e.Max) + " per tensor"
	}
	return strconv.FormatFloat(e.Max, 'f', -1, 64)
}

// The LimitError.Limit values.
const (
	LimitNodes      = "nodes"
	LimitActivation = "activation memory"
	LimitFLOPs      = "operations"
	LimitTensor     = "tensor size"
)

func formatBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f bytes", b)
}

func formatFLOPs(f float64) string {
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.3g GFLOP", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.3g MFLOP", f/1e6)
	}
	return fmt.Sprintf("%.0f FLOP", f)
}

// Gate checks a serialized model before an engine runs it and returns the model to run.
//
// inputs, when not nil, are the concrete shapes of the graph's runtime inputs in order (a
// backend test's input_*.pb); nil means the declared shapes, where only the first dimension
// of an input may be dynamic and is taken as 1.
//
// In order, with nothing allocated from sizes the model claims before they are checked:
//
//  1. a scan of the protobuf bytes counts nodes, initializers, declared values and
//     attributes against MaxNodes, and refuses model-local functions, training information
//     and graph-valued or sparse attributes (none of the claimed ops takes one);
//  2. tensors with external data are refused, or read from ExternalDataDir only and
//     inlined (see GateOptions.ExternalDataDir);
//  3. the graph is lowered to the IR (DecodeModel): only the ops in ClaimedOps of the
//     default domain at opsets MinOpset..MaxOpset, every attribute type- and range-checked
//     (strides and kernels > 0, pads >= 0, ...), every value defined before use;
//  4. shapes and types are inferred node by node from the input shapes, so that every
//     weight, bias and operand fits its op (a Conv bias has one value per output channel),
//     while the memory of every value computed and the operations of every node are
//     summed; a node past MaxActivationBytes, MaxFLOPs or MaxTensorBytes is refused by name
//     with a *LimitError;
//  5. the model is re-encoded from what was checked (see Gated.Model).
//
// Errors: *LimitError, *InvalidError, *UnsupportedError and *TensorError, each naming the
// node, op and attribute (or tensor and field) at fault; errors.Is(err, ErrExternalData) for
// external data without a directory allowed.
func Gate(model []byte, inputs [][]int64, opts GateOptions) (*Gated, error) {
	return gate(model, inputs, nil, opts, true)
}

// Check runs Gate with o and returns what pkg/runtime's Gate returns: the model to hand to
// onnxruntime and the most samples one run may take (its method value is a runtime.Gate).
func (o GateOptions) Check(model []byte, inputs [][]int64) ([]byte, int, error) {
	g, err := Gate(model, inputs, o)
	if err != nil {
		return nil, 0, err
	}
	return g.Model, int(g.MaxBatch), nil
}

// GateGraph is Gate for an engine that runs the lowered graph itself (the native engine):
// it does not re-encode the model (Gated.Model is nil). values, when not nil, holds the
// values of runtime inputs known in advance, by input index; the estimates fold them as
// constants (the native engine binds all inputs but the first so). inputs may be nil, as
// for Gate.
func GateGraph(model []byte, inputs [][]int64, values []*Tensor, opts GateOptions) (*Gated, error) {
	return gate(model, inputs, values, opts, false)
}

// gate is Gate; values, when not nil, holds the values of runtime inputs known in advance
// (the native engine binds all inputs but the first as constants), by input index, and
// encode says whether to build Gated.Model (the native engine only needs the graph).
func gate(model []byte, inputs [][]int64, values []*Tensor, opts GateOptions, encode bool) (*Gated, error) {
	opts = opts.withDefaults()
	if len(model) > MaxModelBytes {
		return nil, &InvalidError{Node: "model", Reason: fmt.Sprintf("%d bytes exceed the %d-byte cap", len(model), MaxModelBytes)}
	}
	if err := prescan(model, opts.MaxNodes); err != nil {
		return nil, err
	}
	mp, err := decodeModelProto(model)
	if err != nil {
		return nil, err
	}
	if err := inlineExternal(mp, opts.ExternalDataDir, len(model)); err != nil {
		return nil, err
	}
	g, err := lowerModel(mp)
	if err != nil {
		return nil, err
	}
	gd := &Gated{Graph: g}
	if err := gd.estimate(inputs, values, opts); err != nil {
		return nil, err
	}
	if encode {
		// The doc string is left out: nothing checks it, and onnxruntime need not read it.
		canon := *g
		canon.DocString = ""
		if gd.Model, err = Encode(&canon); err != nil {
			return nil, err
		}
	}
	return gd, nil
}

// estimate fills the shapes and estimates of gd, or refuses a model beyond the limits.
func (gd *Gated) estimate(inputs [][]int64, values []*Tensor, o GateOptions) error {
	g := gd.Graph
	gd.FixedBatch = -1
	if inputs != nil {
		if len(inputs) != len(g.Inputs) {
			return &InvalidError{Node: "graph", Attribute: "input", Reason: fmt.Sprintf("%d inputs given, the model has %d", len(inputs), len(g.Inputs))}
		}
		for i, in := range g.Inputs {
			if err := in.CheckShape(inputs[i]); err != nil {
				return err
			}
			if i < len(values) && values[i] != nil && values[i].DataType != in.DataType {
				return &InvalidError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: fmt.Sprintf("given %s, declared %s", values[i].DataType, in.DataType)}
			}
		}
		gd.Inputs = inputs
	} else {
		for i, in := range g.Inputs {
			place := fmt.Sprintf("input %q", in.Name)
			if in.Shape == nil {
				return &UnsupportedError{Node: "graph", Attribute: place, Reason: "no shape is declared, so the memory it takes cannot be estimated"}
			}
			shape := make([]int64, len(in.Shape))
			for j, d := range in.Shape {
				switch {
				case d.Value >= 0:
					shape[j] = d.Value
				case j == 0:
					shape[j] = 1 // a dynamic batch: the estimate is per sample
				default:
					return &UnsupportedError{Node: "graph", Attribute: place,
						Reason: fmt.Sprintf("dim %d is %s: only the batch dimension (dim 0) may be dynamic", j, d)}
				}
			}
			if i == 0 && len(in.Shape) > 0 && in.Shape[0].Value >= 0 {
				gd.FixedBatch = in.Shape[0].Value
			}
			if err := in.CheckShape(shape); err != nil {
				return err
			}
			gd.Inputs = append(gd.Inputs, shape)
		}
	}
	var e estimator
	e.limit = float64(o.MaxActivationBytes)
	e.flopLimit = o.MaxFLOPs
	samples := float64(1)
	if len(gd.Inputs) > 0 && len(gd.Inputs[0]) > 0 && gd.Inputs[0][0] > 1 {
		samples = float64(gd.Inputs[0][0])
	}
	e.flopLimit *= samples // the limit is per sample; a run holds `samples` of them
	e.samples = samples
	if err := e.run(g, gd.Inputs, values); err != nil {
		return err
	}
	gd.RunBytes, gd.RunFLOPs = int64(e.total()), e.flops
	switch {
	case inputs != nil:
		gd.MaxBatch = 0
		if len(inputs) > 0 && len(inputs[0]) > 0 {
			gd.MaxBatch = inputs[0][0]
		}
	case gd.FixedBatch >= 0:
		gd.MaxBatch = gd.FixedBatch
	default:
		gd.MaxBatch = maxGateBatch
		if gd.RunBytes > 0 {
			gd.MaxBatch = min(maxGateBatch, max(1, o.MaxActivationBytes/gd.RunBytes))
		}
	}
	return nil
}

// estimator walks a graph's shapes, summing memory and operations.
type estimator struct {
	limit, flopLimit float64
	samples          float64 // in one run (the batch)
	bytes            float64 // every value computed and every runtime input
	workspace        float64 // the largest convolution workspace (im2col)
	flops            float64
}

func (e *estimator) total() float64 { return e.bytes + e.workspace }

// Constant values up to this many elements, computed by nodes this cheap, are folded while
// estimating, so that a Reshape whose shape comes from a small constant subgraph is known.
const (
	foldMaxElements = 1 << 16
	foldMaxFLOPs    = 1 << 24
)

func (e *estimator) run(g *Graph, inputs [][]int64, values []*Tensor) error {
	types := map[string]TensorType{}
	consts := map[string]*Tensor{}
	for name, t := range g.Initializers {
		types[name] = TensorType{t.DataType, t.Dims}
		consts[name] = t
		if slices.Contains(t.Dims, 0) {
			return &UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("initializer %q", name), Reason: fmt.Sprintf("%s%v is empty: tensors with a dimension of 0 are not supported", t.DataType, t.Dims)}
		}
	}
	for i, in := range g.Inputs {
		if slices.Contains(inputs[i], 0) {
			return &UnsupportedError{Node: "graph", Attribute: fmt.Sprintf("input %q", in.Name), Reason: fmt.Sprintf("shape %v is empty (batch 0 holds no sample): tensors with a dimension of 0 are not supported", inputs[i])}
		}
		types[in.Name] = TensorType{in.DataType, inputs[i]}
		if i < len(values) && values[i] != nil {
			consts[in.Name] = values[i]
		}
		n, _ := NumElements(inputs[i])
		e.bytes += float64(n * in.DataType.size())
	}
	if e.bytes > e.limit {
		return &LimitError{Node: "graph", Limit: LimitActivation, Value: e.bytes, Max: e.limit,
			Reason: fmt.Sprintf("the inputs %v take %s", inputs, formatBytes(e.bytes))}
	}
	err := walk(g, types, consts, func(n Node, in []TensorType, vals []*Tensor, out []TensorType) ([]*Tensor, error) {
		b := n.Base()
		constant := true
		for i, name := range b.Inputs {
			if name != "" && vals[i] == nil {
				constant = false
			}
		}
		if err := checkPoolPads(n); err != nil {
			return nil, err
		}
		for i, t := range out {
			if slices.Contains(t.Shape, 0) {
				return nil, &UnsupportedError{Node: b.ID(), Op: b.Op, Attribute: "output " + strconv.Itoa(i),
					Reason: fmt.Sprintf("%s%v is empty: tensors with a dimension of 0 are not supported", t.DataType, t.Shape)}
			}
		}
		var outBytes, outElems float64
		for _, t := range out {
			// Sizes in float64: a shape past int64 (dims up to 2^40 each) cannot overflow.
			c := elems(t.Shape)
			outBytes += c * float64(t.DataType.size())
			outElems += c
		}
		flops, work := nodeCost(n, in, out)
		e.bytes += outBytes
		e.workspace = max(e.workspace, work)
		e.flops += flops
		if e.total() > e.limit {
			return nil, &LimitError{Node: b.ID(), Op: b.Op, Limit: LimitActivation, Value: e.total(), Max: e.limit,
				Reason: fmt.Sprintf("output %q %s%v%s brings the estimated memory of one run to %s", b.Output(0), out[0].DataType, out[0].Shape, windowNote(n), formatBytes(e.total()))}
		}
		for i, t := range out {
			if c, err := NumElements(t.Shape); err != nil || c*t.DataType.size() > MaxTensorBytes {
				return nil, &LimitError{Node: b.ID(), Op: b.Op, Limit: LimitTensor, Value: math.Inf(1), Max: MaxTensorBytes,
					Reason: fmt.Sprintf("output %q would be %s%v%s", b.Output(i), t.DataType, t.Shape, windowNote(n))}
			}
		}
		if e.flops > e.flopLimit {
			return nil, &LimitError{Node: b.ID(), Op: b.Op, Limit: LimitFLOPs, Value: e.flops / e.samples, Max: e.flopLimit / e.samples,
				Reason: fmt.Sprintf("output %q %s%v%s brings the estimated work to %s per sample", b.Output(0), out[0].DataType, out[0].Shape, windowNote(n), formatFLOPs(e.flops/e.samples))}
		}
		// Fold what is constant and cheap, so that a later Reshape knows its shape.
		return knownValues(n, in, vals, out, constant, outElems, flops)
	})
	if err != nil {
		return err
	}
	return checkOutputs(g, types)
}

// checkOutputs refuses graph outputs declared with another type or shape than the graph
// computes (onnx's checker and onnxruntime refuse them too). The batch dimension (dim 0)
// is not compared: the shapes were computed for one batch size only.
func checkOutputs(g *Graph, types map[string]TensorType) error {
	for _, o := range g.Outputs {
		t := types[o.Name]
		place := fmt.Sprintf("output %q", o.Name)
		if t.DataType != o.DataType {
			return &InvalidError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("declared %s, computed %s", o.DataType, t.DataType)}
		}
		if o.Shape == nil {
			continue
		}
		if len(o.Shape) != len(t.Shape) {
			return &InvalidError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("declared rank %d %v, computed %s%v", len(o.Shape), o.Shape, t.DataType, t.Shape)}
		}
		for i, d := range o.Shape {
			if i > 0 && d.Value >= 0 && d.Value != t.Shape[i] {
				return &InvalidError{Node: "graph", Attribute: place, Reason: fmt.Sprintf("dim %d declared %d, computed %d (%s%v)", i, d.Value, t.Shape[i], t.DataType, t.Shape)}
			}
		}
	}
	return nil
}

// checkPoolPads refuses explicit pads of a pooling node that are not smaller than its
// window (see the pooling ops' checkPads).
func checkPoolPads(n Node) error {
	if p, ok := n.(interface{ checkPads() error }); ok {
		return p.checkPads()
	}
	return nil
}

// windowNote names the window attributes of a Conv or pooling node, for messages: they
// are what make an output large.
func windowNote(n Node) string {
	wn, ok := n.(interface{ window() Window })
	if !ok {
		return ""
	}
	w := wn.window()
	s := " ("
	if w.KernelShape != nil {
		s += fmt.Sprintf("kernel_shape %v, ", w.KernelShape)
	}
	s += fmt.Sprintf("strides %v, dilations %v, ", w.Strides, w.Dilations)
	if w.AutoPad != NotSet {
		return s + "auto_pad " + w.AutoPad.String() + ")"
	}
	return s + fmt.Sprintf("pads %v)", w.Pads)
}

// nodeCost estimates the floating-point operations of one node and the bytes of the
// largest workspace an engine allocates for it: the op's cost method where it has one,
// else one operation per output element and no workspace.
func nodeCost(n Node, in, out []TensorType) (flops, workspace float64) {
	if c, ok := n.(interface {
		cost(in, out []TensorType) (flops, workspace float64)
	}); ok {
		return c.cost(in, out)
	}
	return elems(out[0].Shape), 0
}

// elems is the number of elements of shape s, in float64 (no overflow for any shape).
func elems(s []int64) float64 {
	p := float64(1)
	for _, d := range s {
		p *= float64(d)
	}
	return p
}
