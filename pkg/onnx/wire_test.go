package onnx_test

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
	"github.com/fmkit/fmkit/pkg/onnx"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	"github.com/fmkit/fmkit/pkg/train"
)

// checkWireAgrees decodes b with decodeModelWire and, when it takes the
// model, checks that proto.Unmarshal takes it too and gives an equal message.
func checkWireAgrees(t *testing.T, name string, b []byte) (fast bool) {
	t.Helper()
	got, ok := onnx.DecodeModelWire(b)
	if !ok {
		return false
	}
	want := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, want); err != nil {
		t.Fatalf("%s: the wire decoder took a model that proto.Unmarshal refuses: %v", name, err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("%s: the wire decoder and proto.Unmarshal disagree", name)
	}
	return true
}

func TestDecodeModelWireMatchesProto(t *testing.T) {
	// Ours and PyTorch's models must take the fast path and agree with the
	// protobuf runtime; every model of Debian's ONNX conformance data must
	// agree whenever the fast path takes it.
	mustFast := map[string][]byte{}
	for _, p := range []string{"../../models/fmnist.onnx", "../../testdata/onnx/tiny.onnx",
		"../../testdata/onnx/torch_book/model.onnx", torchVariantsDir + "/model.onnx"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mustFast[p] = b
	}
	for _, arch := range []string{"book", "small", "c4k3-bn-p2-a2s1-x0.5-f-d10"} {
		m, err := train.BuildModel(arch, train.Shape{1, 28, 28}, train.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []onnxexport.ExportOptions{{}, {Logits: true, Opset: 17}} {
			b, err := onnxexport.Export(m, opts)
			if err != nil {
				t.Fatal(err)
			}
			mustFast[arch+" exported"] = b
		}
	}
	for name, b := range mustFast {
		if !checkWireAgrees(t, name, b) {
			t.Errorf("%s: the wire decoder declined it", name)
		}
	}
	paths, _ := filepath.Glob(filepath.Join(backendNodeDir, "*", "model.onnx"))
	if len(paths) == 0 {
		t.Logf("no conformance models under %s (make setup installs libonnx-testdata)", backendNodeDir)
		return
	}
	fast := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if checkWireAgrees(t, p, b) {
			fast++
		}
	}
	t.Logf("conformance models: %d of %d take the fast path, all agreeing with proto.Unmarshal", fast, len(paths))
	if fast < len(paths)/2 {
		t.Errorf("only %d of %d conformance models take the fast path", fast, len(paths))
	}
}

func TestDecodeModelWireDeclines(t *testing.T) {
	// Inputs outside the subset, or not well formed, go to proto.Unmarshal:
	// the fast path must decline them rather than guess.
	tag := func(b []byte, num protowire.Number, typ protowire.Type) []byte {
		return protowire.AppendTag(b, num, typ)
	}
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(tag(nil, num, protowire.BytesType), s)
	}
	msg := func(num protowire.Number, body ...[]byte) []byte {
		var inner []byte
		for _, b := range body {
			inner = append(inner, b...)
		}
		return protowire.AppendBytes(tag(nil, num, protowire.BytesType), inner)
	}
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(tag(nil, num, protowire.VarintType), v)
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	node := msg(1, str(4, "Relu"), str(1, "x"), str(2, "y"))
	good := cat(varint(1, 7), msg(7, node, str(2, "g")), msg(8, varint(2, 13)))
	if !checkWireAgrees(t, "good", good) {
		t.Fatal("the minimal model itself is declined")
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"unknown model field", cat(good, varint(20, 1))},
		{"known field, wrong wire type", cat(good, str(1, "7"))},
		{"graph given twice (merged by proto)", cat(good, msg(7, str(2, "h")))},
		{"sparse initializer", cat(varint(1, 7), msg(7, msg(15)))},
		{"graph attribute", cat(varint(1, 7), msg(7, msg(1, str(4, "If"), msg(5, str(1, "then_branch"), msg(6)))))},
		{"unnamed attribute type", cat(varint(1, 7), msg(7, msg(1, msg(5, str(1, "a"), varint(20, 99)))))},
		{"tensor data_location", cat(varint(1, 7), msg(7, msg(5, varint(14, 1))))},
		{"string_data", cat(varint(1, 7), msg(7, msg(5, str(6, "s"))))},
		{"oneof given twice", cat(varint(1, 7), msg(7, msg(11, str(1, "x"), msg(2, msg(1, msg(2, msg(1, varint(1, 3), str(2, "N"))))))))},
		{"invalid UTF-8 name", cat(varint(1, 7), msg(7, str(2, "\xff")))},
		{"group", cat(good, tag(nil, 30, protowire.StartGroupType), tag(nil, 30, protowire.EndGroupType))},
		{"field number 0", cat(good, tag(nil, 0, protowire.VarintType), []byte{1})},
		{"truncated", good[:len(good)-1]},
		{"packed floats not a multiple of 4", cat(varint(1, 7), msg(7, msg(5, varint(2, 1), msg(4, []byte{0, 0, 0}))))},
	}
	for _, tt := range tests {
		if _, ok := onnx.DecodeModelWire(tt.b); ok {
			t.Errorf("%s: the wire decoder took it", tt.name)
		}
	}
}

func TestDecodeModelWireAliasesRawData(t *testing.T) {
	// raw_data is not copied (the point of the fast path); Import copies the
	// weights out, so the model does not change when the caller's bytes do.
	m := train.BookModel(train.NewRNG(1))
	b, err := onnxexport.Export(m, onnxexport.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mp, ok := onnx.DecodeModelWire(b)
	if !ok {
		t.Fatal("declined")
	}
	raw := mp.GetGraph().GetInitializer()[0].GetRawData()
	if len(raw) == 0 {
		t.Fatal("no raw_data")
	}
	first := raw[0]
	for i := range b {
		b[i] ^= 0xff
	}
	if raw[0] != ^first {
		t.Fatal("raw_data does not alias the input")
	}
	for i := range b {
		b[i] ^= 0xff
	}
	imported, _, err := onnxexport.Import(b)
	if err != nil {
		t.Fatal(err)
	}
	before := imported.Params()[0].Data[0]
	clear(b)
	if imported.Params()[0].Data[0] != before {
		t.Fatal("the imported weights alias the caller's bytes")
	}
}

func BenchmarkDecodeModel(b *testing.B) {
	data, err := os.ReadFile("../../models/fmnist.onnx")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("wire", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, ok := onnx.DecodeModelWire(data); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("proto.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := proto.Unmarshal(data, new(onnxpb.ModelProto)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func FuzzDecodeModelWire(f *testing.F) {
	for _, p := range []string{"../../testdata/onnx/tiny.onnx", torchVariantsDir + "/model.onnx"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	if m, err := train.BuildModel("c4k3-bn-p2-a2s1-x0.5-f-d10", train.Shape{1, 8, 8}, train.NewRNG(1)); err == nil {
		if b, err := onnxexport.Export(m, onnxexport.ExportOptions{Logits: true}); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkWireAgrees(t, "input", b)
	})
}
