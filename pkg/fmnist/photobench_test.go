package fmnist_test

import (
	"bytes"
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fmkit/fmkit/internal/photogen"
	"github.com/fmkit/fmkit/models"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	"github.com/fmkit/fmkit/pkg/train"
)

// The photo benchmark: internal/photogen turns the first photoItems test
// items into each form of user picture, Preprocess turns the pictures back
// into model inputs, and the default model scores them. The gates are issue
// 12's: every form within 5 points of the same items as dataset PNGs, the
// shop JPEGs with noise within 3 points of the same JPEGs without it,
// EXIF-stored pictures within 1 point of their upright twins, at least 95% of
// blank pictures flagged as holding no item and at most 1% of the real items.
var (
	photoItems  = flag.Int("photos.n", 1000, "photo benchmark: test items per form")
	photoBlanks = flag.Int("photos.blanks", 100, "photo benchmark: blank pictures per kind")
	photoSeed   = flag.Uint64("photos.seed", 1, "photo benchmark: seed")
	photoForms  = flag.String("photos.forms", "", "photo benchmark: comma-separated forms to run (default: all)")
)

// photoScore is one form's outcome.
type photoScore struct {
	form          string
	n             int
	correct       int
	flagged       int // reported as holding no item
	twinCorrect   int // the twin's score (upright for exif, noiseless for shop-noise)
	failed        []string
	twin          bool
	flagExamples  []string
	ms            float64
	reasonsByKind map[string]int
}

func (s *photoScore) acc() float64     { return float64(s.correct) / float64(s.n) }
func (s *photoScore) twinAcc() float64 { return float64(s.twinCorrect) / float64(s.n) }

// twinOf returns the spec a form is compared with, if any: the upright twin
// of an EXIF-stored picture, the noiseless twin of a noisy shop picture.
func twinOf(f photogen.Form, s photogen.Spec) (photogen.Spec, bool) {
	switch f {
	case photogen.Exif:
		s.Orientation, s.BigEndianExif = 0, false
		return s, true
	case photogen.ShopNoise:
		s.Noise = 0
		return s, true
	}
	return s, false
}

func wanted(f string) bool {
	return *photoForms == "" || strings.Contains(","+*photoForms+",", ","+f+",")
}

