// Package e2e holds end-to-end tests of fmkit's programs: they build the real
// fmtrain and fminfer binaries once (TestMain) and run them as subprocesses,
// the way a user or a script does, checking exit codes, messages and the files
// left behind.
//
//   - catalogue_test.go: a catalogue of bad inputs (corrupt data files, bad
//     models and images, nonsense flags, unwritable outputs). Each case must
//     end with its documented exit code and a message naming the problem,
//     never a panic, and must leave no output or temporary file behind.
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
