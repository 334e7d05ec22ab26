// Package pixtest holds the pixel-counting helpers with which viz's tests
// check rendered figures: a PNG round trip, exact colour matches, dark and
// light pixels, distinct colours and the bounding box of a colour.
package pixtest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// RoundTrip encodes img as PNG and decodes it again, as a reader of the
// file would see it.
func RoundTrip(tb testing.TB, img image.Image) image.Image {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	out, err := png.Decode(&b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// SameColor reports whether a and b are the same colour, alpha included.
func SameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// CountColor counts the pixels of img inside r that are exactly c.
func CountColor(img image.Image, r image.Rectangle, c color.Color) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if SameColor(img.At(x, y), c) {
				n++
			}
		}
	}
	return n
}

// CountDark counts the pixels of img inside r darker than grey 100.
func CountDark(img image.Image, r image.Rectangle) int {
	return countGray(img, r, func(g uint8) bool { return g < 100 })
}

// CountLight counts the pixels of img inside r lighter than grey 200.
func CountLight(img image.Image, r image.Rectangle) int {
	return countGray(img, r, func(g uint8) bool { return g > 200 })
}

// countGray counts the pixels of img inside r whose grey level satisfies ok.
func countGray(img image.Image, r image.Rectangle, ok func(uint8) bool) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ok(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y) {
				n++
			}
		}
	}
	return n
}

// DistinctColors counts the different colours of img.
func DistinctColors(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}

// BBox returns the bounding box of the pixels of colour c in img.
func BBox(img image.Image, c color.Color) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if SameColor(img.At(x, y), c) {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}
