package photogen

import (
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

func BenchmarkEncodePhone(b *testing.B) {
	item := benchItem()
	for i := 0; b.Loop(); i++ {
		if _, err := Encode(item, NewSpec(Phone, uint64(i))); err != nil {
			b.Fatal(err)
		}
	}
}
