package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The hostile-model catalogue of issue 13: models made to crash onnxruntime, read files
// they were not given, or run away with memory or time, each generated here at test time
// (no fixtures to regenerate), each run through fminfer with both engines. Every case must
// end with its documented exit code and a message naming what is at fault, without a
// panic, within hostileMaxRSS of memory and hostileMaxTime, and leave nothing behind.

// Bounds on every hostile run. Before the model gate, pads of 1500 took 2 GB and 6 s in
// onnxruntime, 20,000 Relu nodes 6.4 GB natively under eval, a fixed batch of 4096 0.5 GB.
const (
	hostileMaxRSS  = 1 << 30
	hostileMaxTime = 60 * time.Second
)

// hmodel is a float model: input "input" of inDims (-1: the symbolic batch), output
// "probabilities" [N, 10]. ext moves an initializer's data out of the file: its
// external_data key/value pairs.
type hmodel struct {
	inDims []int64
	nodes  []node
	inits  []tensor
	ext    map[string][]string
}

func (m hmodel) bytes() []byte {
	var g pb
	for _, n := range m.nodes {
		g = g.bytes(graphNode, n.proto())
	}
	g = g.str(graphName, "hostile")
	for _, t := range m.inits {
		kv, external := m.ext[t.name]
		if !external {
			g = g.bytes(graphInitializer, t.proto())
			continue
		}
		var tb pb
		for _, d := range t.dims {
			tb = tb.int(tensorDims, d)
		}
		tb = tb.int(tensorDataType, tensorFLOAT).str(tensorName, t.name)
		for i := 0; i+1 < len(kv); i += 2 {
			tb = tb.bytes(tensorExternalData, pb(nil).str(entryKey, kv[i]).str(entryValue, kv[i+1]))
		}
		g = g.bytes(graphInitializer, tb.int(tensorDataLocation, externalDataLoc))
	}
	g = g.bytes(graphInput, valueInfo("input", m.inDims...))
	g = g.bytes(graphOutput, valueInfo("probabilities", -1, 10))
	var b pb
	b = b.int(modelIRVersion, 7)
	b = b.bytes(modelOpset, pb(nil).int(opsetVersion, 13))
	return b.bytes(modelGraph, g)
}

// set changes (or adds) list attribute name of node to v.
func (m hmodel) set(node, name string, v ...int64) hmodel {
	for i := range m.nodes {
		if m.nodes[i].name == node {
			lists := map[string][]int64{}
			for k, x := range m.nodes[i].lists {
				lists[k] = x
			}
			lists[name] = v
			m.nodes[i].lists = lists
			return m
		}
	}
	panic("no node " + node)
}

// weights returns n deterministic small weights.
func hweights(n int, seed float64) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)*0.7+seed)) / 16
	}
	return w
}

// hcnn is the book model's first block and its head: input [batch,1,28,28] -> conv1
// (filters 3x3) -> relu1 -> pool1 (2x2) -> flatten -> dense (filters*13*13 -> 10) ->
// softmax.
func hcnn(batch, filters int64) hmodel {
	k := filters * 13 * 13
	return hmodel{
		inDims: []int64{batch, 1, 28, 28},
		nodes: []node{
			{op: "Conv", name: "conv1", in: []string{"input", "conv1.weight", "conv1.bias"}, out: []string{"conv1.out"},
				lists: map[string][]int64{"kernel_shape": {3, 3}, "strides": {1, 1}, "pads": {0, 0, 0, 0}}},
			{op: "Relu", name: "relu1", in: []string{"conv1.out"}, out: []string{"relu1.out"}},
			{op: "MaxPool", name: "pool1", in: []string{"relu1.out"}, out: []string{"pool1.out"},
				lists: map[string][]int64{"kernel_shape": {2, 2}, "strides": {2, 2}}},
			{op: "Flatten", name: "flatten", in: []string{"pool1.out"}, out: []string{"flatten.out"}, ints: map[string]int64{"axis": 1}},
			{op: "Gemm", name: "dense", in: []string{"flatten.out", "dense.weight", "dense.bias"}, out: []string{"logits"}},
			{op: "Softmax", name: "softmax", in: []string{"logits"}, out: []string{"probabilities"}, ints: map[string]int64{"axis": 1}},
		},
		inits: []tensor{
			{name: "conv1.weight", dims: []int64{filters, 1, 3, 3}, data: hweights(int(filters*9), 1)},
			{name: "conv1.bias", dims: []int64{filters}, data: hweights(int(filters), 2)},
			{name: "dense.weight", dims: []int64{k, 10}, data: hweights(int(k*10), 3)},
			{name: "dense.bias", dims: []int64{10}, data: hweights(10, 4)},
		},
	}
}

