#!/bin/sh
# check-generated.sh: regenerates internal/onnxpb/onnx.pb.go into a temporary
# directory and fails when the committed file differs (i.e. it is stale).
# Needs protoc on PATH (Debian: protobuf-compiler); exits 0 with a message when it is missing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pkg="$root/internal/onnxpb"
if ! command -v protoc >/dev/null 2>&1; then
	echo "check-generated: protoc not found on PATH; skipping (install protobuf-compiler)" >&2
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cp "$pkg/onnx.proto" "$tmp/"
(cd "$pkg" && protoc --plugin=protoc-gen-go="$pkg/protoc-gen-go.sh" -I "$tmp" \
	--go_out="$tmp" --go_opt=paths=source_relative "$tmp/onnx.proto")
if ! cmp -s "$tmp/onnx.pb.go" "$pkg/onnx.pb.go"; then
	echo "check-generated: internal/onnxpb/onnx.pb.go is stale; run 'go generate ./internal/onnxpb/'" >&2
	diff -u "$pkg/onnx.pb.go" "$tmp/onnx.pb.go" | head -40 >&2 || true
	exit 1
fi
echo "check-generated: onnx.pb.go is up to date"
