package photogen

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

func benchItem() []uint8 {
	item := make([]uint8, ItemSize*ItemSize)
	for y := 4; y < 24; y++ {
		for x := 8; x < 20; x++ {
			item[y*ItemSize+x] = uint8(100 + 5*x)
		}
	}
	return item
}

// The same form, seed and item give the same bytes; another seed another
// picture.
func TestDeterministic(t *testing.T) {
	item := benchItem()
	for _, f := range Forms {
		a, err := Encode(item, NewSpec(f, 7))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Encode(item, NewSpec(f, 7))
		c, _ := Encode(item, NewSpec(f, 8))
		if !bytes.Equal(a, b) || bytes.Equal(a, c) {
			t.Errorf("%s: same seed equal %v, other seed equal %v", f, bytes.Equal(a, b), bytes.Equal(a, c))
		}
	}
	for _, k := range BlankKinds {
		a, _ := Encode(nil, NewBlank(k, 3))
		b, _ := Encode(nil, NewBlank(k, 3))
		if !bytes.Equal(a, b) {
			t.Errorf("blank %s is not reproducible", k)
		}
	}
}

// Store then Orient is the identity for every orientation, and a stored
// non-square picture is transposed for 5-8.
func TestStoreOrient(t *testing.T) {
	img := Render(benchItem(), Spec{Width: 30, Height: 20, Backdrop: [3]float64{1, 0.5, 0.2}, Scale: 0.8, CX: 0.4, CY: 0.5})
	for o := 1; o <= 8; o++ {
		s := Store(img, o)
		if sz := s.Bounds().Size(); (o >= 5) != (sz.X == 20) {
			t.Errorf("orientation %d stores %v", o, sz)
		}
		if back := Orient(s, o); !bytes.Equal(back.Pix, img.Pix) {
			t.Errorf("orientation %d: stored then shown differs from the picture", o)
		}
	}
}

// The item is drawn where and as large as the spec says, dark on the
// backdrop; blank pictures hold no item.
func TestRenderPlacement(t *testing.T) {
	full := make([]uint8, ItemSize*ItemSize)
	for i := range full {
		full[i] = 255
	}
	s := Spec{Width: 200, Height: 100, Backdrop: [3]float64{1, 1, 1}, Scale: 0.5, CX: 0.25, CY: 0.5}
	img := Render(full, s)
	dark := image.Rectangle{}
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			if img.Pix[img.PixOffset(x, y)] < 128 {
				dark = dark.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	// 0.5 of the short side (100) = 50 pixels, centred at (50, 50).
	want := image.Rect(25, 25, 75, 75)
	for i, d := range []int{dark.Min.X - want.Min.X, dark.Min.Y - want.Min.Y, dark.Max.X - want.Max.X, dark.Max.Y - want.Max.Y} {
		if d < -2 || d > 2 {
			t.Errorf("edge %d of the item drawn at %v, want %v within 2 pixels", i, dark, want)
		}
	}
	s.Blank = true
	blank := Render(full, s)
	for i, v := range blank.Pix {
		if v != 255 {
			t.Fatalf("blank picture has pixel %d = %d", i, v)
		}
	}
}

func TestWithOrientation(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	for _, be := range []bool{false, true} {
		out, err := WithOrientation(b.Bytes(), 6, be)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("big-endian %v: the JPEG no longer decodes: %v", be, err)
		}
		if !bytes.Contains(out, []byte("Exif\x00\x00")) {
			t.Error("no Exif block")
		}
	}
	if _, err := WithOrientation([]byte("not a jpeg"), 6, false); err == nil {
		t.Error("not a JPEG accepted")
	}
}

func BenchmarkEncodePhone(b *testing.B) {
	item := benchItem()
	for i := 0; b.Loop(); i++ {
		if _, err := Encode(item, NewSpec(Phone, uint64(i))); err != nil {
			b.Fatal(err)
		}
	}
}
