package fmnist

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/fmgeom"
	"github.com/fmkit/fmkit/internal/userpath"
)

// IDX magic numbers: two zero bytes, the element type (0x08, unsigned byte) and
// the number of dimensions.
const (
	MagicImages = 0x00000803 // 3-D uint8: count, rows, columns
	MagicLabels = 0x00000801 // 1-D uint8: count
)

// NumClasses is the number of Fashion-MNIST classes; every label is below it.
const NumClasses = fmgeom.Classes

// MaxDataBytes is the largest data section (the product of the dimensions) the
// readers accept: 16 GiB, or what an int can index on a 32-bit platform. It
// guards overflow only; memory is never allocated from a header's claim, but as
// data actually arrives (or, for raw files, after the claim was checked against
// the file's real length).
const MaxDataBytes int64 = 1 << 34

// maxDeflateRatio bounds how many decompressed bytes one compressed byte can
// yield: DEFLATE's best case is a 258-byte match coded in about 2 bits, a ratio
// of 1032 (RFC 1951, section 3.2.5). A gzip stream of c bytes therefore never
// holds more than 1032*c bytes.
const maxDeflateRatio = 1032

// initialGrow is the first buffer size used when the data length cannot be
// checked up front (gzip without a usable size hint).
const initialGrow = 1 << 20

// FormatError reports an IDX file that cannot be read: it names the file, the
// field at fault and its byte offset. For a gzip file, Offset counts bytes of
// the decompressed IDX stream and Gzip is true.
type FormatError struct {
	File   string // file name as given, or "" for an unnamed reader
	Field  string // "magic", "count", "rows", "columns", "data", "label", "gzip", "trailing data"
	Offset int64  // byte offset of the field (in the decompressed stream when Gzip is set)
	Gzip   bool   // the file is gzip-compressed
	Msg    string // what is wrong
	Err    error  // underlying error (gzip.ErrChecksum, io.ErrUnexpectedEOF, ...), if any
}

