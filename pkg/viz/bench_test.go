package viz

import (
	"bytes"
	"io"
	"testing"

	"github.com/fmkit/fmkit/pkg/fmnist"
)

// benchFig keeps the benchmarks' results alive.
var benchFig *Figure

func BenchmarkRenderGrid_16x28x28(b *testing.B) {
	tiles := make([]Tile, 16)
	for i := range tiles {
		tiles[i] = Tile{Image: pattern(28, 28, i), Title: "Ankle boot"}
	}
	for b.Loop() {
		benchFig, _ = RenderGrid(tiles, GridOptions{Title: "Fashion-MNIST"})
	}
}

func BenchmarkRenderConfusion_10x10(b *testing.B) {
	counts := make([][]int, 10)
	for i := range counts {
		counts[i] = make([]int, 10)
		for j := range counts[i] {
			counts[i][j] = (i*7 + j*3) % 40
		}
		counts[i][i] = 900
	}
	for b.Loop() {
		benchFig, _ = RenderConfusion(counts, fmnist.ClassNames[:], "confusion")
	}
}

func BenchmarkRenderExplain_28x28(b *testing.B) {
	pre := pattern(28, 28, 1)
	probs := []float32{0.01, 0, 0.05, 0.02, 0.12, 0, 0.78, 0, 0.02, 0}
	for b.Loop() {
		benchFig, _ = RenderExplain(pre, probs, fmnist.ClassNames[:], 4)
	}
}

func BenchmarkEncodePNG_Grid16(b *testing.B) {
	tiles := make([]Tile, 16)
	for i := range tiles {
		tiles[i] = Tile{Image: pattern(28, 28, i), Title: "Ankle boot"}
	}
	fig, _ := RenderGrid(tiles, GridOptions{})
	var buf bytes.Buffer
	EncodePNG(&buf, fig.Image)
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		EncodePNG(io.Discard, fig.Image)
	}
}
