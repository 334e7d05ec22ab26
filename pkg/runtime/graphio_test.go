package runtime

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// msg builds a protobuf message from fields made by str, num and sub.
func msg(fields ...[]byte) []byte {
	var b []byte
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

func str(num protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
}

func sub(num protowire.Number, fields ...[]byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), msg(fields...))
}

func num(n protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, n, protowire.VarintType), v)
}

// tensorValue is a ValueInfoProto (field f of GraphProto) for a tensor of elem type et and
// the given dims: an int64 is a dim_value, a string a dim_param, nil an empty Dimension.
func tensorValue(f protowire.Number, name string, et uint64, dims ...any) []byte {
	var ds [][]byte
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			ds = append(ds, sub(1, num(1, uint64(d))))
		case string:
			ds = append(ds, sub(1, str(2, d)))
		default:
			ds = append(ds, sub(1))
		}
	}
	return sub(f, str(1, name), sub(2, sub(1, num(1, et), sub(2, ds...))))
}

func TestGraphIO(t *testing.T) {
	x := tensorValue(11, "x", 1, "N", 1, 28, 28)
	y := tensorValue(12, "y", 1, "N", 10)
	xDesc := tensorDesc{Name: "x", IsTensor: true, IsFloat: true, Type: "a float tensor", Shape: []int64{-1, 1, 28, 28}}
	yDesc := tensorDesc{Name: "y", IsTensor: true, IsFloat: true, Type: "a float tensor", Shape: []int64{-1, 10}}
	tests := []struct {
		name      string
		model     []byte
		ins, outs []tensorDesc
		err       string
	}{
		{"plain", msg(num(1, 7), sub(7, x, y), str(2, "producer")), []tensorDesc{xDesc}, []tensorDesc{yDesc}, ""},
		{"initializer listed as an input is left out",
			msg(sub(7, sub(5, str(8, "w"), num(2, 1)), x, tensorValue(11, "w", 1, 10), y)), []tensorDesc{xDesc}, []tensorDesc{yDesc}, ""},
		{"sparse initializer listed as an input is left out",
			msg(sub(7, sub(15, sub(1, str(8, "s")), sub(2, str(8, "s_idx"))), tensorValue(11, "s", 1, 3), x, y)), []tensorDesc{xDesc}, []tensorDesc{yDesc}, ""},
		{"two graph fields merge", msg(sub(7, x), sub(7, y)), []tensorDesc{xDesc}, []tensorDesc{yDesc}, ""},
		{"types, missing shape and unknown dims",
			msg(sub(7,
				tensorValue(11, "u8", 2, 2, nil),
				sub(11, str(1, "noshape"), sub(2, sub(1, num(1, 1)))),
				sub(11, str(1, "seq"), sub(2, sub(4, sub(1, sub(1, num(1, 1)))))),
				sub(11, str(1, "opt"), sub(2, sub(9))),
				sub(11, str(1, "untyped")),
				tensorValue(12, "odd", 99, 5),
			)),
			[]tensorDesc{
				{Name: "u8", IsTensor: true, Type: "a uint8 tensor", Shape: []int64{2, -1}},
				{Name: "noshape", IsTensor: true, IsFloat: true, Type: "a float tensor", Shape: []int64{}},
				{Name: "seq", Type: "a sequence"},
				{Name: "opt", Type: "an optional"},
				{Name: "untyped", Type: "of no declared type"},
			},
			[]tensorDesc{{Name: "odd", IsTensor: true, Type: "a type-99 tensor", Shape: []int64{5}}}, ""},
		{"a later dim_value wins", msg(sub(7, sub(12, str(1, "z"), sub(2, sub(1, num(1, 1), sub(2, sub(1, str(2, "N"), num(1, 4)))))))),
			nil, []tensorDesc{{Name: "z", IsTensor: true, IsFloat: true, Type: "a float tensor", Shape: []int64{4}}}, ""},
		{"empty", nil, nil, nil, "has no graph"},
		{"no graph", msg(num(1, 7), str(2, "p")), nil, nil, "has no graph"},
		{"truncated", msg(sub(7, x, y))[:40], nil, nil, "malformed protobuf: unexpected EOF"},
		{"bad tag", []byte{0x00}, nil, nil, "malformed protobuf: invalid field number"},
		{"end group without start", []byte{0x0c}, nil, nil, "malformed protobuf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, outs, err := graphIO(tt.model)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "not an ONNX model: ") {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ins, tt.ins) || !reflect.DeepEqual(outs, tt.outs) {
				t.Errorf("got\n  ins  %+v\n  outs %+v\nwant\n  ins  %+v\n  outs %+v", ins, outs, tt.ins, tt.outs)
			}
		})
	}
}

// FuzzGraphIO feeds graphIO arbitrary bytes, seeded with real models: it must never panic,
// and what it returns must be well formed.
func FuzzGraphIO(f *testing.F) {
	addModelSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, outs, err := graphIO(data)
		if err != nil {
			if ins != nil || outs != nil || !strings.HasPrefix(err.Error(), "not an ONNX model") {
				t.Fatalf("error %q with results %v %v", err, ins, outs)
			}
			return
		}
		for _, d := range append(ins, outs...) {
			if d.Type == "" || (d.IsFloat && !d.IsTensor) || (d.IsTensor && d.Shape == nil) {
				t.Fatalf("ill-formed %+v", d)
			}
			for _, s := range d.Shape {
				if s < -1 {
					t.Fatalf("dimension %d in %+v", s, d)
				}
			}
		}
	})
}