// reluBomb is input [N,1,28,28] -> k Relu nodes -> flatten -> dense (784 -> 10) -> softmax.
func reluBomb(k int) hmodel {
	m := hmodel{inDims: []int64{-1, 1, 28, 28}}
	prev := "input"
	for i := range k {
		out := fmt.Sprintf("r%d", i)
		m.nodes = append(m.nodes, node{op: "Relu", name: fmt.Sprintf("relu%d", i), in: []string{prev}, out: []string{out}})
		prev = out
	}
	m.nodes = append(m.nodes,
		node{op: "Flatten", name: "flatten", in: []string{prev}, out: []string{"flat"}, ints: map[string]int64{"axis": 1}},
		node{op: "Gemm", name: "dense", in: []string{"flat", "w", "b"}, out: []string{"logits"}},
		node{op: "Softmax", name: "softmax", in: []string{"logits"}, out: []string{"probabilities"}, ints: map[string]int64{"axis": 1}})
	m.inits = []tensor{{name: "w", dims: []int64{784, 10}, data: hweights(7840, 5)}, {name: "b", dims: []int64{10}, data: hweights(10, 6)}}
	return m
}

// secretText is planted outside the directories a case allows: no byte of it may reach any
// output, and the program must not even open it (its access time is checked).
const secretText = "s3cr3t: not for models to read, 40 bytes"

// hostileCase is one entry of the catalogue. setup writes what the case needs into dir (the
// working directory) and returns the command line; everything it names as output goes
// under out/, which must stay empty unless ok is set.
type hostileCase struct {
	name   string
	needs  string // "ort", "data" or ""
	setup  func(t *testing.T, dir string) []string
	code   int
	msg    []string // fragments stderr must hold (stdout too, for verify)
	ok     bool     // a case that must succeed (exit 0); out/ may then hold results
	check  func(t *testing.T, dir string, r result)
	stdout bool // look for msg on stdout as well as stderr
}

// classifyWith writes model to dir/model.onnx and returns fminfer's classification of one
// image with it on engine, with an explanation picture into out/.
func classifyWith(engine string, model []byte, extra ...string) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		return classify(engine, func(*testing.T) []byte { return model }, extra...)(t, dir)
	}
}

// plantSecret writes the secret beside dir's allowed directory ext/ and returns its path,
// with its access time set before its modification time, so that any read of it moves the
// access time (Linux's relatime updates it then).
func plantSecret(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "secret")
	write(t, p, []byte(secretText))
	past := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(p, past, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "ext"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// atime returns a file's access time.
func accessTime(t *testing.T, p string) time.Time {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(st.Atim.Sec, st.Atim.Nsec)
}

// externalBias returns the hcnn(-1, 8) model with dense.bias (10 floats, 40 bytes) stored
// at location (with length 40).
func externalBias(location string) []byte {
	m := hcnn(-1, 8)
	m.ext = map[string][]string{"dense.bias": {"location", location, "length", "40"}}
	return m.bytes()
}

// noLeak checks that no byte of the secret (or of /etc/passwd) reached the output, no
// probabilities were printed, and the secret was not read.
func noLeak(secret string, before time.Time) func(t *testing.T, dir string, r result) {
	return func(t *testing.T, dir string, r result) {
		out := r.stdout + r.stderr
		for _, s := range []string{secretText[:8], "root:x:0", "probabilities"} {
			if strings.Contains(out, s) {
				t.Errorf("the output holds %q:\n%s", s, out)
			}
		}
		if secret != "" {
			if after := accessTime(t, secret); !after.Equal(before) {
				t.Errorf("the secret outside the allowed directory was read (access time %v -> %v)", before, after)
			}
		}
	}
}

// hostileVerifyTree makes one backend-test directory per model under dir/name and returns their
// paths; each has one data set: a zero image (batch, 1, 28, 28) and a zero expected output
// (the verdict does not matter, only that every directory is reported).
func hostileVerifyTree(t *testing.T, dir string, batch int64, models map[string][]byte) []string {
	t.Helper()
	var dirs []string
	for _, name := range slices.Sorted(maps.Keys(models)) {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(d, "test_data_set_0"), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(d, "model.onnx"), models[name])
		write(t, filepath.Join(d, "test_data_set_0", "input_0.pb"), tensor{name: "input", dims: []int64{batch, 1, 28, 28}, data: make([]float32, batch*784)}.proto())
		write(t, filepath.Join(d, "test_data_set_0", "output_0.pb"), tensor{name: "probabilities", dims: []int64{batch, 10}, data: make([]float32, batch*10)}.proto())
		dirs = append(dirs, d)
	}
	return dirs
}

