//go:build !amd64 || purego

package gemm

const useVec512 = false

func addBias512(dst, src *float32, n int, b float32)     { panic("unreachable") }
func addBiasReLU512(dst, src *float32, n int, b float32) { panic("unreachable") }
func reluMaskSum512(dz, y, dy *float32, n int) float32   { panic("unreachable") }
func sum512(x *float32, n int) float32                   { panic("unreachable") }

func copyRows512(dst, src *float32, rows, width, lddst, ldsrc int) { panic("unreachable") }
func addRows512(dst, src *float32, rows, width, lddst, ldsrc int)  { panic("unreachable") }

func adam512(w, grad, mom, vel *float32, n int, b1, c1, b2, c2, lr, eps float32) {
	panic("unreachable")
}

func maxPool2x2Plane512(y *float32, arg *int32, x *float32, w, oh, ow int) bool { panic("unreachable") }

func dot512(x, y *float32, n int) float32 { panic("unreachable") }

func gatherPlanes512(dst *float32, ld int, src *float32, planes, hw int, idx *int32, nidx, width int) {
	panic("unreachable")
}

func col2imPlain512(dx, dcol *float32, ld, c, h, w, kh, kw, oh, ow int) { panic("unreachable") }

func im2colPlain512(col, x *float32, ld, c, h, w, kh, kw, oh, ow int) { panic("unreachable") }
