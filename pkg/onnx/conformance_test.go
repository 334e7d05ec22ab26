package onnx_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/onnxexport"
)

// Tolerances of the conformance run. The expected outputs are float32 results of numpy
// code; ours accumulate in float64 and round once, so the differences are a few float32
// ulps (the largest observed is logged).
const (
	conformanceAtol = 1e-5
	conformanceRtol = 1e-5
)

// Tolerances of the native engine's conformance run (the largest difference seen was
// 1.9e-6, on test_batchnorm_epsilon): it sums in float32 (im2col and a
// blocked GEMM) where the expected outputs were summed by numpy in other orders.
const (
	nativeAtol = 1e-5
	nativeRtol = 1e-5
)

// TestBackendConformance runs every backend node test whose model uses only claimed ops
// through the IR and the reference evaluator, and through the importer and the native
// engine (train layers). A test whose model uses a feature the lowering does not support
// is listed as unsupported; so is one the native engine cannot express (e.g. a 1-D
// convolution), with its reason. All others must pass. The native engine takes one
// runtime input: inputs beyond the first (Conv's W as input_1.pb, ...) are bound as
// constants.
func TestBackendConformance(t *testing.T) {
	sum := runConformance(t, backendNodeDir, true)
	if sum.claimed < 157 {
		t.Errorf("only %d backend tests claimed; ONNX 1.12's data gave 157 (a regression guard)", sum.claimed)
	}
	if sum.nativeClaimed < 87 {
		t.Errorf("only %d backend tests run by the native engine; 87 did when this was written (a regression guard)", sum.nativeClaimed)
	}
}

// nativeRequired are the pytorch-converted tests the native engine must run and pass (issue
// 16): every test of PyTorch's Conv2d, Linear, MaxPool2d, AvgPool2d, BatchNorm2d, ReLU,
// LeakyReLU, Sigmoid, Tanh and Softmax modules, by name prefix.
var nativeRequired = []string{"test_Conv2d", "test_Linear", "test_MaxPool2d", "test_AvgPool2d", "test_BatchNorm2d",
	"test_ReLU", "test_LeakyReLU", "test_Sigmoid", "test_Tanh", "test_Softmax", "test_softmax_"}

// TestPytorchConformance runs ONNX's pytorch-converted and simple test models the same way.
func TestPytorchConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("slow in -short mode")
	}
	for _, dir := range []string{"/usr/include/onnx/backend/test/data/pytorch-converted", "/usr/include/onnx/backend/test/data/simple"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			sum := runConformance(t, dir, true)
			if filepath.Base(dir) != "pytorch-converted" {
				return
			}
			entries, _ := os.ReadDir(dir)
			required := 0
			for _, e := range entries {
				if !slices.ContainsFunc(nativeRequired, func(p string) bool { return strings.HasPrefix(e.Name(), p) }) {
					continue
				}
				required++
				if !sum.nativeOK[e.Name()] {
					t.Errorf("%s: the native engine must run and pass it", e.Name())
				}
			}
			if required < 25 {
				t.Errorf("only %d required pytorch-converted tests found; ONNX 1.12 has 25", required)
			}
			if sum.nativeClaimed < 52 {
				t.Errorf("only %d pytorch-converted tests run by the native engine; 52 did when this was written (a regression guard)", sum.nativeClaimed)
			}
		})
	}
}

type confRow struct {
	claimed, passed, nativeClaimed, nativePassed, total int
	nativeOK                                            map[string]bool // tests the native engine passed
}

