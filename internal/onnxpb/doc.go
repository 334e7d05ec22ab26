// Package onnxpb holds the Go types generated from ONNX's onnx.proto (proto2 syntax,
// ONNX 1.12.0 as shipped by Debian's libonnx-dev), used to read and write .onnx models
// and .pb tensors.
//
// onnx.pb.go is generated; do not edit it. To regenerate it after changing onnx.proto,
// run `go generate` here: it needs protoc (Debian's protobuf-compiler, 3.21) on PATH and
// uses the protoc-gen-go version pinned by go.mod's tool directive.
// scripts/check-generated.sh (and TestGeneratedUpToDate) fail when onnx.pb.go is stale.
package onnxpb

//go:generate protoc --plugin=protoc-gen-go=./protoc-gen-go.sh --go_out=. --go_opt=paths=source_relative onnx.proto
