package fmnist

// ClassNames are the Fashion-MNIST class names, indexed by label.
var ClassNames = [NumClasses]string{
	"T-shirt/top", // 0
	"Trouser",     // 1
	"Pullover",    // 2
	"Dress",       // 3
	"Coat",        // 4
	"Sandal",      // 5
	"Shirt",       // 6
	"Sneaker",     // 7
	"Bag",         // 8
	"Ankle boot",  // 9
}

// Scale writes src scaled to [0,1] (float32(x)/255) into dst, which must be
// at least as long as src. It allocates nothing.
func Scale(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = scaleTable[v]
	}
}

// scaleTable holds float32(i)/255 for every byte, the exact value a division
// would give.
var scaleTable = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// Set is a Fashion-MNIST split held in memory.
type Set struct {
	Images []uint8 // N*Rows*Cols bytes: image after image, each row-major
	Labels []uint8 // N labels, each below NumClasses
	N      int     // number of examples
	Rows   int     // image height (28)
	Cols   int     // image width (28)
}

// Input returns the first n examples as model input: n*Rows*Cols float32 values scaled to
// [0, 1] by Scale, image after image, and a copy of their labels. It is the one place a
// loaded set becomes what the engines take (fminfer's eval and parity, fmtrain, fmbench).
// n is clamped to [0, N].
func (s *Set) Input(n int) (x []float32, labels []uint8) {
	n = max(0, min(n, s.N))
	px := s.Rows * s.Cols
	x = make([]float32, n*px)
	Scale(x, s.Images[:n*px])
	return x, append([]uint8(nil), s.Labels[:n]...)
}

// Image returns image i as a slice of Images (not a copy).
func (s *Set) Image(i int) []uint8 {
	sz := s.Rows * s.Cols
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}
