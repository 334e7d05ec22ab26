package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateCkpt = flag.Bool("update-ckpt", false, "rewrite testdata/ckpt-*.fmkckpt from smallCheckpoint")

// smallCheckpoint is the checkpoint behind testdata/ckpt-v1-small.fmkckpt:
// a few tensors of every rank class, with float32 values that a lossy
// format would change (NaN payloads, -0, infinities, subnormals) and RNG
// states beyond 2^53 that a float64 JSON path would round.
func smallCheckpoint() *Checkpoint {
	w := make([]float32, 2*1*3*3)
	for i := range w {
		w[i] = float32(i)*0.1 - 0.7
	}
	w[3] = math.Float32frombits(0x7fc00123) // NaN with a payload
	w[4] = float32(math.Copysign(0, -1))
	w[5] = float32(math.Inf(-1))
	w[6] = math.Float32frombits(1) // smallest subnormal
	return &Checkpoint{
		Epoch: 3,
		Step:  5625,
		RNG: map[string][4]uint64{
			"shuffle": {1, 2, 3, 0xffffffffffffffff},
			"augment": {0x9e3779b97f4a7c15, 0x20000000000001, 7, 8},
		},
		Arch:   "book-cnn",
		Config: json.RawMessage(`{"batch_size":32,"lr":0.001}`),
		Extra:  map[string]string{"note": "fixture"},
		Tensors: []NamedTensor{
			{Name: "conv1.weight", Shape: []int{2, 1, 3, 3}, Data: w},
			{Name: "conv1.bias", Shape: []int{2}, Data: []float32{0.25, -1.5}},
			{Name: "adam.m.conv1.bias", Shape: []int{2}, Data: []float32{1e-8, 3.4028235e38}},
			{Name: "scalar", Shape: []int{}, Data: []float32{42}},
			{Name: "empty", Shape: []int{0, 3}, Data: []float32{}},
		},
	}
}

// sameCheckpoint reports whether a and b hold the same metadata and
// bit-identical tensors.
func sameCheckpoint(a, b *Checkpoint) bool {
	if a.Epoch != b.Epoch || a.Step != b.Step || a.Arch != b.Arch || !bytes.Equal(a.Config, b.Config) ||
		!reflect.DeepEqual(a.RNG, b.RNG) || !reflect.DeepEqual(a.Extra, b.Extra) || len(a.Tensors) != len(b.Tensors) {
		return false
	}
	for i := range a.Tensors {
		x, y := a.Tensors[i], b.Tensors[i]
		if x.Name != y.Name || len(x.Shape) != len(y.Shape) || len(x.Data) != len(y.Data) {
			return false
		}
		for j := range x.Shape {
			if x.Shape[j] != y.Shape[j] {
				return false
			}
		}
		for j := range x.Data {
			if math.Float32bits(x.Data[j]) != math.Float32bits(y.Data[j]) {
				return false
			}
		}
	}
	return true
}

func encodeCheckpoint(t testing.TB, c *Checkpoint) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]*Checkpoint{
		"small":     smallCheckpoint(),
		"no meta":   {Tensors: []NamedTensor{{Name: "x", Shape: []int{1}, Data: []float32{1}}}},
		"no tensor": {Epoch: 1},
		"book model size": func() *Checkpoint {
			c := &Checkpoint{Epoch: 10, Step: 18750}
			rng := NewRNG(9)
			for _, s := range []struct {
				name  string
				shape []int
			}{{"conv1.weight", []int{32, 1, 3, 3}}, {"conv2.weight", []int{64, 32, 3, 3}}, {"dense1.weight", []int{1152, 64}}} {
				n := 1
				for _, d := range s.shape {
					n *= d
				}
				data := make([]float32, n)
				for i := range data {
					data[i] = float32(rng.NormFloat64())
				}
				c.Tensors = append(c.Tensors, NamedTensor{s.name, s.shape, data})
			}
			return c
		}(),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".fmkckpt")
			if err := SaveCheckpoint(path, c); err != nil {
				t.Fatal(err)
			}
			got, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if !sameCheckpoint(got, c) {
				t.Errorf("loaded checkpoint differs from the saved one")
			}
			raw, _ := os.ReadFile(path)
			if !bytes.Equal(raw, encodeCheckpoint(t, got)) {
				t.Error("re-encoding the loaded checkpoint gives different bytes")
			}
		})
	}
	c := smallCheckpoint()
	if tt := c.Tensor("conv1.bias"); tt == nil || tt.Data[1] != -1.5 {
		t.Errorf("Tensor(conv1.bias) = %+v", tt)
	}
	if c.Tensor("nope") != nil {
		t.Error("Tensor found a missing name")
	}
}

// resum rewrites the trailing SHA-256 of a checkpoint image after a
// deliberate change, so that the reader gets past the checksum to the
// check under test.
func resum(b []byte) []byte {
	sum := sha256.Sum256(b[:len(b)-ckptSumSize])
	copy(b[len(b)-ckptSumSize:], sum[:])
	return b
}

