package viz

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/viz/internal/pixtest"
)

// stepsFixture is a 120x80 green picture with a dark block at (30..70,
// 20..60), its mask and box.
func stepsFixture() Steps {
	pic := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	mask := image.NewGray(pic.Rect)
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			c := color.NRGBA{60, 160, 80, 255}
			if x >= 30 && x < 70 && y >= 20 && y < 60 {
				c = color.NRGBA{20, 20, 20, 255}
				mask.SetGray(x, y, color.Gray{255})
			}
			pic.SetNRGBA(x, y, c)
		}
	}
	return Steps{Picture: pic, Mask: mask, Box: image.Rect(30, 20, 70, 60), Note: "found"}
}

func TestRenderExplainSteps(t *testing.T) {
	st := stepsFixture()
	pre := pattern(28, 28, 3)
	probs := []float32{0.01, 0, 0.05, 0.02, 0.12, 0, 0.78, 0, 0.02, 0}
	fig, err := RenderExplainSteps(st, pre, probs, fmnist.ClassNames[:], 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(fig.Panels) != 5 {
		t.Fatalf("%d panels, want the three steps and Explain's two", len(fig.Panels))
	}
	picture, found, input := fig.Panels[0], fig.Panels[1], fig.Panels[2]
	if picture.Dx() != stepsSide || found.Size() != picture.Size() || input.Dx() != stepsSide {
		t.Errorf("panels %v %v %v: want the pictures %d wide", picture, found, input, stepsSide)
	}
	// The crop box is framed in red; the item is tinted; the backdrop dimmed.
	if n := pixtest.CountColor(fig.Image, found, boxColor); n < 4*40 {
		t.Errorf("crop box: %d red pixels", n)
	}
	scale := float64(stepsSide) / 120
	inItem := image.Pt(found.Min.X+int(50*scale), found.Min.Y+int(40*scale))
	inBack := image.Pt(found.Min.X+int(10*scale), found.Min.Y+int(10*scale))
	ti := color.RGBAModel.Convert(fig.Image.At(inItem.X, inItem.Y)).(color.RGBA)
	tb := color.RGBAModel.Convert(fig.Image.At(inBack.X, inBack.Y)).(color.RGBA)
	if ti.R < 100 || ti.R <= ti.B {
		t.Errorf("item pixel %v is not tinted orange", ti)
	}
	if tb.G > 160/3+2 {
		t.Errorf("backdrop pixel %v is not dimmed", tb)
	}
	// The model input is drawn as pixels (nearest neighbour), 8 to one.
	checkPanelGray(t, fig.Image, input, pre)

	// No item: the steps and the note only.
	st.Mask, st.Box = nil, image.Rectangle{}
	fig, err = RenderExplainSteps(st, pre, nil, fmnist.ClassNames[:], -1)
	if err != nil || len(fig.Panels) != 3 {
		t.Fatalf("no item: %v, %d panels", err, len(fig.Panels))
	}
	if n := pixtest.CountColor(fig.Image, fig.Panels[1], boxColor); n != 0 {
		t.Errorf("no item: %d box pixels", n)
	}
	out := filepath.Join(t.TempDir(), "steps.png")
	if err := ExplainSteps(st, pre, nil, fmnist.ClassNames[:], -1, out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds() != fig.Image.Bounds() {
		t.Errorf("written picture: %v", err)
	}
}

func checkPanelGray(t *testing.T, img image.Image, r image.Rectangle, pre *image.Gray) {
	t.Helper()
	k := r.Dx() / pre.Rect.Dx()
	for y := 0; y < pre.Rect.Dy(); y++ {
		for x := 0; x < pre.Rect.Dx(); x++ {
			got := color.GrayModel.Convert(img.At(r.Min.X+x*k+k/2, r.Min.Y+y*k+k/2)).(color.Gray).Y
			if want := pre.GrayAt(x, y).Y; got != want {
				t.Fatalf("input pixel (%d,%d) drawn %d, want %d", x, y, got, want)
			}
		}
	}
}

func TestRenderExplainStepsErrors(t *testing.T) {
	st := stepsFixture()
	pre := pattern(28, 28, 3)
	if _, err := RenderExplainSteps(Steps{}, pre, nil, nil, -1); err == nil {
		t.Error("no picture accepted")
	}
	if _, err := RenderExplainSteps(st, nil, nil, nil, -1); err == nil {
		t.Error("no input accepted")
	}
	bad := st
	bad.Mask = image.NewGray(image.Rect(0, 0, 10, 10))
	if _, err := RenderExplainSteps(bad, pre, nil, nil, -1); err == nil {
		t.Error("a mask of another size accepted")
	}
	if _, err := RenderExplainSteps(st, pre, []float32{2}, fmnist.ClassNames[:1], -1); err == nil {
		t.Error("a bad probability accepted")
	}
}