// Error implements error.
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("fmnist: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	b.WriteString(e.Field)
	if e.Gzip {
		fmt.Fprintf(&b, " at decompressed offset %d: ", e.Offset)
	} else {
		fmt.Fprintf(&b, " at offset %d: ", e.Offset)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *FormatError) Unwrap() error { return e.Err }

// ReadImages reads an IDX image file (magic 0x00000803), raw or gzip-compressed
// (detected by its magic bytes, not its name). images holds n*rows*cols bytes,
// image after image, each row-major.
func ReadImages(path string) (images []uint8, n, rows, cols int, err error) {
	dims, data, err := readIDXFile(path, 3, nil)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return data, dims[0], dims[1], dims[2], nil
}

// ReadLabels reads an IDX label file (magic 0x00000801), raw or
// gzip-compressed. Every label must be below NumClasses.
func ReadLabels(path string) ([]uint8, error) {
	_, data, err := readIDXFile(path, 1, nil)
	return data, err
}

// DecodeImages is ReadImages for a reader. name is used in error messages only
// and may be "". The reader must end where the IDX data (or the gzip stream)
// ends: trailing bytes are an error.
func DecodeImages(r io.Reader, name string) (images []uint8, n, rows, cols int, err error) {
	dims, data, err := readIDX(r, name, 3, -1, nil)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return data, dims[0], dims[1], dims[2], nil
}

// DecodeLabels is ReadLabels for a reader; see DecodeImages.
func DecodeLabels(r io.Reader, name string) ([]uint8, error) {
	_, data, err := readIDX(r, name, 1, -1, nil)
	return data, err
}

// readIDXFile opens path and reads it with readIDX, passing the file's size so
// that a raw file's header is checked against it before any allocation. When h
// is not nil it receives every decompressed byte, header included.
func readIDXFile(path string, ndims int, h io.Writer) ([]int, []byte, error) {
	// userpath.Open never blocks on a named pipe and refuses anything but a
	// regular file (a directory, a device) by its type.
	f, err := userpath.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("fmnist: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("fmnist: %w", err)
	}
	return readIDX(f, path, ndims, st.Size(), h)
}

// isGzip reports whether b starts with the gzip magic bytes 1f 8b.
func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// readIDX decodes one IDX stream of unsigned bytes with ndims dimensions from r.
// size is the length of r in bytes if known, else -1.
func readIDX(r io.Reader, name string, ndims int, size int64, h io.Writer) (dims []int, data []byte, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(2)
	gz := isGzip(head)
	ferr := func(field string, off int64, cause error, format string, args ...any) error {
		return &FormatError{File: name, Field: field, Offset: off, Gzip: gz, Msg: fmt.Sprintf(format, args...), Err: cause}
	}
	var src io.Reader = br
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, ferr("gzip", 0, err, "bad gzip header: %v", err)
		}
		zr.Multistream(false)
		src = &gzipMembers{br: br, zr: zr}
	}
	if h != nil {
		src = io.TeeReader(src, h)
	}
	// streamErr turns an error met while reading the stream at offset off into
	// a FormatError that says why: short file, corrupt or truncated gzip.
	streamErr := func(field string, off int64, err error, what string) error {
		switch {
		case errors.Is(err, gzip.ErrChecksum):
			return ferr("gzip", off, err, "gzip checksum (CRC-32 or length) mismatch: the file is corrupt")
		case err == errTrailingGarbage:
			return ferr("trailing data", off, nil, "bytes after the gzip stream that are not another gzip member")
		case errors.Is(err, gzip.ErrHeader):
			return ferr("gzip", off, err, "bad header of a second gzip member")
		case isCorrupt(err):
			return ferr("gzip", off, err, "corrupt deflate data: %v", err)
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			if gz {
				return ferr(field, off, err, "gzip stream ends early, inside %s: the file is truncated", what)
			}
			return ferr(field, off, err, "file ends early, inside %s: the file is truncated", what)
		default:
			return ferr(field, off, err, "reading %s: %v", what, err)
		}
	}

	// Header: magic, then one big-endian uint32 per dimension.
	hdr := make([]byte, 4+4*ndims)
	if _, err := io.ReadFull(src, hdr[:4]); err != nil {
		return nil, nil, streamErr("magic", 0, err, "the 4-byte magic number")
	}
	magic := binary.BigEndian.Uint32(hdr)
	want := uint32(0x0800 | ndims)
	if magic != want {
		return nil, nil, ferr("magic", 0, nil, "magic number %#08x, want %#08x (%s)", magic, want, magicMeaning(want))
	}
	if _, err := io.ReadFull(src, hdr[4:]); err != nil {
		return nil, nil, streamErr(dimName(ndims, 0), 4, err, "the dimension sizes")
	}
	dims = make([]int, ndims)
	total := uint64(1)
	for i := range dims {
		off := int64(4 + 4*i)
		d := binary.BigEndian.Uint32(hdr[off:])
		if d == 0 {
			return nil, nil, ferr(dimName(ndims, i), off, nil, "%s is 0", dimName(ndims, i))
		}
		if d > math.MaxInt32 {
			return nil, nil, ferr(dimName(ndims, i), off, nil, "%s is %d, beyond the int32 range of IDX sizes", dimName(ndims, i), d)
		}
		hi, lo := bits.Mul64(total, uint64(d))
		if hi != 0 || lo > uint64(MaxDataBytes) || lo > uint64(math.MaxInt) {
			return nil, nil, ferr(dimName(ndims, i), off, nil, "dimensions %s give more than %d bytes of data", dimList(hdr[4:], i+1), MaxDataBytes)
		}
		total = lo
		dims[i] = int(d)
	}
	hdrLen := int64(len(hdr))
	n := int64(total)

	// Check the claim against the real length before allocating anything.
	exact := false
	if size >= 0 && !gz {
		switch have := size - hdrLen; {
		case have < n:
			return nil, nil, ferr(dimName(ndims, 0), 4, nil, "header claims %s = %d bytes of data, but the file holds only %d", dimList(hdr[4:], ndims), n, have)
		case have > n:
			return nil, nil, ferr("trailing data", hdrLen+n, nil, "%d bytes after the %d bytes of data the header claims (%s)", have-n, n, dimList(hdr[4:], ndims))
		}
		exact = true
	}
	if size >= 0 && gz && n+hdrLen > maxDeflateRatio*size {
		return nil, nil, ferr(dimName(ndims, 0), 4, nil, "header claims %s = %d bytes of data, more than a %d-byte gzip file can hold", dimList(hdr[4:], ndims), n, size)
	}

	if exact {
		data = make([]byte, n)
		if _, err := io.ReadFull(src, data); err != nil {
			return nil, nil, streamErr("data", hdrLen, err, "the data")
		}
	} else {
		// Grow as the data arrives, so a header claiming 2^31 images costs
		// nothing until that many bytes are really there.
		data = make([]byte, min(n, initialGrow))
		got := int64(0)
		for {
			k, err := io.ReadFull(src, data[got:])
			got += int64(k)
			if err != nil {
				return nil, nil, streamErr("data", hdrLen+got, err, fmt.Sprintf("the data (%d of %d bytes read)", got, n))
			}
			if got == n {
				break
			}
			grown := min(n, 2*got)
			data = slices.Grow(data, int(grown-got))[:grown]
		}
	}

	// The stream must end here; reading on also makes gzip check its CRC.
	var one [1]byte
	k, err := io.ReadFull(src, one[:])
	if k > 0 {
		return nil, nil, ferr("trailing data", hdrLen+n, nil, "bytes after the %d bytes of data the header claims (%s)", n, dimList(hdr[4:], ndims))
	}
	if err != io.EOF {
		return nil, nil, streamErr("gzip", hdrLen+n, err, "the end of the gzip stream")
	}

	if ndims == 1 {
		for i, v := range data {
			if v >= NumClasses {
				return nil, nil, ferr("label", hdrLen+int64(i), nil, "label %d at index %d, want 0..%d", v, i, NumClasses-1)
			}
		}
	}
	return dims, data, nil
}

// errTrailingGarbage is returned by gzipMembers for bytes after a gzip
// member that do not start another member.
var errTrailingGarbage = errors.New("trailing bytes after the gzip stream")