// ckptFixtures maps each testdata file to how it is made from the valid
// encoding of smallCheckpoint.
var ckptFixtures = []struct {
	file string
	make func(valid []byte) []byte
}{
	{"ckpt-v1-small.fmkckpt", func(v []byte) []byte { return v }},
	{"ckpt-invalid-empty.fmkckpt", func(v []byte) []byte { return nil }},
	{"ckpt-invalid-magic.fmkckpt", func(v []byte) []byte { return append([]byte("GIF89a"), v[6:]...) }},
	{"ckpt-invalid-newer-version.fmkckpt", func(v []byte) []byte { binary.LittleEndian.PutUint32(v[8:], 2); return resum(v) }},
	{"ckpt-invalid-truncated.fmkckpt", func(v []byte) []byte { return v[:len(v)-10] }},
	{"ckpt-invalid-header-only.fmkckpt", func(v []byte) []byte { return v[:30] }},
	{"ckpt-invalid-flipped-data.fmkckpt", func(v []byte) []byte { v[len(v)-60] ^= 0x10; return v }},
	{"ckpt-invalid-flipped-sum.fmkckpt", func(v []byte) []byte { v[len(v)-1] ^= 1; return v }},
	{"ckpt-invalid-trailing.fmkckpt", func(v []byte) []byte { return append(v, "junk"...) }},
	{"ckpt-invalid-huge-length.fmkckpt", func(v []byte) []byte { binary.LittleEndian.PutUint64(v[32:], 1<<62); return resum(v) }},
	{"ckpt-invalid-huge-count.fmkckpt", func(v []byte) []byte { binary.LittleEndian.PutUint32(v[12:], 1<<31); return resum(v) }},
	{"ckpt-invalid-huge-dim.fmkckpt", func(v []byte) []byte {
		// Entry 0 is "conv1.weight" (12 bytes): its first dimension is at 40+2+12+2.
		binary.LittleEndian.PutUint64(v[56:], 1<<40)
		return resum(v)
	}},
	{"ckpt-invalid-dtype.fmkckpt", func(v []byte) []byte { v[54] = 2; return resum(v) }},
	{"ckpt-invalid-metadata.fmkckpt", func(v []byte) []byte {
		i := bytes.Index(v, []byte(`{"epoch"`))
		v[i] = '['
		return resum(v)
	}},
}

func TestCheckpointFixturesCurrent(t *testing.T) {
	valid := encodeCheckpoint(t, smallCheckpoint())
	for _, f := range ckptFixtures {
		want := f.make(bytes.Clone(valid))
		path := filepath.Join("testdata", f.file)
		if *updateCkpt {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale or the format changed; if the change is intended, bump CheckpointVersion or run: go test ./pkg/train -run TestCheckpointFixturesCurrent -update-ckpt", path)
		}
	}
}

func TestLoadCheckpointFixture(t *testing.T) {
	c, err := LoadCheckpoint(filepath.Join("testdata", "ckpt-v1-small.fmkckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameCheckpoint(c, smallCheckpoint()) {
		t.Errorf("fixture decodes to %+v", c)
	}
}

func TestLoadCheckpointInvalid(t *testing.T) {
	tests := []struct {
		file   string
		want   error
		field  string
		offset int64 // -1: the checksum's offset, len(file)-32
	}{
		{"ckpt-invalid-empty.fmkckpt", ErrCheckpointTruncated, "header", 0},
		{"ckpt-invalid-magic.fmkckpt", ErrCheckpointMagic, "magic", 0},
		{"ckpt-invalid-newer-version.fmkckpt", ErrCheckpointVersion, "version", 8},
		{"ckpt-invalid-truncated.fmkckpt", ErrCheckpointTruncated, "header", 16},
		{"ckpt-invalid-header-only.fmkckpt", ErrCheckpointTruncated, "header", 30},
		{"ckpt-invalid-flipped-data.fmkckpt", ErrCheckpointChecksum, "checksum", -1},
		{"ckpt-invalid-flipped-sum.fmkckpt", ErrCheckpointChecksum, "checksum", -1},
		{"ckpt-invalid-trailing.fmkckpt", ErrCheckpointCorrupt, "file length", -2},
		{"ckpt-invalid-huge-length.fmkckpt", ErrCheckpointTruncated, "data length", 32},
		{"ckpt-invalid-huge-count.fmkckpt", ErrCheckpointCorrupt, "entry count", 12},
		{"ckpt-invalid-huge-dim.fmkckpt", ErrCheckpointCorrupt, "entry[0].shape", 56},
		{"ckpt-invalid-dtype.fmkckpt", ErrCheckpointCorrupt, "entry[0].dtype", 54},
		{"ckpt-invalid-metadata.fmkckpt", ErrCheckpointCorrupt, "metadata", -2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := LoadCheckpoint(path)
			if c != nil || err == nil {
				t.Fatalf("loaded %v, err %v", c, err)
			}
			var ce *CheckpointError
			if !errors.As(err, &ce) {
				t.Fatalf("err %T %v is not *CheckpointError", err, err)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.want)
			}
			want := tt.offset
			if want == -1 {
				want = int64(len(raw) - ckptSumSize)
			}
			if ce.File != path || ce.Field != tt.field || (tt.offset != -2 && ce.Offset != want) {
				t.Errorf("got file %q field %q offset %d, want %q %q %d (%v)", ce.File, ce.Field, ce.Offset, path, tt.field, want, err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name file and field", err)
			}
		})
	}
}

