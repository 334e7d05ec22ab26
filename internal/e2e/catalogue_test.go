package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/fmkit/fmkit/pkg/train"
)

// Exit codes documented in the README (one table for both tools, internal/cli).
const (
	trainFail  = 3 // could not run: the dataset, a model, an output
	trainUsage = 2

	inferInputs   = 1
	inferUsage    = 2
	inferRuntime  = 3
	inferProvider = 4
)

// badCase is one entry of the catalogue. setup prepares the case's working
// directory (the programs run there) and returns the command line; every
// output the command line names goes under "out/", which must be empty
// afterwards: no output, no temporary file.
type badCase struct {
	name  string
	tool  string // "fmtrain" or "fminfer"
	needs string // "data" (the installed Fashion-MNIST), "ort" (the onnxruntime library), or ""
	setup func(t *testing.T, dir string) []string
	stdin []byte
	code  int
	msg   string // a fragment the error message on stderr must hold
}

// tinyTrain are fmtrain flags that make any training that does start short.
var tinyTrain = []string{"--arch", "c2k3-f-d10", "--epochs", "1", "--train-size", "64", "--threads", "1", "--validate=false", "-q"}

// trainWith returns the setup of an fmtrain run on a data directory made by
// dataDir(replace), writing out/m.fmk.
func trainWith(replace func(t *testing.T) map[string][]byte) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		return append([]string{"--data", dataDir(t, replace(t)), "--out", "out/m.fmk"}, tinyTrain...)
	}
}

// trainFlags returns the setup of an fmtrain run with the installed data,
// tinyTrain, then flags (later flags win).
func trainFlags(flags ...string) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		return append(append([]string{"--data", sysData, "--out", "out/m.fmk"}, tinyTrain...), flags...)
	}
}

// classify returns the setup of fminfer classifying one good image with the
// given model bytes (nil: the embedded model) on engine, writing an
// explanation picture to out/explain.png.
func classify(engine string, model func(t *testing.T) []byte, extra ...string) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		img := filepath.Join(dir, "shirt.png")
		write(t, img, samplePNG(t))
		args := []string{"--engine", engine, "--explain", "out/explain.png"}
		if engine == "ort" {
			args = append(args, "--ort-library", ortLib)
		}
		if model != nil {
			args = append(args, "--model", filepath.Join(dir, "model.onnx"))
			write(t, filepath.Join(dir, "model.onnx"), model(t))
		}
		return append(append(args, extra...), img)
	}
}

// classifyFile returns the setup of fminfer (native engine) classifying one
// input file holding content (made by mk when content is nil), with an
// explanation picture to out/explain.png.
func classifyFile(name string, content []byte, mk func(t *testing.T, path string)) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		p := filepath.Join(dir, name)
		if mk != nil {
			mk(t, p)
		} else {
			write(t, p, content)
		}
		return []string{"--engine", "native", "--explain", "out/explain.png", p}
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// labelsWith returns the installed training labels (uncompressed) with
// label i set to v.
func labelsWith(i int, v byte) func(t *testing.T) map[string][]byte {
	return func(t *testing.T) map[string][]byte {
		b := readData(t, "train-labels-idx1-ubyte")
		b[8+i] = v
		return map[string][]byte{"train-labels-idx1-ubyte": b}
	}
}

// pngHeader is the start of a PNG whose IHDR claims w x h 8-bit gray pixels,
// with no image data.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 4+13)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12] = 8 // bit depth; colour type 0 (gray), default compression, filter, no interlace
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

// modelWith returns linearModel changed by f, encoded.
func modelWith(f func(m *onnxModel)) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		m := linearModel()
		f(&m)
		return m.bytes()
	}
}

// verifyDir makes a backend-test directory: the linear model with one test
// data set whose input_0.pb is data.
func verifyDir(data []byte) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		d := filepath.Join(dir, "test_linear")
		if err := os.MkdirAll(filepath.Join(d, "test_data_set_0"), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(d, "model.onnx"), linearModel().bytes())
		write(t, filepath.Join(d, "test_data_set_0", "input_0.pb"), data)
		write(t, filepath.Join(d, "test_data_set_0", "output_0.pb"), tensor{name: "probabilities", dims: []int64{1, 10}, data: make([]float32, 10)}.proto())
		return []string{"verify", "--engine", "native", d}
	}
}

