package gemm

import (
	"sync"
	"unsafe"
)

// microFunc computes one tile of C = alpha*op(A)*op(B) + beta*C over k steps:
// acc[r][j] = sum_p A[r,p]*B[p,j], summed in the order p = 0..k-1 (one FMA
// per step in the assembly kernels), then C[r,j] = alpha*acc[r][j] + beta*C[r,j] for
// r < mr, j < nr (beta == 0: C is not read). A[r,p] is a[r*rsa+p*csa] and
// B[p,j] is b[p*ldb+j]; the kernel reads all kernel.mr rows of A and
// kernel.nr columns of B, so callers pad edges by packing.
type microFunc func(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mr, nr int)

// kernel describes a micro-kernel and the cache blocking that suits it.
type kernel struct {
	name   string
	mr, nr int // tile of C computed per call
	kc     int // largest k block: the kc x nr B panel is reused from L1
	mc     int // rows of A per block: the mc x kc A block stays in L2
	fn     microFunc
	// fastPack: transpose 8x8 blocks with transpose8 (AVX) when packing.
	fastPack bool
	// narrow, if set, is used instead when n <= narrow.nr: a kernel with
	// fewer columns wastes less of each tile.
	narrow *kernel
}

// active is the kernel Sgemm uses; tests switch it to cover every path.
var active = availableKernels()[0]

// plan holds the choices made once per call from the whole problem's shape,
// so that every thread of a split call makes the same ones.
type plan struct {
	kern    *kernel
	directA bool // read full A panels in place instead of packing them
	directB bool // read full B panels in place (only without transB)
}

func makePlan(kern *kernel, transA, transB bool, m, n, k int) plan {
	if kern.narrow != nil && n <= kern.narrow.nr {
		kern = kern.narrow
	}
	p := plan{kern: kern}
	// A stored transposed already has the packed layout (the mr values of
	// a step are adjacent), so it is always read in place. A plain A is
	// packed (a transposition, one pass over A) unless there are at most
	// two B panels to amortise that pass over or A is small enough to stay
	// in L2 (directALimit); the kernel then reads its mr rows in place as
	// mr streams.
	nPanelsB := (n + kern.nr - 1) / kern.nr
	p.directA = transA || nPanelsB <= 2 || m*k <= directALimit
	// A B panel read in place is re-read for every A panel; its rows are
	// ldb apart, which can alias in L1. Pack unless it is used only a few
	// times.
	p.directB = !transB && (m+kern.mr-1)/kern.mr <= 4
	return p
}

// directALimit is the size (m*k values) up to which a plain A is read in
// place whatever the number of B panels: such an A stays in L2 across the
// panels, and the 8 row streams cost less than transposing it on every
// call (the convolutions' weights: conv2 64 x 288, conv3 128 x 576, where
// packing cost 3 to 15% of the product).
const directALimit = 1 << 17

