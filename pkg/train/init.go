package train

import "math"

// GlorotUniform fills w with values drawn uniformly from [-limit, limit),
// limit = sqrt(6 / (fanIn + fanOut)): Keras' default kernel initialiser
// (glorot_uniform). For a convolution kernel (OC, C, KH, KW) Keras uses
// fanIn = KH*KW*C and fanOut = KH*KW*OC; for a Dense kernel fanIn = inputs
// and fanOut = units. Values are drawn in w's order from rng.
func GlorotUniform(w []float32, fanIn, fanOut int, rng *RNG) {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32(rng.Uniform(-limit, limit))
	}
}
