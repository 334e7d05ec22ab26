package fmnist

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
)

// The EXIF orientations (TIFF 6.0 tag 274, 0x0112; Exif 2.32 section
// 4.6.5): each says what a viewer does to the stored pixels to show the
// picture upright.
const (
	OrientUpright    = 1 // nothing
	OrientMirror     = 2 // mirror left-right
	OrientRotate180  = 3 // turn 180 degrees
	OrientFlip       = 4 // mirror top-bottom
	OrientTranspose  = 5 // mirror left-right, then turn 90 degrees counter-clockwise
	OrientRotate90   = 6 // turn 90 degrees clockwise
	OrientTransverse = 7 // mirror left-right, then turn 90 degrees clockwise
	OrientRotate270  = 8 // turn 90 degrees counter-clockwise
)

const (
	tagOrientation  = 0x0112
	tagSampleFormat = 0x0153
	typeShort       = 3
	typeLong        = 4
	// maxIFDEntries bounds the entries read from one IFD (TIFF allows
	// 65535; real files hold a few dozen).
	maxIFDEntries = 4096
)

// Orientation returns the EXIF orientation (1-8) that the image file data
// carries: in a JPEG's APP1 "Exif" segment, a TIFF's first IFD, a WebP's
// EXIF chunk or a PNG's eXIf chunk. It returns 1 (upright) when the file
// carries none, and also when the tag is damaged or out of range: a bad tag
// must not make a picture unreadable. It never reads outside data and does
// bounded work on any input.
func Orientation(data []byte) int {
	var tiff []byte
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xD8:
		tiff = jpegExif(data)
	case isTIFF(data):
		tiff = data
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		tiff = riffExif(data[12:])
	case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
		tiff = pngExif(data[8:])
	}
	if tiff == nil {
		return OrientUpright
	}
	t, ok := parseTIFFHeader(tiff)
	if !ok {
		return OrientUpright
	}
	v, ok := t.ifd0Short(tagOrientation)
	if !ok || len(v) == 0 || v[0] < 1 || v[0] > 8 {
		return OrientUpright
	}
	return int(v[0])
}

// jpegExif returns the TIFF structure of the first APP1 "Exif" segment of a
// JPEG, or nil. It walks the marker segments up to the start of scan.
func jpegExif(data []byte) []byte {
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return nil // not a marker: damaged, give up
		}
		m := data[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7): // no length
			p += 2
			continue
		case m == 0xD9 || m == 0xDA: // end of image, start of scan
			return nil
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return nil
		}
		seg := data[p+4 : p+2+n]
		if m == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		p += 2 + n
	}
	return nil
}

// riffExif returns the payload of a WebP's EXIF chunk, or nil. Some writers
// put the JPEG APP1 signature "Exif\0\0" before the TIFF header; it is
// skipped.
func riffExif(chunks []byte) []byte {
	for len(chunks) >= 8 {
		n := uint64(binary.LittleEndian.Uint32(chunks[4:8]))
		if n > uint64(len(chunks)-8) {
			return nil
		}
		body := chunks[8 : 8+n]
		if string(chunks[:4]) == "EXIF" {
			return bytes.TrimPrefix(body, []byte("Exif\x00\x00"))
		}
		next := 8 + n + n&1 // chunks are padded to an even size
		if next > uint64(len(chunks)) {
			return nil
		}
		chunks = chunks[next:]
	}
	return nil
}

// pngExif returns the payload of a PNG's eXIf chunk (PNG 3rd edition), or nil.
func pngExif(chunks []byte) []byte {
	for len(chunks) >= 12 {
		n := uint64(binary.BigEndian.Uint32(chunks[:4]))
		if n > uint64(len(chunks)-12) {
			return nil
		}
		typ := string(chunks[4:8])
		if typ == "eXIf" {
			return chunks[8 : 8+n]
		}
		if typ == "IDAT" || typ == "IEND" {
			return nil // eXIf must come before the image data
		}
		chunks = chunks[12+n:]
	}
	return nil
}

// tiffFile is a TIFF structure: the bytes and their byte order.
type tiffFile struct {
	b     []byte
	order binary.ByteOrder
	ifd0  uint32
}

func parseTIFFHeader(b []byte) (tiffFile, bool) {
	if len(b) < 8 {
		return tiffFile{}, false
	}
	var t tiffFile
	switch string(b[:2]) {
	case "II":
		t.order = binary.LittleEndian
	case "MM":
		t.order = binary.BigEndian
	default:
		return tiffFile{}, false
	}
	if t.order.Uint16(b[2:]) != 42 {
		return tiffFile{}, false
	}
	t.b, t.ifd0 = b, t.order.Uint32(b[4:])
	return t, true
}