// workspace holds the packing buffers of one goroutine.
type workspace struct {
	ap []float32 // packed A block: mc x kc, as mc/mr panels of kc x mr
	bp []float32 // packed B panel: kc x nr
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// alignedFloats returns a zeroed slice of n float32s starting on a 64-byte
// boundary (a cache line and a ZMM register).
func alignedFloats(n int) []float32 {
	buf := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return buf[off : off+n : off+n]
}

func (w *workspace) ensure(k *kernel) {
	if na := roundUp(k.mc, k.mr) * k.kc; len(w.ap) < na {
		w.ap = alignedFloats(na)
	}
	if nb := k.kc * k.nr; len(w.bp) < nb {
		w.bp = alignedFloats(nb)
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// run computes the m x n block of C = alpha*op(A)*op(B) + beta*C whose
// top-left element is c[0]; a and b start at that block's first row of op(A)
// and first column of op(B). k >= 1, alpha != 0.
func (p plan) run(w *workspace, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kn := p.kern
	w.ensure(kn)
	MR, NR := kn.mr, kn.nr
	// op(A)[i,q] = a[i*rsa + q*csa].
	rsa, csa := lda, 1
	if transA {
		rsa, csa = 1, lda
	}
	// k blocks of equal depth (at most kn.kc): no thin last block that
	// would sweep C once more for little work. They depend on k alone, so
	// every thread and every kernel with the same kc sums in the same order.
	kcb := (k + kn.kc - 1) / kn.kc
	kcb = (k + kcb - 1) / kcb
	for ic := 0; ic < m; ic += kn.mc {
		mc := min(kn.mc, m-ic)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			// Pack the A block; in place, only a ragged last panel.
			for ir := 0; ir < mc; ir += MR {
				mr := min(MR, mc-ir)
				if p.directA && mr == MR {
					continue
				}
				packA(w.ap[ir*kc:(ir+MR)*kc], a[(ic+ir)*rsa+pc*csa:], rsa, csa, mr, kc, MR, kn.fastPack)
			}
			for jr := 0; jr < n; jr += NR {
				nr := min(NR, n-jr)
				bp, ldbp := w.bp, NR
				if p.directB && nr == NR {
					bp, ldbp = b[pc*ldb+jr:], ldb
				} else if transB {
					packBT(w.bp[:kc*NR], b[jr*ldb+pc:], ldb, kc, nr, NR, kn.fastPack)
				} else {
					packBN(w.bp[:kc*NR], b[pc*ldb+jr:], ldb, kc, nr, NR)
				}
				for ir := 0; ir < mc; ir += MR {
					mr := min(MR, mc-ir)
					ci := c[(ic+ir)*ldc+jr:]
					if p.directA && mr == MR {
						kn.fn(kc, a[(ic+ir)*rsa+pc*csa:], rsa, csa, bp, ldbp, ci, ldc, alpha, bet, mr, nr)
					} else {
						kn.fn(kc, w.ap[ir*kc:], 1, MR, bp, ldbp, ci, ldc, alpha, bet, mr, nr)
					}
				}
			}
		}
	}
}

// packA copies the mr x kc block A[r,q] = a[r*rsa+q*csa] into dst as kc
// columns of MR values (dst[q*MR+r]), zero-filling rows mr..MR-1.
func packA(dst, a []float32, rsa, csa, mr, kc, MR int, fast bool) {
	dst = dst[:kc*MR]
	switch {
	case csa != 1:
		// Columns of A are contiguous (rsa == 1): copy them whole.
		for q := 0; q < kc; q++ {
			copy(dst[q*MR:q*MR+mr], a[q*csa:q*csa+mr])
		}
	case fast && MR == 8 && mr == 8:
		// Rows of A are contiguous: transpose 8x8 blocks, then the rest.
		nb := kc / 8
		transpose8(dst, 8, a, rsa, nb)
		transposeGo(dst[nb*8*MR:], MR, a[nb*8:], rsa, mr, kc-nb*8)
	default:
		transposeGo(dst, MR, a, rsa, mr, kc)
	}
	if mr < MR {
		for q := 0; q < kc; q++ {
			clear(dst[q*MR+mr : q*MR+MR])
		}
	}
}

// transposeGo sets dst[q*ldd+r] = src[r*lds+q] for r < rows, q < cols.
func transposeGo(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := src[r*lds : r*lds+cols]
		for q, v := range row {
			dst[q*ldd+r] = v
		}
	}
}

// packBN copies the kc x nr block B[q,j] = b[q*ldb+j] into dst as kc rows of
// NR values, zero-filling columns nr..NR-1.
func packBN(dst, b []float32, ldb, kc, nr, NR int) {
	for q := 0; q < kc; q++ {
		row := dst[q*NR : q*NR+NR]
		copy(row, b[q*ldb:q*ldb+nr])
		clear(row[nr:])
	}
}

// packBT copies the kc x nr block B[q,j] = b[j*ldb+q] (B stored transposed)
// into dst as kc rows of NR values, zero-filling columns nr..NR-1.
func packBT(dst, b []float32, ldb, kc, nr, NR int, fast bool) {
	j := 0
	if fast {
		nb := kc / 8
		for ; j+8 <= nr; j += 8 {
			transpose8(dst[j:], NR, b[j*ldb:], ldb, nb)
			if nb*8 < kc {
				transposeGo(dst[nb*8*NR+j:], NR, b[j*ldb+nb*8:], ldb, 8, kc-nb*8)
			}
		}
	}
	if j < nr {
		transposeGo(dst[j:], NR, b[j*ldb:], ldb, nr-j, kc)
	}
	if nr < NR {
		for q := 0; q < kc; q++ {
			clear(dst[q*NR+nr : q*NR+NR])
		}
	}
}
