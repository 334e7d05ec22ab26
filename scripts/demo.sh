#!/usr/bin/env bash
# demo.sh: the main job end to end on a small budget (a couple of minutes):
#   1. a short training run of the book's CNN (the first 6,000 training images, 2 epochs),
#   2. export to ONNX (with a model-zoo test bundle) and the official checker,
#   3. the parity gate between the native engine and onnxruntime on the fresh model,
#   4. fminfer on a few test images that the demo writes as PNG, through both engines,
#      and on catalog-style photos (dark on white, 224x224 JPEG) of the same items.
# Everything lands in out/demo/. Run through `make demo`, which builds bin/ and does the set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/demo
mkdir -p "$out"
bin=bin
step() { printf '\n==> %s\n' "$*"; }

step "Model summary (the book's architecture)"
$bin/fmtrain summary

step "Training: book model, first 6,000 training images, 2 epochs, batch 32"
$bin/fmtrain --train-size 6000 --epochs 2 --seed 1 --out "$out/model.onnx" --bundle "$out/bundle"

step "The official ONNX checker (full_check=True)"
/usr/bin/python3 scripts/onnx_check.py "$out/model.onnx"

step "Parity: native engine vs onnxruntime over the 10,000 test images"
$bin/fminfer parity --model "$out/model.onnx"

step "Model-zoo bundle verified by onnxruntime"
$bin/fminfer verify --engine ort "$out/bundle"

step "A few test images written as PNG, and the same items as catalog-style photos"
$bin/fmtrain images --set test --index 0-5 --out "$out/images"
$bin/fmtrain images --set test --index 0-5 --catalog --out "$out/catalog"
$bin/fmtrain samples --set test --out "$out/samples.png" >/dev/null
ls "$out/images" "$out/catalog"

step "fminfer with the fresh model, onnxruntime"
$bin/fminfer --model "$out/model.onnx" --engine ort -v "$out/images"

step "fminfer with the fresh model, native engine"
$bin/fminfer --model "$out/model.onnx" --engine native "$out/images"

step "fminfer with the embedded default model: catalog-style photos, top 3"
$bin/fminfer --top 3 "$out/catalog"

step "fminfer --explain: the picture of one prediction"
$bin/fminfer --explain "$out/explain.png" --truth "Ankle boot" "$out/images/00000-Ankle_boot.png"

printf '\nDone. Files in %s/\n' "$out"
