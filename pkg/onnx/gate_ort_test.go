//go:build cgo

package onnx_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/pkg/onnx"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// FuzzGateORT feeds mutated models to the gate and every model it accepts to onnxruntime,
// in a child process. A fuzz input is a seed model (gateSeeds, by index) and a list of
// structured edits (editModel) that change attributes, dims, op types, wiring and opsets:
// the space where a model passes validation and might still crash onnxruntime. (Byte
// mutations of whole models almost never pass the gate; FuzzDecodeModel and FuzzImport
// cover the decoder that way.) There: a crash of onnxruntime (SIGFPE, SIGSEGV, an abort) ends the child,
// not the fuzzer, and fails the input as a gate that let a crashing model through. So does
// a child that runs past ortChildTimeout or grows past ortChildMaxRSS. The gate's own
// promises are checked on the way: what it returns passes it again, to the same bytes.
//
// The child is this test binary, re-run as TestGateORTChild; it serves one model after
// another (starting onnxruntime once), and a crash is confirmed in a fresh child before it
// is blamed on the input.
//
//	go test -run '^$' -fuzz '^FuzzGateORT$' -fuzztime 10m ./pkg/onnx/
func FuzzGateORT(f *testing.F) {
	lib := ortLibraryPath()
	if lib == "" {
		f.Skip("onnxruntime library not available (make setup)")
	}
	seeds := gateSeeds(f)
	for i := range seeds {
		f.Add(uint8(i), []byte(nil))
		f.Add(uint8(i), []byte{0, byte(i), 2, 0, 1, byte(i), 1, 0, 4, 0, 0, 3})
	}
	var mu sync.Mutex
	var child *ortChild
	f.Cleanup(func() {
		if child != nil {
			child.close()
		}
	})
	f.Fuzz(func(t *testing.T, seed uint8, edits []byte) {
		data := editModel(seeds[int(seed)%len(seeds)], edits)
		gd, err := onnx.Gate(data, nil, onnx.GateOptions{})
		if err != nil {
			return
		}
		again, err := onnx.Gate(gd.Model, nil, onnx.GateOptions{})
		if err != nil {
			t.Fatalf("the gate refuses its own model: %v", err)
		}
		if !bytes.Equal(again.Model, gd.Model) {
			t.Fatal("gating the gate's model changes it")
		}
		for _, in := range gd.Graph.Inputs {
			if in.DataType != onnx.Float {
				return // RunGeneric feeds float inputs only
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if child == nil {
			if child, err = startORTChild(lib); err != nil {
				t.Fatal(err)
			}
		}
		res, err := child.run(gd.Model, gd.Inputs)
		fuzzStats.note(res.err, gd.Model)
		if err == nil {
			if res.maxRSSKB > ortChildMaxRSS>>10 {
				t.Fatalf("onnxruntime grew to %d MiB on a model the gate accepted (estimated %d bytes a run)", res.maxRSSKB>>10, gd.RunBytes)
			}
			return
		}
		// The child died or hung: confirm with a fresh one, alone with this model.
		first := err
		child.close()
		child = nil
		fresh, serr := startORTChild(lib)
		if serr != nil {
			t.Fatal(serr)
		}
		_, err = fresh.run(gd.Model, gd.Inputs)
		fresh.close()
		if err != nil {
			t.Fatalf("onnxruntime failed on a model the gate accepted (estimated %d bytes, %.3g FLOP a run): %v", gd.RunBytes, gd.RunFLOPs, err)
		}
		t.Fatalf("onnxruntime failed on a model the gate accepted, after earlier models in the same process (alone it ran): %v", first)
	})
}

// fuzzStats counts what reached onnxruntime: with FMKIT_FUZZ_STATS=DIR set, each fuzz
// worker keeps DIR/<pid> up to date with its counts, for reports.
var fuzzStats childStats

type childStats struct {
	mu           sync.Mutex
	ran, refused int
	why          map[string]int // onnxruntime's refusals, by message
}

// note counts one model the child ran; refusal is onnxruntime's error for it, if any. The
// first model of each refusal is kept in the stats directory as refused-<pid>-<n>.onnx.
func (s *childStats) note(refusal string, model []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ran++
	if refusal != "" {
		s.refused++
		if s.why == nil {
			s.why = map[string]int{}
		}
		dir := os.Getenv("FMKIT_FUZZ_STATS")
		key := firstLines(refusal, 1)
		if _, seen := s.why[key]; !seen && dir != "" && len(s.why) < 64 {
			base := filepath.Join(dir, fmt.Sprintf("refused-%d-%d", os.Getpid(), len(s.why)))
			_ = os.WriteFile(base+".onnx", model, 0o644)
			_ = os.WriteFile(base+".txt", []byte(refusal+"\n"), 0o644)
		}
		if len(s.why) < 64 {
			s.why[key]++
		}
	}
	if dir := os.Getenv("FMKIT_FUZZ_STATS"); dir != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "ran %d refused-by-onnxruntime %d\n", s.ran, s.refused)
		for m, n := range s.why {
			fmt.Fprintf(&b, "%6d %s\n", n, m)
		}
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprint(os.Getpid())), []byte(b.String()), 0o644)
	}
}

