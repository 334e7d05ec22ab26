package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fmkit/fmkit/internal/onnxwire"
)

// Paths set by TestMain.
var (
	binDir  string // holds the fmtrain and fminfer binaries built for this run
	repo    string // the module root
	ortLib  string // the onnxruntime library, or "" when there is none
	sysData = "/usr/share/datasets/fashion-mnist"
)

// TestMain builds the two programs once, into a temporary directory, and
// removes them afterwards.
func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	if repo, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if binDir, err = os.MkdirTemp("", "fmkit-e2e-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	gobin := filepath.Join(goruntime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	build := exec.Command(gobin, "build", "-o", binDir+string(filepath.Separator), "./cmd/fmtrain", "./cmd/fminfer")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building the programs: %v\n%s", err, out)
		return 1
	}
	ortLib = os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")
	if ortLib == "" {
		ortLib = filepath.Join(repo, ".cache", "onnxruntime", "1.24.1", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(ortLib); err != nil {
		ortLib = ""
	}
	return m.Run()
}

// result is what one run of a program did.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
	maxRSSKB       int64 // the program's peak resident memory (getrusage)
}

// toolTimeout bounds one program run in the catalogue: every case fails
// fast, so a run that takes longer is stuck.
const toolTimeout = 2 * time.Minute

// runTool runs bin/tool with args in dir, with stdin as standard input, and
// returns what it did; it fails the test if the program cannot be started or
// does not end within toolTimeout.
func runTool(t *testing.T, dir, tool string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, tool), args...)
	cmd.Dir = dir
	cmd.Env = toolEnv()
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.maxRSSKB = ru.Maxrss
		}
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	case ctx.Err() != nil:
		t.Fatalf("%s %s: still running after %v\nstderr:\n%s", tool, strings.Join(args, " "), toolTimeout, r.stderr)
	default:
		t.Fatalf("%s %s: %v\nstderr:\n%s", tool, strings.Join(args, " "), err, r.stderr)
	}
	return r
}

// toolEnv is the environment of the programs under test: the test's own,
// without the variables that would change which data or library they pick
// (the cases name those explicitly).
func toolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FMNIST_DATA=") || strings.HasPrefix(kv, "ONNXRUNTIME_SHARED_LIBRARY_PATH=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// checkNoPanic fails if a program's output shows a Go panic or a goroutine
// dump.
func checkNoPanic(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{r.stderr, r.stdout} {
		if strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
			t.Errorf("the program panicked:\n%s", s)
		}
	}
}

// needData skips the test when the Fashion-MNIST files are not installed.
func needData(t testing.TB) {
	t.Helper()
	for _, n := range dataFiles {
		if _, err := os.Stat(filepath.Join(sysData, n+".gz")); err != nil {
			t.Skipf("Fashion-MNIST is not installed in %s (apt-get install dataset-fashion-mnist): %v", sysData, err)
		}
	}
}

// dataFiles are the four Fashion-MNIST files, without ".gz".
var dataFiles = []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// dataDir makes a Fashion-MNIST directory in t's temporary space: each file
// named in replace (by its name on disk, e.g. "train-labels-idx1-ubyte" or
// "train-labels-idx1-ubyte.gz") gets that content, a nil content leaves the
// file out, and the other files are symbolic links to the installed ones.
func dataDir(t *testing.T, replace map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range dataFiles {
		if _, ok := replace[n]; ok {
			continue
		}
		if _, ok := replace[n+".gz"]; ok {
			continue
		}
		if err := os.Symlink(filepath.Join(sysData, n+".gz"), filepath.Join(dir, n+".gz")); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range replace {
		if b == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readData returns the decompressed content of one installed dataset file.
func readData(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sysData, name+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	return gunzip(t, b)
}

// mkfifo makes a named pipe, which blocks any reader that opens it: a
// program must refuse it by its type rather than hang reading it.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("cannot make a FIFO: %v", err)
	}
}

// samplePNG is a 28x28 light object on a dark background, like the dataset.
func samplePNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 4; y < 24; y++ {
		for x := 8; x < 20; x++ {
			img.SetGray(x, y, color.Gray{Y: 200})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// --- ONNX models as protobuf bytes, written by hand (the e2e tests use the programs, not pkg/onnx).

// Field numbers of onnx.proto (named in internal/onnxwire), and the enum values used.
const (
	modelIRVersion = onnxwire.ModelIRVersion
	modelGraph     = onnxwire.ModelGraph
	modelOpset     = onnxwire.ModelOpsetImport
	opsetVersion   = onnxwire.OpsetVersion

	graphNode        = onnxwire.GraphNode
	graphName        = onnxwire.GraphName
	graphInitializer = onnxwire.GraphInitializer
	graphInput       = onnxwire.GraphInput
	graphOutput      = onnxwire.GraphOutput

	nodeInput     = onnxwire.NodeInput
	nodeOutput    = onnxwire.NodeOutput
	nodeName      = onnxwire.NodeName
	nodeOpType    = onnxwire.NodeOpType
	nodeAttribute = onnxwire.NodeAttribute

	attrName = onnxwire.AttrName
	attrI    = onnxwire.AttrI
	attrInts = onnxwire.AttrInts
	attrType = onnxwire.AttrType
	attrINT  = 2
	attrINTS = 7

	tensorDims         = onnxwire.TensorDims
	tensorDataType     = onnxwire.TensorDataType
	tensorName         = onnxwire.TensorName
	tensorRawData      = onnxwire.TensorRawData
	tensorExternalData = onnxwire.TensorExternalData
	tensorDataLocation = onnxwire.TensorDataLocation
	tensorFLOAT        = 1

	valueName       = onnxwire.ValueInfoName
	valueType       = onnxwire.ValueInfoType
	typeTensor      = onnxwire.TypeTensorType
	tensorElemType  = onnxwire.TensorTypeElemType
	tensorShape     = onnxwire.TensorTypeShape
	shapeDim        = onnxwire.ShapeDim
	dimValue        = onnxwire.DimValue
	dimParam        = onnxwire.DimParam
	entryKey        = onnxwire.EntryKey
	entryValue      = onnxwire.EntryValue
	externalDataLoc = 1
)

// pb appends protobuf fields.
type pb []byte

func (b pb) str(n protowire.Number, s string) pb {
	return protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), s)
}

func (b pb) bytes(n protowire.Number, v []byte) pb {
	return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), v)
}

