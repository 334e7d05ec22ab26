package train

import (
	"fmt"

	"github.com/fmkit/fmkit/internal/gemm"
)

// Dense is a fully connected layer y = act(x W^T + b) with an optional fused
// activation (Keras' Dense(units, activation=)).
//
// W is (Units, In), the layout of PyTorch's Linear weight and of ONNX Gemm's B
// with transB=1; B is (Units). The input is flat (In) per sample; a (C, H, W)
// input is rejected — put a Flatten first.
type Dense struct {
	layerBase
	Units int
	Act   Activation
	W, B  *Param

	nin       int
	y, dz, dx []float32
	yts       [][]float32 // per thread, y^T (Units, rows) for small batches
	logits    bool
}

// NewDense returns a Dense layer with the given units and activation.
func NewDense(units int, act Activation) *Dense { return &Dense{Units: units, Act: act} }

// Kind returns "dense".
func (l *Dense) Kind() string { return "dense" }

// TypeName returns "Dense".
func (l *Dense) TypeName() string { return "Dense" }

// Params returns [W, B].
func (l *Dense) Params() []*Param { return []*Param{l.W, l.B} }

func (l *Dense) build(in Shape, rng *RNG) error {
	if len(in) != 1 {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("Dense needs a flat input, got %v (add a Flatten)", in)}
	}
	if l.Units < 1 {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("units %d must be >= 1", l.Units)}
	}
	if l.Act < ActNone || l.Act > ActSoftmax {
		return &ShapeError{Layer: l.name, Msg: fmt.Sprintf("unknown activation %v", l.Act)}
	}
	l.nin = in[0]
	l.in, l.out = in.Clone(), Shape{l.Units}
	wshape := []int{l.Units, l.nin}
	if l.W == nil {
		l.W = newParam(wshape, true)
		GlorotUniform(l.W.Data, l.nin, l.Units, rng)
	} else if err := checkParam(l.name, "weight", l.W, wshape, true); err != nil {
		return err
	}
	if l.B == nil {
		l.B = newParam([]int{l.Units}, true)
	} else if err := checkParam(l.name, "bias", l.B, []int{l.Units}, true); err != nil {
		return err
	}
	l.W.Name, l.B.Name = l.name+".weight", l.name+".bias"
	return nil
}

func (l *Dense) clone() Layer {
	return &Dense{layerBase: l.cloneBase(), Units: l.Units, Act: l.Act, W: l.W.clone(), B: l.B.clone(), nin: l.nin}
}

// Forward computes act(x W^T + b).
func (l *Dense) Forward(x []float32, n int, training bool) []float32 {
	return l.forward(x, n, false)
}

func (l *Dense) forward(x []float32, n int, logits bool) []float32 {
	l.begin(x, n)
	l.logits = logits && l.Act == ActSoftmax
	grow(&l.y, n*l.Units)
	if t := chunks(l.nthreads(), n); n/t < l.Units {
		growPer(&l.yts, t, l.Units*((n+t-1)/t))
	}
	parallel(l.group(), l.nthreads(), n, l, opForward)
	return l.y
}

// Backward computes dW, dB and (if needDx) dx.
func (l *Dense) Backward(dy []float32, needDx bool) []float32 {
	l.checkDy(dy)
	n := l.n
	dz := grow(&l.dz, n*l.Units)
	actBackward(l.Act, l.logits, dz, l.y, dy, n, l.Units)
	// dW rows are independent: split over units, so no reduction is needed
	// and the result does not even depend on the thread count.
	parallel(l.group(), l.nthreads(), l.Units, l, opBackward)
	if !needDx {
		return nil
	}
	grow(&l.dx, n*l.nin)
	parallel(l.group(), l.nthreads(), n, l, opBackward2)
	return l.dx
}

func (l *Dense) run(op, lo, hi, tid int) {
	u, in := l.Units, l.nin
	switch op {
	case opForward:
		// x (N,In), w (U,In) -> y (N,U), rows [lo,hi).
		l.forwardRows(l.x[lo*in:hi*in], l.y[lo*u:hi*u], hi-lo, tid, l.n == 1)
	case opBackward:
		// dz (N,U), x (N,In) -> dW (U,In) rows [lo,hi), dB [lo,hi).
		n := l.n
		if n == 0 {
			clear(l.W.Grad[lo*in : hi*in])
			clear(l.B.Grad[lo:hi])
			return
		}
		gemm.Sgemm(true, false, hi-lo, in, n, 1, l.dz[lo:], u, l.x, in, 0, l.W.Grad[lo*in:], in)
		for j := lo; j < hi; j++ {
			var s float32
			for i := 0; i < n; i++ {
				s += l.dz[i*u+j]
			}
			l.B.Grad[j] = s
		}
	case opBackward2:
		// dz (N,U), w (U,In) -> dx (N,In), rows [lo,hi).
		gemm.Sgemm(false, false, hi-lo, in, u, 1, l.dz[lo*u:], u, l.W.Data, in, 0, l.dx[lo*in:], in)
	}
}

// forwardRows computes y (rows,U) = act(x W^T + b) for x (rows,In) as
// thread tid; single selects the matrix-vector path of a one-image batch.
func (l *Dense) forwardRows(x, y []float32, rows, tid int, single bool) {
	u, in := l.Units, l.nin
	relu := l.Act == ActReLU
	b := l.B.Data[:u]
	if single {
		// One image (Predict's latency path): a matrix-vector
		// product, one dot product per unit, reading W once. Its
		// sums run in another order than the batched products', so
		// a lone image may differ from itself in a batch in the
		// last bits; a split batch never takes this path.
		x := x[:in]
		for j := range y {
			v := gemm.Dot(l.W.Data[j*in:(j+1)*in], x) + b[j]
			if relu && v < 0 {
				v = 0
			}
			y[j] = v
		}
	} else if rows < u {
		// Few rows (one image in Predict): y^T = W x^T reads W in
		// place and packs only x, where y = x W^T would transpose
		// all of W into the packed layout on every call.
		yt := l.yts[tid][:u*rows]
		gemm.Sgemm(false, true, u, rows, in, 1, l.W.Data, in, x, in, 0, yt, rows)
		for r := 0; r < rows; r++ {
			row := y[r*u : (r+1)*u]
			for j := range row {
				v := yt[j*rows+r] + b[j]
				if relu && v < 0 {
					v = 0
				}
				row[j] = v
			}
		}
	} else {
		gemm.Sgemm(false, true, rows, u, in, 1, x, in, l.W.Data, in, 0, y, u)
		for r := 0; r < rows; r++ {
			row := y[r*u : (r+1)*u]
			for j := range row {
				v := row[j] + b[j]
				if relu && v < 0 {
					v = 0
				}
				row[j] = v
			}
		}
	}
	if l.Act == ActSoftmax && !l.logits {
		softmaxRows(y, rows, u)
	}
}
