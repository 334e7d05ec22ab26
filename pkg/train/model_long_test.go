package train

import (
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const fmnistDir = "/usr/share/datasets/fashion-mnist"

// readIDXForTest reads a gzip IDX file: just enough for this test (pkg/fmnist
// is the real, validating reader).
func readIDXForTest(t *testing.T, name string) (dims []int, data []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join(fmnistDir, name))
	if os.IsNotExist(err) {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	nd := int(raw[3])
	size := 1
	for i := 0; i < nd; i++ {
		d := int(binary.BigEndian.Uint32(raw[4+4*i:]))
		dims = append(dims, d)
		size *= d
	}
	data = raw[4+4*nd:]
	if len(data) != size {
		t.Fatalf("%s: %d bytes of data, header says %d", name, len(data), size)
	}
	return dims, data
}

func scaleImages(b []byte) []float32 {
	x := make([]float32, len(b))
	for i, v := range b {
		x[i] = float32(v) / 255
	}
	return x
}

// TestLongBookOneEpoch trains the book's model for one epoch (batch 32,
// Adam, shuffled) on the first 30,000 real training images (half the set) and requires more
// than 80% accuracy on the 10,000 test images. The brief suggested 5,000
// images, but one epoch of those (157 steps) reaches only about 74% here and
// 75% in PyTorch with the same recipe (77% after two), so the gate would test
// luck rather than the engine.
func TestLongBookOneEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about a minute; skipped under -short")
	}
	_, trainImg := readIDXForTest(t, "train-images-idx3-ubyte.gz")
	_, trainLab := readIDXForTest(t, "train-labels-idx1-ubyte.gz")
	_, testImg := readIDXForTest(t, "t10k-images-idx3-ubyte.gz")
	_, testLab := readIDXForTest(t, "t10k-labels-idx1-ubyte.gz")
	const n, batch, epochs = 30000, 32, 1
	x := scaleImages(trainImg[:n*784])
	xt := scaleImages(testImg)

	rng := NewRNG(42)
	m := BookModel(rng)
	opt := NewAdam(m.Params())
	perm := make([]int, n)
	bx := make([]float32, batch*784)
	by := make([]uint8, batch)
	for epoch := 1; epoch <= epochs; epoch++ {
		rng.Perm(perm)
		var lossSum, accSum float64
		steps := 0
		for lo := 0; lo < n; lo += batch {
			k := min(batch, n-lo)
			for i := 0; i < k; i++ {
				copy(bx[i*784:(i+1)*784], x[perm[lo+i]*784:])
				by[i] = trainLab[perm[lo+i]]
			}
			l, a := m.TrainStep(opt, bx[:k*784], by[:k], k)
			lossSum += l
			accSum += a
			steps++
		}
		tl, ta := m.Evaluate(xt, testLab, len(testLab))
		t.Logf("epoch %d on %d images: loss %.4f accuracy %.4f; test loss %.4f accuracy %.4f",
			epoch, n, lossSum/float64(steps), accSum/float64(steps), tl, ta)
	}
	_, acc := m.Evaluate(xt, testLab, len(testLab))
	if acc <= 0.80 {
		t.Errorf("test accuracy %.4f, want > 0.80", acc)
	}
}
