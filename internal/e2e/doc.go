// Package e2e holds end-to-end tests of fmkit's programs: they build the real
// fmtrain and fminfer binaries once (TestMain) and run them as subprocesses,
// the way a user or a script does, checking exit codes, messages and the files
// left behind.
//
//   - catalogue_test.go: a catalogue of bad inputs (corrupt data files, bad
//     models and images, nonsense flags, unwritable outputs). Each case must
//     end with its documented exit code and a message naming the problem,
//     never a panic, and must leave no output or temporary file behind.
//   - hostile_models_test.go: models made to crash onnxruntime (stride 0,
//     negative pads, a short conv bias), to read other files (external data
//     naming ../../etc/passwd, links out of the allowed directory, FIFOs), or
//     to run away (fixed batches of 2^40, 2^31 and 4096, pads of 1500 and
//     3000, 20,000 and 40,000 Relu nodes, a pooling time bomb), generated at
//     test time and run with both engines: each is refused by the model gate
//     with the node and attribute at fault and the documented exit code,
//     within 1 GB and 60 s, without reading the planted secret; sane cases
//     (a fixed batch of 3, allowed external data, 300 images through a heavy
//     model) run, in pieces; verify reports every directory.
//   - interrupt_test.go: SIGINT and SIGKILL at random points of a short
//     training run. Files left behind are absent or whole, never half
//     written, and --resume after SIGINT ends with a model bit-identical to
//     an uninterrupted run.
//   - hygiene_test.go: resident memory and goroutines stay flat over many
//     predictions and many predictor create/close cycles, for the native
//     engine and onnxruntime.
//
// The package has no API; this file only documents it.
package e2e
