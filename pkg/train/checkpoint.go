package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/bits"
	"unicode/utf8"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/userpath"
)

// Checkpoint file format, version 1. All integers are little-endian.
//
//	offset       size      field
//	0            8         magic "FMKCKPT\x00"
//	8            4         format version, uint32 (1)
//	12           4         entry count, uint32
//	16           8         entry table length T in bytes, uint64
//	24           8         metadata length M in bytes, uint64
//	32           8         data length D in bytes, uint64
//	40           T         entry table, one entry per tensor:
//	                         2       name length L, uint16, 1..1024
//	                         L       name, UTF-8
//	                         1       dtype, uint8 (1 = float32)
//	                         1       rank R, uint8, 0..8
//	                         8*R     dimensions, uint64 each
//	                         8       offset of the tensor in the data section, uint64
//	                         8       length of the tensor in bytes, uint64
//	40+T         M         metadata: a JSON object (epoch, step, rng, arch, config, extra)
//	40+T+M       D         data: each tensor's float32 values, little-endian, row-major,
//	                       back to back in table order (offsets are the running sums)
//	40+T+M+D     32        SHA-256 of every preceding byte
//
// A reader checks the magic and version, checks that the header's lengths add
// up to the file's real length, verifies the checksum, and only then parses
// the table and allocates tensors, each size checked against the data
// section first.
const (
	CheckpointMagic   = "FMKCKPT\x00"
	CheckpointVersion = 1

	ckptHeaderSize  = 40
	ckptSumSize     = sha256.Size
	ckptMaxName     = 1024
	ckptMaxRank     = 8
	ckptDTypeF32    = 1
	ckptMinEntry    = 2 + 1 + 1 + 1 + 8 + 8 // one-byte name, rank 0
	ckptChunkFloats = 16 << 10
)

// NamedTensor is one tensor of a checkpoint: a float32 array of the given
// shape, row-major (NCHW for activations, (OC,C,KH,KW) for conv weights).
type NamedTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Checkpoint is what a training run saves to resume later or to export:
// named tensors (weights as "conv1.weight", Adam moments as
// "adam.m.conv1.weight" and "adam.v.conv1.weight") and metadata.
type Checkpoint struct {
	// Epoch is the number of completed epochs.
	Epoch int
	// Step is the number of optimizer steps taken (Adam's t).
	Step int64
	// RNG holds named generator states (RNG.State), such as "shuffle",
	// "dropout" and "augment".
	RNG map[string][4]uint64
	// Arch names the model architecture.
	Arch string
	// Config is the training configuration as JSON; it is stored compacted.
	Config json.RawMessage
	// Extra holds any other string metadata.
	Extra map[string]string
	// Tensors are the stored tensors, in file order; names are unique.
	Tensors []NamedTensor
}

// Tensor returns the tensor called name, or nil.
func (c *Checkpoint) Tensor(name string) *NamedTensor {
	for i := range c.Tensors {
		if c.Tensors[i].Name == name {
			return &c.Tensors[i]
		}
	}
	return nil
}

// ckptMeta is the metadata JSON object.
type ckptMeta struct {
	Epoch  int                  `json:"epoch"`
	Step   int64                `json:"step"`
	RNG    map[string][4]uint64 `json:"rng,omitempty"`
	Arch   string               `json:"arch,omitempty"`
	Config json.RawMessage      `json:"config,omitempty"`
	Extra  map[string]string    `json:"extra,omitempty"`
}

// Errors a checkpoint reader can wrap; test with errors.Is.
var (
	ErrCheckpointMagic     = errors.New("not a checkpoint (bad magic)")
	ErrCheckpointVersion   = errors.New("unsupported checkpoint version")
	ErrCheckpointTruncated = errors.New("checkpoint truncated")
	ErrCheckpointChecksum  = errors.New("checkpoint checksum mismatch (file corrupted)")
	ErrCheckpointCorrupt   = errors.New("malformed checkpoint")
)

// CheckpointError reports a checkpoint that cannot be read: the file, the
// field at fault, its byte offset in the file, and the reason, which wraps
// one of the ErrCheckpoint* errors.
type CheckpointError struct {
	File   string
	Field  string
	Offset int64
	Err    error
}

// Error implements the error interface.
func (e *CheckpointError) Error() string {
	return fmt.Sprintf("checkpoint %s: %s at byte %d: %v", e.File, e.Field, e.Offset, e.Err)
}

// Unwrap returns the reason.
func (e *CheckpointError) Unwrap() error { return e.Err }

