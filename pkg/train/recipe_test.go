package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// recipeGolden is testdata/recipe_golden.json, written by
// testdata/gen/recipe_golden.py.
type recipeGolden struct {
	ScriptSHA256 string `json:"script_sha256"`
	Cosine       []struct {
		Name            string
		LR              float64
		WarmupSteps     int       `json:"warmup_steps"`
		TotalSteps      int       `json:"total_steps"`
		StartFactor     float64   `json:"start_factor"`
		EtaMin          float64   `json:"eta_min"`
		TorchSequential []float64 `json:"torch_sequential"`
		ClosedForm      []float64 `json:"closed_form"`
	}
	Plateau []struct {
		Name     string
		Monitor  string
		Factor   float64
		Patience int
		MinDelta float64 `json:"min_delta"`
		Cooldown int
		MinLR    float64 `json:"min_lr"`
		LR       float64
		Values   []*float64
		KerasLR  []float64 `json:"keras_lr"`
	}
	AdamW struct {
		Shapes       [][]int
		Initial      [][]float32
		Grads        [][][]float32
		LRs          []float64
		Beta1, Beta2 float64
		Cases        []struct {
			Name        string
			WeightDecay float64 `json:"weight_decay"`
			Eps         float64
			Reference   string
			Weights     [][][]float32
		}
	}
	LabelSmoothing []struct {
		N, Classes int
		Smoothing  float64
		Logits     []float32
		Labels     []uint8
		Loss       float64
		Grad       []float64
	} `json:"label_smoothing"`
}

const recipeGen = "testdata/gen/recipe_golden.py"

func readRecipeGolden(t *testing.T) *recipeGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "recipe_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g recipeGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(recipeGen)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(script); hex.EncodeToString(sum[:]) != g.ScriptSHA256 {
		t.Fatalf("testdata/recipe_golden.json is stale (made by a script with SHA-256 %s, now %x): run /usr/bin/python3 pkg/train/%s",
			g.ScriptSHA256, sum, recipeGen)
	}
	if len(g.Cosine) == 0 || len(g.Plateau) == 0 || len(g.AdamW.Cases) == 0 || len(g.LabelSmoothing) == 0 {
		t.Fatal("recipe_golden.json lacks cases")
	}
	return &g
}

func TestRecipeGoldenCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python with PyTorch; skipped with -short")
	}
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy, torch").Run(); err != nil {
		t.Skipf("%s with numpy and torch unavailable (make setup installs them): %v", python, err)
	}
	out := filepath.Join(t.TempDir(), "recipe_golden.json")
	if msg, err := exec.Command(python, recipeGen, out).CombinedOutput(); err != nil {
		t.Fatalf("generator failed: %v\n%s", err, msg)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join("testdata", "recipe_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, stored) {
		t.Errorf("testdata/recipe_golden.json is stale: run /usr/bin/python3 pkg/train/%s", recipeGen)
	}
}

// TestCosineMatchesTorch compares LRSchedule.CosineLR, step by step, with
// PyTorch's SequentialLR(LinearLR, CosineAnnealingLR) stepped per
// iteration (which computes the cosine recursively, so 1e-9 relative) and
// with the closed form the script evaluates (1e-12: Go's and glibc's cos
// may differ in the last bit).
func TestCosineMatchesTorch(t *testing.T) {
	for _, c := range readRecipeGolden(t).Cosine {
		s := LRSchedule{Kind: ScheduleCosine, WarmupStart: c.StartFactor, MinLR: c.EtaMin}
		for step := range c.TotalSteps {
			got := s.CosineLR(c.LR, step, c.WarmupSteps, c.TotalSteps)
			if d := math.Abs(got-c.TorchSequential[step]) / c.TorchSequential[step]; d > 1e-9 {
				t.Errorf("%s step %d: lr %.17g, torch %.17g", c.Name, step, got, c.TorchSequential[step])
			}
			if d := math.Abs(got-c.ClosedForm[step]) / c.ClosedForm[step]; d > 1e-12 {
				t.Errorf("%s step %d: lr %.17g, closed form %.17g", c.Name, step, got, c.ClosedForm[step])
			}
		}
	}
}

