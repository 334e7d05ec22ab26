//go:build !cgo

package main

// cgoEnabled reports whether this binary can load onnxruntime.
const cgoEnabled = false
