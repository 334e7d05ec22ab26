package fmnist

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/internal/photogen"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "img", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func preprocessBytes(t testing.TB, b []byte, opt PreprocessOptions) *Preprocessed {
	t.Helper()
	p, err := Preprocess(bytes.NewReader(b), opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The orient-N fixtures are boot.png stored as cameras store it under EXIF
// Orientation N, written by PIL and checked with its exif_transpose
// (testdata/gen/fmnist/make_photo_fixtures.py). Lossless ones must come back
// exactly as the upright picture; the JPEGs within JPEG noise.
func TestOrientationFixtures(t *testing.T) {
	ref := preprocessBytes(t, readFixture(t, "boot.png"), PreprocessOptions{})
	refJPEG := preprocessBytes(t, readFixture(t, "orient-1.jpg"), PreprocessOptions{})
	for n := 1; n <= 8; n++ {
		for _, ext := range []string{"png", "webp", "tiff", "jpg"} {
			name := fmt.Sprintf("orient-%d.%s", n, ext)
			t.Run(name, func(t *testing.T) {
				b := readFixture(t, name)
				if got := Orientation(b); got != n {
					t.Fatalf("Orientation = %d, want %d", got, n)
				}
				p := preprocessBytes(t, b, PreprocessOptions{})
				if p.Orientation != n || p.Width != 80 || p.Height != 64 {
					t.Errorf("orientation %d, %dx%d; want %d, 80x64", p.Orientation, p.Width, p.Height, n)
				}
				if ext == "jpg" {
					if d := meanAbsDiff(p.Gray.Pix, refJPEG.Gray.Pix); d > 3 {
						t.Errorf("mean abs diff %.2f from the upright JPEG, want <= 3", d)
					}
					return
				}
				if !bytes.Equal(p.Gray.Pix, ref.Gray.Pix) || p.Box != ref.Box {
					t.Errorf("differs from the upright picture (box %v, want %v; mean abs diff %.2f)", p.Box, ref.Box, meanAbsDiff(p.Gray.Pix, ref.Gray.Pix))
				}
				// Ignoring the tag gives the stored picture's own framing.
				q := preprocessBytes(t, b, PreprocessOptions{Orientation: -1})
				if n >= OrientTranspose && (q.Width != 64 || q.Height != 80) {
					t.Errorf("ignoring the tag: %dx%d, want the stored 64x80", q.Width, q.Height)
				}
			})
		}
	}
}

func meanAbsDiff(a, b []uint8) float64 {
	d := 0
	for i := range a {
		d += absDiff(a[i], b[i])
	}
	return float64(d) / float64(len(a))
}

// Every orientation of a non-square picture, stored by photogen (both byte
// orders) and read back by Orientation.
func TestOrientationJPEGBothOrders(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	if Orientation(b.Bytes()) != 1 {
		t.Fatal("a JPEG without EXIF is not upright")
	}
	for o := 1; o <= 8; o++ {
		for _, be := range []bool{false, true} {
			data, err := photogen.WithOrientation(b.Bytes(), o, be)
			if err != nil {
				t.Fatal(err)
			}
			if got := Orientation(data); got != o {
				t.Errorf("orientation %d (big-endian %v): read %d", o, be, got)
			}
		}
	}
}

// Damaged or hostile EXIF never fails a picture: it reads as upright.
func TestOrientationDamaged(t *testing.T) {
	good, _ := photogen.WithOrientation([]byte{0xFF, 0xD8, 0xFF, 0xD9}, 6, false)
	at := bytes.Index(good, []byte("II*"))
	patch := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[at+off:], v)
		return b
	}
	for name, b := range map[string][]byte{
		"empty":             nil,
		"SOI only":          {0xFF, 0xD8},
		"segment too long":  {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'},
		"zero length":       {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00},
		"not a marker":      {0xFF, 0xD8, 0x00, 0xE1, 0x00, 0x10},
		"bad byte order":    patch(0, 'X', 'X'),
		"bad magic":         patch(2, 43, 0),
		"IFD out of range":  patch(4, 0xFF, 0xFF, 0xFF, 0x7F),
		"too many entries":  patch(8, 0xFF, 0xFF),
		"value 0":           patch(8+2+8, 0, 0),
		"value 9":           patch(8+2+8, 9, 0),
		"type ASCII":        patch(8+2+2, 2, 0),
		"count huge":        patch(8+2+4, 0xFF, 0xFF, 0xFF, 0xFF),
		"TIFF truncated":    []byte("II*\x00\x08\x00\x00\x00\x01"),
		"WebP chunk huge":   []byte("RIFF\x00\x00\x00\x00WEBPEXIF\xff\xff\xff\xff"),
		"PNG chunk huge":    []byte("\x89PNG\r\n\x1a\n\xff\xff\xff\xffeXIf"),
		"PNG eXIf too late": []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x00IDAT\x00\x00\x00\x00\x00\x00\x00\x08eXIfII*\x00\x08\x00\x00\x00"),
	} {
		if got := Orientation(b); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
	if Orientation(good) != 6 {
		t.Fatal("the undamaged block must read 6")
	}
}

// 16-bit pictures as PIL, scanners and phones write them read exactly like
// their 8-bit originals (every value v*257); a floating-point TIFF is named.
func TestPreprocess16Bit(t *testing.T) {
	for ref, variants := range map[string][]string{
		"object.png": {"object-rgb48.png", "object-rgb48be.tiff", "object-signed16.tiff"},
		"boot.png":   {"boot-gray16.png", "boot-gray16.tiff", "boot-gray16be.tiff"},
	} {
		want := preprocessBytes(t, readFixture(t, ref), PreprocessOptions{})
		if ref == "object.png" { // the 16-bit copies are of its gray version
			g, err := PreprocessImage(toGray(objectImage(60, 40)), PreprocessOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want = g
		}
		for _, v := range variants {
			got := preprocessBytes(t, readFixture(t, v), PreprocessOptions{})
			if !bytes.Equal(got.Gray.Pix, want.Gray.Pix) || got.Box != want.Box {
				t.Errorf("%s differs from %s (box %v, want %v)", v, ref, got.Box, want.Box)
			}
		}
	}
	_, err := Preprocess(bytes.NewReader(readFixture(t, "object-float32.tiff")), PreprocessOptions{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "floating-point samples (SampleFormat 3)") {
		t.Errorf("float TIFF: %v, want ErrUnsupported naming floating-point samples", err)
	}
}

func FuzzOrientation(f *testing.F) {
	ents, _ := os.ReadDir("testdata/img")
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join("testdata/img", e.Name())); err == nil && len(b) < 1<<16 {
			f.Add(b)
		}
	}
	good, _ := photogen.WithOrientation([]byte{0xFF, 0xD8, 0xFF, 0xD9}, 6, true)
	f.Add(good)
	f.Add([]byte("RIFF\x20\x00\x00\x00WEBPEXIF\x14\x00\x00\x00Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := Orientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d out of 1..8", o)
		}
		if isTIFF(b) {
			if out, err := signedTIFF(b); err == nil && len(out) != len(b) {
				t.Fatalf("signedTIFF changed the length: %d -> %d", len(b), len(out))
			}
		}
	})
}
