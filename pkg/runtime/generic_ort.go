//go:build cgo

package runtime

import (
	"errors"
	"fmt"
	"math"

	ort "github.com/yalue/onnxruntime_go"
)

// RunGeneric runs any ONNX model whose inputs and outputs are float32 tensors
// once with onnxruntime on the CPU, feeding inputs to the model's inputs in
// order, and returns every output in the model's order. Unlike a Predictor
// it makes no assumption about shapes; it is what `fminfer verify` uses to
// check model-zoo and backend-test directories. opts.Gate (required) checks
// the model for the inputs' shapes first, and onnxruntime runs what it
// returns; opts.LibraryPath and opts.IntraOpThreads are as for NewORT, the
// provider is always the CPU.
func RunGeneric(model []byte, inputs []Tensor, opts ORTOptions) ([]Tensor, error) {
	if err := checkThreads(opts.IntraOpThreads); err != nil {
		return nil, err
	}
	shapes := make([][]int64, len(inputs))
	for i, t := range inputs {
		n := int64(1)
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && n > math.MaxInt64/d) {
				return nil, fmt.Errorf("input %d (%q): shape %v does not hold its %d values", i, t.Name, t.Shape, len(t.Data))
			}
			n *= d
		}
		if n != int64(len(t.Data)) {
			return nil, fmt.Errorf("input %d (%q): shape %v does not hold its %d values", i, t.Name, t.Shape, len(t.Data))
		}
		shapes[i] = t.Shape
	}
	model, _, err := runGate(opts.Gate, model, "model", shapes)
	if err != nil {
		return nil, err
	}
	if _, err := acquire(opts.LibraryPath); err != nil {
		return nil, err
	}
	defer release()
	// The inputs and outputs come from the model's bytes, as for NewORT: onnxruntime's own
	// GetInputOutputInfo would build and discard a whole session first.
	ins, outs, err := graphIO(model)
	if err != nil {
		return nil, &LoadError{Model: "model", Msg: err.Error()}
	}
	if len(ins) != len(inputs) {
		return nil, &LoadError{Model: "model", Msg: fmt.Sprintf("the model has %d inputs, %d given", len(ins), len(inputs))}
	}
	var inNames, outNames []string
	for _, in := range ins {
		inNames = append(inNames, in.Name)
	}
	for _, o := range outs {
		if !o.IsTensor || !o.IsFloat {
			return nil, &LoadError{Model: "model", Msg: fmt.Sprintf("output %q is not a float tensor; only float outputs are supported", o.Name)}
		}
		outNames = append(outNames, o.Name)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("runtime: onnxruntime session options: %w", err)
	}
	defer so.Destroy()
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("runtime: IntraOpThreads = %d: %w", opts.IntraOpThreads, err)
		}
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inNames, outNames, so)
	if err != nil {
		return nil, &LoadError{Model: "model", Msg: firstLine(err)}
	}
	defer sess.Destroy()
	inVals := make([]ort.Value, len(inputs))
	defer func() {
		for _, v := range inVals {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, t := range inputs {
		if !ins[i].IsTensor || !ins[i].IsFloat {
			return nil, &LoadError{Model: "model", Msg: fmt.Sprintf("input %q is not a float tensor; only float inputs are supported", ins[i].Name)}
		}
		v, err := ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", ins[i].Name, err)
		}
		inVals[i] = v
	}
	outVals := make([]ort.Value, len(outNames))
	defer func() {
		for _, v := range outVals {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := sess.Run(inVals, outVals); err != nil {
		return nil, fmt.Errorf("onnxruntime: %s", firstLine(err))
	}
	res := make([]Tensor, len(outVals))
	for i, v := range outVals {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, errors.New("onnxruntime returned a non-float output for " + outNames[i])
		}
		res[i] = Tensor{Name: outNames[i], Shape: append([]int64(nil), t.GetShape()...), Data: append([]float32(nil), t.GetData()...)}
	}
	return res, nil
}
