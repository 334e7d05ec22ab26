package main

import (
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz"
)

// explain writes the prediction picture of one classified image; truth is
// the true class, or -1 when unknown.
func explain(path string, r *result, truth int) error {
	return viz.Explain(r.pre.Gray, r.Probabilities, fmnist.ClassNames[:], truth, path)
}

// plotConfusion writes a confusion-matrix heatmap.
func plotConfusion(path string, c *train.Confusion) error {
	return viz.WriteConfusion(path, c.Counts, fmnist.ClassNames[:], "Confusion matrix, Fashion-MNIST test set")
}
