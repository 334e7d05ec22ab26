package train

import (
	"errors"
	"math"
	"testing"
)

// randomBatch returns n pseudo-images in [0, 1) and labels.
func randomBatch(seed uint64, n int) ([]float32, []uint8) {
	r := NewRNG(seed)
	x := make([]float32, n*784)
	for i := range x {
		x[i] = r.Float32()
	}
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(r.Intn(10))
	}
	return x, labels
}

func paramsEqual(a, b *Model) bool {
	for i, p := range a.Params() {
		q := b.Params()[i]
		for j := range p.Data {
			if math.Float32bits(p.Data[j]) != math.Float32bits(q.Data[j]) {
				return false
			}
		}
	}
	return true
}

// TestDeterminism: a fixed thread count gives bit-identical training runs;
// different thread counts agree to float32 rounding.
func TestDeterminism(t *testing.T) {
	x, labels := randomBatch(3, 16)
	run := func(threads int) *Model {
		m := mustModel(t, "c8k3-p2-c16k3same-x0.25-f-d16-d10")
		m.SetThreads(threads)
		opt := NewAdam(m.Params())
		for range 3 {
			m.TrainStep(opt, x, labels, 16)
		}
		return m
	}
	a, b, c := run(3), run(3), run(1)
	if !paramsEqual(a, b) {
		t.Error("two runs with 3 threads differ")
	}
	for i, p := range a.Params() {
		if d, at := maxAbsDiff(p.Data, c.Params()[i].Data); d > 1e-5 {
			t.Errorf("%s: threads 3 vs 1 differ by %g at %d", p.Name, d, at)
		}
	}
}

func TestCloneIsIndependent(t *testing.T) {
	m := SmallModel(NewRNG(4))
	c := m.Clone()
	if !paramsEqual(m, c) {
		t.Fatal("clone has different weights")
	}
	for i, p := range c.Params() {
		if p.Name != m.Params()[i].Name || &p.Data[0] == &m.Params()[i].Data[0] {
			t.Fatalf("param %d: name %q, shares storage %v", i, p.Name, &p.Data[0] == &m.Params()[i].Data[0])
		}
	}
	x, labels := randomBatch(5, 8)
	before := append([]float32(nil), m.Predict(x, 8, nil)...)
	c.TrainStep(NewAdam(c.Params()), x, labels, 8)
	after := m.Predict(x, 8, nil)
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("training the clone changed the original")
		}
	}
	if paramsEqual(m, c) {
		t.Fatal("training the clone changed nothing")
	}
}

func TestPredictAndForward(t *testing.T) {
	m := BookModel(NewRNG(6))
	n := DefaultPredictChunk + 3 // crosses a chunk boundary
	x, _ := randomBatch(7, n)
	probs := m.Predict(x, n, nil)
	logits := append([]float32(nil), m.Logits(x, n, false)...)
	fwd := m.Forward(x, n, false)
	for i := 0; i < n; i++ {
		var sum float64
		z := logits[i*10 : (i+1)*10]
		mx := z[0]
		for _, v := range z {
			mx = max(mx, v)
		}
		var den float64
		for _, v := range z {
			den += math.Exp(float64(v - mx))
		}
		for j := 0; j < 10; j++ {
			want := math.Exp(float64(z[j]-mx)) / den
			if math.Abs(float64(probs[i*10+j])-want) > 1e-6 || fwd[i*10+j] != probs[i*10+j] {
				t.Fatalf("sample %d class %d: predict %g forward %g softmax(logits) %g", i, j, probs[i*10+j], fwd[i*10+j], want)
			}
			sum += float64(probs[i*10+j])
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("sample %d: probabilities sum to %g", i, sum)
		}
	}
	// Forward in training mode returns the logits.
	tr := m.Forward(x[:784*4], 4, true)
	for j := range tr {
		if tr[j] != logits[j] {
			t.Fatalf("training Forward[%d] = %g, logits %g", j, tr[j], logits[j])
		}
	}
	// A standalone final Softmax layer behaves like the fused activation.
	ws := []*Param{}
	for _, p := range m.Params() {
		ws = append(ws, p.clone())
	}
	sep, err := NewModel(Shape{1, 28, 28},
		&Conv2D{Filters: 32, KH: 3, KW: 3, Act: ActReLU, W: ws[0], B: ws[1]}, NewMaxPool2D(2),
		&Conv2D{Filters: 64, KH: 3, KW: 3, W: ws[2], B: ws[3]}, &ReLU{}, NewMaxPool2D(2),
		&Conv2D{Filters: 128, KH: 3, KW: 3, Act: ActReLU, W: ws[4], B: ws[5]}, &Flatten{},
		&Dense{Units: 64, Act: ActReLU, W: ws[6], B: ws[7]}, &Dense{Units: 10, W: ws[8], B: ws[9]}, &Softmax{})
	if err != nil {
		t.Fatal(err)
	}
	p2 := sep.Predict(x, n, nil)
	if d, at := maxAbsDiff(p2, probs); d > 1e-6 {
		t.Errorf("separate-node model differs by %g at %d", d, at)
	}
	z2 := sep.Logits(x, n, false)
	if d, _ := maxAbsDiff(z2, logits); d > 1e-5 {
		t.Errorf("separate-node logits differ by %g", d)
	}
	loss, acc := m.Evaluate(x, make([]uint8, n), n)
	if !(loss > 0) || acc < 0 || acc > 1 {
		t.Errorf("Evaluate: %g %g", loss, acc)
	}
}

