package viz

import (
	"image"

	"github.com/fmkit/fmkit/pkg/train"
)

// ConvFilters returns the first count kernels of a convolution weight w,
// shaped (OC, C, KH, KW) as train.Conv2D's W is, taken at input channel
// channel, as KW x KH images. The weights are normalised to [0, 1] over the
// whole tensor, (w - min) / (max - min), before becoming grey levels, so
// that the kernels are comparable (the chapter's Figure 12.10); a constant
// tensor gives black images. count is capped at OC.
func ConvFilters(w *train.Param, channel, count int) ([]*image.Gray, error) {
	const fn = "ConvFilters"
	if w == nil || len(w.Shape) != 4 {
		return nil, argErr(fn, "w", "want a (OC, C, KH, KW) convolution weight")
	}
	oc, c, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	if len(w.Data) < oc*c*kh*kw {
		return nil, argErr(fn, "w", "%d values for shape %v", len(w.Data), w.Shape)
	}
	if channel < 0 || channel >= c {
		return nil, argErr(fn, "channel", "%d is not an input channel of a weight with %d", channel, c)
	}
	if count < 1 {
		return nil, argErr(fn, "count", "%d, want at least 1", count)
	}
	lo, hi := MinMax(w.Data)
	imgs := make([]*image.Gray, min(count, oc))
	for f := range imgs {
		off := (f*c + channel) * kh * kw
		imgs[f] = ScaledGray(w.Data[off:off+kh*kw], kw, kh, lo, hi)
	}
	return imgs, nil
}

// FeatureMaps runs one sample x through m's layers up to and including
// m.Layers[layer], and through the next layer too when that is a
// standalone train.ReLU (so the maps are taken after the layer's
// activation, fused or not), then returns the first count channels of the
// (C, H, W) output as images, each normalised to its own [min, max] as
// matplotlib's imshow does (a constant map is black under Gray).
//
// FeatureMaps uses m's layer buffers: it is not safe to call while m is in
// use elsewhere.
func FeatureMaps(m *train.Model, layer int, x []float32, count int) ([]*image.Gray, error) {
	const fn = "FeatureMaps"
	if m == nil {
		return nil, argErr(fn, "m", "nil model")
	}
	if layer < 0 || layer >= len(m.Layers) {
		return nil, argErr(fn, "layer", "%d is not a layer index of a %d-layer model", layer, len(m.Layers))
	}
	if len(x) != m.InputShape.Size() {
		return nil, argErr(fn, "x", "%d values, the model's input %v needs %d", len(x), m.InputShape, m.InputShape.Size())
	}
	if count < 1 {
		return nil, argErr(fn, "count", "%d, want at least 1", count)
	}
	end := layer + 1
	if end < len(m.Layers) {
		if _, ok := m.Layers[end].(*train.ReLU); ok {
			end++
		}
	}
	shape := m.Layers[end-1].OutShape()
	if len(shape) != 3 {
		return nil, argErr(fn, "layer", "%s outputs %v, not (C, H, W) maps", m.Layers[layer].Name(), shape)
	}
	y := x
	for _, l := range m.Layers[:end] {
		y = l.Forward(y, 1, false)
	}
	c, h, w := shape[0], shape[1], shape[2]
	imgs := make([]*image.Gray, min(count, c))
	for k := range imgs {
		plane := y[k*h*w : (k+1)*h*w]
		lo, hi := MinMax(plane)
		imgs[k] = ScaledGray(plane, w, h, lo, hi)
	}
	return imgs, nil
}
