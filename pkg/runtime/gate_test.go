package runtime

import (
	"slices"
	"strings"
	"testing"
)

// countingForwarder records the batch size of every call; image k of a call gets
// k + its first pixel as its first probability, so results show where they came from.
type countingForwarder struct{ calls []int }

func (f *countingForwarder) Predict(x []float32, n int, dst []float32) []float32 {
	f.calls = append(f.calls, n)
	if cap(dst) < n*NumClasses {
		dst = make([]float32, n*NumClasses)
	}
	dst = dst[:n*NumClasses]
	for k := range n {
		dst[k*NumClasses] = float32(k) + x[k*PixelsPerImage]
	}
	return dst
}

// TestNativeMaxBatch: NewNative with Info.MaxBatch runs the Forwarder on at most that many
// images at a time and puts every image's result in its place.
func TestNativeMaxBatch(t *testing.T) {
	const n = 10
	x := make([]float32, n*PixelsPerImage)
	for i := range n {
		x[i*PixelsPerImage] = float32(100 * i)
	}
	for _, tc := range []struct {
		max   int
		calls []int
	}{{0, []int{10}}, {3, []int{3, 3, 3, 1}}, {5, []int{5, 5}}, {64, []int{10}}} {
		f := &countingForwarder{}
		p := NewNative(f, Info{MaxBatch: tc.max})
		got, err := p.Predict(x, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.calls, tc.calls) {
			t.Errorf("MaxBatch %d: calls %v, want %v", tc.max, f.calls, tc.calls)
		}
		step := n
		if tc.max > 0 {
			step = tc.max
		}
		for i := range n {
			if want := float32(i%step) + float32(100*i); got[i*NumClasses] != want {
				t.Errorf("MaxBatch %d: image %d got %v, want %v", tc.max, i, got[i*NumClasses], want)
			}
		}
		if p.Info().MaxBatch != tc.max {
			t.Errorf("Info().MaxBatch = %d, want %d", p.Info().MaxBatch, tc.max)
		}
	}
}

// TestChooseIOFixedBatchCap: a fixed batch beyond MaxFixedBatch (2^40, 2^31) is a
// *LoadError, before anything is allocated for it; MaxFixedBatch itself is accepted.
func TestChooseIOFixedBatchCap(t *testing.T) {
	out := []tensorDesc{{Name: "probabilities", IsTensor: true, IsFloat: true, Shape: []int64{-1, NumClasses}}}
	for _, b := range []int64{1 << 40, 1 << 31, MaxFixedBatch + 1, MaxFixedBatch, 3} {
		in := []tensorDesc{{Name: "input", IsTensor: true, IsFloat: true, Shape: []int64{b, 1, 28, 28}}}
		mio, err := chooseIO("m.onnx", in, out)
		switch {
		case b > MaxFixedBatch && (err == nil || !strings.Contains(err.Error(), "fixed batch of")):
			t.Errorf("batch %d: %v, want a fixed-batch error", b, err)
		case b <= MaxFixedBatch && (err != nil || mio.batch != b):
			t.Errorf("batch %d: %v (batch %d)", b, err, mio.batch)
		}
	}
}

// TestCheckThreads: negative counts, counts above MaxThreads and 2^31 (which a C int would
// wrap) are refused.
func TestCheckThreads(t *testing.T) {
	for _, n := range []int{-1, MaxThreads() + 1, 1 << 31, 100000} {
		if err := checkThreads(n); err == nil {
			t.Errorf("checkThreads(%d) accepted", n)
		}
	}
	for _, n := range []int{0, 1, MaxThreads()} {
		if err := checkThreads(n); err != nil {
			t.Errorf("checkThreads(%d): %v", n, err)
		}
	}
}
