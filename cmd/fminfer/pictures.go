package main

import (
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/train"
	"github.com/fmkit/fmkit/pkg/viz"
)

// explain writes the prediction picture of one classified image.
func explain(path string, r *result) error {
	return viz.Explain(r.pre.Gray, r.Probabilities, fmnist.ClassNames[:], -1, path)
}

// plotConfusion writes a confusion-matrix heatmap.
func plotConfusion(path string, c *train.Confusion) error {
	return viz.WriteConfusion(path, c.Counts, fmnist.ClassNames[:], "Confusion matrix, Fashion-MNIST test set")
}