// gzipMembers reads the concatenated members of a gzip file (RFC 1952, 2.2)
// and, unlike gzip.Reader's multistream mode, tells trailing garbage apart
// from a truncated member.
type gzipMembers struct {
	br *bufio.Reader
	zr *gzip.Reader
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF {
			return n, err
		}
		head, _ := g.br.Peek(2)
		switch {
		case len(head) == 0:
			return n, io.EOF
		case !isGzip(head):
			return n, errTrailingGarbage
		}
		if err := g.zr.Reset(g.br); err != nil {
			return n, err
		}
		g.zr.Multistream(false)
		if n > 0 {
			return n, nil
		}
	}
}

func isCorrupt(err error) bool {
	var ce flate.CorruptInputError
	return errors.As(err, &ce)
}

func magicMeaning(m uint32) string {
	switch m {
	case MagicImages:
		return "3-D unsigned bytes: an image file"
	case MagicLabels:
		return "1-D unsigned bytes: a label file"
	}
	return "unknown"
}

// dimName names dimension i of an IDX file with ndims dimensions.
func dimName(ndims, i int) string {
	if ndims == 3 {
		return [...]string{"count", "rows", "columns"}[i]
	}
	if i == 0 {
		return "count"
	}
	return fmt.Sprintf("dimension %d", i)
}

// dimList formats the first k big-endian uint32 dimensions of b as "AxBxC".
func dimList(b []byte, k int) string {
	parts := make([]string, k)
	for i := range parts {
		parts[i] = fmt.Sprint(binary.BigEndian.Uint32(b[4*i:]))
	}
	return strings.Join(parts, "x")
}

// EncodeImages writes n images of rows x cols bytes as a raw IDX image stream.
func EncodeImages(w io.Writer, images []uint8, n, rows, cols int) error {
	if err := checkDims(len(images), n, rows, cols); err != nil {
		return err
	}
	var hdr [16]byte
	binary.BigEndian.PutUint32(hdr[0:], MagicImages)
	binary.BigEndian.PutUint32(hdr[4:], uint32(n))
	binary.BigEndian.PutUint32(hdr[8:], uint32(rows))
	binary.BigEndian.PutUint32(hdr[12:], uint32(cols))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(images)
	return err
}

// EncodeLabels writes labels as a raw IDX label stream. Every label must be
// below NumClasses.
func EncodeLabels(w io.Writer, labels []uint8) error {
	if err := checkLabels(labels); err != nil {
		return err
	}
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[0:], MagicLabels)
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(labels)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(labels)
	return err
}

// WriteImages writes an IDX image file atomically (a temporary file in the
// same directory, synced, then renamed over path), gzip-compressed when path
// ends in ".gz".
func WriteImages(path string, images []uint8, n, rows, cols int) error {
	if err := checkDims(len(images), n, rows, cols); err != nil {
		return err
	}
	return writeAtomic(path, strings.HasSuffix(path, ".gz"), func(w io.Writer) error {
		return EncodeImages(w, images, n, rows, cols)
	})
}

// WriteLabels writes an IDX label file atomically, gzip-compressed when path
// ends in ".gz"; see WriteImages.
func WriteLabels(path string, labels []uint8) error {
	if err := checkLabels(labels); err != nil {
		return err
	}
	return writeAtomic(path, strings.HasSuffix(path, ".gz"), func(w io.Writer) error {
		return EncodeLabels(w, labels)
	})
}

func checkDims(have, n, rows, cols int) error {
	for _, d := range [...]struct {
		name string
		v    int
	}{{"count", n}, {"rows", rows}, {"columns", cols}} {
		if d.v <= 0 || int64(d.v) > math.MaxInt32 {
			return fmt.Errorf("fmnist: IDX %s %d out of range 1..%d", d.name, d.v, math.MaxInt32)
		}
	}
	hi, lo := bits.Mul64(uint64(n), uint64(rows))
	hi2, lo2 := bits.Mul64(lo, uint64(cols))
	if hi != 0 || hi2 != 0 || lo2 != uint64(have) {
		return fmt.Errorf("fmnist: %d image bytes, want %d x %d x %d", have, n, rows, cols)
	}
	return nil
}

func checkLabels(labels []uint8) error {
	if len(labels) == 0 || int64(len(labels)) > math.MaxInt32 {
		return fmt.Errorf("fmnist: %d labels, want 1..%d", len(labels), math.MaxInt32)
	}
	for i, v := range labels {
		if v >= NumClasses {
			return fmt.Errorf("fmnist: label %d at index %d, want 0..%d", v, i, NumClasses-1)
		}
	}
	return nil
}

// writeAtomic writes path through fill with internal/atomicfile (a locked
// temporary file in the same directory, synced and renamed over path),
// gzip-compressed if gz. On any error the temporary file is removed and path
// is left as it was.
func writeAtomic(path string, gz bool, fill func(io.Writer) error) error {
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if !gz {
			return fill(w)
		}
		zw := gzip.NewWriter(w)
		zw.Name = strings.TrimSuffix(filepath.Base(path), ".gz")
		if err := fill(zw); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("fmnist: %w", err)
	}
	return nil
}