func TestDecodeCheckpointEveryTruncation(t *testing.T) {
	valid := encodeCheckpoint(t, smallCheckpoint())
	for n := range len(valid) {
		if _, err := DecodeCheckpoint("cut", valid[:n]); err == nil {
			t.Fatalf("a checkpoint cut to %d of %d bytes decoded", n, len(valid))
		}
	}
}

func TestDecodeCheckpointEveryBitFlip(t *testing.T) {
	valid := encodeCheckpoint(t, smallCheckpoint())
	for i := range len(valid) {
		b := bytes.Clone(valid)
		b[i] ^= 0x04
		if _, err := DecodeCheckpoint("flip", b); err == nil {
			t.Fatalf("a checkpoint with byte %d changed decoded", i)
		}
	}
}

func TestSaveCheckpointRejectsBadTensors(t *testing.T) {
	tests := []struct {
		name string
		ts   []NamedTensor
	}{
		{"empty name", []NamedTensor{{Name: "", Shape: []int{1}, Data: []float32{1}}}},
		{"duplicate", []NamedTensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}},
		{"shape mismatch", []NamedTensor{{Name: "a", Shape: []int{2, 2}, Data: []float32{1, 2, 3}}}},
		{"negative dim", []NamedTensor{{Name: "a", Shape: []int{-1, -1}, Data: []float32{1}}}},
		{"rank 9", []NamedTensor{{Name: "a", Shape: []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, Data: []float32{1}}}},
		{"bad utf8", []NamedTensor{{Name: "\xff", Shape: []int{1}, Data: []float32{1}}}},
		{"long name", []NamedTensor{{Name: strings.Repeat("n", ckptMaxName+1), Shape: []int{1}, Data: []float32{1}}}},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.fmkckpt")
	if err := SaveCheckpoint(path, smallCheckpoint()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for _, tt := range tests {
		if err := SaveCheckpoint(path, &Checkpoint{Tensors: tt.ts}); err == nil {
			t.Errorf("%s: saved", tt.name)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a rejected save changed the existing file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(ents))
	}
	if err := SaveCheckpoint(filepath.Join(dir, "missing", "x.fmkckpt"), smallCheckpoint()); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "missing.fmkckpt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("loading a missing file: %v", err)
	}
}

func FuzzLoadCheckpoint(f *testing.F) {
	for _, fx := range ckptFixtures {
		if b, err := os.ReadFile(filepath.Join("testdata", fx.file)); err == nil {
			f.Add(b, false)
			f.Add(b, true)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, fixSum bool) {
		if fixSum && len(data) >= ckptHeaderSize+ckptSumSize {
			// Repair the checksum so the fuzzer explores the table parser.
			data = resum(bytes.Clone(data))
		}
		c, err := DecodeCheckpoint("fuzz", data)
		if err != nil {
			var ce *CheckpointError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *CheckpointError: %v", err, err)
			}
			return
		}
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			t.Fatalf("decoded checkpoint does not re-encode: %v", err)
		}
		c2, err := DecodeCheckpoint("again", buf.Bytes())
		if err != nil || !sameCheckpoint(c, c2) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

var ckptBenchSink int

// bookSizedCheckpoint has the book model's 167,114 weights plus Adam's two
// moments: 501,342 values.
func bookSizedCheckpoint() *Checkpoint {
	c := &Checkpoint{}
	for _, p := range []string{"", "adam.m.", "adam.v."} {
		c.Tensors = append(c.Tensors, NamedTensor{Name: p + "weights", Shape: []int{167114}, Data: make([]float32, 167114)})
	}
	return c
}

func BenchmarkSaveCheckpoint_501k(b *testing.B) {
	c := bookSizedCheckpoint()
	path := filepath.Join(b.TempDir(), "bench.fmkckpt")
	b.SetBytes(4 * 501342)
	for b.Loop() {
		if err := SaveCheckpoint(path, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCheckpoint_501k(b *testing.B) {
	data := encodeCheckpoint(b, bookSizedCheckpoint())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c, err := DecodeCheckpoint("bench", data)
		if err != nil {
			b.Fatal(err)
		}
		ckptBenchSink += len(c.Tensors)
	}
}
