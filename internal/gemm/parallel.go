package gemm

import (
	"runtime"
	"sync"
)

// minParallelFlops is the problem size (2*m*n*k) below which SgemmParallel
// runs on the calling goroutine: waking a worker costs a few microseconds,
// and 1 MFLOP takes 5 to 10 microseconds on one core.
const minParallelFlops = 1 << 20

// maxThreads caps the threads argument of SgemmParallel.
const maxThreads = 64

// SgemmParallel is Sgemm with the work split over up to threads goroutines
// (the caller's and threads-1 pool workers). C is split into blocks of whole
// rows or whole columns, never along k, and every element is computed by
// the same kernel with the same k blocking, so the result is bit-identical
// to Sgemm's whatever threads is. threads is capped at GOMAXPROCS;
// threads <= 1, or a problem too small to gain (under about 1 MFLOP), runs
// on the calling goroutine.
//
// The pool workers are started on first use, one per extra thread ever
// requested (at most 63), and then stay parked on a channel for the life of
// the process: they are reused by every later call and never accumulate.
// SgemmParallel is safe for concurrent use; concurrent calls share the
// workers.
func SgemmParallel(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	p := makePlan(active, transA, transB, m, n, k)
	kern := p.kern
	threads = min(threads, maxThreads, runtime.GOMAXPROCS(0))
	tilesM := (m + kern.mr - 1) / kern.mr
	tilesN := (n + kern.nr - 1) / kern.nr
	// Split the dimension with more tiles, so that each part keeps whole
	// tiles and duplicates the least packing.
	alongN := tilesN >= tilesM
	tiles := tilesM
	if alongN {
		tiles = tilesN
	}
	threads = min(threads, tiles)
	if threads <= 1 || k == 0 || alpha == 0 || 2*float64(m)*float64(n)*float64(k) < minParallelFlops {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	j := jobs.Get().(*job)
	*j = job{
		plan:   p,
		transA: transA, transB: transB,
		m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
		alongN: alongN, tiles: tiles, parts: threads,
	}
	startWorkers(threads - 1)
	j.wg.Add(threads - 1)
	for t := 1; t < threads; t++ {
		tasks <- task{j, t}
	}
	j.part(0)
	j.wg.Wait()
	*j = job{}
	jobs.Put(j)
}

// job is one SgemmParallel call, shared by the goroutines working on it.
type job struct {
	plan           plan
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	alongN         bool
	tiles, parts   int
	wg             sync.WaitGroup
}

var jobs = sync.Pool{New: func() any { return new(job) }}

// part computes part t of parts: a contiguous range of whole tiles of C.
func (j *job) part(t int) {
	lo := t * j.tiles / j.parts
	hi := (t + 1) * j.tiles / j.parts
	w := workspaces.Get().(*workspace)
	defer workspaces.Put(w)
	kn := j.plan.kern
	if j.alongN {
		c0, c1 := lo*kn.nr, min(hi*kn.nr, j.n)
		var b []float32 // starts at column c0 of op(B)
		if j.transB {
			b = j.b[c0*j.ldb:]
		} else {
			b = j.b[c0:]
		}
		j.plan.run(w, j.transA, j.transB, j.m, c1-c0, j.k, j.alpha, j.a, j.lda, b, j.ldb, j.beta, j.c[c0:], j.ldc)
		return
	}
	r0, r1 := lo*kn.mr, min(hi*kn.mr, j.m)
	var a []float32 // starts at row r0 of op(A)
	if j.transA {
		a = j.a[r0:]
	} else {
		a = j.a[r0*j.lda:]
	}
	j.plan.run(w, j.transA, j.transB, r1-r0, j.n, j.k, j.alpha, a, j.lda, j.b, j.ldb, j.beta, j.c[r0*j.ldc:], j.ldc)
}

type task struct {
	j *job
	t int
}

var (
	tasks      = make(chan task)
	workersMu  sync.Mutex
	numWorkers int
)

// startWorkers makes sure at least n pool workers exist.
func startWorkers(n int) {
	workersMu.Lock()
	defer workersMu.Unlock()
	for ; numWorkers < n; numWorkers++ {
		go worker()
	}
}

func worker() {
	for t := range tasks {
		t.j.part(t.t)
		t.j.wg.Done()
	}
}
