// Package train is fmkit's native CNN engine: layers, a sequential Model, the
// sparse categorical cross-entropy loss and the Adam optimiser, in pure Go.
//
// # Layout
//
// Every tensor is float32, row-major, in NCHW order: the same layout as ONNX,
// so a trained model exports without transposes. A batch of n images with c
// channels of h x w pixels is one []float32 of length n*c*h*w where element
// (i, ch, y, x) sits at ((i*c+ch)*h+y)*w+x. A flat feature vector is (N, F).
// Shapes exclude the batch dimension: Shape{1, 28, 28} describes one
// Fashion-MNIST image. Convolution kernels are (OC, C, KH, KW) as in ONNX
// Conv; Dense kernels are (Units, In) as in ONNX Gemm with transB=1 and
// PyTorch's Linear.
//
// # Ownership
//
// Each layer owns its output buffer, its input-gradient buffer and its
// scratch space. They grow when the batch grows and are reused otherwise, so
// a training step allocates nothing in steady state. The slice returned by
// Forward or Backward belongs to the layer and stays valid until that layer's
// next call of the same method; copy it to keep it. Model.Predict writes into
// a caller-supplied slice instead.
//
// # What is never mutated
//
// Forward never modifies its input, and Backward never modifies the incoming
// gradient. A layer keeps a reference to the input of its last Forward for
// use by Backward, so the caller must not modify that input in between.
// Flatten's output aliases its input, which the rule above makes safe.
// Parameters change only through an optimiser's Step (or by the caller);
// Backward overwrites (does not accumulate into) each Param's Grad.
//
// # Determinism
//
// Work is split over the batch among Threads goroutines; per-thread partial
// weight gradients are reduced in thread order, so a fixed thread count gives
// bit-identical results run after run (different counts agree to float32
// rounding). A lone sample (n == 1) takes a matrix-vector path in Dense
// layers, so its outputs can differ in the last bits from the same sample's
// inside a batch. Threads above one start, once, up to Threads-1 long-lived
// worker goroutines shared by all models; idle, they only wait on a channel.
// Model.Predict runs a single image on the calling goroutine.
// Randomness (initialisation, dropout) comes only from the package's seeded
// RNG, whose state can be checkpointed.
//
// # Correctness
//
// Every fast kernel (im2col + gemm convolution, gemm dense layers, pooling)
// is tested against a naive float64 reference (conv2dNaive, denseNaive,
// maxPoolNaive, avgPoolNaive; pointwiseNaive for the elementwise layers of
// imported graphs, transposeNaive and padNaive for the index-map layers);
// every layer's gradients against finite
// differences; and one training step of the book's model against PyTorch
// (testdata/gen/torch_step.py).
package train
