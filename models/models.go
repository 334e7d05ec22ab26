// Package models embeds the default Fashion-MNIST model that fminfer uses
// when no --model is given. The model, its recipe and its measured figures
// are described in README.md beside this file; `make default-model`
// reproduces it.
package models

import _ "embed"

// DefaultName is the file name of the default model.
const DefaultName = "fmnist.onnx"

// Default is the default model, in ONNX.
//
//go:embed fmnist.onnx
var Default []byte