// Limits on the child, per model: far beyond what the gate lets through (256 MiB of
// activations, 1 GFLOP a sample, one sample a run).
const (
	ortChildTimeout = 30 * time.Second
	ortChildMaxRSS  = 1 << 30
	ortChildEnv     = "FMKIT_GATE_ORT_CHILD" // the library path; set only in the child
)

// ortLibraryPath returns the onnxruntime library the tests use, or "".
func ortLibraryPath() string {
	p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")
	if p == "" {
		p = filepath.Join("..", "..", ".cache", "onnxruntime", "1.24.1", "libonnxruntime.so.1")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	if _, err := os.Stat(abs); err != nil {
		return ""
	}
	return abs
}

// TestGateORTChild is FuzzGateORT's child: with ortChildEnv set it serves models from
// standard input, running each once with onnxruntime on pseudo-random inputs, and answers
// on file descriptor 3. Otherwise it does nothing.
func TestGateORTChild(t *testing.T) {
	lib := os.Getenv(ortChildEnv)
	if lib == "" {
		t.Skip("runs only as FuzzGateORT's child")
	}
	resp := os.NewFile(3, "responses")
	in := bufio.NewReader(os.Stdin)
	trust := func(b []byte, _ [][]int64) ([]byte, int, error) { return b, 0, nil } // gated by the parent
	for {
		model, shapes, err := readChildRequest(in)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(len(model)), 7))
		inputs := make([]fmrt.Tensor, len(shapes))
		for i, s := range shapes {
			n := int64(1)
			for _, d := range s {
				n *= d
			}
			data := make([]float32, n)
			for j := range data {
				data[j] = float32(rng.NormFloat64())
			}
			inputs[i] = fmrt.Tensor{Name: fmt.Sprint("input", i), Shape: s, Data: data}
		}
		_, runErr := fmrt.RunGeneric(model, inputs, fmrt.ORTOptions{Gate: trust, LibraryPath: lib, IntraOpThreads: 1})
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		msg := ""
		if runErr != nil {
			msg = runErr.Error()
		}
		var out []byte
		out = binary.LittleEndian.AppendUint64(out, uint64(ru.Maxrss))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(msg)))
		out = append(out, msg...)
		if _, err := resp.Write(out); err != nil {
			t.Fatal(err)
		}
	}
}

// ortChild is a running TestGateORTChild.
type ortChild struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	resp   *os.File
	stderr *tailBuffer
	done   chan error
}

// childResult is the child's answer for one model.
type childResult struct {
	maxRSSKB int64
	err      string // onnxruntime's error, if it refused the model (which is fine)
}

