package fmnist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// readerErrors maps each invalid fixture to the error it must produce, as
// image/png's readerErrors does.
var readerErrors = []struct {
	file   string
	labels bool   // read with ReadLabels (else ReadImages)
	field  string // FormatError.Field
	offset int64  // FormatError.Offset
	is     error  // errors.Is target, if any
	msg    string // substring of the message
}{
	{"invalid-empty.idx", false, "magic", 0, io.EOF, "truncated"},
	{"invalid-short-magic.idx", false, "magic", 0, io.ErrUnexpectedEOF, "truncated"},
	{"invalid-bad-magic.idx", false, "magic", 0, nil, "magic number 0x00000802, want 0x00000803"},
	{"invalid-float-type.idx", false, "magic", 0, nil, "0x00000d03"},
	{"invalid-nonzero-magic.idx", false, "magic", 0, nil, "0x01000803"},
	{"invalid-short-header.idx", false, "count", 4, io.ErrUnexpectedEOF, "dimension sizes"},
	{"invalid-count-larger.idx", false, "count", 4, nil, "header claims 5x4x5 = 100 bytes of data, but the file holds only 60"},
	{"invalid-trailing.idx", false, "trailing data", 76, nil, "3 bytes after"},
	{"invalid-zero-count.idx", false, "count", 4, nil, "count is 0"},
	{"invalid-zero-rows.idx", false, "rows", 8, nil, "rows is 0"},
	{"invalid-zero-cols.idx", false, "columns", 12, nil, "columns is 0"},
	{"invalid-negative-count.idx", false, "count", 4, nil, "beyond the int32 range"},
	{"invalid-huge-dims.idx", false, "rows", 8, nil, "more than 17179869184 bytes"},
	{"invalid-huge-count.idx.gz", false, "count", 4, nil, "more than a"},
	{"invalid-truncated.idx.gz", false, "data", -1, io.ErrUnexpectedEOF, "truncated"},
	{"invalid-no-trailer.idx.gz", false, "gzip", 76, io.ErrUnexpectedEOF, "truncated"},
	{"invalid-crc.idx.gz", false, "gzip", 76, gzip.ErrChecksum, "checksum"},
	{"invalid-isize.idx.gz", false, "gzip", 76, gzip.ErrChecksum, "corrupt"},
	{"invalid-gzip-trailing.idx.gz", false, "trailing data", 76, nil, "after the gzip stream"},
	{"invalid-gzip-data-after.idx.gz", false, "trailing data", 76, nil, "bytes after the 60 bytes"},
	{"invalid-two-members.idx.gz", false, "trailing data", 76, nil, "not another gzip member"},
	{"invalid-bad-gzip-header.idx.gz", false, "gzip", 0, nil, "bad gzip header"},
	{"invalid-label-10.idx", true, "label", 10, nil, "label 10 at index 2"},
	{"invalid-label-255.idx.gz", true, "label", 9, nil, "label 255 at index 1"},
	{"invalid-labels-as-images.idx", false, "magic", 0, nil, "want 0x00000803"},
	{"invalid-labels-count.idx", true, "count", 4, nil, "header claims 9 = 9 bytes"},
	{"valid-images.idx", true, "magic", 0, nil, "want 0x00000801"},
}

func TestReadInvalid(t *testing.T) {
	for _, tc := range readerErrors {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			var err error
			if tc.labels {
				_, err = ReadLabels(path)
			} else {
				_, _, _, _, err = ReadImages(path)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *FormatError", err, err)
			}
			if fe.Field != tc.field || (tc.offset >= 0 && fe.Offset != tc.offset) || fe.File != path {
				t.Errorf("field %q offset %d file %q, want %q %d %q (%v)", fe.Field, fe.Offset, fe.File, tc.field, tc.offset, path, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q lacks %q or the file name", err, tc.msg)
			}
			if fe.Gzip != strings.HasSuffix(tc.file, ".gz") {
				t.Errorf("Gzip = %v for %s", fe.Gzip, tc.file)
			}

			// The reader variant (no size known) must fail too.
			b, _ := os.ReadFile(path)
			if tc.labels {
				_, err = DecodeLabels(bytes.NewReader(b), tc.file)
			} else {
				_, _, _, _, err = DecodeImages(bytes.NewReader(b), tc.file)
			}
			if !errors.As(err, &fe) {
				t.Fatalf("Decode: error %v, want a *FormatError", err)
			}
		})
	}
}

// A header claiming 2^31 images, read from a stream of unknown length, must
// cost memory in proportion to the data really there, not to the claim.
func TestHugeCountAllocatesLittle(t *testing.T) {
	b, err := os.ReadFile("testdata/invalid-huge-count.idx.gz")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, _, _, err = DecodeImages(bytes.NewReader(b), "huge")
	runtime.ReadMemStats(&after)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Field != "data" || fe.Offset != 16+10*784 {
		t.Fatalf("error %v, want a data FormatError at offset %d", err, 16+10*784)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("allocated %d bytes for a 10-image stream", got)
	}
}

