package train

import "sync"

// job is a layer operation that can be split over a range of items (samples,
// planes or rows). run handles items [lo, hi) as thread tid.
type job interface {
	run(op, lo, hi, tid int)
}

type task struct {
	j          job
	op, lo, hi int
	tid        int
	done       *sync.WaitGroup
}

var (
	workerMu sync.Mutex
	workerN  int
	workerQ  = make(chan task, 64)
)

// ensureWorkers starts workers until at least n are running. Idle workers
// block on the queue; there are never more than the largest Threads-1 ever
// requested.
func ensureWorkers(n int) {
	workerMu.Lock()
	for workerN < n {
		workerN++
		go func() {
			for t := range workerQ {
				t.j.run(t.op, t.lo, t.hi, t.tid)
				t.done.Done()
			}
		}()
	}
	workerMu.Unlock()
}

// parallel splits items [0, n) into min(threads, n) contiguous chunks, chunk t
// being [t*n/T, (t+1)*n/T), and runs them concurrently; chunk 0 runs on the
// calling goroutine. The split depends only on threads and n. g is the
// calling layer's own WaitGroup, so that nothing is allocated.
func parallel(g *sync.WaitGroup, threads, n int, j job, op int) {
	t := min(threads, n)
	if t <= 1 {
		j.run(op, 0, n, 0)
		return
	}
	ensureWorkers(t - 1)
	g.Add(t - 1)
	for i := 1; i < t; i++ {
		workerQ <- task{j: j, op: op, lo: i * n / t, hi: (i + 1) * n / t, tid: i, done: g}
	}
	j.run(op, 0, n/t, 0)
	g.Wait()
}

// chunks returns how many chunks parallel uses for n items.
func chunks(threads, n int) int {
	return max(min(threads, n), 1)
}