func hostileCatalogue() []hostileCase {
	var cases []hostileCase
	// Models onnxruntime crashed on, or that run away: refused by the gate, in both engines,
	// naming the node, op and attribute (or the limit and its flag).
	models := []struct {
		name  string
		model func() []byte
		msg   []string
	}{
		{"conv-stride-0", func() []byte { return hcnn(-1, 8).set("conv1", "strides", 0, 0).bytes() }, []string{`node "conv1" (Conv): strides: [0] = 0, want > 0`}},
		{"maxpool-stride-0", func() []byte { return hcnn(-1, 8).set("pool1", "strides", 0, 0).bytes() }, []string{`node "pool1" (MaxPool): strides: [0] = 0, want > 0`}},
		{"conv-pads-minus-5", func() []byte { return hcnn(-1, 8).set("conv1", "pads", -5, -5, -5, -5).bytes() }, []string{`node "conv1" (Conv): pads: [0] = -5, want >= 0`}},
		{"conv-bias-7-of-32", func() []byte {
			m := hcnn(-1, 32)
			m.inits[1] = tensor{name: "conv1.bias", dims: []int64{7}, data: hweights(7, 2)}
			return m.bytes()
		}, []string{`node "conv1" (Conv): input 2: B [7], want (32)`}},
		{"fixed-batch-2^40", func() []byte { return hcnn(1<<40, 8).bytes() }, []string{`input "input": dims [1099511627776 1 28 28]`}},
		{"fixed-batch-2^31", func() []byte { return hcnn(1<<31, 8).bytes() }, []string{`input "input": dims [2147483648 1 28 28]`}},
		{"fixed-batch-4096", func() []byte { return hcnn(4096, 32).bytes() }, []string{`node "conv1" (Conv)`, "FLOAT[4096 32 26 26]", "estimated activation memory", "--max-activation-mb"}},
		{"pads-1500", func() []byte {
			return hcnn(-1, 32).set("conv1", "pads", 1500, 1500, 1500, 1500).set("pool1", "kernel_shape", 233, 233).set("pool1", "strides", 233, 233).bytes()
		}, []string{`node "conv1" (Conv)`, "FLOAT[1 32 3026 3026]", "pads [1500 1500 1500 1500]", "--max-activation-mb"}},
		{"pads-3000", func() []byte {
			return hcnn(-1, 32).set("conv1", "pads", 3000, 3000, 3000, 3000).set("pool1", "kernel_shape", 463, 463).set("pool1", "strides", 463, 463).bytes()
		}, []string{`node "conv1" (Conv)`, "FLOAT[1 32 6026 6026]", "--max-activation-mb"}},
		{"relu-20000", func() []byte { return reluBomb(20000).bytes() }, []string{"graph: 20003 nodes, over the limit of 4096", "--max-nodes"}},
		{"relu-40000", func() []byte { return reluBomb(40000).bytes() }, []string{"graph: 40003 nodes", "--max-nodes"}},
		{"pooling-time-bomb", func() []byte {
			return hcnn(-1, 8).set("pool1", "kernel_shape", 1000, 1000).set("pool1", "pads", 999, 999, 999, 999).bytes()
		}, []string{`node "pool1" (MaxPool)`, "operations per sample", "--max-gflops"}},
		{"etc-passwd", func() []byte { return externalBias("../../../../../../../../etc/passwd") }, []string{`tensor "dense.bias"`, "external file", "--external-data"}},
	}
	for _, m := range models {
		for _, engine := range []string{"ort", "native"} {
			needs := ""
			if engine == "ort" {
				needs = "ort"
			}
			c := hostileCase{name: m.name + "/" + engine, needs: needs, code: inferRuntime, msg: m.msg}
			model := m.model
			c.setup = func(t *testing.T, dir string) []string { return classifyWith(engine, model())(t, dir) }
			if m.name == "etc-passwd" {
				c.check = noLeak("", time.Time{})
			}
			cases = append(cases, c)
		}
	}

	// External data: allowed from one directory only, never a byte from outside it.
	for _, engine := range []string{"ort", "native"} {
		needs := map[string]string{"ort": "ort"}[engine]
		for _, ec := range []struct {
			name, location string
			prepare        func(t *testing.T, dir string)
			msg            string
		}{
			{"dot-dot", "../secret", nil, `location "../secret" leaves the external data directory`},
			{"absolute", "", nil, "is an absolute path"},
			{"symlink-out", "link", func(t *testing.T, dir string) {
				if err := os.Symlink(filepath.Join(dir, "secret"), filepath.Join(dir, "ext", "link")); err != nil {
					t.Fatal(err)
				}
			}, `location "link"`},
			{"fifo", "pipe", func(t *testing.T, dir string) { mkfifo(t, filepath.Join(dir, "ext", "pipe")) }, "not a regular file"},
			{"missing", "none.bin", nil, "no such file"},
		} {
			var secret string
			var before time.Time
			cases = append(cases, hostileCase{name: "external-" + ec.name + "/" + engine, needs: needs, code: inferRuntime, msg: []string{`tensor "dense.bias"`, ec.msg},
				setup: func(t *testing.T, dir string) []string {
					secret = plantSecret(t, dir)
					if ec.prepare != nil {
						ec.prepare(t, dir)
					}
					loc := ec.location
					if loc == "" {
						loc = secret
					}
					before = accessTime(t, secret)
					return classifyWith(engine, externalBias(loc), "--external-data", filepath.Join(dir, "ext"), "--json")(t, dir)
				},
				check: func(t *testing.T, dir string, r result) { noLeak(secret, before)(t, dir, r) }})
		}
		// Allowed external data: the same answer as the model with the data inside.
		cases = append(cases, hostileCase{name: "external-allowed/" + engine, needs: needs, ok: true,
			setup: func(t *testing.T, dir string) []string {
				plantSecret(t, dir)
				var raw []byte
				for _, v := range hweights(10, 4) {
					raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
				}
				write(t, filepath.Join(dir, "ext", "bias.bin"), raw)
				write(t, filepath.Join(dir, "inline.onnx"), hcnn(-1, 8).bytes())
				return classifyWith(engine, externalBias("bias.bin"), "--external-data", filepath.Join(dir, "ext"), "--json")(t, dir)
			},
			check: func(t *testing.T, dir string, r result) {
				inline := runTool(t, dir, "fminfer", nil, "--engine", engine, "--ort-library", ortLib, "--json", "--model", "inline.onnx", "shirt.png")
				if inline.code != 0 || hostileJSON(t, inline.stdout)["probabilities"] == nil {
					t.Fatalf("the inline model: exit %d\n%s", inline.code, inline.stderr)
				}
				got, want := hostileJSON(t, r.stdout)["probabilities"], hostileJSON(t, inline.stdout)["probabilities"]
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("external data gives %v, the inline model %v", got, want)
				}
			}})
		// A sane fixed batch is run in pieces of that size.
		cases = append(cases, hostileCase{name: "fixed-batch-3/" + engine, needs: needs, ok: true,
			setup: func(t *testing.T, dir string) []string {
				return classifyWith(engine, hcnn(3, 8).bytes(), "--json")(t, dir)
			},
			check: func(t *testing.T, dir string, r result) {
				if hostileJSON(t, r.stdout)["probabilities"] == nil {
					t.Errorf("no probabilities: %s", r.stdout)
				}
			}})
		// Many images through a model that takes 9.4 MB of activations an image: one engine
		// call for all 300 would need 2.8 GB; the gate's batch limit keeps it in pieces.
		cases = append(cases, hostileCase{name: "batched-300-images/" + engine, needs: needs, ok: true,
			setup: func(t *testing.T, dir string) []string {
				if err := os.Mkdir(filepath.Join(dir, "pics"), 0o755); err != nil {
					t.Fatal(err)
				}
				img := samplePNG(t)
				for i := range 300 {
					write(t, filepath.Join(dir, "pics", fmt.Sprintf("%03d.png", i)), img)
				}
				write(t, filepath.Join(dir, "model.onnx"), reluBomb(3000).bytes())
				args := []string{"--engine", engine, "--model", "model.onnx", "--batch", "300", "--threads", "1", "pics"}
				if engine == "ort" {
					args = append(args, "--ort-library", ortLib)
				}
				return args
			},
			check: func(t *testing.T, dir string, r result) {
				if n := strings.Count(r.stdout, "\n"); n != 300 {
					t.Errorf("%d result lines, want 300", n)
				}
			}})
	}

	// Flags that ran away or wrapped.
	for _, f := range []struct {
		name string
		args []string
		msg  string
	}{
		{"threads-100000", []string{"--threads", "100000"}, "--threads must be between 0 and"},
		{"threads-2^31", []string{"--threads", "2147483648"}, "--threads must be between 0 and"},
		{"batch-0", []string{"--batch", "0"}, "--batch must be at least 1"},
		{"max-activation-0", []string{"--max-activation-mb", "0"}, "--max-activation-mb"},
		{"max-nodes-0", []string{"--max-nodes", "0"}, "--max-nodes"},
		{"max-gflops-nan", []string{"--max-gflops", "NaN"}, "--max-gflops"},
	} {
		cases = append(cases, hostileCase{name: "flags/" + f.name, code: inferUsage, msg: []string{f.msg},
			setup: func(t *testing.T, dir string) []string { return classify("native", nil, f.args...)(t, dir) }})
	}

	// verify: batch 0 for the native engine; every directory reported, the bad ones too.
	cases = append(cases, hostileCase{name: "verify/batch-0/native", code: inferRuntime, stdout: true,
		msg: []string{"batch 0 holds no sample", "1 of 1 directories could not be verified"},
		setup: func(t *testing.T, dir string) []string {
			return append([]string{"verify", "--engine", "native"}, hostileVerifyTree(t, dir, 0, map[string][]byte{"zero": hcnn(-1, 8).bytes()})...)
		}})
	for _, engine := range []string{"ort", "native"} {
		needs := map[string]string{"ort": "ort"}[engine]
		cases = append(cases, hostileCase{name: "verify/keeps-going/" + engine, needs: needs, code: inferRuntime, stdout: true,
			msg: []string{"a-stride-0: ERROR", "strides: [0] = 0", "b-good: ", "c-bias-7: ERROR", "B [7], want (32)", "d-leak: ERROR", "external file", "3 of 4 directories could not be verified"},
			setup: func(t *testing.T, dir string) []string {
				bias7 := hcnn(-1, 32)
				bias7.inits[1] = tensor{name: "conv1.bias", dims: []int64{7}, data: hweights(7, 2)}
				dirs := hostileVerifyTree(t, dir, 1, map[string][]byte{
					"a-stride-0": hcnn(-1, 8).set("conv1", "strides", 0, 0).bytes(),
					"b-good":     hcnn(-1, 8).bytes(),
					"c-bias-7":   bias7.bytes(),
					"d-leak":     externalBias("../../../../../../../../etc/passwd"),
				})
				args := []string{"verify", "--engine", engine, "--atol", "1"} // b-good's zero expectation passes
				if engine == "ort" {
					args = append(args, "--ort-library", ortLib)
				}
				return append(args, dirs...)
			},
			check: func(t *testing.T, dir string, r result) {
				if n := strings.Count(r.stdout, ": ERROR "); n != 3 {
					t.Errorf("%d directories reported as errors, want 3:\n%s", n, r.stdout)
				}
			}})
	}

	// The other commands that load a model go through the same gate.
	cases = append(cases,
		hostileCase{name: "eval/conv-stride-0/ort", needs: "ort+data", code: inferRuntime, msg: []string{`node "conv1" (Conv): strides`},
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "m.onnx"), hcnn(-1, 8).set("conv1", "strides", 0, 0).bytes())
				return []string{"eval", "--engine", "ort", "--ort-library", ortLib, "--model", "m.onnx", "--plot", "out/c.png"}
			}},
		hostileCase{name: "parity/pads-1500", needs: "ort+data", code: inferRuntime, msg: []string{"FLOAT[1 32 3026 3026]"},
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "m.onnx"), hcnn(-1, 32).set("conv1", "pads", 1500, 1500, 1500, 1500).set("pool1", "kernel_shape", 233, 233).set("pool1", "strides", 233, 233).bytes())
				return []string{"parity", "--ort-library", ortLib, "--model", "m.onnx"}
			}},
		hostileCase{name: "doctor/etc-passwd", code: 0, ok: true,
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "m.onnx"), externalBias("../../../../../../../../etc/passwd"))
				return []string{"doctor", "--json", "--model", "m.onnx"}
			},
			check: func(t *testing.T, dir string, r result) {
				if !strings.Contains(r.stdout, "external") || strings.Contains(r.stdout, "root:x:0") {
					t.Errorf("doctor does not report the refusal, or leaks: %s", r.stdout)
				}
			}},
	)
	return cases
}