// validate checks c before it is written.
func (c *Checkpoint) validate() error {
	seen := make(map[string]bool, len(c.Tensors))
	for i, t := range c.Tensors {
		switch {
		case t.Name == "" || len(t.Name) > ckptMaxName || !utf8.ValidString(t.Name):
			return fmt.Errorf("train: checkpoint tensor %d: name %q must be 1..%d bytes of UTF-8", i, t.Name, ckptMaxName)
		case seen[t.Name]:
			return fmt.Errorf("train: checkpoint tensor %q appears twice", t.Name)
		case len(t.Shape) > ckptMaxRank:
			return fmt.Errorf("train: checkpoint tensor %q has rank %d, at most %d is supported", t.Name, len(t.Shape), ckptMaxRank)
		}
		seen[t.Name] = true
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("train: checkpoint tensor %q has negative dimension in shape %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("train: checkpoint tensor %q has shape %v (%d values) but %d values", t.Name, t.Shape, n, len(t.Data))
		}
	}
	if len(c.Tensors) > math.MaxUint32 {
		return errors.New("train: too many checkpoint tensors")
	}
	return nil
}

// WriteTo writes c in the checkpoint format to w. It implements
// io.WriterTo.
func (c *Checkpoint) WriteTo(w io.Writer) (int64, error) {
	if err := c.validate(); err != nil {
		return 0, err
	}
	// Without HTML escaping: json.Marshal would rewrite a '<', '>' or '&' inside Config
	// (kept as raw JSON) as \u003c..., so a decoded checkpoint would not re-encode to the
	// same Config. The metadata is never embedded in HTML.
	var mb bytes.Buffer
	enc := json.NewEncoder(&mb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ckptMeta{Epoch: c.Epoch, Step: c.Step, RNG: c.RNG, Arch: c.Arch, Config: c.Config, Extra: c.Extra}); err != nil {
		return 0, fmt.Errorf("train: checkpoint metadata: %w", err)
	}
	meta := bytes.TrimSuffix(mb.Bytes(), []byte("\n"))
	var table []byte
	var offset uint64
	for _, t := range c.Tensors {
		table = binary.LittleEndian.AppendUint16(table, uint16(len(t.Name)))
		table = append(table, t.Name...)
		table = append(table, ckptDTypeF32, byte(len(t.Shape)))
		for _, d := range t.Shape {
			table = binary.LittleEndian.AppendUint64(table, uint64(d))
		}
		n := 4 * uint64(len(t.Data))
		table = binary.LittleEndian.AppendUint64(table, offset)
		table = binary.LittleEndian.AppendUint64(table, n)
		offset += n
	}
	hdr := make([]byte, 0, ckptHeaderSize)
	hdr = append(hdr, CheckpointMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, CheckpointVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(c.Tensors)))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(table)))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(meta)))
	hdr = binary.LittleEndian.AppendUint64(hdr, offset)

	cw := &ckptWriter{w: w, h: sha256.New()}
	cw.write(hdr)
	cw.write(table)
	cw.write(meta)
	buf := make([]byte, 4*ckptChunkFloats)
	for _, t := range c.Tensors {
		for data := t.Data; len(data) > 0; {
			k := min(len(data), ckptChunkFloats)
			for i, f := range data[:k] {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
			}
			cw.write(buf[:4*k])
			data = data[k:]
		}
	}
	sum := cw.h.Sum(nil)
	cw.h = nil
	cw.write(sum)
	return cw.n, cw.err
}

// ckptWriter writes to w and hashes what it writes, keeping the first error.
type ckptWriter struct {
	w   io.Writer
	h   hash.Hash
	n   int64
	err error
}

func (cw *ckptWriter) write(b []byte) {
	if cw.err != nil {
		return
	}
	if cw.h != nil {
		cw.h.Write(b)
	}
	n, err := cw.w.Write(b)
	cw.n += int64(n)
	cw.err = err
}

// SaveCheckpoint writes c to path atomically: a reader sees the old file or
// the complete new one, never a partial checkpoint.
func SaveCheckpoint(path string, c *Checkpoint) error {
	if err := c.validate(); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
}

// MaxCheckpointBytes bounds the size of a checkpoint or native model file
// that LoadCheckpoint reads into memory: 2 GiB, hundreds of times the
// book's model with its optimiser state.
const MaxCheckpointBytes = 2 << 30

