//go:build !amd64 || purego

package adam

const useVec512 = false

func adam512(w, grad, mom, vel *float32, n int, b1, c1, b2, c2, lr, eps float32) {
	panic("unreachable")
}
