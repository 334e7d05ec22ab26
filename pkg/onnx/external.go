package onnx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/fmkit/fmkit/internal/onnxpb"
)

// External data (onnx.proto, TensorProto.external_data): a tensor with data_location
// EXTERNAL keeps its bytes in a file named by the entry "location", from byte "offset"
// (default 0), "length" bytes long (default: to the end of the file); "checksum" is an
// optional SHA-1 that onnx itself does not check either.
//
// onnxruntime resolves location against the model's directory, or against the current
// directory when the model is handed over as bytes, and follows "..": a model that names
// ../../etc/passwd reads it. onnx fixed the same hole twice (CVE-2022-25882, then
// CVE-2024-27318 for a bypass through symbolic links). The gate therefore reads external
// data itself, from one directory the user names, and hands every engine a model with the
// data inlined, so that no engine ever resolves a path.

// inlineExternal replaces the external data of every tensor of mp (initializers and node
// attributes) with the bytes read from dir, or refuses it when dir is empty. modelBytes is
// the size of the serialized model, to keep the inlined model within protobuf's cap.
func inlineExternal(mp *onnxpb.ModelProto, dir string, modelBytes int) error {
	var ext []*onnxpb.TensorProto
	var places []string
	add := func(t *onnxpb.TensorProto, place string) {
		if t != nil && (t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0) {
			ext = append(ext, t)
			places = append(places, place)
		}
	}
	gp := mp.GetGraph()
	for i, t := range gp.GetInitializer() {
		add(t, "initializer "+strconv.Itoa(i))
	}
	for i, n := range gp.GetNode() {
		for _, a := range n.GetAttribute() {
			id := strconv.Quote(n.GetName())
			if n.GetName() == "" {
				id = "#" + strconv.Itoa(i)
			}
			add(a.GetT(), fmt.Sprintf("node %s attribute %q", id, a.GetName()))
		}
	}
	if len(ext) == 0 {
		return nil
	}
	fail := func(i int, field, format string, args ...any) error {
		return &TensorError{Tensor: ext[i].GetName(), Field: field, Reason: places[i] + ": " + fmt.Sprintf(format, args...)}
	}
	if dir == "" {
		return &TensorError{Tensor: ext[0].GetName(), Field: "data_location", Err: ErrExternalData,
			Reason: places[0] + ": the data is in an external file, and external data is refused unless a directory is allowed for it"}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("onnx: external data directory: %w", err)
	}
	defer root.Close()
	total := int64(modelBytes)
	for i, t := range ext {
		if t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return fail(i, "external_data", "external_data entries without data_location EXTERNAL")
		}
		if t.RawData != nil || len(t.GetFloatData())+len(t.GetInt64Data())+len(t.GetInt32Data()) > 0 {
			return fail(i, "data_location", "EXTERNAL, but the tensor also holds data of its own")
		}
		dt := DataType(t.GetDataType())
		if !dt.Supported() {
			return &TensorError{Tensor: t.GetName(), Field: "data_type", Err: ErrUnsupported,
				Reason: fmt.Sprintf("data type %s is not supported (only FLOAT, INT64, BOOL)", dt)}
		}
		n, err := NumElements(t.GetDims())
		if err != nil || n*dt.size() > MaxTensorBytes {
			return fail(i, "dims", "dims %v: more than the %d-byte cap of a tensor", t.GetDims(), int64(MaxTensorBytes))
		}
		want := n * dt.size()
		if total += want; total > MaxModelBytes {
			return fail(i, "external_data", "with its external data the model would exceed the %d-byte cap of a protobuf message", MaxModelBytes)
		}
		data, err := readExternal(root, dir, t.GetExternalData(), want)
		if err != nil {
			return fail(i, "external_data", "%v", err)
		}
		t.RawData = data
		t.ExternalData = nil
		t.DataLocation = nil
	}
	return nil
}

// readExternal reads the want bytes that entries place inside root (the directory dir).
// Its messages never tell anything about files outside dir: the location is checked as a
// string before the file system is touched, and os.Root refuses links that lead out.
func readExternal(root *os.Root, dir string, entries []*onnxpb.StringStringEntryProto, want int64) ([]byte, error) {
	var loc string
	offset, length := int64(0), int64(-1)
	seen := map[string]bool{}
	for _, e := range entries {
		k, v := e.GetKey(), e.GetValue()
		if seen[k] {
			return nil, fmt.Errorf("key %q given twice", k)
		}
		seen[k] = true
		switch k {
		case "location":
			loc = v
		case "offset", "length":
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x < 0 || strings.HasPrefix(v, "+") {
				return nil, fmt.Errorf("%s %q is not a non-negative decimal integer", k, v)
			}
			if k == "offset" {
				offset = x
			} else {
				length = x
			}
		case "checksum":
		default:
			return nil, fmt.Errorf("unknown key %q (want location, offset, length, checksum)", k)
		}
	}
	switch {
	case !seen["location"] || loc == "":
		return nil, errors.New("no location")
	case strings.ContainsRune(loc, 0):
		return nil, fmt.Errorf("location %q holds a NUL byte", loc)
	case filepath.IsAbs(loc) || strings.HasPrefix(loc, `\`):
		return nil, fmt.Errorf("location %q is an absolute path: external data must lie inside %s", loc, dir)
	case !filepath.IsLocal(loc) || hasDotDot(loc):
		return nil, fmt.Errorf("location %q leaves the external data directory %s", loc, dir)
	}
	if length >= 0 && length != want {
		return nil, fmt.Errorf("length %d, but the tensor's dims and type need %d bytes", length, want)
	}
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
	f, err := root.OpenFile(loc, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("location %q in %s: %v", loc, dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("location %q in %s: %v", loc, dir, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("location %q in %s is not a regular file", loc, dir)
	}
	if offset > st.Size() || st.Size()-offset < want {
		return nil, fmt.Errorf("location %q: offset %d + %d bytes lies beyond the end of the file", loc, offset, want)
	}
	if length < 0 && st.Size()-offset != want {
		return nil, fmt.Errorf("location %q: no length given, and the file from offset %d on does not hold exactly the tensor's %d bytes", loc, offset, want)
	}
	data := make([]byte, want)
	if _, err := f.ReadAt(data, offset); err != nil && !(errors.Is(err, io.EOF) && want == 0) {
		return nil, fmt.Errorf("location %q: reading %d bytes at offset %d: %v", loc, want, offset, err)
	}
	return data, nil
}

// hasDotDot reports whether any element of the slash- or backslash-separated path p is "..".
func hasDotDot(p string) bool {
	for _, e := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if e == ".." {
			return true
		}
	}
	return false
}
