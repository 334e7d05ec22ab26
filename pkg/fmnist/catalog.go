package fmnist

import (
	"image"

	"golang.org/x/image/draw"
)

// CatalogSize is the side, in pixels, of CatalogStyle's images.
const CatalogSize = 224

// CatalogStyle turns a dataset image (a light object on a dark background)
// into what a catalog photo of the same item looks like: inverted to a dark
// object on white and upscaled bilinearly to CatalogSize x CatalogSize. It is
// the reverse of the dataset's making, short of the lost detail, and what
// the catalog-photo measurements feed to Preprocess (after JPEG encoding).
func CatalogStyle(g *image.Gray) *image.Gray {
	inv := image.NewGray(g.Rect)
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			inv.Pix[inv.PixOffset(x, y)] = 255 - g.Pix[g.PixOffset(x, y)]
		}
	}
	dst := image.NewGray(image.Rect(0, 0, CatalogSize, CatalogSize))
	draw.BiLinear.Scale(dst, dst.Rect, inv, inv.Rect, draw.Src, nil)
	return dst
}