// checkpointFile returns the setup of an fmtrain run whose checkpoint
// (out/m.ckpt, given with --checkpoint so that out/ holds only outputs)
// holds content, with --resume.
func resumeFrom(content []byte) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		ck := filepath.Join(dir, "state.ckpt")
		if content != nil {
			write(t, ck, content)
		}
		return append([]string{"--data", sysData, "--out", "out/m.fmk", "--checkpoint", ck, "--resume"}, tinyTrain...)
	}
}

// checkpointBytes returns a valid checkpoint of a fresh model of arch.
func checkpointBytes(t *testing.T, arch string) []byte {
	t.Helper()
	m, err := train.BuildModel(arch, train.Shape{1, 28, 28}, train.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	c := train.WeightsCheckpoint(m)
	c.Arch = arch
	p := filepath.Join(t.TempDir(), "c.ckpt")
	if err := train.SaveCheckpoint(p, c); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readOnlyDir returns a directory that cannot be written: a read-only tmpfs
// mounted in t's temporary space (as root, file permissions are not
// enforced), or /sys when mounting is not allowed.
func readOnlyDir(t *testing.T, dir string) string {
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_RDONLY, "size=64k"); err != nil {
		t.Logf("cannot mount a read-only tmpfs (%v); using /sys, which refuses new files", err)
		return "/sys"
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(ro, 0); err != nil {
			t.Errorf("unmounting %s: %v", ro, err)
		}
	})
	return ro
}