// hostileJSON decodes the first line of out as a JSON object.
func hostileJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	line, _, _ := strings.Cut(out, "\n")
	var v map[string]any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatalf("not JSON: %q: %v", line, err)
	}
	return v
}

// TestHostileModels runs the hostile-model catalogue (see hostileCatalogue).
func TestHostileModels(t *testing.T) {
	cases := hostileCatalogue()
	t.Logf("%d cases", len(cases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if strings.Contains(c.needs, "ort") && ortLib == "" {
				t.Skip("the onnxruntime library is not installed (make setup)")
			}
			if strings.Contains(c.needs, "data") {
				needData(t)
			}
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			args := c.setup(t, dir)
			before := listDir(t, dir)
			r := runTool(t, dir, "fminfer", nil, args...)
			t.Logf("fminfer %s\n-> exit %d in %v, peak RSS %d MB\n%s", strings.Join(args, " "), r.code, r.elapsed.Round(time.Millisecond), r.maxRSSKB>>10, headLines(r.stderr, 4))
			checkNoPanic(t, r)
			want := c.code
			if c.ok {
				want = 0
			}
			if r.code != want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, headLines(r.stdout, 20), r.stderr)
			}
			text := r.stderr
			if c.stdout {
				text += r.stdout
			}
			for _, m := range c.msg {
				if !strings.Contains(text, m) {
					t.Errorf("the output does not say %q", m)
				}
			}
			if r.maxRSSKB<<10 > hostileMaxRSS {
				t.Errorf("peak RSS %d MB, over %d MB", r.maxRSSKB>>10, hostileMaxRSS>>20)
			}
			if r.elapsed > hostileMaxTime {
				t.Errorf("took %v, over %v", r.elapsed, hostileMaxTime)
			}
			if c.check != nil {
				c.check(t, dir, r)
			}
			if !c.ok {
				if left := listDir(t, filepath.Join(dir, "out")); len(left) > 0 {
					t.Errorf("output directory not empty afterwards: %v", left)
				}
				if after := listDir(t, dir); !slices.Equal(before, after) {
					t.Errorf("files appeared or vanished: before %v, after %v", before, after)
				}
			}
		})
	}
}

func headLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
