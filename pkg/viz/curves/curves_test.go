package curves

import (
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz"
	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
	"github.com/fmkit/fmkit/pkg/viz/internal/pixtest"
)

// history returns n epochs of falling loss and rising accuracy, with
// validation metrics if val.
func history(n int, val bool) *train.History {
	h := &train.History{}
	for e := 1; e <= n; e++ {
		ep := train.Epoch{Epoch: e, Loss: 1 / float64(e), Accuracy: 1 - 0.3/float64(e), ValLoss: math.NaN(), ValAccuracy: math.NaN()}
		if val {
			ep.ValLoss, ep.ValAccuracy = 0.6+0.01*float64(e), 0.85+0.001*float64(e)
		}
		h.Add(ep)
	}
	return h
}

// meanY returns the mean row of the pixels of colour c in the columns
// [x0, x1) of r.
func meanY(img image.Image, r image.Rectangle, x0, x1 int, c color.Color) float64 {
	sum, n := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X + x0; x < r.Min.X+x1; x++ {
			if pixtest.SameColor(img.At(x, y), c) {
				sum, n = sum+y, n+1
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(sum) / float64(n)
}

func TestRender(t *testing.T) {
	nanEpochs := history(3, true)
	nanEpochs.Epochs[1].Loss = math.Inf(1)
	nanEpochs.Epochs[2].ValLoss = math.NaN()
	allNaN := &train.History{Epochs: []train.Epoch{{Epoch: 1, Loss: math.NaN(), Accuracy: math.NaN(), ValLoss: math.NaN(), ValAccuracy: math.NaN()}}}
	for _, c := range []struct {
		name           string
		h              *train.History
		title          string
		val            bool
		checkDirection bool
	}{
		{"with validation", history(12, true), "model.fmk: c32k3-p2-f-d10", true, true},
		{"without validation", history(5, false), "", false, true},
		{"one epoch", history(1, true), "one", true, false},
		{"diverged", nanEpochs, "diverged", true, false},
		{"all NaN", allNaN, "", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fig, err := Render(c.h, c.title)
			if err != nil {
				t.Fatal(err)
			}
			img := pixtest.RoundTrip(t, fig.Image)
			if len(fig.Panels) != 2 || fig.Panels[0].Dx() != curvesPanelW || fig.Panels[1].Dy() != curvesPanelH {
				t.Fatalf("panels %v", fig.Panels)
			}
			if n := pixtest.DistinctColors(img); n < 20 {
				t.Errorf("%d distinct colours: blank?", n)
			}
			legend := image.Rect(0, 0, img.Bounds().Dx(), fig.Panels[0].Min.Y)
			if got := pixtest.CountColor(img, legend, paint.Orange) > 0; got != c.val {
				t.Errorf("validation key in the legend: %v, want %v", got, c.val)
			}
			if dark := pixtest.CountDark(img, legend); dark < 30 {
				t.Errorf("legend band has %d dark pixels", dark)
			}
			for i, r := range fig.Panels {
				blue, orange := pixtest.CountColor(img, r, paint.Blue), pixtest.CountColor(img, r, paint.Orange)
				if c.h == allNaN {
					if blue+orange != 0 {
						t.Errorf("panel %d: lines drawn from NaN values", i)
					}
					continue
				}
				if blue < 20 || (orange >= 20) != c.val {
					t.Errorf("panel %d: %d training and %d validation pixels (validation: %v)", i, blue, orange, c.val)
				}
				if !c.checkDirection {
					continue
				}
				// Loss falls and accuracy rises: the training line ends
				// lower (loss) or higher (accuracy) than it starts.
				start, end := meanY(img, r, 0, r.Dx()/3, paint.Blue), meanY(img, r, 2*r.Dx()/3, r.Dx(), paint.Blue)
				if falls := end > start; falls != (i == 0) {
					t.Errorf("panel %d: training line from y %.0f to %.0f", i, start, end)
				}
			}
		})
	}
	for _, h := range []*train.History{nil, {}} {
		_, err := Render(h, "x")
		var ae *viz.ArgError
		if !errors.As(err, &ae) || ae.Arg != "h" {
			t.Errorf("Render(%v): %v, want an ArgError", h, err)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "x.png")
	var ae *atomicfile.Error
	if err := Write(missing, history(2, false), ""); !errors.As(err, &ae) || ae.Path != missing {
		t.Errorf("writing into a missing directory: %v", err)
	}
	if err := Write(dir, history(2, false), ""); err == nil {
		t.Error("writing over a directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// benchFig keeps the benchmark's result alive.
var benchFig *viz.Figure

func BenchmarkRender_20Epochs(b *testing.B) {
	h := history(20, true)
	for b.Loop() {
		benchFig, _ = Render(h, "model.fmk")
	}
}
