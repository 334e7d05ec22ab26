package viz

import (
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/draw"

	"github.com/fmkit/fmkit/pkg/viz/internal/paint"
)

// Steps is what the preprocessing found in a picture, as ExplainSteps shows
// it: the picture as the model's preprocessing saw it (oriented upright, at
// a working resolution), the pixels it took for the item and the crop box
// on that picture.
type Steps struct {
	Picture image.Image     // the picture, upright
	Mask    *image.Gray     // the item's pixels (non-zero) on Picture; nil when none was found
	Box     image.Rectangle // the crop box on Picture; empty when none
	Note    string          // a line under the pictures: what was found, or why nothing was
}

// Steps figure layout, in pixels.
const (
	stepsSide = 224 // each step picture's larger side
	stepsGap  = 16
)

// Colours of the mask overlay.
var (
	maskTint = paint.Orange
	boxColor = paint.Red
)

// ExplainSteps writes Explain's figure below a row of three pictures that
// show how the input was found: the picture as oriented, the item's mask
// (tinted orange, the backdrop dimmed) with the crop box in red, and the
// 28x28 input the model received. With probs nil (no item was found, so
// nothing was classified) only the row and its note are drawn. The PNG is
// written to out atomically.
func ExplainSteps(st Steps, pre *image.Gray, probs []float32, classNames []string, truth int, out string) error {
	f, err := RenderExplainSteps(st, pre, probs, classNames, truth)
	return write(out, f, err)
}

// RenderExplainSteps renders ExplainSteps's figure. Figure.Panels holds the
// three step pictures' rectangles, then (when probs is not nil) the
// Explain figure's two.
func RenderExplainSteps(st Steps, pre *image.Gray, probs []float32, classNames []string, truth int) (*Figure, error) {
	const fn = "RenderExplainSteps"
	if st.Picture == nil || st.Picture.Bounds().Empty() {
		return nil, argErr(fn, "st.Picture", "no picture")
	}
	if pre == nil || pre.Rect.Empty() {
		return nil, argErr(fn, "pre", "no image")
	}
	if st.Mask != nil && st.Mask.Rect.Size() != st.Picture.Bounds().Size() {
		return nil, argErr(fn, "st.Mask", "%v does not match the picture's %v", st.Mask.Rect.Size(), st.Picture.Bounds().Size())
	}
	var below *Figure
	if probs != nil {
		var err error
		if below, err = RenderExplain(pre, probs, classNames, truth); err != nil {
			return nil, err
		}
	}
	capFace := paint.Face(false, paint.CaptionPx)
	defer capFace.Close()
	capH := paint.LineHeight(capFace) + 6

	pb := st.Picture.Bounds()
	scale := float64(stepsSide) / float64(max(pb.Dx(), pb.Dy()))
	tw, th := max(1, int(float64(pb.Dx())*scale+0.5)), max(1, int(float64(pb.Dy())*scale+0.5))
	thumb := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.ApproxBiLinear.Scale(thumb, thumb.Rect, st.Picture, pb, draw.Src, nil)
	found := overlay(thumb, st, scale)
	input := image.NewRGBA(image.Rect(0, 0, stepsSide, stepsSide))
	draw.NearestNeighbor.Scale(input, input.Rect, pre, pre.Rect, draw.Src, nil)

	rowW := 3*stepsSide + 4*stepsGap
	w := rowW
	h := stepsGap + stepsSide + capH + capH
	if below != nil {
		w = max(w, below.Image.Rect.Dx())
		h += below.Image.Rect.Dy()
	}
	img := paint.NewCanvas(w, h)
	var panels []image.Rectangle
	captions := []string{
		fmt.Sprintf("picture as oriented (%dx%d shown)", pb.Dx(), pb.Dy()),
		"item found, crop box",
		"model input (28x28)",
	}
	for i, pic := range []*image.RGBA{thumb, found, input} {
		x := stepsGap + i*(stepsSide+stepsGap)
		cell := image.Rect(x, stepsGap, x+stepsSide, stepsGap+stepsSide)
		at := image.Pt(cell.Min.X+(stepsSide-pic.Rect.Dx())/2, cell.Min.Y+(stepsSide-pic.Rect.Dy())/2)
		r := paint.Paste(img, pic, at)
		paint.DrawFrame(img, r.Inset(-1), paint.Frame)
		paint.DrawTextCentered(img, capFace, (cell.Min.X+cell.Max.X)/2, cell.Max.Y+2, capH, captions[i], paint.Text)
		panels = append(panels, r)
	}
	if st.Note != "" {
		paint.DrawTextCentered(img, capFace, rowW/2, stepsGap+stepsSide+capH, capH, st.Note, paint.Text)
	}
	if below != nil {
		top := stepsGap + stepsSide + 2*capH
		paint.Paste(img, below.Image, image.Pt(0, top))
		for _, r := range below.Panels {
			panels = append(panels, r.Add(image.Pt(0, top)))
		}
	}
	return &Figure{Image: img, Panels: panels}, nil
}

// overlay returns a copy of thumb (the picture scaled by scale) with the
// mask tinted, the rest dimmed and the crop box framed.
func overlay(thumb *image.RGBA, st Steps, scale float64) *image.RGBA {
	out := image.NewRGBA(thumb.Rect)
	copy(out.Pix, thumb.Pix)
	if st.Mask == nil {
		return out
	}
	mb := st.Mask.Rect
	tint := color.RGBAModel.Convert(maskTint).(color.RGBA)
	for y := 0; y < out.Rect.Dy(); y++ {
		my := mb.Min.Y + min(mb.Dy()-1, int(float64(y)/scale))
		for x := 0; x < out.Rect.Dx(); x++ {
			mx := mb.Min.X + min(mb.Dx()-1, int(float64(x)/scale))
			p := out.Pix[out.PixOffset(x, y):]
			if st.Mask.GrayAt(mx, my).Y != 0 {
				p[0] = uint8((uint16(p[0]) + uint16(tint.R)) / 2)
				p[1] = uint8((uint16(p[1]) + uint16(tint.G)) / 2)
				p[2] = uint8((uint16(p[2]) + uint16(tint.B)) / 2)
			} else {
				p[0], p[1], p[2] = p[0]/3, p[1]/3, p[2]/3
			}
		}
	}
	if !st.Box.Empty() {
		b := st.Box.Sub(st.Picture.Bounds().Min)
		r := image.Rect(int(float64(b.Min.X)*scale), int(float64(b.Min.Y)*scale), int(float64(b.Max.X)*scale+0.5), int(float64(b.Max.Y)*scale+0.5))
		paint.DrawFrame(out, r, boxColor)
		paint.DrawFrame(out, r.Inset(1), boxColor)
	}
	return out
}
