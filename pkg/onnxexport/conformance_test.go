package onnxexport

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
)

// backendNodeDir holds ONNX's backend node tests (Debian package libonnx-testdata, ONNX
// 1.12.0); their expected outputs were computed by ONNX's numpy reference implementations.
const backendNodeDir = "/usr/include/onnx/backend/test/data/node"

// Tolerances of the conformance run. The expected outputs are float32 results of numpy
// code; ours accumulate in float64 and round once, so the differences are a few float32
// ulps (the largest observed is logged).
const (
	conformanceAtol = 1e-5
	conformanceRtol = 1e-5
)

// TestBackendConformance runs every backend node test whose model uses only claimed ops
// through the IR and the reference evaluator. A test of a claimed op whose model uses an
// unsupported feature is listed as unsupported, with its reason; all others must pass.
func TestBackendConformance(t *testing.T) {
	entries, err := os.ReadDir(backendNodeDir)
	if err != nil {
		t.Skipf("ONNX backend test data not available (install libonnx-testdata): %v", err)
	}
	type row struct{ claimed, passed, total int }
	rows := map[string]*row{}
	var unsupported []string
	worstAbs, worstRel, worstName := 0.0, 0.0, ""
	for _, e := range entries {
		dir := filepath.Join(backendNodeDir, e.Name())
		m, err := readModelProto(filepath.Join(dir, "model.onnx"))
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
			continue
		}
		key := strings.Join(ops, "+")
		if rows[key] == nil {
			rows[key] = &row{}
		}
		r := rows[key]
		r.total++
		g, err := lowerModel(m)
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				unsupported = append(unsupported, fmt.Sprintf("%s: unsupported: %v", e.Name(), err))
				continue
			}
			t.Errorf("%s: lowering failed: %v", e.Name(), err)
			continue
		}
		r.claimed++
		ok, abs, rel, err := runBackendTest(g, dir)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if abs > worstAbs {
			worstAbs, worstName = abs, e.Name()
		}
		worstRel = math.Max(worstRel, rel)
		if ok {
			r.passed++
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-20s %7s %6s %5s\n", "op", "claimed", "passed", "total")
	sum := row{}
	for _, k := range keys {
		r := rows[k]
		fmt.Fprintf(&sb, "%-20s %7d %6d %5d\n", k, r.claimed, r.passed, r.total)
		sum.claimed, sum.passed, sum.total = sum.claimed+r.claimed, sum.passed+r.passed, sum.total+r.total
	}
	fmt.Fprintf(&sb, "%-20s %7d %6d %5d\n", "TOTAL", sum.claimed, sum.passed, sum.total)
	for _, u := range unsupported {
		fmt.Fprintf(&sb, "%s\n", u)
	}
	fmt.Fprintf(&sb, "largest |got-want| %.3g (%s), largest relative difference of a passing element set %.3g; atol=rtol=%g",
		worstAbs, worstName, worstRel, conformanceAtol)
	t.Log(sb.String())
	if sum.claimed < 84 {
		t.Errorf("only %d backend tests claimed; ONNX 1.12's data gave 84 (a regression guard)", sum.claimed)
	}
}

func allClaimed(ops []string) bool {
	for _, op := range ops {
		if !slices.Contains(ClaimedOps, op) {
			return false
		}
	}
	return true
}

// runBackendTest evaluates every data set of dir and compares every output. It returns
// whether all outputs matched, and the largest absolute and relative differences.
func runBackendTest(g *Graph, dir string) (ok bool, maxAbs, maxRel float64, err error) {
	tc, err := LoadTestDir(dir)
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
		inputs := map[string]*Tensor{}
		for i, in := range g.Inputs {
			inputs[in.Name] = ds.Inputs[i]
		}
		got, err := EvalNaive(g, inputs)
		if err != nil {
			return false, 0, 0, fmt.Errorf("%s: %v", ds.Dir, err)
		}
		for i, want := range ds.Outputs {
			if err := sameShape(got[i], want); err != nil {
				return false, 0, 0, fmt.Errorf("%s: output %d: %v", ds.Dir, i, err)
			}
			switch want.DataType {
			case Float:
				abs, rel, same := Compare(got[i].Float, want.Float, conformanceAtol, conformanceRtol)
				maxAbs = math.Max(maxAbs, abs)
				if !same {
					return false, 0, 0, fmt.Errorf("%s: output %d: max |diff| %g, max rel %g beyond atol=rtol=%g",
						ds.Dir, i, abs, rel, conformanceAtol)
				}
				if !math.IsInf(rel, 0) {
					maxRel = math.Max(maxRel, rel)
				}
			case Int64:
				if !slices.Equal(got[i].Int64, want.Int64) {
					return false, 0, 0, fmt.Errorf("%s: output %d differs", ds.Dir, i)
				}
			case Bool:
				if !slices.Equal(got[i].Bool, want.Bool) {
					return false, 0, 0, fmt.Errorf("%s: output %d differs", ds.Dir, i)
				}
			}
		}
	}
	return ok, maxAbs, maxRel, nil
}

func sameShape(got, want *Tensor) error {
	if got.DataType != want.DataType || !slices.Equal(got.Dims, want.Dims) {
		return fmt.Errorf("got %s%v, want %s%v", got.DataType, got.Dims, want.DataType, want.Dims)
	}
	return nil
}