// LoadCheckpoint reads the checkpoint at path. Only a regular file of at
// most MaxCheckpointBytes is read, and opening it never blocks (a named pipe
// is refused, see internal/userpath). Errors caused by the file's content
// are *CheckpointError values naming the file, field and byte offset.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := userpath.ReadFile(path, MaxCheckpointBytes)
	if err != nil {
		return nil, err
	}
	return DecodeCheckpoint(path, data)
}

// DecodeCheckpoint parses a checkpoint held in data; name identifies it in
// errors. The returned tensors do not alias data.
func DecodeCheckpoint(name string, data []byte) (*Checkpoint, error) {
	size := uint64(len(data))
	fail := func(field string, off uint64, err error) (*Checkpoint, error) {
		return nil, &CheckpointError{File: name, Field: field, Offset: int64(off), Err: err}
	}
	// Magic and version come first: a newer version may lay out the rest
	// differently.
	m := min(len(data), len(CheckpointMagic))
	if string(data[:m]) != CheckpointMagic[:m] {
		return fail("magic", 0, fmt.Errorf("%w: starts with %q, want %q", ErrCheckpointMagic, data[:m], CheckpointMagic))
	}
	if size < ckptHeaderSize+ckptSumSize {
		return fail("header", size, fmt.Errorf("%w: %d bytes, a checkpoint has at least %d", ErrCheckpointTruncated, size, ckptHeaderSize+ckptSumSize))
	}
	le := binary.LittleEndian
	if v := le.Uint32(data[8:]); v != CheckpointVersion {
		if v > CheckpointVersion {
			return fail("version", 8, fmt.Errorf("%w: version %d is newer than this build reads (%d)", ErrCheckpointVersion, v, CheckpointVersion))
		}
		return fail("version", 8, fmt.Errorf("%w: version %d", ErrCheckpointVersion, v))
	}
	count := uint64(le.Uint32(data[12:]))
	tableLen, metaLen, dataLen := le.Uint64(data[16:]), le.Uint64(data[24:]), le.Uint64(data[32:])
	// Each length is checked alone first, so that the sum cannot overflow.
	for _, f := range []struct {
		name string
		off  uint64
		v    uint64
	}{{"table length", 16, tableLen}, {"metadata length", 24, metaLen}, {"data length", 32, dataLen}} {
		if f.v > size {
			return fail(f.name, f.off, fmt.Errorf("%w: claims %d bytes, the file has %d", ErrCheckpointTruncated, f.v, size))
		}
	}
	total := ckptHeaderSize + tableLen + metaLen + dataLen + ckptSumSize
	if total > size {
		return fail("header", 16, fmt.Errorf("%w: sections add up to %d bytes, the file has %d", ErrCheckpointTruncated, total, size))
	}
	if total < size {
		return fail("file length", total, fmt.Errorf("%w: %d unexpected bytes after the checksum", ErrCheckpointCorrupt, size-total))
	}
	body := data[:size-ckptSumSize]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[size-ckptSumSize:]) {
		return fail("checksum", size-ckptSumSize, fmt.Errorf("%w: SHA-256 is %x, stored %x", ErrCheckpointChecksum, sum[:8], data[size-ckptSumSize:][:8]))
	}
	if count > tableLen/ckptMinEntry {
		return fail("entry count", 12, fmt.Errorf("%w: %d entries cannot fit in a %d-byte table", ErrCheckpointCorrupt, count, tableLen))
	}

	type entry struct {
		name   string
		shape  []int
		off, n uint64
	}
	tableEnd := ckptHeaderSize + tableLen
	pos := uint64(ckptHeaderSize)
	entries := make([]entry, 0, count)
	seen := make(map[string]bool, count)
	var running uint64
	for i := range count {
		field := func(f string) string { return fmt.Sprintf("entry[%d].%s", i, f) }
		need := func(f string, n uint64) error {
			if tableEnd-pos < n {
				return &CheckpointError{File: name, Field: field(f), Offset: int64(pos), Err: fmt.Errorf("%w: runs past the end of the entry table", ErrCheckpointCorrupt)}
			}
			return nil
		}
		if err := need("name", 2); err != nil {
			return nil, err
		}
		nl := uint64(le.Uint16(data[pos:]))
		if nl == 0 || nl > ckptMaxName {
			return fail(field("name"), pos, fmt.Errorf("%w: name length %d, want 1..%d", ErrCheckpointCorrupt, nl, ckptMaxName))
		}
		if err := need("name", 2+nl+2); err != nil {
			return nil, err
		}
		tname := string(data[pos+2 : pos+2+nl])
		if !utf8.ValidString(tname) {
			return fail(field("name"), pos+2, fmt.Errorf("%w: name is not UTF-8", ErrCheckpointCorrupt))
		}
		if seen[tname] {
			return fail(field("name"), pos+2, fmt.Errorf("%w: name %q appears twice", ErrCheckpointCorrupt, tname))
		}
		seen[tname] = true
		pos += 2 + nl
		if dt := data[pos]; dt != ckptDTypeF32 {
			return fail(field("dtype"), pos, fmt.Errorf("%w: dtype %d of %q is not float32 (1)", ErrCheckpointCorrupt, dt, tname))
		}
		rank := uint64(data[pos+1])
		if rank > ckptMaxRank {
			return fail(field("rank"), pos+1, fmt.Errorf("%w: rank %d of %q exceeds %d", ErrCheckpointCorrupt, rank, tname, ckptMaxRank))
		}
		pos += 2
		if err := need("shape", 8*rank+16); err != nil {
			return nil, err
		}
		shape := make([]int, rank)
		elems := uint64(1)
		for d := range rank {
			dim := le.Uint64(data[pos+8*d:])
			hi, lo := bits.Mul64(elems, dim)
			if dim > dataLen/4 || hi != 0 || lo > dataLen/4 {
				return fail(field("shape"), pos+8*d, fmt.Errorf("%w: dimension %d of %q makes more values than the %d-byte data section holds", ErrCheckpointCorrupt, dim, tname, dataLen))
			}
			elems = lo
			shape[d] = int(dim)
		}
		pos += 8 * rank
		off, n := le.Uint64(data[pos:]), le.Uint64(data[pos+8:])
		if off != running {
			return fail(field("offset"), pos, fmt.Errorf("%w: %q starts at %d, want %d (tensors are back to back)", ErrCheckpointCorrupt, tname, off, running))
		}
		if n != 4*elems {
			return fail(field("length"), pos+8, fmt.Errorf("%w: %q has %d bytes, its shape %v needs %d", ErrCheckpointCorrupt, tname, n, shape, 4*elems))
		}
		if n > dataLen-running {
			return fail(field("length"), pos+8, fmt.Errorf("%w: %q runs past the %d-byte data section", ErrCheckpointCorrupt, tname, dataLen))
		}
		running += n
		pos += 16
		entries = append(entries, entry{tname, shape, off, n})
	}
	if pos != tableEnd {
		return fail("table length", 16, fmt.Errorf("%w: entries end at byte %d, the table at %d", ErrCheckpointCorrupt, pos, tableEnd))
	}
	if running != dataLen {
		return fail("data length", 32, fmt.Errorf("%w: tensors hold %d bytes, the data section %d", ErrCheckpointCorrupt, running, dataLen))
	}

	metaStart := tableEnd
	dec := json.NewDecoder(bytes.NewReader(data[metaStart : metaStart+metaLen]))
	dec.DisallowUnknownFields()
	var meta ckptMeta
	if err := dec.Decode(&meta); err != nil {
		off := metaStart + uint64(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = metaStart + uint64(se.Offset)
		}
		return fail("metadata", off, fmt.Errorf("%w: %v", ErrCheckpointCorrupt, err))
	}
	if dec.More() {
		return fail("metadata", metaStart+uint64(dec.InputOffset()), fmt.Errorf("%w: data after the JSON object", ErrCheckpointCorrupt))
	}
	if meta.Epoch < 0 {
		return fail(`metadata "epoch"`, metaStart, fmt.Errorf("%w: %d completed epochs", ErrCheckpointCorrupt, meta.Epoch))
	}
	if meta.Step < 0 {
		return fail(`metadata "step"`, metaStart, fmt.Errorf("%w: %d optimizer steps", ErrCheckpointCorrupt, meta.Step))
	}

	c := &Checkpoint{
		Epoch: meta.Epoch, Step: meta.Step, RNG: meta.RNG, Arch: meta.Arch, Config: meta.Config, Extra: meta.Extra,
		Tensors: make([]NamedTensor, len(entries)),
	}
	dataStart := metaStart + metaLen
	for i, e := range entries {
		vals := make([]float32, e.n/4)
		src := data[dataStart+e.off : dataStart+e.off+e.n]
		for j := range vals {
			vals[j] = math.Float32frombits(le.Uint32(src[4*j:]))
		}
		c.Tensors[i] = NamedTensor{Name: e.name, Shape: e.shape, Data: vals}
	}
	return c, nil
}
