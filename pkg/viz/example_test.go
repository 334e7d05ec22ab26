package viz_test

import (
	"fmt"

	"github.com/fmkit/fmkit/pkg/viz"
)

// A 2x2 grid of 28x28 images at the default scale: each image pixel
// becomes a 5x5 block, so the panels are 140 pixels square.
func ExampleRenderGrid() {
	var tiles []viz.Tile
	for i, name := range []string{"Ankle boot", "T-shirt/top", "Dress", "Bag"} {
		pix := make([]uint8, 28*28)
		for j := range pix {
			pix[j] = uint8(i * 60)
		}
		tiles = append(tiles, viz.Tile{Image: viz.GrayImage(pix, 28, 28), Title: name})
	}
	fig, err := viz.RenderGrid(tiles, viz.GridOptions{Cols: 2, Title: "four samples"})
	if err != nil {
		panic(err)
	}
	for _, r := range fig.Panels {
		fmt.Println(r.Dx(), "x", r.Dy())
	}
	// Black in the Binary colormap is the brightest source pixel.
	fmt.Println(viz.Binary.Color(255), viz.Gray.Color(255))
	// Output:
	// 140 x 140
	// 140 x 140
	// 140 x 140
	// 140 x 140
	// {0 0 0 255} {255 255 255 255}
}
