//go:build cgo

package runtime

import (
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// RunGeneric runs any ONNX model whose inputs and outputs are float32 tensors
// once with onnxruntime on the CPU, feeding inputs to the model's inputs in
// order, and returns every output in the model's order. Unlike a Predictor
// it makes no assumption about shapes; it is what `fminfer verify` uses to
// check model-zoo and backend-test directories. libraryPath is as in
// ORTOptions.
func RunGeneric(model []byte, inputs []Tensor, libraryPath string) ([]Tensor, error) {
	if _, err := acquire(libraryPath); err != nil {
		return nil, err
	}
	defer release()
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, &ModelError{Model: "model", Msg: firstLine(err)}
	}
	if len(ins) != len(inputs) {
		return nil, &ModelError{Model: "model", Msg: fmt.Sprintf("the model has %d inputs, %d given", len(ins), len(inputs))}
	}
	var inNames, outNames []string
	for _, in := range ins {
		inNames = append(inNames, in.Name)
	}
	for _, o := range outs {
		if o.OrtValueType != ort.ONNXTypeTensor || o.DataType != ort.TensorElementDataTypeFloat {
			return nil, &ModelError{Model: "model", Msg: fmt.Sprintf("output %q is not a float tensor; only float outputs are supported", o.Name)}
		}
		outNames = append(outNames, o.Name)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inNames, outNames, nil)
	if err != nil {
		return nil, &ModelError{Model: "model", Msg: firstLine(err)}
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
		if ins[i].DataType != ort.TensorElementDataTypeFloat {
			return nil, &ModelError{Model: "model", Msg: fmt.Sprintf("input %q is not a float tensor; only float inputs are supported", ins[i].Name)}
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
