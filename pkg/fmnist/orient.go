package fmnist

import (
	"image"
	"image/draw"
)

// orientImage returns img shown under EXIF orientation o (img itself for
// 1), keeping the decoders' pixel types so the fast paths of the
// preprocessing still apply. For subsampled JPEG chroma the chroma planes are
// turned as planes; with an odd width or height that shifts chroma by up to
// one sample, which only the colour-aware item search sees.
func orientImage(img image.Image, o int) image.Image {
	if o <= OrientUpright || o > OrientRotate270 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= OrientTranspose {
		ow, oh = h, w
	}
	r := image.Rect(0, 0, ow, oh)
	switch m := img.(type) {
	case *image.Gray:
		out := image.NewGray(r)
		orientPix(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 1, o)
		return out
	case *image.Gray16:
		out := image.NewGray16(r)
		orientPix(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 2, o)
		return out
	case *image.NRGBA:
		out := image.NewNRGBA(r)
		orientPix(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 4, o)
		return out
	case *image.RGBA:
		out := image.NewRGBA(r)
		orientPix(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 4, o)
		return out
	case *image.RGBA64:
		out := image.NewRGBA64(r)
		orientPix(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 8, o)
		return out
	case *image.NRGBA64:
		out := image.NewNRGBA64(r)
		orientPix(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 8, o)
		return out
	case *image.Paletted:
		out := image.NewPaletted(r, m.Palette)
		orientPix(out.Pix, out.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 1, o)
		return out
	case *image.YCbCr:
		if b.Min == (image.Point{}) {
			if out := orientYCbCr(m, o); out != nil {
				return out
			}
		}
	}
	out := image.NewNRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	return orientImage(out, o)
}

// orientPix writes the w x h pixels of src (bpp bytes each, rows stride
// apart) to dst as shown under orientation o.
func orientPix(dst []uint8, dstStride int, src []uint8, srcStride, w, h, bpp, o int) {
	for y := 0; y < h; y++ {
		row := src[y*srcStride:]
		for x := 0; x < w; x++ {
			dx, dy := orientPoint(x, y, w, h, o)
			copy(dst[dy*dstStride+dx*bpp:dy*dstStride+dx*bpp+bpp], row[x*bpp:x*bpp+bpp])
		}
	}
}

// orientYCbCr turns a YCbCr image whose subsampling survives the turn
// (4:4:4, 4:2:0, and 4:2:2 and 4:4:0 into each other), or returns nil.
func orientYCbCr(m *image.YCbCr, o int) *image.YCbCr {
	ratio := m.SubsampleRatio
	if o >= OrientTranspose {
		switch ratio {
		case image.YCbCrSubsampleRatio422:
			ratio = image.YCbCrSubsampleRatio440
		case image.YCbCrSubsampleRatio440:
			ratio = image.YCbCrSubsampleRatio422
		case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420:
		default:
			return nil
		}
	} else if ratio != image.YCbCrSubsampleRatio444 && ratio != image.YCbCrSubsampleRatio420 &&
		ratio != image.YCbCrSubsampleRatio422 && ratio != image.YCbCrSubsampleRatio440 {
		return nil
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o >= OrientTranspose {
		ow, oh = h, w
	}
	out := image.NewYCbCr(image.Rect(0, 0, ow, oh), ratio)
	orientPix(out.Y, out.YStride, m.Y, m.YStride, w, h, 1, o)
	cw, ch := chromaSize(w, h, m.SubsampleRatio)
	orientPix(out.Cb, out.CStride, m.Cb, m.CStride, cw, ch, 1, o)
	orientPix(out.Cr, out.CStride, m.Cr, m.CStride, cw, ch, 1, o)
	return out
}

func chromaSize(w, h int, r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	}
	return w, h
}

// orientPoint maps stored pixel (x, y) of a w x h picture to its place in
// the picture shown under orientation o.
func orientPoint(x, y, w, h, o int) (int, int) {
	switch o {
	case OrientMirror:
		return w - 1 - x, y
	case OrientRotate180:
		return w - 1 - x, h - 1 - y
	case OrientFlip:
		return x, h - 1 - y
	case OrientTranspose:
		return y, x
	case OrientRotate90:
		return h - 1 - y, x
	case OrientTransverse:
		return h - 1 - y, w - 1 - x
	case OrientRotate270:
		return y, w - 1 - x
	}
	return x, y
}
