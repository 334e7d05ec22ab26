package paint

import (
	"image"
	"testing"
)

// ink returns the bounding box of the non-white pixels of img.
func ink(img *image.RGBA) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.RGBAAt(x, y) != White {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

func abs(v int) int { return max(v, -v) }

// TestDrawTextRotated checks where rotated text lands: its end at the
// anchor, running left (0), down-left (45) or down (90, read bottom to top).
func TestDrawTextRotated(t *testing.T) {
	face := Face(false, 20)
	defer face.Close()
	const s, ax, ay = "Ankle boot", 200, 100
	w, h := TextWidth(face, s), TextHeight(face)
	for _, c := range []struct {
		deg  float64
		want image.Rectangle // where the ink must lie, give or take a few pixels
	}{
		{0, image.Rect(ax-w, ay-h/2, ax, ay+h/2)},
		{90, image.Rect(ax-h/2, ay, ax+h/2, ay+w)},
		{45, image.Rect(ax-(w+h)*707/1000, ay-h*707/1000/2, ax+h*707/1000/2, ay+(w+h)*707/1000)},
	} {
		img := NewCanvas(400, 400)
		DrawTextRotated(img, face, ax, ay, c.deg, s, Text)
		got := ink(img)
		const slack = 4
		if got.Empty() || got.Min.X < c.want.Min.X-slack || got.Max.X > c.want.Max.X+slack ||
			got.Min.Y < c.want.Min.Y-slack || got.Max.Y > c.want.Max.Y+slack {
			t.Errorf("%v degrees: ink %v, want within %v", c.deg, got, c.want)
		}
		// The ink fills most of the expected extent along the text.
		long, want := got.Dx(), c.want.Dx()
		if c.deg == 90 {
			long, want = got.Dy(), c.want.Dy()
		}
		if long < want*8/10 {
			t.Errorf("%v degrees: ink %v spans %d px, want about %d", c.deg, got, long, want)
		}
		// The text ends at the anchor: its last ink is near it.
		switch c.deg {
		case 0:
			if abs(got.Max.X-ax) > slack {
				t.Errorf("0 degrees: ink ends at x %d, anchor %d", got.Max.X, ax)
			}
		case 90:
			if abs(got.Min.Y-ay) > slack {
				t.Errorf("90 degrees: ink starts at y %d, anchor %d", got.Min.Y, ay)
			}
		}
	}
	img := NewCanvas(10, 10)
	DrawTextRotated(img, face, 5, 5, 45, "", Text)
	if !ink(img).Empty() {
		t.Error("empty text drew ink")
	}
}

func TestFrameAndFill(t *testing.T) {
	img := NewCanvas(20, 20)
	DrawFrame(img, image.Rect(2, 3, 12, 9), Blue)
	FillRect(img, image.Rect(4, 5, 6, 7), Red)
	if got := ink(img); got != image.Rect(2, 3, 12, 9) {
		t.Errorf("ink %v", got)
	}
	for _, p := range []struct {
		x, y int
		want any
	}{{2, 3, Blue}, {11, 8, Blue}, {6, 3, Blue}, {3, 4, White}, {4, 5, Red}, {5, 6, Red}, {6, 7, White}} {
		if got := img.RGBAAt(p.x, p.y); got != p.want {
			t.Errorf("(%d,%d) = %v, want %v", p.x, p.y, got, p.want)
		}
	}
	DrawFrame(img, image.Rect(30, 30, 40, 40), Red) // outside: nothing, no panic
	if got := Paste(img, NewCanvas(3, 2), image.Pt(1, 1)); got != image.Rect(1, 1, 4, 3) {
		t.Errorf("Paste covered %v", got)
	}
}