func TestReadValid(t *testing.T) {
	wantImg := fixtureImages()[16:]
	for _, name := range []string{"valid-images.idx", "valid-images.idx.gz", "valid-two-members.idx.gz"} {
		img, n, rows, cols, err := ReadImages(filepath.Join("testdata", name))
		if err != nil || n != 3 || rows != 4 || cols != 5 || !bytes.Equal(img, wantImg) {
			t.Errorf("%s: %d images of %dx%d, err %v; want 3 of 4x5 and the generator's bytes", name, n, rows, cols, err)
		}
	}
	for _, name := range []string{"valid-labels.idx", "valid-labels.idx.gz"} {
		lab, err := ReadLabels(filepath.Join("testdata", name))
		if err != nil || !bytes.Equal(lab, []byte{9, 0, 0, 5}) {
			t.Errorf("%s: %v, %v; want [9 0 0 5]", name, lab, err)
		}
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	images := make([]uint8, 7*3*2)
	for i := range images {
		images[i] = uint8(255 - i)
	}
	labels := []uint8{0, 1, 2, 3, 4, 5, 9}
	for _, name := range []string{"imgs", "imgs.gz"} {
		path := filepath.Join(dir, name)
		if err := WriteImages(path, images, 7, 3, 2); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(path)
		if isGzip(raw) != strings.HasSuffix(name, ".gz") {
			t.Errorf("%s: gzip %v", name, isGzip(raw))
		}
		got, n, r, c, err := ReadImages(path)
		if err != nil || n != 7 || r != 3 || c != 2 || !bytes.Equal(got, images) {
			t.Errorf("%s: read back %d %dx%d err %v", name, n, r, c, err)
		}
		lpath := filepath.Join(dir, "l"+name)
		if err := WriteLabels(lpath, labels); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadLabels(lpath); err != nil || !bytes.Equal(got, labels) {
			t.Errorf("%s: labels %v err %v", lpath, got, err)
		}
		s, err := Load(path, lpath)
		if err != nil || s.N != 7 || !bytes.Equal(s.Image(6), images[36:]) {
			t.Errorf("Load: %+v %v", s, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.gz")
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"length mismatch", WriteImages(path, make([]uint8, 10), 1, 3, 3)},
		{"zero count", WriteImages(path, nil, 0, 28, 28)},
		{"label 10", WriteLabels(path, []uint8{1, 10})},
		{"no labels", WriteLabels(path, nil)},
		{"missing dir", WriteLabels(filepath.Join(dir, "no", "such", "dir"), []uint8{1})},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed writes left %d files", len(ents))
	}
}

// A failing writer must leave the previous file untouched.
func TestWriteIsAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "labels")
	if err := WriteLabels(path, []uint8{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	err := writeAtomic(path, false, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return errors.New("disk on fire")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if got, err := ReadLabels(path); err != nil || !bytes.Equal(got, []uint8{1, 2, 3}) {
		t.Errorf("after a failed write: %v %v", got, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("%d files in the directory, want 1", len(ents))
	}
}

func TestScale(t *testing.T) {
	src := []uint8{0, 1, 127, 128, 254, 255}
	dst := make([]float32, len(src)+2)
	dst[len(src)] = -1
	Scale(dst, src)
	for i, v := range src {
		if dst[i] != float32(v)/255 {
			t.Errorf("Scale(%d) = %v, want %v", v, dst[i], float32(v)/255)
		}
	}
	if dst[len(src)] != -1 {
		t.Error("Scale wrote past len(src)")
	}
	if n := testing.AllocsPerRun(10, func() { Scale(dst, src) }); n != 0 {
		t.Errorf("Scale allocates %v times", n)
	}
	if ClassNames[0] != "T-shirt/top" || ClassNames[9] != "Ankle boot" {
		t.Errorf("ClassNames = %q", ClassNames)
	}
}

func TestSetInput(t *testing.T) {
	s := &Set{Images: []uint8{0, 51, 102, 153, 204, 255, 1, 2}, Labels: []uint8{3, 7}, N: 2, Rows: 2, Cols: 2}
	x, labels := s.Input(5) // more than N: all of them
	want := []float32{0, 0.2, 0.4, 0.6, 0.8, 1, 1.0 / 255, 2.0 / 255}
	if !slices.Equal(x, want) || !slices.Equal(labels, []uint8{3, 7}) {
		t.Errorf("Input(5) = %v %v, want %v [3 7]", x, labels, want)
	}
	labels[0] = 9
	if s.Labels[0] != 3 {
		t.Error("Input's labels share the set's")
	}
	if x, labels := s.Input(1); !slices.Equal(x, want[:4]) || !slices.Equal(labels, []uint8{3}) {
		t.Errorf("Input(1) = %v %v", x, labels)
	}
	if x, labels := s.Input(-1); len(x) != 0 || len(labels) != 0 {
		t.Errorf("Input(-1) = %v %v, want nothing", x, labels)
	}
}

func FuzzReadIDX(f *testing.F) {
	ents, _ := os.ReadDir("testdata")
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join("testdata", e.Name())); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, n, rows, cols, err := DecodeImages(bytes.NewReader(b), "fuzz")
		if err == nil {
			if len(img) != n*rows*cols || n <= 0 || rows <= 0 || cols <= 0 {
				t.Fatalf("%d bytes for %dx%dx%d", len(img), n, rows, cols)
			}
			// What was read writes back to the same raw bytes.
			var buf bytes.Buffer
			if err := EncodeImages(&buf, img, n, rows, cols); err != nil {
				t.Fatal(err)
			}
			if !isGzip(b) && !bytes.Equal(buf.Bytes(), b) {
				t.Fatal("round trip differs")
			}
		} else {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
		}
		lab, err := DecodeLabels(bytes.NewReader(b), "fuzz")
		if err == nil {
			for _, v := range lab {
				if v >= NumClasses {
					t.Fatalf("label %d accepted", v)
				}
			}
		}
	})
}
