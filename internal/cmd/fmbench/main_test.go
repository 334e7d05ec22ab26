package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestParseFlagsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--threads", "0"},
		{"--duration", "1ms"},
		{"--images", "10"},
		{"extra"},
		{"--no-such-flag"},
	} {
		var stderr bytes.Buffer
		if code := run(args, new(bytes.Buffer), &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
}

// TestRunNativeOnly runs the native measurements on the real data, briefly,
// and checks that the JSON carries positive rates and no peer ratios.
func TestRunNativeOnly(t *testing.T) {
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"); err != nil && os.Getenv("FMNIST_DATA") == "" {
		t.Skip("Fashion-MNIST not installed")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"--no-ort", "--no-torch", "--duration", "20ms", "--images", "256", "--threads", "2", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.NativeTrain <= 0 || r.NativeLatencyUs <= 0 || len(r.NativeInfer) != 3 {
		t.Fatalf("rates %+v", r)
	}
	for bs, v := range r.NativeInfer {
		if v <= 0 {
			t.Errorf("batch %d: %g images/s", bs, v)
		}
	}
	if r.TrainRatio != 0 || r.InferRatio != nil || !strings.Contains(r.ORTError, "skipped") {
		t.Errorf("peer fields set without peers: %+v", r)
	}
	var table bytes.Buffer
	printTable(&table, &r)
	if !strings.Contains(table.String(), "train samples/s (batch 32)") || !strings.Contains(table.String(), "onnxruntime unavailable: skipped") {
		t.Errorf("table:\n%s", table.String())
	}
}
