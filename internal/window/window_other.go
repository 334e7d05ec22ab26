//go:build !amd64 || purego

package window

const useVec512 = false

func maxPool2x2Plane512(y *float32, arg *int32, x *float32, w, oh, ow int) bool { panic("unreachable") }

func gatherPlanes512(dst *float32, ld int, src *float32, planes, hw int, idx *int32, nidx, width int) {
	panic("unreachable")
}

func col2imPlain512(dx, dcol *float32, ld, c, h, w, kh, kw, oh, ow int) { panic("unreachable") }

func im2colPlain512(col, x *float32, ld, c, h, w, kh, kw, oh, ow int) { panic("unreachable") }
