package train

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"testing"
)

// torchGolden is testdata/torch_step.json, written by
// testdata/gen/torch_step.py.
type torchGolden struct {
	ScriptSHA256 string  `json:"script_sha256"`
	Labels       []uint8 `json:"labels"`
	Loss         float64 `json:"loss"`
	Arrays       []struct {
		Name   string `json:"name"`
		Shape  []int  `json:"shape"`
		Offset int    `json:"offset"`
		Length int    `json:"length"`
	} `json:"arrays"`
	data map[string][]float32
}

func loadTorchGolden(t *testing.T) *torchGolden {
	t.Helper()
	meta, err := os.ReadFile("testdata/torch_step.json")
	if err != nil {
		t.Fatal(err)
	}
	var g torchGolden
	if err := json.Unmarshal(meta, &g); err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../../testdata/gen/torch_step.py")
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(script); hex.EncodeToString(sum[:]) != g.ScriptSHA256 {
		t.Fatalf("testdata/torch_step.json is stale: testdata/gen/torch_step.py has SHA-256 %x, the golden was made by %s; "+
			"rerun /usr/bin/python3 testdata/gen/torch_step.py", sum, g.ScriptSHA256)
	}
	f, err := os.Open("testdata/torch_step.bin.gz")
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
	all := make([]float32, len(raw)/4)
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, all); err != nil {
		t.Fatal(err)
	}
	g.data = map[string][]float32{}
	for _, a := range g.Arrays {
		if a.Offset+a.Length > len(all) {
			t.Fatalf("golden array %s [%d, %d) is beyond the data (%d floats)", a.Name, a.Offset, a.Offset+a.Length, len(all))
		}
		g.data[a.Name] = all[a.Offset : a.Offset+a.Length]
	}
	return &g
}

// detWeights is the script's det_weights: element j of parameter number t.
func detWeights(dst []float32, t int, limit float64) {
	for j := range dst {
		u := float64((uint64(j)*2654435761+uint64(12345*(t+1)))%(1<<32)) / (1 << 32)
		dst[j] = float32((2*u - 1) * limit)
	}
}

func setDetWeights(m *Model) {
	for t, p := range m.Params() {
		limit := 0.1
		if len(p.Shape) > 1 {
			fanIn, fanOut := p.Shape[1], p.Shape[0]
			if len(p.Shape) == 4 {
				k := p.Shape[2] * p.Shape[3]
				fanIn, fanOut = k*p.Shape[1], k*p.Shape[0]
			}
			limit = math.Sqrt(6 / float64(fanIn+fanOut))
		}
		detWeights(p.Data, t, limit)
	}
}

func maxAbsDiff(a, b []float32) (float64, int) {
	var d float64
	at := -1
	for i := range a {
		if e := math.Abs(float64(a[i]) - float64(b[i])); e > d || e != e {
			d, at = e, i
		}
	}
	return d, at
}

// TestTorchStep runs one training step of the book model on the weights and
// batch of testdata/gen/torch_step.py and compares logits, loss, every
// gradient and every Adam-updated weight with PyTorch's within 1e-5
// (float32 sums in a different order differ by a few ulps; 1e-5 is the
// issue's bound).
func TestTorchStep(t *testing.T) {
	g := loadTorchGolden(t)
	var worstGrad, worstUpd float64
	defer func() {
		t.Logf("max |go - torch|: gradients %.3g, updated weights %.3g", worstGrad, worstUpd)
	}()
	for _, threads := range []int{1, 3} {
		m := BookModel(NewRNG(0))
		m.SetThreads(threads)
		setDetWeights(m)
		x := g.data["input"]
		n := len(g.Labels)
		logits := append([]float32(nil), m.Logits(x, n, true)...)
		if d, at := maxAbsDiff(logits, g.data["logits"]); d > 1e-5 || len(logits) != len(g.data["logits"]) {
			t.Errorf("threads %d: logits differ from PyTorch's by %g at %d", threads, d, at)
		}
		m2 := m.Clone()
		opt := NewAdam(m2.Params())
		loss, _ := m2.TrainStep(opt, x, g.Labels, n)
		if math.Abs(loss-g.Loss) > 1e-5 {
			t.Errorf("threads %d: loss %.9g, PyTorch %.9g", threads, loss, g.Loss)
		}
		for _, p := range m2.Params() {
			want, ok := g.data["grad."+p.Name]
			if !ok || len(want) != len(p.Grad) {
				t.Fatalf("golden lacks grad.%s of %d values", p.Name, len(p.Grad))
			}
			d, at := maxAbsDiff(p.Grad, want)
			worstGrad = math.Max(worstGrad, d)
			if d > 1e-5 {
				t.Errorf("threads %d: grad of %s differs by %g at %d (go %g, torch %g)", threads, p.Name, d, at, p.Grad[at], want[at])
			}
			upd := g.data["updated."+p.Name]
			d, at = maxAbsDiff(p.Data, upd)
			worstUpd = math.Max(worstUpd, d)
			if d > 1e-5 {
				t.Errorf("threads %d: Adam update of %s differs by %g at %d", threads, p.Name, d, at)
			}
		}
	}
}