// localTestSet loads the test set from this machine, or skips the test.
func localTestSet(t *testing.T) *fmnist.Set {
	t.Helper()
	dir, err := (&fmnist.Locator{NoDownload: true}).Locate("")
	if err != nil {
		t.Skip("no dataset:", err)
	}
	set, err := (&fmnist.Locator{NoDownload: true}).LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestPhotoBenchmark(t *testing.T) {
	if testing.Short() {
		t.Skip("the photo benchmark takes minutes; run without -short (make test-long)")
	}
	set := localTestSet(t)
	model, _, err := onnxexport.Import(models.Default)
	if err != nil {
		t.Fatal(err)
	}
	n := min(*photoItems, set.N)
	predict := func(inputs [][]float32) []int {
		x := make([]float32, 0, len(inputs)*fmnist.Size*fmnist.Size)
		for _, in := range inputs {
			x = append(x, in...)
		}
		p := model.Predict(x, len(inputs), nil)
		out := make([]int, len(inputs))
		for i := range out {
			out[i] = train.Argmax(p[i*fmnist.NumClasses : (i+1)*fmnist.NumClasses])
		}
		return out
	}

	// The reference: the same items as dataset PNGs.
	ref := &photoScore{form: "dataset-png", n: n}
	{
		inputs := make([][]float32, n)
		for i := range inputs {
			inputs[i] = make([]float32, fmnist.Size*fmnist.Size)
			fmnist.Scale(inputs[i], set.Image(i))
		}
		for i, k := range predict(inputs) {
			if k == int(set.Labels[i]) {
				ref.correct++
			}
		}
	}

	var scores []*photoScore
	items := 0
	for _, f := range photogen.Forms {
		if !wanted(string(f)) {
			continue
		}
		sc := runForm(t, f, n, set, predict)
		scores = append(scores, sc)
		items += sc.n
	}
	var blanks []*photoScore
	if wanted("blank") {
		for _, k := range photogen.BlankKinds {
			blanks = append(blanks, runBlank(t, k, *photoBlanks))
		}
	}

	t.Logf("%-14s %6s %8s %8s %8s %8s", "form", "n", "acc", "vs png", "no-item", "ms/pic")
	t.Logf("%-14s %6d %8.4f", ref.form, ref.n, ref.acc())
	flaggedReal := 0
	for _, s := range scores {
		line := fmt.Sprintf("%-14s %6d %8.4f %+8.4f %8d %8.1f", s.form, s.n, s.acc(), s.acc()-ref.acc(), s.flagged, s.ms)
		if s.twin {
			line += fmt.Sprintf("   twin %.4f (%+.4f)", s.twinAcc(), s.acc()-s.twinAcc())
		}
		t.Log(line)
		flaggedReal += s.flagged
		for _, e := range s.flagExamples {
			t.Logf("    flagged: %s", e)
		}
		if d := ref.acc() - s.acc(); d > 0.05 {
			t.Errorf("%s: accuracy %.4f is %.1f points below the dataset PNGs' %.4f (at most 5)", s.form, s.acc(), 100*d, ref.acc())
		}
		switch photogen.Form(s.form) {
		case photogen.Exif:
			if d := s.acc() - s.twinAcc(); d < -0.01 || d > 0.01 {
				t.Errorf("exif: %.4f against %.4f upright: more than 1 point apart", s.acc(), s.twinAcc())
			}
		case photogen.ShopNoise:
			if d := s.twinAcc() - s.acc(); d > 0.03 {
				t.Errorf("shop-noise: %.4f against %.4f without noise: more than 3 points below", s.acc(), s.twinAcc())
			}
		}
	}
	if items > 0 {
		rate := float64(flaggedReal) / float64(items)
		t.Logf("real items flagged as holding no item: %d of %d (%.2f%%)", flaggedReal, items, 100*rate)
		if rate > 0.01 {
			t.Errorf("%.2f%% of real items flagged as holding no item; want at most 1%%", 100*rate)
		}
	}
	if len(blanks) > 0 {
		total, flagged := 0, 0
		for _, b := range blanks {
			total += b.n
			flagged += b.flagged
			var rs []string
			for r, c := range b.reasonsByKind {
				rs = append(rs, fmt.Sprintf("%d %q", c, r))
			}
			sort.Strings(rs)
			t.Logf("blank %-9s %4d of %4d flagged; reasons: %s", b.form, b.flagged, b.n, strings.Join(rs, ", "))
			for _, e := range b.failed {
				t.Logf("    not flagged: %s", e)
			}
		}
		rate := float64(flagged) / float64(total)
		t.Logf("blank pictures flagged: %d of %d (%.2f%%)", flagged, total, 100*rate)
		if rate < 0.95 {
			t.Errorf("only %.2f%% of blank pictures flagged; want at least 95%%", 100*rate)
		}
	}
}

// runForm makes and scores n pictures of form f (and their twins).
func runForm(t *testing.T, f photogen.Form, n int, set *fmnist.Set, predict func([][]float32) []int) *photoScore {
	sc := &photoScore{form: string(f), n: n}
	inputs := make([][]float32, n)
	twins := make([][]float32, n)
	flagged := make([]string, n)
	var ns, total int64
	var mu sync.Mutex
	parallel(n, func(i int) {
		spec := photogen.NewSpec(f, photogen.Seed(*photoSeed, string(f), i))
		data, err := photogen.Encode(set.Image(i), spec)
		if err != nil {
			t.Error(err)
			return
		}
		p, dt := preprocessTimed(t, data)
		mu.Lock()
		ns += dt
		total++
		mu.Unlock()
		inputs[i] = p.Input
		if p.NoObject {
			flagged[i] = fmt.Sprintf("item %d (%s): %s", i, fmnist.ClassNames[set.Labels[i]], p.Reason)
		}
		if ts, ok := twinOf(f, spec); ok {
			data, err := photogen.Encode(set.Image(i), ts)
			if err != nil {
				t.Error(err)
				return
			}
			q, _ := preprocessTimed(t, data)
			twins[i] = q.Input
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	for i, k := range predict(inputs) {
		if flagged[i] != "" {
			sc.flagged++
			if len(sc.flagExamples) < 5 {
				sc.flagExamples = append(sc.flagExamples, flagged[i])
			}
			continue // a flagged item is a failed input, never a class
		}
		if k == int(set.Labels[i]) {
			sc.correct++
		}
	}
	if twins[0] != nil {
		sc.twin = true
		for i, k := range predict(twins) {
			if k == int(set.Labels[i]) {
				sc.twinCorrect++
			}
		}
	}
	sc.ms = float64(ns) / float64(total) / 1e6
	return sc
}

// runBlank makes n blank pictures of kind k and counts those flagged.
func runBlank(t *testing.T, k photogen.BlankKind, n int) *photoScore {
	sc := &photoScore{form: string(k), n: n, reasonsByKind: map[string]int{}}
	reasons := make([]string, n)
	flagged := make([]bool, n)
	parallel(n, func(i int) {
		spec := photogen.NewBlank(k, photogen.Seed(*photoSeed, string(k), i))
		data, err := photogen.Encode(nil, spec)
		if err != nil {
			t.Error(err)
			return
		}
		p, _ := preprocessTimed(t, data)
		flagged[i], reasons[i] = p.NoObject, p.Reason
		if !p.NoObject {
			reasons[i] = fmt.Sprintf("%d: %dx%d box %v", i, spec.Width, spec.Height, p.Box)
		}
	})
	for i := range flagged {
		if flagged[i] {
			sc.flagged++
			sc.reasonsByKind[reasons[i]]++
		} else if len(sc.failed) < 5 {
			sc.failed = append(sc.failed, reasons[i])
		}
	}
	return sc
}

func preprocessTimed(t *testing.T, data []byte) (*fmnist.Preprocessed, int64) {
	start := time.Now()
	p, err := fmnist.Preprocess(bytes.NewReader(data), fmnist.PreprocessOptions{})
	dt := time.Since(start).Nanoseconds()
	if err != nil {
		t.Fatalf("preprocess: %v", err)
	}
	return p, dt
}

// parallel runs f(0..n-1) on every CPU.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
