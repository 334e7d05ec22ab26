// Package runtime is the seam between fmkit's programs and the engines that run a trained
// Fashion-MNIST classifier: one Predictor interface (a batch of preprocessed images in,
// class probabilities out), implemented by the native Go engine (NewNative) and by onnxruntime
// (NewORT, OpenORT).
//
// # Data layout
//
// A batch is n images as float32 in NCHW order, (n, 1, 28, 28), row-major (the layout of ONNX
// and of pkg/train), values in [0, 1]: n*PixelsPerImage values. The result is n rows of
// NumClasses probabilities, row-major. Predict never modifies x; it writes into dst when dst
// has the capacity (so a caller can reuse one buffer across calls) and returns the slice
// written. Bad lengths return a *BatchError, never a panic.
//
// # Concurrency
//
// Both predictors are safe for concurrent use, with different costs:
//
//   - NewNative wraps a Forwarder that is not safe for concurrent use (the native engine keeps
//     scratch buffers), so it holds a mutex around each call: calls from many goroutines are
//     correct but run one at a time. Create one engine per goroutine for parallel throughput.
//   - The onnxruntime predictor holds one DynamicAdvancedSession for its whole life;
//     onnxruntime's Run is thread-safe and each Predict creates its own input and output
//     tensors (wrapping x and dst, without copies), so calls run in parallel. A read-write lock
//     lets Close wait for running calls; Predict after Close returns ErrClosed.
//
// Close is idempotent. The tests check the contract with the race detector:
//
//	go test -race -run 'Concurrent|CloseWhile' ./pkg/runtime/
//
// # The onnxruntime library
//
// The onnxruntime backend uses github.com/yalue/onnxruntime_go v1.27.0 through cgo, which
// loads the shared library at run time with dlopen. It is built against the onnxruntime 1.24
// C API, so the library must be version 1.24.x (RequiredVersion); the version is read from the
// library itself before onnxruntime_go initialises it, and checked again through
// onnxruntime_go's GetVersion afterwards, so a wrong library fails with a *VersionError naming
// the version found and the one needed, instead of a crash or a bare status code.
//
// Discovery (LibraryCandidates) tries, in order:
//
//  1. the explicit path (ORTOptions.LibraryPath, e.g. a --ort-lib flag) — when given, it is the
//     only candidate, so naming a library never silently loads another;
//  2. $ONNXRUNTIME_SHARED_LIBRARY_PATH;
//  3. $FMKIT_CACHE/onnxruntime/1.24.1/libonnxruntime.so.1 (scripts/setup.sh's cache override);
//  4. the set-up cache <repo>/.cache/onnxruntime/1.24.1/libonnxruntime.so.1, where <repo> is
//     the fmkit checkout (the directory whose go.mod declares github.com/fmkit/fmkit) above the
//     running executable or above the working directory;
//  5. os.UserCacheDir()/fmkit/onnxruntime/1.24.1/libonnxruntime.so.1;
//  6. libonnxruntime.so.1 and libonnxruntime.so in /usr/local/lib, /usr/lib/<multiarch> and
//     /usr/lib.
//
// Candidates whose file does not exist are skipped. The first that exists decides: it is
// loaded, or its failure (not a library, not onnxruntime, wrong version) is the error, since
// passing over a broken library that the environment names would hide the problem. The
// *LibraryError lists every path tried with its reason and says how to fix it: run
// `make setup`, or set ONNXRUNTIME_SHARED_LIBRARY_PATH.
//
// onnxruntime_go's environment is process-global. This package initialises it once, on the
// first NewORT, OpenORT or LoadLibrary, and keeps it for the life of the process (every
// predictor needs it; re-creating it per predictor would reload the library). A failed load
// leaves nothing behind, so a later call can try again, e.g. after the user fixes the path.
// Once loaded, a request for a different explicit library is an error. Shutdown unloads it when
// no predictor is open; programs need not call it.
//
// # Model contract
//
// Names and shapes are read from the model, never assumed: it must have exactly one input, a
// float tensor [N, 1, 28, 28] (N dynamic, or fixed up to MaxFixedBatch; a fixed-batch model is
// run in chunks of N, the last one padded with zero images), and an output named
// "probabilities" (else its first output), a float tensor [N, 10]. Anything else is a
// *LoadError naming the model, the tensor and the shape or type found, e.g.
//
//	runtime: model m.onnx: input "input": has shape [-1 784], want [N 1 28 28] (N dynamic or fixed)
//
// The model can come from a file (OpenORT) or from memory (NewORT; the CLI embeds its default
// model). The package cannot check that the output really holds probabilities; the exporter
// ends the graph with Softmax.
//
// # The model gate
//
// onnxruntime trusts a model: a Conv or MaxPool with stride 0 has crashed it with SIGFPE,
// negative pads with SIGSEGV, a conv bias shorter than its output channels made it read out
// of bounds, and a tensor whose external data names ../../etc/passwd made it read that file
// into the model's weights. So NewORT, OpenORT and RunGeneric hand onnxruntime nothing but
// what ORTOptions.Gate returns, and refuse to run without a Gate (see Gate). The programs
// pass onnx.GateOptions.Check: the native importer's checks (only the ops it claims,
// every attribute range-checked, shapes inferred so that every weight fits its op), limits
// on nodes, estimated activation memory and operations, external data only from a directory
// the user names, and a re-encoded, self-contained model. Its answer also bounds how many
// images one run takes (Info.MaxBatch): Predict splits larger batches.
//
// # Execution providers
//
// ORTOptions.Provider selects where onnxruntime runs; ParseProvider reads "cpu", "cuda",
// "cuda:N" and "auto" or "auto:N" (N is the CUDA device id), and *Provider is a flag.Value:
//
//   - cpu (the zero value): onnxruntime's CPU provider. ORTOptions.IntraOpThreads sets the
//     threads one call uses (0: onnxruntime's default, one per physical core; at most
//     MaxThreads, ThreadsPerCPU per CPU).
//   - cuda: the CUDA provider on device N, or a *ProviderError naming what is missing (the CLI
//     maps it to an exit code of its own). The CPU-only library answers with
//     "libonnxruntime_providers_shared.so ... cannot open shared object file".
//   - auto: tries cuda and, when it is unavailable, writes exactly one warning line to
//     ORTOptions.Warn (default os.Stderr) and runs on the CPU.
//
// Info().Provider always reports the provider actually running (cpu or cuda:N, never auto),
// and Info().Fallback says why auto fell back. Nodes that the CUDA provider does not implement
// are still placed on the CPU by onnxruntime; Info reports the session's provider.
//
// # Running on CUDA
//
// scripts/setup.sh installs the CPU build of onnxruntime, which cannot use a GPU. Where a GPU
// exists:
//
//  1. Install an NVIDIA driver, CUDA 12 (libcudart, libcublas, libcublasLt, libcufft, libcurand)
//     and cuDNN 9 (libcudnn.so.9): the CUDA 12 GPU builds of onnxruntime since 1.19 are linked
//     against these (see the requirements table on onnxruntime.ai's CUDA Execution Provider
//     page, which is authoritative).
//  2. Take the CUDA 12 GPU build of a 1.24.x release (a onnxruntime-linux-x64-gpu*-1.24.1.tgz
//     archive from github.com/microsoft/onnxruntime/releases; the asset's exact name has
//     changed between releases) and unpack its lib/ directory somewhere: libonnxruntime.so.1
//     must sit beside libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so,
//     because onnxruntime looks for the provider libraries next to itself.
//  3. Point fmkit at it: ONNXRUNTIME_SHARED_LIBRARY_PATH=/opt/onnxruntime-gpu/lib/libonnxruntime.so.1
//     (or the CLI's library flag), and make the CUDA and cuDNN libraries findable by the dynamic
//     loader (ldconfig, or LD_LIBRARY_PATH).
//  4. Run with --provider cuda (fail if unavailable), cuda:1 for the second GPU, or auto.
//     TestORTProviderCUDA then checks the GPU results against the reference instead of the
//     error path: ONNXRUNTIME_SHARED_LIBRARY_PATH=... go test -run Provider -v ./pkg/runtime/
//
// A *ProviderError's Missing field names the first library the loader could not open (e.g.
// libcudnn.so.9), which is usually the one to install.
//
// # Building without cgo
//
// With CGO_ENABLED=0 the onnxruntime files are left out (build tag cgo) and NewORT, OpenORT
// and LoadLibrary return ErrNoCgo ("onnxruntime support needs cgo: ... use --engine native"),
// so the programs still build and run the native engine.
package runtime

// The test models in testdata/runtime (see testdata/gen/runtime/make_models.py; needs Debian's
// python3-onnx). TestModelsUpToDate fails when they are stale.
//go:generate /usr/bin/python3 ../../testdata/gen/runtime/make_models.py ../../testdata/runtime