func TestNewModelErrors(t *testing.T) {
	good := func() *Param { return &Param{Shape: []int{4, 1, 3, 3}, Data: make([]float32, 36)} }
	used := NewDense(3, ActNone)
	if _, err := NewModel(Shape{5}, used); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		in     Shape
		layers []Layer
	}{
		{"no layers", Shape{1, 28, 28}, nil},
		{"bad input", Shape{1, 0, 28}, []Layer{&Flatten{}}},
		{"nil layer", Shape{1, 28, 28}, []Layer{nil}},
		{"reused layer", Shape{5}, []Layer{used}},
		{"wrong weight shape", Shape{2, 8, 8}, []Layer{&Conv2D{Filters: 4, KH: 3, KW: 3, W: good()}}},
		{"short weight data", Shape{1, 8, 8}, []Layer{&Conv2D{Filters: 4, KH: 3, KW: 3, W: &Param{Shape: []int{4, 1, 3, 3}, Data: make([]float32, 30)}}}},
		{"wrong bias", Shape{1, 8, 8}, []Layer{&Conv2D{Filters: 4, KH: 3, KW: 3, W: good(), B: &Param{Shape: []int{3}, Data: make([]float32, 3)}}}},
		{"dense wrong in", Shape{6}, []Layer{&Dense{Units: 2, W: &Param{Shape: []int{2, 5}, Data: make([]float32, 10)}}}},
		{"negative var", Shape{2}, []Layer{&BatchNorm{Var: &Param{Shape: []int{2}, Data: []float32{1, -1}}}}},
		{"dropout rate", Shape{2}, []Layer{NewDropout(1)}},
	}
	for _, c := range cases {
		_, err := NewModel(c.in, c.layers...)
		var se *ShapeError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v, want *ShapeError", c.name, err)
		}
	}
	// Supplied weights are kept, not re-initialised; a missing bias is added.
	w := good()
	w.Data[5] = 42
	m, err := NewModel(Shape{1, 8, 8}, &Conv2D{Filters: 4, KH: 3, KW: 3, W: w})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Layers[0].(*Conv2D)
	if c.W != w || w.Data[5] != 42 || w.Name != "conv1.weight" || c.B.Name != "conv1.bias" || len(w.Grad) != 36 {
		t.Errorf("weights not adopted: %+v", c.W)
	}
}

func TestParamNames(t *testing.T) {
	m := mustModel(t, "c8k3-bn-p2-c8k3-f-d16-d10")
	want := []string{"conv1.weight", "conv1.bias", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var",
		"conv2.weight", "conv2.bias", "dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias"}
	if len(m.Params()) != len(want) {
		t.Fatalf("%d params", len(m.Params()))
	}
	for i, p := range m.Params() {
		if p.Name != want[i] {
			t.Errorf("param %d: %q, want %q", i, p.Name, want[i])
		}
	}
}

// TestGlorotInit checks Keras' limits and that biases start at zero.
func TestGlorotInit(t *testing.T) {
	m := BookModel(NewRNG(9))
	for _, p := range m.Params() {
		if len(p.Shape) == 1 {
			for _, v := range p.Data {
				if v != 0 {
					t.Fatalf("%s not zero", p.Name)
				}
			}
			continue
		}
		fanIn, fanOut := p.Shape[1], p.Shape[0]
		if len(p.Shape) == 4 {
			fanIn, fanOut = 9*p.Shape[1], 9*p.Shape[0]
		}
		limit := math.Sqrt(6 / float64(fanIn+fanOut))
		var mx, sum2 float64
		for _, v := range p.Data {
			mx = math.Max(mx, math.Abs(float64(v)))
			sum2 += float64(v) * float64(v)
		}
		// Uniform on [-l, l]: variance l^2/3.
		sd := math.Sqrt(sum2 / float64(len(p.Data)))
		if mx > limit || mx < 0.9*limit || math.Abs(sd-limit/math.Sqrt(3)) > 0.1*limit {
			t.Errorf("%s: max %g sd %g, limit %g", p.Name, mx, sd, limit)
		}
	}
}

func TestTrainStepAllocs(t *testing.T) {
	for _, threads := range []int{1, 2} {
		m := BookModel(NewRNG(1))
		m.SetThreads(threads)
		x, labels := randomBatch(2, 32)
		opt := NewAdam(m.Params())
		m.TrainStep(opt, x, labels, 32) // grow the buffers
		// The layers allocate nothing once grown. With threads the runtime may
		// still allocate now and then (a sudog for a WaitGroup wait, a
		// sync.Pool refill in internal/gemm after a GC); AllocsPerRun's
		// average over 20 steps, rounded down, absorbs those but not one
		// allocation per step.
		allocs := testing.AllocsPerRun(20, func() { m.TrainStep(opt, x, labels, 32) })
		if allocs != 0 {
			t.Errorf("threads %d: %v allocations per TrainStep, want 0", threads, allocs)
		}
	}
}

func benchTrainStep(b *testing.B, threads int) {
	m := BookModel(NewRNG(1))
	m.SetThreads(threads)
	x, labels := randomBatch(2, 32)
	opt := NewAdam(m.Params())
	m.TrainStep(opt, x, labels, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.TrainStep(opt, x, labels, 32)
	}
	b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkTrainStep_Book32(b *testing.B)          { benchTrainStep(b, 1) }
func BenchmarkTrainStep_Book32_Threads2(b *testing.B) { benchTrainStep(b, 2) }

func BenchmarkPredict_Book256(b *testing.B) {
	m := BookModel(NewRNG(1))
	m.SetThreads(1)
	x, _ := randomBatch(2, 256)
	dst := make([]float32, 2560)
	m.Predict(x, 256, dst)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sinkF32 = m.Predict(x, 256, dst)
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "samples/s")
}
