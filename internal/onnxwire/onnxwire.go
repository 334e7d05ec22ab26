// Package onnxwire walks ONNX's protobuf wire format without the protobuf runtime, and
// names the field numbers of onnx.proto (ONNX 1.12) that fmkit reads or writes.
//
// It is the one wire walker of the module: pkg/onnx's fast decoder, its gate's prescan
// and encoder, and pkg/runtime's graph reader all use Walk and these names. It depends on
// nothing but protowire, so that a package can read a model's fields without linking the
// generated types.
package onnxwire

import (
	"errors"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxMessageBytes is protobuf's limit on one message, 2 GiB - 1: no ONNX model (weights stored
// inside) can be larger. It is the one definition of the model-size cap: pkg/onnx exports it
// as MaxModelBytes, and pkg/runtime, which does not import pkg/onnx, uses it directly.
const MaxMessageBytes = 1<<31 - 1

// ErrMalformed is matched (with errors.Is) by every error Walk returns for malformed wire
// data.
var ErrMalformed = errors.New("malformed protobuf")

// malformedError describes protowire's negative length in plain words.
type malformedError struct{ n int }

func (e malformedError) Error() string {
	// protowire's own message has a deliberately unstable prefix.
	msg := strings.ReplaceAll(protowire.ParseError(e.n).Error(), "\u00a0", " ")
	return "malformed protobuf: " + strings.TrimSpace(strings.TrimPrefix(msg, "proto:"))
}

func (e malformedError) Is(target error) bool { return target == ErrMalformed }

// Walk calls fn for each field of the message in b, with the field's bytes: the payload of
// a length-delimited field, or the raw encoding of a varint, fixed-size or group field. It
// stops at the first error fn returns, and fails with an error matching ErrMalformed on
// malformed wire data.
func Walk(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return malformedError{n}
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				v = b[:n]
			}
		}
		if n < 0 {
			return malformedError{n}
		}
		b = b[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

// Scalar returns the value of a varint, fixed32 or fixed64 field from the raw encoding Walk
// passes, and false for any other wire type.
func Scalar(typ protowire.Type, v []byte) (uint64, bool) {
	switch typ {
	case protowire.VarintType:
		x, n := protowire.ConsumeVarint(v)
		return x, n >= 0
	case protowire.Fixed32Type:
		x, n := protowire.ConsumeFixed32(v)
		return uint64(x), n >= 0
	case protowire.Fixed64Type:
		x, n := protowire.ConsumeFixed64(v)
		return x, n >= 0
	}
	return 0, false
}
