// Package fmgeom is the one definition of a Fashion-MNIST sample's geometry: a 1x28x28
// grey image (NCHW, one channel) and a label among 10 classes. Every model fmkit trains,
// exports and serves takes that input.
//
// It holds constants only and imports nothing, so that packages which must not import one
// another (pkg/fmnist, the dataset; pkg/train, the engine; pkg/runtime, which never
// imports the engine) share the figures without sharing code. Each exposes them in its
// own terms: fmnist.Size and fmnist.NumClasses, train.DefaultInputShape,
// runtime.Channels, Height, Width, PixelsPerImage and NumClasses.
package fmgeom

const (
	// Channels is the number of image channels: one, grey.
	Channels = 1
	// Height and Width are the sides of the (square) image in pixels.
	Height = 28
	Width  = 28
	// Pixels is Channels*Height*Width, the float32 values of one image (784).
	Pixels = Channels * Height * Width
	// Classes is the number of labels; every label is below it.
	Classes = 10
)