func startORTChild(lib string) (*ortChild, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGateORTChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), ortChildEnv+"="+lib)
	cmd.ExtraFiles = []*os.File{w}
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	// The child dies with its parent (a fuzz worker the coordinator kills).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	w.Close()
	c := &ortChild{cmd: cmd, in: in, resp: r, stderr: stderr, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	return c, nil
}

// run sends one model and waits for the answer; an error means the child died or hung.
func (c *ortChild) run(model []byte, shapes [][]int64) (childResult, error) {
	var req []byte
	req = binary.LittleEndian.AppendUint32(req, uint32(len(model)))
	req = append(req, model...)
	req = binary.LittleEndian.AppendUint32(req, uint32(len(shapes)))
	for _, s := range shapes {
		req = binary.LittleEndian.AppendUint32(req, uint32(len(s)))
		for _, d := range s {
			req = binary.LittleEndian.AppendUint64(req, uint64(d))
		}
	}
	if _, err := c.in.Write(req); err != nil {
		return childResult{}, c.died(err)
	}
	if err := c.resp.SetReadDeadline(time.Now().Add(ortChildTimeout)); err != nil {
		return childResult{}, err
	}
	var hdr [12]byte
	if _, err := io.ReadFull(c.resp, hdr[:]); err != nil {
		return childResult{}, c.died(err)
	}
	msg := make([]byte, binary.LittleEndian.Uint32(hdr[8:]))
	if _, err := io.ReadFull(c.resp, msg); err != nil {
		return childResult{}, c.died(err)
	}
	return childResult{maxRSSKB: int64(binary.LittleEndian.Uint64(hdr[:8])), err: string(msg)}, nil
}

// died describes why the child stopped answering: a hang (it is killed) or its exit.
func (c *ortChild) died(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.cmd.Process.Kill()
		<-c.done
		c.done <- nil
		return fmt.Errorf("onnxruntime ran past %v (killed); its output:\n%s", ortChildTimeout, c.stderr)
	}
	var werr error
	select {
	case werr = <-c.done:
		c.done <- werr
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		werr = <-c.done
		c.done <- werr
	}
	return fmt.Errorf("the onnxruntime child died (%v, after %v); its output:\n%s", werr, err, c.stderr)
}

func (c *ortChild) close() {
	c.in.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	c.resp.Close()
}

// readChildRequest reads one model and its input shapes (see ortChild.run).
func readChildRequest(r io.Reader) ([]byte, [][]int64, error) {
	u32 := func() (uint32, error) {
		var b [4]byte
		_, err := io.ReadFull(r, b[:])
		return binary.LittleEndian.Uint32(b[:]), err
	}
	n, err := u32()
	if err != nil {
		return nil, nil, err
	}
	model := make([]byte, n)
	if _, err := io.ReadFull(r, model); err != nil {
		return nil, nil, err
	}
	k, err := u32()
	if err != nil {
		return nil, nil, err
	}
	shapes := make([][]int64, k)
	for i := range shapes {
		rank, err := u32()
		if err != nil {
			return nil, nil, err
		}
		shapes[i] = make([]int64, rank)
		for j := range shapes[i] {
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return nil, nil, err
			}
			shapes[i][j] = int64(binary.LittleEndian.Uint64(b[:]))
		}
	}
	return model, shapes, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// TestGateORTChildCatchesCrashes: the child machinery reports a model that kills
