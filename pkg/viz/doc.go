// Package viz draws the chapter's figures as PNG images: grids of
// Fashion-MNIST images with their class names (Figure 12.8), a prediction
// beside its class probabilities (Figure 12.9), convolution filters and
// feature maps (Figure 12.10), augmented samples (Figures 12.11 to 12.15),
// and confusion-matrix heatmaps; package curves adds the training curves.
//
// Each figure has a Render function that returns a *Figure (the image and
// where its panels lie, so that callers and tests can find them) and a
// Write function that renders and writes the PNG atomically: a reader sees
// the old file or the complete new one, never a partial file.
//
// Everything here is drawn straight onto the raster, with no plotting
// library, so that a program using it (fminfer) starts fast: gonum/plot
// parses a whole font collection when a program that links it starts.
// Image grids are composed pixel by pixel, each source pixel becoming an
// exact Scale x Scale block (nearest-neighbour upscaling), so that a grid
// downscaled by Scale gives back the source images under the colormap; bars
// and heatmap cells are whole-pixel rectangles in exact colours. Text uses
// Liberation Sans. The training curves, line plots that gonum/plot does
// well, live in the subpackage curves.
//
// Output is deterministic: the same input gives the same PNG bytes. Inputs
// are never modified. Bad arguments (a probability vector of the wrong
// length, an empty history, a ragged matrix) are reported as *ArgError, and
// failures to write the file as the *atomicfile.Error that names it.
package viz
