package onnxpb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates onnx.pb.go from onnx.proto into a temporary directory
// and fails when the committed file differs from it.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping protoc regeneration in -short mode")
	}
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc not found on PATH (install protobuf-compiler); cannot check onnx.pb.go")
	}
	pkg, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	proto, err := os.ReadFile("onnx.proto")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "onnx.proto"), proto, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(protoc, "--plugin=protoc-gen-go="+filepath.Join(pkg, "protoc-gen-go.sh"),
		"-I", tmp, "--go_out="+tmp, "--go_opt=paths=source_relative", filepath.Join(tmp, "onnx.proto"))
	cmd.Dir = pkg
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(tmp, "onnx.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("onnx.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("onnx.pb.go is stale: run `go generate ./internal/onnxpb/`")
	}
}