// onnxruntime instead of dying with it. A Conv with stride 0 made onnxruntime 1.24 raise
// SIGFPE while creating the session (issue 13); sent past the gate, straight to the child, it
// must come back as an error naming the child's death. If onnxruntime ever stops crashing on
// it, the model is refused cleanly instead and the test says so.
func TestGateORTChildCatchesCrashes(t *testing.T) {
	lib := ortLibraryPath()
	if lib == "" {
		t.Skip("onnxruntime library not available (make setup)")
	}
	good, err := onnx.Gate(gateSeeds(t)[0], nil, onnx.GateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The gate's canonical model, with one attribute changed past the gate.
	mp := decodeProto(t, good.Model)
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "Conv" {
			for _, a := range n.Attribute {
				if a.GetName() == "strides" {
					a.Ints = []int64{0, 0}
				}
			}
		}
	}
	bad, err := encodeModel(mp)
	if err != nil {
		t.Fatal(err)
	}
	c, err := startORTChild(lib)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.close() }()
	if res, err := c.run(good.Model, good.Inputs); err != nil || res.err != "" {
		t.Fatalf("a good model: %v %q", err, res.err)
	}
	res, err := c.run(bad, good.Inputs)
	switch {
	case err != nil:
		t.Logf("caught: %v", firstLines(err.Error(), 3))
	case res.err != "":
		t.Logf("onnxruntime no longer crashes on stride 0; it says: %s", res.err)
	default:
		t.Error("onnxruntime ran a Conv with stride 0 without complaint")
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestGateSeedsPass: every seed of FuzzGateORT passes the gate and runs in onnxruntime, so
// that the fuzzer starts from models that reach the child.
func TestGateSeedsPass(t *testing.T) {
	lib := ortLibraryPath()
	for i, s := range gateSeeds(t) {
		gd, err := onnx.Gate(s, nil, onnx.GateOptions{})
		if err != nil {
			t.Errorf("seed %d: %v", i, err)
			continue
		}
		if lib == "" {
			continue
		}
		in := make([]fmrt.Tensor, len(gd.Inputs))
		for j, shape := range gd.Inputs {
			n := int64(1)
			for _, d := range shape {
				n *= d
			}
			in[j] = fmrt.Tensor{Shape: shape, Data: make([]float32, n)}
		}
		if _, err := fmrt.RunGeneric(gd.Model, in, fmrt.ORTOptions{Gate: onnx.GateOptions{}.Check, LibraryPath: lib, IntraOpThreads: 1}); err != nil {
			t.Errorf("seed %d: onnxruntime: %v", i, err)
		}
	}
}

// gateSeeds are small models that use every claimed op between them, with few weights, so
// that mutations land in the structure and attributes rather than in weight bytes.
func gateSeeds(tb testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(5, 5))
	r := func(name string, dims ...int64) *onnx.Tensor { return randTensor(rng, name, dims...) }
	var seeds [][]byte
	// Conv (pads, strides), Relu, MaxPool, AveragePool (pads, count_include_pad), Flatten,
	// Gemm (transB, bias), Softmax.
	seeds = append(seeds, graphModel(tb, 13, dims(1, 6, 6), []string{"y"},
		[]*onnx.Tensor{r("w", 2, 1, 3, 3), r("b", 2), r("g", 3, 32), r("c", 3)},
		node("conv", "Conv", []string{"x", "w", "b"}, []string{"c1"}, attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1), attrInts("strides", 1, 1)),
		node("relu", "Relu", []string{"c1"}, []string{"r1"}),
		node("mp", "MaxPool", []string{"r1"}, []string{"p1"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)),
		node("ap", "AveragePool", []string{"p1"}, []string{"p2"}, attrInts("kernel_shape", 2, 2), attrInts("pads", 1, 1, 1, 1), attrInt("count_include_pad", 1)),
		node("flat", "Flatten", []string{"p2"}, []string{"f"}, attrInt("axis", 1)),
		node("gemm", "Gemm", []string{"f", "g", "c"}, []string{"l"}, attrInt("transB", 1), attrFloat("alpha", 0.5)),
		node("sm", "Softmax", []string{"l"}, []string{"y"}, attrInt("axis", 1))))
	// BatchNormalization, MatMul, Add, Dropout, Identity, Reshape with a constant shape.
	seeds = append(seeds, graphModel(tb, 13, dims(4), []string{"y"},
		[]*onnx.Tensor{r("s", 4), r("bb", 4), r("m", 4), onnx.NewFloat("v", []int64{4}, []float32{1, 2, 0.5, 1}), r("w", 4, 3), r("a", 3), ints("shape", 0, 3)},
		node("bn", "BatchNormalization", []string{"x", "s", "bb", "m", "v"}, []string{"n"}, attrFloat("epsilon", 1e-3)),
		node("mm", "MatMul", []string{"n", "w"}, []string{"h"}),
		node("add", "Add", []string{"h", "a"}, []string{"h2"}),
		node("drop", "Dropout", []string{"h2"}, []string{"d"}),
		node("id", "Identity", []string{"d"}, []string{"i"}),
		node("rs", "Reshape", []string{"i", "shape"}, []string{"y"})))
	// Constant, Reshape from it, Flatten with a negative axis, Conv with auto_pad, MaxPool
	// with ceil_mode and dilations.
	shape := onnx.NewInt64("", []int64{4}, []int64{-1, 1, 4, 6})
	seeds = append(seeds, graphModel(tb, 13, dims(2, 12), []string{"y"}, []*onnx.Tensor{r("w", 1, 1, 2, 2)},
		&onnxpb.NodeProto{Name: ptr("k"), OpType: ptr("Constant"), Output: []string{"shape"}, Attribute: []*onnxpb.AttributeProto{attrTensor("value", shape)}},
		node("rs", "Reshape", []string{"x", "shape"}, []string{"img"}),
		node("conv", "Conv", []string{"img", "w"}, []string{"c"}, attrString("auto_pad", "VALID"), attrInts("dilations", 1, 2)),
		node("mp", "MaxPool", []string{"c"}, []string{"p"}, attrInts("kernel_shape", 2, 2), attrInt("ceil_mode", 1), attrInts("dilations", 1, 1), attrInts("strides", 2, 2)),
		node("flat", "Flatten", []string{"p"}, []string{"y"}, attrInt("axis", -3))))
	// Opset 11: Softmax over a 2-D view, Dropout with a ratio attribute.
	seeds = append(seeds, graphModel(tb, 11, dims(3, 2), []string{"y"}, nil,
		node("sm", "Softmax", []string{"x"}, []string{"s"}, attrInt("axis", 1)),
		node("drop", "Dropout", []string{"s"}, []string{"y"}, attrFloat("ratio", 0.25))))
	// The PyTorch zoo's smaller models (testdata/gen/onnx/torch_zoo.py): Pad, Clip,
	// LeakyRelu, Elu, Sigmoid, Tanh, LogSoftmax, GlobalAveragePool, Transpose, Unsqueeze,
	// shape arithmetic, grouped and dilated windows, opsets 9 to 17.
	zoo, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "onnx", "torch_zoo", "*", "model.onnx"))
	for _, p := range zoo {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			seeds = append(seeds, b)
		}
	}
	return seeds
}