func catalogue() []badCase {
	return []badCase{
		// fmtrain: the data files, found through --data DIR (which must hold all four).
		{name: "data/truncated-gzip", tool: "fmtrain", needs: "data", code: trainFail, msg: "train-labels-idx1-ubyte.gz: unexpected EOF",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				b, _ := os.ReadFile(filepath.Join(sysData, "train-labels-idx1-ubyte.gz"))
				return map[string][]byte{"train-labels-idx1-ubyte.gz": b[:len(b)/2]}
			})},
		{name: "data/corrupt-gzip-crc", tool: "fmtrain", needs: "data", code: trainFail, msg: "train-labels-idx1-ubyte.gz: gzip: invalid checksum",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				b := gz(t, readData(t, "train-labels-idx1-ubyte"))
				b[len(b)-6] ^= 0xff // in the CRC-32 of the trailer
				return map[string][]byte{"train-labels-idx1-ubyte.gz": b}
			})},
		{name: "data/not-gzip-not-idx", tool: "fmtrain", needs: "data", code: trainFail, msg: "t10k-images-idx3-ubyte: decompressed size",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				return map[string][]byte{"t10k-images-idx3-ubyte": []byte("<html>404 Not Found</html>\n")}
			})},
		{name: "data/checksum-mismatch", tool: "fmtrain", needs: "data", code: trainFail, msg: "SHA-256 of the decompressed content",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				b := readData(t, "train-labels-idx1-ubyte")
				b[8+12345] = (b[8+12345] + 1) % 10 // one label changed to another valid one
				return map[string][]byte{"train-labels-idx1-ubyte.gz": gz(t, b)}
			})},
		{name: "data/wrong-magic", tool: "fmtrain", needs: "data", code: trainFail, msg: "train-labels-idx1-ubyte: SHA-256",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				b := readData(t, "train-labels-idx1-ubyte")
				binary.BigEndian.PutUint32(b, 0x00000803)
				return map[string][]byte{"train-labels-idx1-ubyte": b}
			})},
		{name: "data/count-larger-than-file", tool: "fmtrain", needs: "data", code: trainFail, msg: "the file is short",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				return map[string][]byte{"t10k-labels-idx1-ubyte": readData(t, "t10k-labels-idx1-ubyte")[:8+100]}
			})},
		{name: "data/label-10", tool: "fmtrain", needs: "data", code: trainFail, msg: "train-labels-idx1-ubyte: SHA-256", setup: trainWith(labelsWith(7, 10))},
		{name: "data/mnist-labels", tool: "fmtrain", needs: "data", code: trainFail, msg: "MNIST's handwritten-digit labels",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				b := readData(t, "train-labels-idx1-ubyte")
				copy(b[8:], []byte{5, 0, 4, 1, 9, 2, 1, 3, 1, 4})
				return map[string][]byte{"train-labels-idx1-ubyte": b}
			})},
		{name: "data/zero-byte-file", tool: "fmtrain", needs: "data", code: trainFail, msg: "decompressed size 0 bytes is shorter",
			setup: trainWith(func(t *testing.T) map[string][]byte {
				return map[string][]byte{"train-images-idx3-ubyte": {}}
			})},
		{name: "data/directory-as-file", tool: "fmtrain", code: trainFail, msg: "missing train-images-idx3-ubyte",
			setup: func(t *testing.T, dir string) []string {
				d := filepath.Join(dir, "data")
				for _, n := range dataFiles {
					if err := os.MkdirAll(filepath.Join(d, n), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				return append([]string{"--data", d, "--out", "out/m.fmk"}, tinyTrain...)
			}},
		{name: "data/fifo-as-file", tool: "fmtrain", needs: "data", code: trainFail, msg: "missing t10k-labels-idx1-ubyte",
			setup: func(t *testing.T, dir string) []string {
				d := dataDir(t, map[string][]byte{"t10k-labels-idx1-ubyte.gz": nil})
				mkfifo(t, filepath.Join(d, "t10k-labels-idx1-ubyte.gz"))
				return append([]string{"--data", d, "--out", "out/m.fmk"}, tinyTrain...)
			}},
		{name: "data/missing-dir", tool: "fmtrain", code: trainFail, msg: "does not hold the Fashion-MNIST files",
			setup: func(t *testing.T, dir string) []string {
				return append([]string{"--data", filepath.Join(dir, "nowhere"), "--out", "out/m.fmk"}, tinyTrain...)
			}},

		// fmtrain: flags.
		{name: "flags/epochs-0", tool: "fmtrain", code: trainUsage, msg: "epochs", setup: trainFlags("--epochs", "0")},
		{name: "flags/batch-minus-1", tool: "fmtrain", code: trainUsage, msg: "batch", setup: trainFlags("--batch-size", "-1")},
		{name: "flags/lr-nan", tool: "fmtrain", code: trainUsage, msg: "learning rate must be a positive number, got NaN", setup: trainFlags("--lr", "NaN")},
		{name: "flags/lr-negative", tool: "fmtrain", code: trainUsage, msg: "learning rate must be a positive number", setup: trainFlags("--lr", "-0.1")},
		{name: "flags/threads-0", tool: "fmtrain", code: trainUsage, msg: "threads", setup: trainFlags("--threads", "0")},
		{name: "flags/train-size-negative", tool: "fmtrain", code: trainUsage, msg: "--train-size", setup: trainFlags("--train-size", "-5")},
		{name: "flags/train-size-too-large", tool: "fmtrain", needs: "data", code: trainUsage, msg: "--train-size 70000 exceeds", setup: trainFlags("--train-size", "70000")},
		{name: "flags/arch-garbage", tool: "fmtrain", code: trainUsage, msg: "--arch", setup: trainFlags("--arch", "c32k3-q9-zz")},
		{name: "flags/dropout-1.5", tool: "fmtrain", code: trainUsage, msg: "--dropout", setup: trainFlags("--dropout", "1.5")},
		{name: "flags/augment-garbage", tool: "fmtrain", code: trainUsage, msg: "--augment", setup: trainFlags("--augment", "rotate=abc")},
		{name: "flags/unknown-flag", tool: "fmtrain", code: trainUsage, msg: "unknown flag: --epoch", setup: trainFlags("--epoch", "3")},
		{name: "flags/positional", tool: "fmtrain", code: trainUsage, msg: "unexpected argument", setup: trainFlags("stray")},

		// fmtrain: where the output goes.
		{name: "out/missing-directory", tool: "fmtrain", code: trainUsage, msg: "does not exist",
			setup: func(t *testing.T, dir string) []string {
				return append([]string{"--data", sysData, "--out", "out/missing/m.fmk"}, tinyTrain...)
			}},
		{name: "out/is-a-directory", tool: "fmtrain", code: trainUsage, msg: "is a directory",
			setup: func(t *testing.T, dir string) []string {
				if err := os.Mkdir(filepath.Join(dir, "m.fmk"), 0o755); err != nil {
					t.Fatal(err)
				}
				return append([]string{"--data", sysData, "--out", "m.fmk"}, tinyTrain...)
			}},
		{name: "out/read-only-directory", tool: "fmtrain", code: trainFail, msg: "cannot write in",
			setup: func(t *testing.T, dir string) []string {
				return append([]string{"--data", sysData, "--out", filepath.Join(readOnlyDir(t, dir), "m.fmk")}, tinyTrain...)
			}},

		// fmtrain: checkpoints and models.
		{name: "resume/no-checkpoint", tool: "fmtrain", code: trainFail, msg: "--resume: open", setup: resumeFrom(nil)},
		{name: "resume/garbage-checkpoint", tool: "fmtrain", code: trainFail, msg: "bad magic", setup: resumeFrom([]byte("this is not a checkpoint at all, just text"))},
		{name: "resume/corrupt-checkpoint", tool: "fmtrain", code: trainFail, msg: "checksum mismatch",
			setup: func(t *testing.T, dir string) []string {
				b := checkpointBytes(t, "c2k3-f-d10")
				b[len(b)/2] ^= 0x10 // one flipped bit
				return resumeFrom(b)(t, dir)
			}},
		{name: "resume/other-arch", tool: "fmtrain", code: trainUsage, msg: "holds architecture",
			setup: func(t *testing.T, dir string) []string { return resumeFrom(checkpointBytes(t, "c3k3-f-d10"))(t, dir) }},
		{name: "evaluate/garbage-model", tool: "fmtrain", code: trainFail, msg: "not a native .fmk model, read as ONNX",
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "m.fmk"), []byte("\x08\x07garbage"))
				return []string{"evaluate", "--model", "m.fmk", "--data", sysData, "--plot", "out/confusion.png"}
			}},
		{name: "evaluate/onnx-nan-weight", tool: "fmtrain", code: trainFail, msg: "dense.weight",
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "m.onnx"), modelWith(func(m *onnxModel) { m.inits[0].data[0] = float32(math.NaN()) })(t))
				return []string{"evaluate", "--model", "m.onnx", "--data", sysData, "--plot", "out/confusion.png"}
			}},
		{name: "evaluate/unreadable-model", tool: "fmtrain", code: trainFail, msg: "/proc/self/mem",
			setup: func(t *testing.T, dir string) []string {
				return []string{"evaluate", "--model", "/proc/self/mem", "--data", sysData, "--plot", "out/confusion.png"}
			}},
		{name: "evaluate/no-model", tool: "fmtrain", code: trainUsage, msg: "--model is required",
			setup: func(t *testing.T, dir string) []string { return []string{"evaluate", "--plot", "out/confusion.png"} }},

		// fminfer: images.
		{name: "image/huge-png", tool: "fminfer", code: inferInputs, msg: "100000x100000", setup: classifyFile("huge.png", pngHeader(100000, 100000), nil)},
		{name: "image/zero-byte", tool: "fminfer", code: inferInputs, msg: "empty.png: ", setup: classifyFile("empty.png", []byte{}, nil)},
		{name: "image/text-named-png", tool: "fminfer", code: inferInputs, msg: "not an image", setup: classifyFile("notes.png", []byte("shopping list: milk, eggs\n"), nil)},
		{name: "image/truncated-png", tool: "fminfer", code: inferInputs, msg: "cut.png: ", setup: func(t *testing.T, dir string) []string {
			b := samplePNG(t)
			return classifyFile("cut.png", b[:len(b)-20], nil)(t, dir)
		}},
		{name: "image/gif-header-garbage", tool: "fminfer", code: inferInputs, msg: "exceeds the 50 MP limit", stdin: []byte("GIF89a but not really"),
			setup: func(t *testing.T, dir string) []string {
				return []string{"--engine", "native", "--explain", "out/explain.png", "-"}
			}},
		{name: "image/fifo", tool: "fminfer", code: inferInputs, msg: "not a regular file", setup: classifyFile("pipe.png", nil, mkfifo)},
		{name: "image/missing", tool: "fminfer", code: inferInputs, msg: "gone.png: no such file", setup: func(t *testing.T, dir string) []string {
			return []string{"--engine", "native", "--explain", "out/explain.png", "gone.png"}
		}},
		{name: "image/empty-directory", tool: "fminfer", code: inferUsage, msg: "holds no images", setup: func(t *testing.T, dir string) []string {
			if err := os.Mkdir(filepath.Join(dir, "pics"), 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "pics", "README"), []byte("no images here"))
			return []string{"--engine", "native", "--save-preprocessed", "out", "pics"}
		}},
		{name: "image/stdin-garbage", tool: "fminfer", code: inferInputs, msg: "-: not an image", stdin: []byte("just some text, no picture"),
			setup: func(t *testing.T, dir string) []string {
				return []string{"--engine", "native", "--explain", "out/explain.png", "-"}
			}},

		// fminfer: models.
		{name: "model/protobuf-garbage", tool: "fminfer", code: inferRuntime, msg: "model.onnx",
			setup: classify("native", func(t *testing.T) []byte { return []byte("\x0a\xff\xff\xff\xff\x0fnot protobuf") })},
		{name: "model/zero-byte", tool: "fminfer", code: inferRuntime, msg: "model.onnx",
			setup: classify("native", func(t *testing.T) []byte { return []byte{} })},
		{name: "model/unsupported-op", tool: "fminfer", code: inferRuntime, msg: "Hardmax",
			setup: classify("native", modelWith(func(m *onnxModel) { m.nodes[2].op = "Hardmax" }))},
		{name: "model/wrong-input-rank", tool: "fminfer", code: inferRuntime, msg: "not one 28x28 grayscale image",
			setup: classify("native", modelWith(func(m *onnxModel) { m.inDims = []int64{-1, 2, 14, 28} }))},
		{name: "model/nan-weight", tool: "fminfer", code: inferRuntime, msg: "dense.weight",
			setup: classify("native", modelWith(func(m *onnxModel) { m.inits[0].data[5] = float32(math.NaN()) }))},
		{name: "model/inf-bias", tool: "fminfer", code: inferRuntime, msg: "dense.bias",
			setup: classify("native", modelWith(func(m *onnxModel) { m.inits[1].data[3] = float32(math.Inf(-1)) }))},
		{name: "model/tensor-claims-2GB", tool: "fminfer", code: inferRuntime, msg: "dense.weight",
			setup: classify("native", modelWith(func(m *onnxModel) { m.inits[0].dims = []int64{784, 684784} }))},
		{name: "model/tensor-dims-overflow", tool: "fminfer", code: inferRuntime, msg: "dense.weight",
			setup: classify("native", modelWith(func(m *onnxModel) { m.inits[0].dims = []int64{1 << 40, 1 << 40} }))},
		{name: "model/external-data", tool: "fminfer", code: inferRuntime, msg: "external data",
			setup: classify("native", modelWith(func(m *onnxModel) { m.inits[0].external = "../../../../etc/passwd" }))},
		{name: "model/directory", tool: "fminfer", code: inferRuntime, msg: "not a regular file",
			setup: func(t *testing.T, dir string) []string {
				args := classify("native", nil)(t, dir)
				return append([]string{"--model", dir}, args...)
			}},
		{name: "model/unreadable", tool: "fminfer", code: inferRuntime, msg: "/proc/self/mem",
			setup: func(t *testing.T, dir string) []string {
				args := classify("native", nil)(t, dir)
				return append([]string{"--model", "/proc/self/mem"}, args...)
			}},
		{name: "model/ort-wrong-input-rank", tool: "fminfer", needs: "ort", code: inferRuntime, msg: "want one 28x28 grayscale image per row",
			setup: classify("ort", modelWith(func(m *onnxModel) { m.inDims = []int64{-1, 2, 14, 28} }))},
		{name: "model/ort-protobuf-garbage", tool: "fminfer", needs: "ort", code: inferRuntime, msg: "model.onnx",
			setup: classify("ort", func(t *testing.T) []byte { return []byte("\x0a\xff\xff\xff\xff\x0fnot protobuf") })},
		{name: "model/ort-external-data", tool: "fminfer", needs: "ort", code: inferRuntime, msg: "external",
			setup: classify("ort", modelWith(func(m *onnxModel) { m.inits[0].external = "../../../../etc/passwd" }))},
		{name: "model/ort-nan-weight", tool: "fminfer", needs: "ort", code: inferRuntime, msg: "NaN as probability",
			setup: classify("ort", modelWith(func(m *onnxModel) {
				for i := range m.inits[0].data {
					m.inits[0].data[i] = float32(math.NaN())
				}
			}))},
		{name: "model/ort-cuda-unavailable", tool: "fminfer", needs: "ort", code: inferProvider, msg: "cuda",
			setup: classify("ort", nil, "--provider", "cuda")},

		// fminfer: flags.
		{name: "flags/top-0", tool: "fminfer", code: inferUsage, msg: "--top", setup: classify("native", nil, "--top", "0")},
		{name: "flags/engine-unknown", tool: "fminfer", code: inferUsage, msg: "--engine", setup: classify("tensorflow", nil)},
		{name: "flags/threads-negative", tool: "fminfer", code: inferUsage, msg: "--threads", setup: classify("native", nil, "--threads", "-2")},
		{name: "flags/polarity", tool: "fminfer", code: inferUsage, msg: "--polarity", setup: classify("native", nil, "--polarity", "purple")},
		{name: "flags/explain-two-images", tool: "fminfer", code: inferUsage, msg: "--explain takes exactly one image",
			setup: func(t *testing.T, dir string) []string { return append(classify("native", nil)(t, dir), "shirt.png") }},
		{name: "flags/no-images", tool: "fminfer", code: inferUsage, msg: "no images given",
			setup: func(t *testing.T, dir string) []string { return []string{"--explain", "out/explain.png"} }},
		{name: "out/explain-missing-directory", tool: "fminfer", code: inferInputs, msg: "out/missing/explain.png",
			setup: func(t *testing.T, dir string) []string {
				args := classify("native", nil)(t, dir)
				args[3] = "out/missing/explain.png"
				return args
			}},
		{name: "flags/eval-batch-0", tool: "fminfer", code: inferUsage, msg: "--batch",
			setup: func(t *testing.T, dir string) []string {
				return []string{"eval", "--engine", "native", "--batch", "0", "--plot", "out/c.png"}
			}},
		{name: "eval/missing-data", tool: "fminfer", code: inferRuntime, msg: "does not hold the Fashion-MNIST files",
			setup: func(t *testing.T, dir string) []string {
				return []string{"eval", "--engine", "native", "--data", filepath.Join(dir, "nowhere"), "--plot", "out/c.png"}
			}},

		// fminfer verify.
		{name: "verify/corrupt-pb", tool: "fminfer", code: inferRuntime, msg: "1 of 1 directories could not be verified", setup: verifyDir([]byte("\x0a\x05\xff\xff"))},
		{name: "verify/pb-claims-2GB", tool: "fminfer", code: inferRuntime, msg: "1 of 1 directories could not be verified",
			setup: verifyDir(tensor{name: "input", dims: []int64{1 << 29}, data: []float32{1}}.proto())},
		{name: "verify/no-directory", tool: "fminfer", code: inferUsage, msg: "at least one directory",
			setup: func(t *testing.T, dir string) []string { return []string{"verify"} }},
		{name: "verify/missing-directory", tool: "fminfer", code: inferRuntime, msg: "1 of 1 directories could not be verified",
			setup: func(t *testing.T, dir string) []string { return []string{"verify", filepath.Join(dir, "nowhere")} }},
	}
}