func (b pb) int(n protowire.Number, v int64) pb {
	return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), uint64(v))
}

// tensor describes an initializer; data are its float32 values (raw_data).
type tensor struct {
	name     string
	dims     []int64
	data     []float32
	external string // if set, the tensor claims its data is in this external file
}

func (t tensor) proto() pb {
	var b pb
	for _, d := range t.dims {
		b = b.int(tensorDims, d)
	}
	b = b.int(tensorDataType, tensorFLOAT).str(tensorName, t.name)
	if t.external != "" {
		entry := pb(nil).str(entryKey, "location").str(entryValue, t.external)
		return b.bytes(tensorExternalData, entry).int(tensorDataLocation, externalDataLoc)
	}
	raw := make([]byte, 4*len(t.data))
	for i, v := range t.data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return b.bytes(tensorRawData, raw)
}

// node describes a graph node with integer and integer-list attributes
// (written in name order, so the same node gives the same bytes).
type node struct {
	op, name string
	in, out  []string
	ints     map[string]int64
	lists    map[string][]int64
}

func (n node) proto() pb {
	var b pb
	for _, s := range n.in {
		b = b.str(nodeInput, s)
	}
	for _, s := range n.out {
		b = b.str(nodeOutput, s)
	}
	b = b.str(nodeName, n.name).str(nodeOpType, n.op)
	for _, k := range slices.Sorted(maps.Keys(n.ints)) {
		b = b.bytes(nodeAttribute, pb(nil).str(attrName, k).int(attrI, n.ints[k]).int(attrType, attrINT))
	}
	for _, k := range slices.Sorted(maps.Keys(n.lists)) {
		var packed []byte
		for _, v := range n.lists[k] {
			packed = binary.AppendUvarint(packed, uint64(v))
		}
		b = b.bytes(nodeAttribute, pb(nil).str(attrName, k).bytes(attrInts, packed).int(attrType, attrINTS))
	}
	return b
}

// valueInfo is a float tensor input or output; a negative dimension is the
// symbolic batch dimension "N".
func valueInfo(name string, dims ...int64) pb {
	var shape pb
	for _, d := range dims {
		if d < 0 {
			shape = shape.bytes(shapeDim, pb(nil).str(dimParam, "N"))
		} else {
			shape = shape.bytes(shapeDim, pb(nil).int(dimValue, d))
		}
	}
	tt := pb(nil).int(tensorElemType, tensorFLOAT).bytes(tensorShape, shape)
	return pb(nil).str(valueName, name).bytes(valueType, pb(nil).bytes(typeTensor, tt))
}

// onnxModel is a small float model: one input, one output "probabilities".
type onnxModel struct {
	inDims []int64
	outDim int64
	nodes  []node
	inits  []tensor
}

// bytes encodes the model as an ONNX ModelProto (IR 7, opset 13).
func (m onnxModel) bytes() []byte {
	var g pb
	for _, n := range m.nodes {
		g = g.bytes(graphNode, n.proto())
	}
	g = g.str(graphName, "e2e")
	for _, t := range m.inits {
		g = g.bytes(graphInitializer, t.proto())
	}
	g = g.bytes(graphInput, valueInfo("input", m.inDims...))
	g = g.bytes(graphOutput, valueInfo("probabilities", -1, m.outDim))
	var b pb
	b = b.int(modelIRVersion, 7)
	b = b.bytes(modelOpset, pb(nil).int(opsetVersion, 13))
	return b.bytes(modelGraph, g)
}

// linearModel is a valid classifier: Flatten, Gemm (784 -> 10), Softmax,
// with small deterministic weights.
func linearModel() onnxModel {
	w := make([]float32, 784*10)
	for i := range w {
		w[i] = float32(math.Sin(float64(i))) / 32
	}
	b := make([]float32, 10)
	for i := range b {
		b[i] = float32(i) / 100
	}
	return onnxModel{
		inDims: []int64{-1, 1, 28, 28},
		outDim: 10,
		nodes: []node{
			{op: "Flatten", name: "flatten", in: []string{"input"}, out: []string{"flat"}, ints: map[string]int64{"axis": 1}},
			{op: "Gemm", name: "dense", in: []string{"flat", "dense.weight", "dense.bias"}, out: []string{"logits"}},
			{op: "Softmax", name: "softmax", in: []string{"logits"}, out: []string{"probabilities"}, ints: map[string]int64{"axis": 1}},
		},
		inits: []tensor{{name: "dense.weight", dims: []int64{784, 10}, data: w}, {name: "dense.bias", dims: []int64{10}, data: b}},
	}
}
