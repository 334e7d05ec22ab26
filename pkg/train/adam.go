package train

import (
	"math"

	"github.com/fmkit/fmkit/internal/adam"
)

// Keras' Adam defaults (tf.keras.optimizers.Adam).
const (
	DefaultLR      = 0.001
	DefaultBeta1   = 0.9
	DefaultBeta2   = 0.999
	DefaultEpsilon = 1e-7
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update to every trainable parameter.
	Step(params []*Param)
}

// Adam is the Adam optimiser (Kingma and Ba, 2015) in the form tf.keras uses:
// at step t,
//
//	m = beta1*m + (1-beta1)*g
//	v = beta2*v + (1-beta2)*g*g
//	lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//	w -= lr_t * m / (sqrt(v) + eps)
//
// so epsilon is added to sqrt(v), not to sqrt(v_hat) as in PyTorch's Adam
// (w -= lr * m_hat / (sqrt(v_hat) + eps)); the two differ when |g| is
// near epsilon. We follow Keras because the book's results come from Keras.
// The update runs in float32 (lr_t is computed in float64 and rounded), 16
// lanes at a time with AVX-512 (adam.Update); it differs from a float64
// evaluation by a few float32 ulps of w.
//
// M and V hold the first and second moments, one slice per parameter in the
// order of the params passed to Step; T is the number of steps taken. All
// state is exported so that checkpoints can save and restore it.
//
// A non-zero WeightDecay makes it AdamW (Loshchilov and Hutter, 2019) with
// the decoupled decay of torch.optim.AdamW: before the Adam update, every
// trainable parameter (biases included, as torch.optim.AdamW(model.parameters())
// does) is multiplied by 1 - LR*WeightDecay, with LR the rate of this step
// (so a schedule scales the decay too), rounded to float32 as torch's
// param.mul_(1 - lr*weight_decay) does. The decay adds no state.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	WeightDecay           float64
	M, V                  [][]float32
	T                     int
}

// NewAdam returns an Adam optimiser with Keras' defaults and zero moments
// shaped like params.
func NewAdam(params []*Param) *Adam {
	a := &Adam{LR: DefaultLR, Beta1: DefaultBeta1, Beta2: DefaultBeta2, Eps: DefaultEpsilon}
	a.M = make([][]float32, len(params))
	a.V = make([][]float32, len(params))
	for i, p := range params {
		if p.Trainable() {
			a.M[i] = make([]float32, len(p.Data))
			a.V[i] = make([]float32, len(p.Data))
		}
	}
	return a
}

// Step applies one Adam update to each trainable parameter. params must be
// the slice (or one in the same order) given to NewAdam; a mismatch is a
// programmer error and panics.
func (a *Adam) Step(params []*Param) {
	if len(params) != len(a.M) || len(params) != len(a.V) {
		panic("train: Adam.Step: parameter list does not match the optimiser state")
	}
	a.T++
	t := float64(a.T)
	lrT := a.LR * math.Sqrt(1-math.Pow(a.Beta2, t)) / (1 - math.Pow(a.Beta1, t))
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	c1, c2 := float32(1-a.Beta1), float32(1-a.Beta2)
	lr, eps := float32(lrT), float32(a.Eps)
	decay := float32(1 - a.LR*a.WeightDecay)
	for i, p := range params {
		if !p.Trainable() {
			continue
		}
		m, v := a.M[i], a.V[i]
		if len(m) != len(p.Data) || len(v) != len(p.Data) {
			panic("train: Adam.Step: state of " + p.Name + " has the wrong size")
		}
		if a.WeightDecay != 0 {
			for j := range p.Data {
				p.Data[j] *= decay
			}
		}
		adam.Update(p.Data, p.Grad, m, v, b1, c1, b2, c2, lr, eps)
	}
}