// TestPlateauMatchesKeras drives Plateau with the golden's monitored values
// and compares the rate after each epoch with the script's transcription of
// Keras' ReduceLROnPlateau (itself checked against PyTorch's where the
// two agree). Both compute in float64 in the same order: exact.
func TestPlateauMatchesKeras(t *testing.T) {
	for _, c := range readRecipeGolden(t).Plateau {
		s := LRSchedule{Kind: SchedulePlateau, Monitor: c.Monitor, Factor: c.Factor, Patience: c.Patience, MinDelta: c.MinDelta, Cooldown: c.Cooldown, MinLR: c.MinLR}
		if err := s.Check(10); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		p := s.NewPlateau(c.LR)
		for i, v := range c.Values {
			cur := math.NaN()
			if v != nil {
				cur = *v
			}
			s.Update(&p, cur)
			if p.LR != c.KerasLR[i] {
				t.Errorf("%s epoch %d: lr %.17g, Keras %.17g", c.Name, i+1, p.LR, c.KerasLR[i])
			}
		}
	}
}

// TestAdamWMatchesTorch runs Adam with WeightDecay through the golden's
// gradients and per-step rates and compares the weights after every step
// with torch.optim.AdamW (epsilon 0, where Keras' and PyTorch's Adam
// coincide) within 2e-6 (float32 rounding in another order), and with the
// transcription of our epsilon form within 1e-6.
func TestAdamWMatchesTorch(t *testing.T) {
	g := readRecipeGolden(t).AdamW
	for _, c := range g.Cases {
		params := make([]*Param, len(g.Shapes))
		for i, sh := range g.Shapes {
			params[i] = &Param{Name: "p" + string(rune('0'+i)), Shape: sh, Data: append([]float32(nil), g.Initial[i]...), Grad: make([]float32, len(g.Initial[i]))}
		}
		opt := NewAdam(params)
		opt.Beta1, opt.Beta2, opt.Eps, opt.WeightDecay = g.Beta1, g.Beta2, c.Eps, c.WeightDecay
		tol := 1e-6
		if c.Reference == "torch.optim.AdamW" {
			tol = 2e-6
		}
		for k := range g.LRs {
			opt.LR = g.LRs[k]
			for i, p := range params {
				copy(p.Grad, g.Grads[k][i])
			}
			opt.Step(params)
			for i, p := range params {
				if d, at := maxAbsDiff(p.Data, c.Weights[k][i]); d > tol {
					t.Errorf("%s step %d: %s[%d] = %v, %s %v (diff %g)", c.Name, k+1, p.Name, at, p.Data[at], c.Reference, c.Weights[k][i][at], d)
				}
			}
		}
	}
}

// TestLabelSmoothingMatchesTorch compares CrossEntropy with
// torch.nn.CrossEntropyLoss(label_smoothing=s): the loss within 1e-12
// (both float64 from the same float32 logits) and the gradient within
// 1e-8 (ours is rounded to float32).
func TestLabelSmoothingMatchesTorch(t *testing.T) {
	for _, c := range readRecipeGolden(t).LabelSmoothing {
		d := make([]float32, c.N*c.Classes)
		loss, _ := CrossEntropy(c.Logits, c.Labels, c.N, c.Classes, c.Smoothing, d)
		if math.Abs(loss-c.Loss) > 1e-12*math.Max(1, math.Abs(c.Loss)) {
			t.Errorf("smoothing %v: loss %.17g, torch %.17g", c.Smoothing, loss, c.Loss)
		}
		for i := range d {
			if math.Abs(float64(d[i])-c.Grad[i]) > 1e-8 {
				t.Errorf("smoothing %v: grad[%d] %v, torch %v", c.Smoothing, i, d[i], c.Grad[i])
				break
			}
		}
		// Without smoothing it is the plain loss, bit for bit.
		d0, d1 := make([]float32, len(d)), make([]float32, len(d))
		l0, c0 := SparseCategoricalCrossEntropy(c.Logits, c.Labels, c.N, c.Classes, d0)
		l1, c1 := CrossEntropy(c.Logits, c.Labels, c.N, c.Classes, 0, d1)
		if l0 != l1 || c0 != c1 || !bytes.Equal(f32bytes(d0), f32bytes(d1)) {
			t.Error("CrossEntropy with smoothing 0 differs from SparseCategoricalCrossEntropy")
		}
	}
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		u := math.Float32bits(f)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}