func runConformance(t *testing.T, root string, naive bool) confRow {
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Skipf("ONNX backend test data not available (install libonnx-testdata): %v", err)
	}
	rows := map[string]*confRow{}
	var unsupported, notClaimed []string
	nativeOK := map[string]bool{}
	worstAbs, worstRel, worstName := 0.0, 0.0, ""
	nWorstAbs, nWorstRel, nWorstName := 0.0, 0.0, ""
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		m, err := onnx.ReadModelProto(filepath.Join(dir, "model.onnx"))
		if err != nil {
			continue // not a model directory we can read; not ours to judge
		}
		var ops []string
		for _, n := range m.GetGraph().GetNode() {
			if !slices.Contains(ops, n.GetOpType()) {
				ops = append(ops, n.GetOpType())
			}
		}
		if len(ops) == 0 || !allClaimed(ops) {
			var missing []string
			for _, op := range ops {
				if !slices.Contains(onnx.ClaimedOps, op) {
					missing = append(missing, op)
				}
			}
			notClaimed = append(notClaimed, fmt.Sprintf("%s: not run: op %s not supported", e.Name(), strings.Join(missing, ", ")))
			continue
		}
		key := strings.Join(ops, "+")
		if rows[key] == nil {
			rows[key] = &confRow{}
		}
		r := rows[key]
		r.total++
		g, err := onnx.LowerModel(m)
		if err != nil {
			if errors.Is(err, onnx.ErrUnsupported) {
				unsupported = append(unsupported, fmt.Sprintf("%s: unsupported: %v", e.Name(), err))
				continue
			}
			t.Errorf("%s: lowering failed: %v", e.Name(), err)
			continue
		}
		r.claimed++
		if naive {
			ok, abs, rel, err := runBackendTest(g, dir)
			if err != nil {
				t.Errorf("%s: %v", e.Name(), err)
			} else {
				if abs > worstAbs {
					worstAbs, worstName = abs, e.Name()
				}
				worstRel = math.Max(worstRel, rel)
				if ok {
					r.passed++
				}
			}
		}
		rep, err := onnx.VerifyTolerance(dir, onnxexport.NativeEngine, nativeAtol, nativeRtol)
		if err != nil {
			if errors.Is(err, onnx.ErrUnsupported) {
				reason := err.Error()
				if i := strings.Index(reason, "unsupported: "); i >= 0 {
					reason = reason[i+len("unsupported: "):]
				}
				unsupported = append(unsupported, fmt.Sprintf("%s: native: %s", e.Name(), reason))
				continue
			}
			t.Errorf("%s: native engine: %v", e.Name(), err)
			continue
		}
		r.nativeClaimed++
		if !rep.OK {
			t.Errorf("%s: native engine: max abs %g, max rel %g beyond atol=rtol=%g", e.Name(), rep.MaxAbs, rep.MaxRel, nativeAtol)
			continue
		}
		r.nativePassed++
		nativeOK[e.Name()] = true
		if rep.MaxAbs > nWorstAbs {
			nWorstAbs, nWorstName = rep.MaxAbs, e.Name()
		}
		if !math.IsInf(rep.MaxRel, 0) {
			nWorstRel = math.Max(nWorstRel, rep.MaxRel)
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-34s %7s %6s | %7s %6s | %5s\n", "op", "claimed", "passed", "native", "passed", "total")
	sum := confRow{nativeOK: nativeOK}
	for _, k := range keys {
		r := rows[k]
		fmt.Fprintf(&sb, "%-34s %7d %6d | %7d %6d | %5d\n", k, r.claimed, r.passed, r.nativeClaimed, r.nativePassed, r.total)
		sum.claimed, sum.passed, sum.total = sum.claimed+r.claimed, sum.passed+r.passed, sum.total+r.total
		sum.nativeClaimed, sum.nativePassed = sum.nativeClaimed+r.nativeClaimed, sum.nativePassed+r.nativePassed
	}
	fmt.Fprintf(&sb, "%-34s %7d %6d | %7d %6d | %5d\n", "TOTAL", sum.claimed, sum.passed, sum.nativeClaimed, sum.nativePassed, sum.total)
	fmt.Fprintf(&sb, "%d tests not run (ops not supported), %d claimed but not run natively or at all (reasons below)\n", len(notClaimed), len(unsupported))
	for _, u := range unsupported {
		fmt.Fprintf(&sb, "%s\n", u)
	}
	for _, u := range notClaimed {
		fmt.Fprintf(&sb, "%s\n", u)
	}
	if naive {
		fmt.Fprintf(&sb, "reference: largest |got-want| %.3g (%s), largest relative difference %.3g; atol=rtol=%g\n",
			worstAbs, worstName, worstRel, conformanceAtol)
	}
	fmt.Fprintf(&sb, "native: largest |got-want| %.3g (%s), largest relative difference %.3g; atol=rtol=%g",
		nWorstAbs, nWorstName, nWorstRel, nativeAtol)
	t.Log(sb.String())
	return sum
}

func allClaimed(ops []string) bool {
	for _, op := range ops {
		if !slices.Contains(onnx.ClaimedOps, op) {
			return false
		}
	}
	return true
}

// runBackendTest evaluates every data set of dir and compares every output. It returns
// whether all outputs matched, and the largest absolute and relative differences.
func runBackendTest(g *onnx.Graph, dir string) (ok bool, maxAbs, maxRel float64, err error) {
	tc, err := onnx.LoadTestDir(dir)
	if err != nil {
		return false, 0, 0, err
	}
	if len(tc.DataSets) == 0 {
		return false, 0, 0, fmt.Errorf("no test data sets")
	}
	ok = true
	for _, ds := range tc.DataSets {
		if len(ds.Inputs) != len(g.Inputs) || len(ds.Outputs) != len(g.Outputs) {
			return false, 0, 0, fmt.Errorf("%s: %d inputs and %d outputs, the model has %d and %d",
				ds.Dir, len(ds.Inputs), len(ds.Outputs), len(g.Inputs), len(g.Outputs))
		}
		inputs := map[string]*onnx.Tensor{}
		for i, in := range g.Inputs {
			inputs[in.Name] = ds.Inputs[i]
		}
		got, err := onnx.EvalNaive(g, inputs)
		if err != nil {
			return false, 0, 0, fmt.Errorf("%s: %v", ds.Dir, err)
		}
		for i, want := range ds.Outputs {
			if err := sameShape(got[i], want); err != nil {
				return false, 0, 0, fmt.Errorf("%s: output %d: %v", ds.Dir, i, err)
			}
			switch want.DataType {
			case onnx.Float:
				abs, rel, same := onnx.Compare(got[i].Float, want.Float, conformanceAtol, conformanceRtol)
				maxAbs = math.Max(maxAbs, abs)
				if !same {
					return false, 0, 0, fmt.Errorf("%s: output %d: max |diff| %g, max rel %g beyond atol=rtol=%g",
						ds.Dir, i, abs, rel, conformanceAtol)
				}
				if !math.IsInf(rel, 0) {
					maxRel = math.Max(maxRel, rel)
				}
			case onnx.Int64:
				if !slices.Equal(got[i].Int64, want.Int64) {
					return false, 0, 0, fmt.Errorf("%s: output %d differs", ds.Dir, i)
				}
			case onnx.Bool:
				if !slices.Equal(got[i].Bool, want.Bool) {
					return false, 0, 0, fmt.Errorf("%s: output %d differs", ds.Dir, i)
				}
			}
		}
	}
	return ok, maxAbs, maxRel, nil
}

func sameShape(got, want *onnx.Tensor) error {
	if got.DataType != want.DataType || !slices.Equal(got.Dims, want.Dims) {
		return fmt.Errorf("got %s%v, want %s%v", got.DataType, got.Dims, want.DataType, want.Dims)
	}
	return nil
}
