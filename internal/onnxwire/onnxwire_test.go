package onnxwire

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestWalk(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, ModelIRVersion, protowire.VarintType)
	b = protowire.AppendVarint(b, 7)
	b = protowire.AppendTag(b, ModelProducerName, protowire.BytesType)
	b = protowire.AppendString(b, "fmkit")
	b = protowire.AppendTag(b, AttrF, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 0x3f800000)
	var got []string
	err := Walk(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch typ {
		case protowire.BytesType:
			got = append(got, string(v))
		default:
			x, ok := Scalar(typ, v)
			if !ok {
				t.Errorf("field %d: Scalar declined", num)
			}
			got = append(got, strings.Repeat("x", int(x%8)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"xxxxxxx", "fmkit", ""}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("walked %q, want %q", got, want)
	}
	if _, ok := Scalar(protowire.BytesType, []byte("x")); ok {
		t.Error("Scalar took a length-delimited field")
	}
}

func TestWalkMalformed(t *testing.T) {
	for _, b := range [][]byte{
		{0x0a, 0x05, 'a'}, // a string longer than the data
		{0x08},            // a tag without its varint
		{0x80},            // a truncated tag
	} {
		err := Walk(b, func(protowire.Number, protowire.Type, []byte) error { return nil })
		if !errors.Is(err, ErrMalformed) || !strings.HasPrefix(err.Error(), "malformed protobuf: ") {
			t.Errorf("% x: %v, want a malformed-protobuf error", b, err)
		}
	}
	stop := errors.New("stop")
	if err := Walk([]byte{0x08, 0x01}, func(protowire.Number, protowire.Type, []byte) error { return stop }); err != stop {
		t.Errorf("fn's error: got %v", err)
	}
}
