package onnx

import "testing"

var benchSink []*Tensor

// BenchmarkEvalNaiveTiny_1x1x28x28 measures the reference evaluator on the tiny CNN for
// one image (a baseline for the fast engine, not a target).
func BenchmarkEvalNaiveTiny_1x1x28x28(b *testing.B) {
	enc, err := encodeModel(tinyModel(1))
	if err != nil {
		b.Fatal(err)
	}
	g, err := DecodeModel(enc)
	if err != nil {
		b.Fatal(err)
	}
	x := NewFloat("input", []int64{1, 1, 28, 28}, make([]float32, 28*28))
	for b.Loop() {
		benchSink, err = EvalNaive(g, map[string]*Tensor{"input": x})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTensor_1M measures decoding a 1M-element float32 tensor from raw_data.
func BenchmarkDecodeTensor_1M(b *testing.B) {
	enc, err := EncodeTensor(NewFloat("w", []int64{1024, 1024}, make([]float32, 1<<20)))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		t, err := DecodeTensor(enc)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = []*Tensor{t}
	}
}
