package main

import (
	"fmt"
	"image"
	"image/draw"
	"strings"

	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz"
)

// explain writes the picture of one image: how its input was found (the
// picture as oriented, the item's mask and crop box, the 28x28 input) above
// the prediction; truth is the true class, or -1 when unknown. A picture in
// which no item was found gets the first part and the reason.
func explain(path string, r *result, truth int) error {
	p := r.pre
	st := viz.Steps{Note: stepsNote(p)}
	if p.Steps != nil {
		st.Picture, st.Mask, st.Box = p.Steps.Picture, p.Steps.Mask, p.Steps.Box
	} else { // too small to have a working copy: the input itself
		pic := image.NewNRGBA(p.Gray.Rect)
		draw.Draw(pic, pic.Rect, p.Gray, image.Point{}, draw.Src)
		st.Picture = pic
	}
	var probs []float32
	if !p.NoObject {
		probs = r.Probabilities
	}
	return viz.ExplainSteps(st, p.Gray, probs, fmnist.ClassNames[:], truth, path)
}

// stepsNote says in a line what the preprocessing found.
func stepsNote(p *fmnist.Preprocessed) string {
	if p.NoObject {
		return "no item found: " + p.Reason
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("%dx%d %s picture", p.Width, p.Height, p.Format))
	if p.Orientation > 1 {
		parts = append(parts, fmt.Sprintf("EXIF orientation %d applied", p.Orientation))
	}
	parts = append(parts, fmt.Sprintf("%s, crop %dx%d at (%d,%d)", p.Polarity, p.Box.Dx(), p.Box.Dy(), p.Box.Min.X, p.Box.Min.Y))
	if p.Tilt != 0 {
		parts = append(parts, fmt.Sprintf("turned %.1f degrees upright", p.Tilt))
	}
	return strings.Join(parts, "; ")
}

// plotConfusion writes a confusion-matrix heatmap.
func plotConfusion(path string, c *train.Confusion) error {
	return viz.WriteConfusion(path, c.Counts, fmnist.ClassNames[:], "Confusion matrix, Fashion-MNIST test set")
}
