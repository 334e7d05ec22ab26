package fmnist

import "sync"

// The large buffers of a preprocessing (the full-resolution luma plane, the
// crop, the level counts) come from pools, so that a batch or a server does
// not pay for fresh zeroed memory on every picture.
var (
	u16Pool sync.Pool // *[]uint16
	u32Pool sync.Pool // *[]uint32
)

// getU16 returns a slice of n uint16s; zeroed if asked (otherwise the caller
// writes every element).
func getU16(n int, zero bool) []uint16 {
	if p, ok := u16Pool.Get().(*[]uint16); ok && cap(*p) >= n {
		s := (*p)[:n]
		if zero {
			clear(s)
		}
		return s
	}
	return make([]uint16, n)
}

func putU16(s []uint16) {
	if cap(s) > 0 {
		u16Pool.Put(&s)
	}
}

// getU32 returns n zeroed uint32s.
func getU32(n int) []uint32 {
	if p, ok := u32Pool.Get().(*[]uint32); ok && cap(*p) >= n {
		s := (*p)[:n]
		clear(s)
		return s
	}
	return make([]uint32, n)
}

func putU32(s []uint32) {
	if cap(s) > 0 {
		u32Pool.Put(&s)
	}
}
