package train

import (
	"math"
	"math/bits"
)

// RNG is the engine's only source of randomness: a xoshiro256** generator
// (Blackman and Vigna, 2018) seeded through splitmix64. It is small, fast and
// fully determined by its State, which checkpoints save so that a resumed run
// draws exactly the numbers an uninterrupted run would have drawn.
//
// An RNG is not safe for concurrent use; give each goroutine its own, derived
// with Split.
type RNG struct {
	s [4]uint64
}

// NewRNG returns a generator seeded from seed. Equal seeds give equal streams.
func NewRNG(seed uint64) *RNG {
	r := &RNG{}
	r.Seed(seed)
	return r
}

// Seed resets the generator to the stream of seed.
func (r *RNG) Seed(seed uint64) {
	x := seed
	for i := range r.s {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		r.s[i] = z ^ (z >> 31)
	}
}

// State returns the generator's full state.
func (r *RNG) State() [4]uint64 { return r.s }

// SetState restores a state returned by State. An all-zero state is invalid
// for xoshiro and is replaced by the stream of seed 0.
func (r *RNG) SetState(s [4]uint64) {
	if s == [4]uint64{} {
		r.Seed(0)
		return
	}
	r.s = s
}

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	s := &r.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// Float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 {
	return float64(r.Uint64()>>11) * (1.0 / (1 << 53))
}

// Float32 returns a uniform number in [0, 1) with 24 random bits.
func (r *RNG) Float32() float32 {
	return float32(r.Uint64()>>40) * (1.0 / (1 << 24))
}

// Uniform returns a uniform number in [lo, hi).
func (r *RNG) Uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*r.Float64()
}

// Intn returns a uniform integer in [0, n) without modulo bias. It panics if
// n <= 0, which is a programmer error.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic("train: RNG.Intn with n <= 0")
	}
	// Lemire's multiply-and-reject method.
	un := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), un)
		}
	}
	return int(hi)
}

// Perm fills p with a uniformly random permutation of 0..len(p)-1
// (Fisher-Yates), without allocating.
func (r *RNG) Perm(p []int) {
	for i := range p {
		p[i] = i
	}
	for i := len(p) - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}

// Split returns a new generator whose stream is derived from, and
// independent in practice of, r's; r advances by one draw.
func (r *RNG) Split() *RNG {
	return NewRNG(r.Uint64() ^ 0x6a09e667f3bcc909)
}

// NormFloat64 returns a standard normal deviate (Box-Muller; two uniform
// draws per call, the second value discarded so the stream stays simple).
func (r *RNG) NormFloat64() float64 {
	u1 := 1 - r.Float64() // (0, 1]
	u2 := r.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
