# fmkit: train a CNN on Fashion-MNIST in Go, export it to ONNX, serve it with onnxruntime.
#
#   make demo    the main job, end to end (does its own set-up)
#   make test    every test, as CI runs them (does its own set-up)
#
# Other targets: setup, build, test-extra (the checks -short skips that take seconds; make test runs it),
# test-long (full-length training checks and the photo benchmark), bench, fuzz (long local fuzzing),
# default-model (retrains models/fmnist.onnx), book-model (the book's recipe, for the model card),
# generate, check-generated, lint.

SHELL := /bin/bash
GO ?= go
BIN := bin
ORT_LIB := $(CURDIR)/.cache/onnxruntime/1.24.1/libonnxruntime.so.1
export ONNXRUNTIME_SHARED_LIBRARY_PATH ?= $(ORT_LIB)
FUZZTIME ?= 20s

.PHONY: all setup build test test-extra test-long lint demo default-model book-model bench fuzz generate check-generated clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(GO) build -o $(BIN)/ ./cmd/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: setup lint check-generated
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) test -short -timeout 20m ./...
	$(GO) build -o $(BIN)/ ./cmd/...
	@echo "Parity gate: the embedded model through the native engine and onnxruntime"
	$(BIN)/fminfer parity
	@echo "Fuzzing: every fuzz target for $(FUZZTIME)"
	bash scripts/fuzz.sh $(FUZZTIME)
	$(MAKE) test-extra

# The tests that -short skips and that take seconds, not hours: onnx-go decoding our export,
# ONNX's pytorch-converted and simple conformance models, the augmentation golden file
# regenerated with Keras' generator and PyTorch, the recipe golden file regenerated with PyTorch, the PyTorch zoo re-exported, the generated protobuf code, and 10,000
# test images through both engines.
# (The hours-long ones are test-long's.)
EXTRA_TESTS := TestOnnxGoDecodes|TestPytorchConformance|TestAugmentGoldenCurrent|TestRecipeGoldenCurrent|TestGeneratedUpToDate|TestEvalAndParity|TestTorchZooUpToDate
test-extra: setup
	$(GO) test -run '^($(EXTRA_TESTS))$$' -timeout 20m ./...

# Long fuzzing, locally: make fuzz FUZZTIME=5m
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

check-generated:
	@bash scripts/check-generated.sh

# The long checks: full-length training runs that assert the book's accuracy figures, the photo
# benchmark, and the tests that -short cuts down run at full size (all 10,000 dataset PNGs, 10,000
# predictions, three interrupted runs, every CNN GEMM shape). internal/e2e's TestEveryTestRunsSomewhere
# fails when a test that calls testing.Short is in neither list.
LONG_TESTS := Long|PhotoBenchmark|^(TestPreprocessDatasetPNGExact|TestManyPredictionsStayFlat|TestManySessionsStayFlat|TestInterruptAndResume|TestKillDuringTraining|TestSgemmShapes)$$
test-long: setup
	$(GO) test -run '$(LONG_TESTS)' -timeout 4h -v ./...

# The default model that fminfer embeds (see models/README.md): fmtrain --recipe photo (the improved
# recipe with small turns, zooms and blurs), selected on a 10% validation split, seed 1, 2 threads.
# Training is bit-reproducible: this rebuilds models/fmnist.onnx byte for byte (about 25 minutes).
default-model: build
	mkdir -p out/default-model
	$(BIN)/fmtrain --recipe photo --seed 1 --threads 2 --out out/default-model/fmnist.onnx
	cp out/default-model/fmnist.onnx models/fmnist.onnx

# The book's model, the card's separate row: the book's recipe with early stopping on the test set,
# as the book validates (--validate-on-test), seed 1, 2 threads (the default model until 2026-12).
book-model: build
	mkdir -p out/book-model
	$(BIN)/fmtrain --validate-on-test --early-stopping --patience 3 --seed 1 --threads 2 --out out/book-model/fmnist-book.onnx

demo: build
	@bash scripts/demo.sh

bench: build
	@bash scripts/bench.sh

generate:
	$(GO) generate ./...

clean:
	rm -rf $(BIN) out
