package train

import (
	"fmt"
	"math"
	"testing"
)

// TestPredictPipelined checks Predict's pipelined path (n > 1) against the
// layer-by-layer forward pass on one thread, for batch sizes that split
// unevenly over the threads and into pipelineSamples blocks, past one
// DefaultPredictChunk, and for models ending in a Flatten or a softmax
// convolution.
func TestPredictPipelined(t *testing.T) {
	specs := []string{BookSpec, SmallSpec, "c8k3-p2-f", "c4k3-a2-c10k3:softmax", "c6k5-p3-f-d16-d10", "c8k3same-p3s2-c4k3-f-d10"}
	for _, spec := range specs {
		for _, threads := range []int{1, 2, 3, 5} {
			for _, n := range []int{2, 3, 7, 9, 17, 33, DefaultPredictChunk + 3} {
				t.Run(fmt.Sprintf("%s/t%d/n%d", spec, threads, n), func(t *testing.T) {
					m, err := BuildModel(spec, Shape{1, 28, 28}, NewRNG(3))
					if err != nil {
						t.Fatal(err)
					}
					if !m.pipelined() {
						t.Fatalf("%s: not pipelined", spec)
					}
					m.SetThreads(threads)
					x, _ := randomBatch(4, n)
					got := m.Predict(x, n, nil)
					ref := m.Clone()
					ref.SetThreads(1)
					var want []float32
					for lo := 0; lo < n; lo += DefaultPredictChunk {
						hi := min(lo+DefaultPredictChunk, n)
						want = append(want, ref.run(x[lo*784:hi*784], hi-lo, false, false)...)
					}
					if len(got) != len(want) {
						t.Fatalf("got %d outputs, want %d", len(got), len(want))
					}
					var maxDiff float64
					for i := range want {
						maxDiff = max(maxDiff, math.Abs(float64(got[i]-want[i])))
					}
					if maxDiff > 1e-6 {
						t.Errorf("max abs diff %g against the layer-by-layer pass", maxDiff)
					}
					again := m.Predict(x, n, nil)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(again[i]) {
							t.Fatalf("output %d: %v then %v: not deterministic", i, got[i], again[i])
						}
					}
				})
			}
		}
	}
}

func benchPredict(b *testing.B, n, threads int) {
	m := BookModel(NewRNG(1))
	m.SetThreads(threads)
	x, _ := randomBatch(2, n)
	dst := make([]float32, 10*n)
	m.Predict(x, n, dst)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sinkF32 = m.Predict(x, n, dst)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkPredict_Book1(b *testing.B)           { benchPredict(b, 1, 1) }
func BenchmarkPredict_Book32(b *testing.B)          { benchPredict(b, 32, 1) }
func BenchmarkPredict_Book32_Threads2(b *testing.B) { benchPredict(b, 32, 2) }
