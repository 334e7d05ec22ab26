package train

import (
	"fmt"
	"math"
)

// SparseCategoricalCrossEntropy is Keras' sparse categorical cross-entropy
// computed from logits (from_logits=True): for each of the n samples,
// loss_i = logsumexp(z_i) - z_i[label_i], computed stably by subtracting the
// row maximum, in float64; it returns the mean over the batch and the number
// of samples whose arg-max (the first maximum, as numpy's argmax) equals the
// label. If dlogits is not nil it receives d(mean loss)/d(logits) =
// (softmax(z_i) - onehot(label_i)) / n.
//
// logits is (n, classes). Labels must be in [0, classes); a label out of
// range is a programmer error (datasets validate their labels when loaded)
// and panics.
func SparseCategoricalCrossEntropy(logits []float32, labels []uint8, n, classes int, dlogits []float32) (loss float64, correct int) {
	if len(logits) < n*classes || len(labels) < n || (dlogits != nil && len(dlogits) < n*classes) {
		panic(fmt.Sprintf("train: SparseCategoricalCrossEntropy: %d logits, %d labels for %d samples of %d classes", len(logits), len(labels), n, classes))
	}
	if n == 0 {
		return 0, 0
	}
	invN := 1 / float64(n)
	for i := 0; i < n; i++ {
		z := logits[i*classes : (i+1)*classes]
		lab := int(labels[i])
		if lab >= classes {
			panic(fmt.Sprintf("train: label %d of sample %d is out of range [0, %d)", lab, i, classes))
		}
		lse, am := logSumExp(z)
		if am == lab {
			correct++
		}
		loss += lse - float64(z[lab])
		if dlogits != nil {
			d := dlogits[i*classes : (i+1)*classes]
			for j, v := range z {
				p := math.Exp(float64(v) - lse)
				if j == lab {
					p--
				}
				d[j] = float32(p * invN)
			}
		}
	}
	return loss * invN, correct
}

// CrossEntropy is SparseCategoricalCrossEntropy with label smoothing s in
// [0, 1): the target of sample i is q = (1-s)*onehot(label_i) + s/classes,
// as in torch.nn.CrossEntropyLoss(label_smoothing=s) and Keras'
// CategoricalCrossentropy(from_logits=True, label_smoothing=s) on one-hot
// labels, so
//
//	loss_i = logsumexp(z_i) - (1-s)*z_i[label_i] - (s/classes) * sum_j z_i[j]
//
// in float64, and dlogits (if not nil) receives (softmax(z_i) - q) / n. The
// count of correct arg-maxes ignores s. With s = 0 it is
// SparseCategoricalCrossEntropy, bit for bit.
func CrossEntropy(logits []float32, labels []uint8, n, classes int, s float64, dlogits []float32) (loss float64, correct int) {
	if s == 0 {
		return SparseCategoricalCrossEntropy(logits, labels, n, classes, dlogits)
	}
	if len(logits) < n*classes || len(labels) < n || (dlogits != nil && len(dlogits) < n*classes) {
		panic(fmt.Sprintf("train: CrossEntropy: %d logits, %d labels for %d samples of %d classes", len(logits), len(labels), n, classes))
	}
	if n == 0 {
		return 0, 0
	}
	invN := 1 / float64(n)
	off := s / float64(classes) // q_j for j != label
	on := 1 - s + off           // q_label
	for i := 0; i < n; i++ {
		z := logits[i*classes : (i+1)*classes]
		lab := int(labels[i])
		if lab >= classes {
			panic(fmt.Sprintf("train: label %d of sample %d is out of range [0, %d)", lab, i, classes))
		}
		lse, am := logSumExp(z)
		if am == lab {
			correct++
		}
		var sumZ float64
		for _, v := range z {
			sumZ += float64(v)
		}
		loss += lse - (1-s)*float64(z[lab]) - off*sumZ
		if dlogits != nil {
			d := dlogits[i*classes : (i+1)*classes]
			for j, v := range z {
				q := off
				if j == lab {
					q = on
				}
				d[j] = float32((math.Exp(float64(v)-lse) - q) * invN)
			}
		}
	}
	return loss * invN, correct
}

// logSumExp returns log(sum_j exp(z[j])) in float64, shifted by the
// maximum for stability, and the index of the first maximum (the arg-max
// the accuracy counts).
func logSumExp(z []float32) (float64, int) {
	m, am := z[0], 0
	for j, v := range z {
		if v > m {
			m, am = v, j
		}
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - float64(m))
	}
	return float64(m) + math.Log(s), am
}
