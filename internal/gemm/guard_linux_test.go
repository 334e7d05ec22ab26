package gemm

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// pageFenced returns n float32s that end exactly at (atEnd) or start exactly
// at (!atEnd) an inaccessible page, so that any access past the end (or
// before the start) crashes the test instead of going unnoticed.
func pageFenced(t *testing.T, n int, atEnd bool) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	bytes := (n*4 + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, bytes+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	var data []byte
	if atEnd {
		if err := syscall.Mprotect(mem[bytes:], syscall.PROT_NONE); err != nil {
			t.Fatalf("mprotect: %v", err)
		}
		data = mem[bytes-n*4 : bytes]
	} else {
		if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
			t.Fatalf("mprotect: %v", err)
		}
		data = mem[page : page+n*4]
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&data[0])), n)
}

// TestPageFences runs every kernel on matrices fenced by inaccessible pages:
// the assembly must not read or write one element beyond A, B or C.
func TestPageFences(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {7, 9, 5}, {8, 32, 16}, {6, 16, 4}, {13, 45, 300}, {33, 1, 2}, {1, 33, 7}, {17, 100, 3}}
	withKernel(t, func(t *testing.T, kn *kernel) {
		r := rand.New(rand.NewPCG(12, 13))
		for _, s := range shapes {
			for tr := 0; tr < 8; tr++ {
				transA, transB, atEnd := tr&1 != 0, tr&2 != 0, tr&4 != 0
				for _, pad := range []int{0, 3} {
					o := newOperands(r, transA, transB, s[0], s[1], s[2], pad, 0.5, 1)
					// Move the matrices into fenced memory.
					o.a = append(pageFenced(t, len(o.a), atEnd)[:0], o.a...)
					o.b = append(pageFenced(t, len(o.b), atEnd)[:0], o.b...)
					c := append(pageFenced(t, len(o.c), atEnd)[:0], o.c...)
					Sgemm(transA, transB, o.m, o.n, o.k, o.alpha, o.a, o.lda, o.b, o.ldb, o.beta, c, o.ldc)
					copy(o.c, c) // into the guarded buffer check inspects
					o.check(t, "fenced Sgemm")
				}
			}
		}
	})
}