// needs skips t unless what a case needs is there: "data" (the installed
// Fashion-MNIST), "ort" (the onnxruntime library) or "" (nothing).
func needs(t *testing.T, what string) {
	t.Helper()
	switch what {
	case "data":
		needData(t)
	case "ort":
		if ortLib == "" {
			t.Skip("the onnxruntime library is not installed (make setup)")
		}
	}
}

// TestBadInputCatalogue runs every case of the catalogue: the program must
// end with the case's exit code and message, without a panic, and leave its
// output directory empty.
func TestBadInputCatalogue(t *testing.T) {
	cases := catalogue()
	t.Logf("%d cases", len(cases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			needs(t, c.needs)
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			args := c.setup(t, dir)
			before := listDir(t, dir)
			r := runTool(t, dir, c.tool, c.stdin, args...)
			t.Logf("%s %s\n-> exit %d in %v\n%s", c.tool, strings.Join(args, " "), r.code, r.elapsed.Round(1e6), r.stderr)
			checkNoPanic(t, r)
			if r.code != c.code {
				t.Errorf("exit code %d, want %d", r.code, c.code)
			}
			if !strings.Contains(r.stderr, c.msg) {
				t.Errorf("stderr does not mention %q", c.msg)
			}
			if left := listDir(t, out); len(left) > 0 {
				t.Errorf("output directory not empty afterwards: %v", left)
			}
			// Nothing new anywhere in the case's directory either (temporary files, probes).
			if after := listDir(t, dir); !slices.Equal(before, after) {
				t.Errorf("files appeared or vanished: before %v, after %v", before, after)
			}
		})
	}
}

// listDir lists every path under dir (relative, sorted), without following
// symbolic links or descending into mounts that cannot be read.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}