// editModel applies edits to the model in data, four bytes an edit: [kind, a, b, c]. It
// returns data unchanged when data is not a ModelProto. Values come from b and c: v =
// int8(b), shifted left by (c-200) % 41 when c >= 200, so small and negative numbers are
// common and huge ones occur.
func editModel(data, edits []byte) []byte {
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil || mp.Graph == nil {
		return data
	}
	g := mp.Graph
	nodes := g.Node
	for ; len(edits) >= 4; edits = edits[4:] {
		kind, a, b, c := edits[0], int(edits[1]), edits[2], edits[3]
		v := int64(int8(b))
		if c >= 200 {
			v <<= (c - 200) % 41
		}
		switch kind % 10 {
		case 0, 1: // an INTS or INT attribute element
			var attrs []*onnxpb.AttributeProto
			for _, n := range nodes {
				for _, at := range n.Attribute {
					if (kind%10 == 0) == (len(at.Ints) > 0) {
						attrs = append(attrs, at)
					}
				}
			}
			if len(attrs) == 0 {
				continue
			}
			at := attrs[a%len(attrs)]
			if len(at.Ints) > 0 {
				at.Ints[int(c)%len(at.Ints)] = v
			} else {
				at.I = &v
			}
		case 2: // a dim of an initializer, with data to match (at most 1<<16 elements)
			if len(g.Initializer) == 0 {
				continue
			}
			tp := g.Initializer[a%len(g.Initializer)]
			if len(tp.Dims) == 0 {
				continue
			}
			tp.Dims[int(c)%len(tp.Dims)] = int64(b % 40)
			n := int64(1)
			for _, d := range tp.Dims {
				n *= max(d, 0)
			}
			if n > 1<<16 {
				continue
			}
			size := int64(4)
			if tp.GetDataType() == int32(onnx.Int64) {
				size = 8
			}
			tp.RawData = make([]byte, n*size)
			tp.FloatData, tp.Int64Data = nil, nil
		case 3: // a dim of a graph input
			if len(g.Input) == 0 {
				continue
			}
			sh := g.Input[a%len(g.Input)].GetType().GetTensorType().GetShape()
			if sh == nil || len(sh.Dim) == 0 {
				continue
			}
			sh.Dim[int(c)%len(sh.Dim)].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(b % 64)}
		case 4: // add an attribute to a node
			if len(nodes) == 0 {
				continue
			}
			n := nodes[a%len(nodes)]
			names := []string{"pads", "strides", "dilations", "kernel_shape", "auto_pad", "ceil_mode", "axis", "transA", "transB", "count_include_pad", "alpha", "epsilon"}
			name := names[int(b)%len(names)]
			var at *onnxpb.AttributeProto
			switch name {
			case "auto_pad":
				at = attrString(name, []string{"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"}[c%4])
			case "alpha", "epsilon":
				at = attrFloat(name, float32(int8(c))/8)
			case "pads":
				at = attrInts(name, int64(c%5), int64(c%3), int64(c%2), int64(c%7))
			case "strides", "dilations", "kernel_shape":
				at = attrInts(name, int64(c%4), int64(c%3+1))
			default:
				at = attrInt(name, int64(int8(c))%3)
			}
			n.Attribute = append(n.Attribute, at)
		case 5: // another claimed op
			if len(nodes) == 0 {
				continue
			}
			nodes[a%len(nodes)].OpType = ptr(onnx.ClaimedOps[int(b)%len(onnx.ClaimedOps)])
		case 6: // a float attribute to a special value
			specials := []float32{0, -1, 1e30, -1e30, float32(math.NaN()), float32(math.Inf(1)), 1e-30, 0.5}
			for _, n := range nodes {
				for _, at := range n.Attribute {
					if at.F != nil && a%2 == 0 {
						f := specials[int(b)%len(specials)]
						at.F = &f
					}
				}
			}
		case 7: // the opset
			if len(mp.OpsetImport) > 0 {
				mp.OpsetImport[0].Version = ptr(int64(onnx.MinOpset + int(b)%(onnx.MaxOpset-onnx.MinOpset+1)))
			}
		case 8: // rewire an input of a node to another value
			if len(nodes) == 0 {
				continue
			}
			var names []string
			for _, in := range g.Input {
				names = append(names, in.GetName())
			}
			for _, tp := range g.Initializer {
				names = append(names, tp.GetName())
			}
			for _, n := range nodes {
				names = append(names, n.Output...)
			}
			n := nodes[a%len(nodes)]
			if len(n.Input) > 0 {
				n.Input[int(c)%len(n.Input)] = names[int(b)%len(names)]
			}
		case 9: // remove an attribute or an input
			if len(nodes) == 0 {
				continue
			}
			n := nodes[a%len(nodes)]
			if b%2 == 0 && len(n.Attribute) > 0 {
				i := int(c) % len(n.Attribute)
				n.Attribute = append(n.Attribute[:i], n.Attribute[i+1:]...)
			} else if len(n.Input) > 1 {
				n.Input = n.Input[:len(n.Input)-1]
			}
		}
	}
	out, err := encodeModel(&mp)
	if err != nil {
		return data
	}
	return out
}
