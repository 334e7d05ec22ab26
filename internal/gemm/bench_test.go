package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one problem: C (m x n) = op(A) (m x k) * op(B) (k x n).
type benchShape struct {
	name           string // what the shape is in the CNN
	transA, transB bool
	m, n, k        int
}

// benchShapes are the products the native engine runs (im2col convolution
// with M = output channels, per sample and batched over 32 samples, the
// dense layers at batch 32, and their gradients) plus square references.
var benchShapes = []benchShape{
	{"conv1 fwd", false, false, 32, 676, 9},
	{"conv2 fwd", false, false, 64, 121, 288},
	{"conv3 fwd", false, false, 128, 9, 576},
	{"conv1 fwd batch", false, false, 32, 21632, 9},
	{"conv2 fwd batch", false, false, 64, 3872, 288},
	{"conv3 fwd batch", false, false, 128, 288, 576},
	{"conv2 dW", false, true, 64, 288, 121},
	{"conv2 dW batch", false, true, 64, 288, 3872},
	{"conv2 dcols", true, false, 288, 121, 64},
	{"conv2 dcols batch", true, false, 288, 3872, 64},
	{"conv3 dW batch", false, true, 128, 576, 288},
	{"dense1 fwd", false, false, 32, 64, 1152},
	{"dense1 fwd W^T", false, true, 32, 64, 1152},
	{"dense1 dW", true, false, 1152, 64, 32},
	{"dense1 dX", false, true, 32, 1152, 64},
	{"dense2 fwd", false, false, 32, 10, 64},
	{"square", false, false, 64, 64, 64},
	{"square", false, false, 256, 256, 256},
	{"square TT", true, true, 256, 256, 256},
	{"square", false, false, 512, 512, 512},
}

func (s benchShape) operands() (a []float32, lda int, b []float32, ldb int, c []float32) {
	r := rand.New(rand.NewPCG(1, 2))
	a = make([]float32, s.m*s.k)
	b = make([]float32, s.k*s.n)
	for i := range a {
		a[i] = r.Float32() - 0.5
	}
	for i := range b {
		b[i] = r.Float32() - 0.5
	}
	lda, ldb = s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return a, lda, b, ldb, make([]float32, s.m*s.n)
}

// benchSink keeps the results alive so the compiler cannot drop the work.
var benchSink float32

func benchName(s benchShape) string {
	t := "NN"
	switch {
	case s.transA && s.transB:
		t = "TT"
	case s.transA:
		t = "TN"
	case s.transB:
		t = "NT"
	}
	return fmt.Sprintf("%s_%dx%dx%d", t, s.m, s.n, s.k)
}

func reportFlops(b *testing.B, s benchShape) {
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
}

// BenchmarkSgemm runs every shape on every kernel this CPU has, on gonum for
// comparison, and in parallel on 2 threads with the best kernel. Names:
// BenchmarkSgemm/NN_64x121x288/avx512.
func BenchmarkSgemm(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	for _, s := range benchShapes {
		a, lda, bm, ldb, c := s.operands()
		b.Run(benchName(s), func(b *testing.B) {
			for _, kn := range availableKernels() {
				b.Run(kn.name, func(b *testing.B) {
					active = kn
					for b.Loop() {
						Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
					reportFlops(b, s)
					benchSink += c[0]
				})
			}
			active = saved
			b.Run("gonum", func(b *testing.B) {
				var impl gonum.Implementation
				tA, tB := blas.NoTrans, blas.NoTrans
				if s.transA {
					tA = blas.Trans
				}
				if s.transB {
					tB = blas.Trans
				}
				for b.Loop() {
					impl.Sgemm(tA, tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				reportFlops(b, s)
				benchSink += c[0]
			})
		})
	}
}