// ifd0Entry finds tag in the first IFD and returns its type, count and the
// offset of its value (inline when it fits in four bytes).
func (t tiffFile) ifd0Entry(tag uint16) (typ uint16, count uint32, off uint32, ok bool) {
	p := uint64(t.ifd0)
	if p+2 > uint64(len(t.b)) {
		return 0, 0, 0, false
	}
	n := uint64(t.order.Uint16(t.b[p:]))
	if n > maxIFDEntries || p+2+12*n > uint64(len(t.b)) {
		return 0, 0, 0, false
	}
	for i := uint64(0); i < n; i++ {
		e := t.b[p+2+12*i : p+14+12*i]
		if t.order.Uint16(e) != tag {
			continue
		}
		typ, count = t.order.Uint16(e[2:]), t.order.Uint32(e[4:])
		size := uint64(count) * 2
		if typ == typeLong {
			size = uint64(count) * 4
		}
		off = uint32(p + 2 + 12*i + 8)
		if size > 4 {
			off = t.order.Uint32(e[8:])
		}
		if uint64(off)+size > uint64(len(t.b)) {
			return 0, 0, 0, false
		}
		return typ, count, off, true
	}
	return 0, 0, 0, false
}

// ifd0Short reads the values of a SHORT (or LONG) tag of the first IFD, at
// most 16 of them.
func (t tiffFile) ifd0Short(tag uint16) ([]uint32, bool) {
	typ, count, off, ok := t.ifd0Entry(tag)
	if !ok || (typ != typeShort && typ != typeLong) {
		return nil, false
	}
	vs := make([]uint32, min(count, 16))
	for i := range vs {
		if typ == typeShort {
			vs[i] = uint32(t.order.Uint16(t.b[off+2*uint32(i):]))
		} else {
			vs[i] = t.order.Uint32(t.b[off+4*uint32(i):])
		}
	}
	return vs, true
}

func isTIFF(data []byte) bool {
	return len(data) >= 4 && (string(data[:4]) == "II*\x00" || string(data[:4]) == "MM\x00*")
}

// signedTIFF returns a copy of a TIFF whose first IFD declares signed
// integer samples (SampleFormat 2) declaring unsigned ones, for
// x/image/tiff, which reads only those; flipSign then moves the values
// into range. Floating-point and undefined sample formats are refused by
// name.
func signedTIFF(data []byte) ([]byte, error) {
	t, ok := parseTIFFHeader(data)
	if !ok {
		return nil, fmt.Errorf("unsupported feature: sample format")
	}
	typ, count, off, ok := t.ifd0Entry(tagSampleFormat)
	if !ok || typ != typeShort || count == 0 || count > 16 {
		return nil, fmt.Errorf("unsupported feature: sample format")
	}
	vs, _ := t.ifd0Short(tagSampleFormat)
	for _, v := range vs {
		switch v {
		case 1, 2:
		case 3:
			return nil, fmt.Errorf("unsupported feature: floating-point samples (SampleFormat 3)")
		default:
			return nil, fmt.Errorf("unsupported feature: sample format %d (SampleFormat %d)", v, v)
		}
	}
	out := bytes.Clone(data)
	for i := uint32(0); i < count; i++ {
		t.order.PutUint16(out[off+2*i:], 1)
	}
	return out, nil
}

// flipSign turns two's-complement samples read as unsigned into offset
// binary (the most negative value becomes 0, zero mid-scale), in place, for
// the image types x/image/tiff returns.
func flipSign(img image.Image) {
	switch m := img.(type) {
	case *image.Gray:
		for i := range m.Pix {
			m.Pix[i] ^= 0x80
		}
	case *image.Gray16:
		for i := 0; i < len(m.Pix); i += 2 {
			m.Pix[i] ^= 0x80 // big-endian: the high byte first
		}
	case *image.RGBA:
		flipChannels(m.Pix, 4, 1, 3)
	case *image.NRGBA:
		flipChannels(m.Pix, 4, 1, 3)
	case *image.RGBA64:
		flipChannels(m.Pix, 8, 2, 3)
	case *image.NRGBA64:
		flipChannels(m.Pix, 8, 2, 3)
	}
}

// flipChannels flips the sign bit of the first n channels of each pixel
// (stride bytes a pixel, size bytes a channel, big-endian).
func flipChannels(pix []uint8, stride, size, n int) {
	for p := 0; p+stride <= len(pix); p += stride {
		for c := 0; c < n; c++ {
			pix[p+c*size] ^= 0x80
		}
	}
}
