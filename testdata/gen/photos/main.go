// Command photos writes the photo benchmark's pictures to a directory, to
// look at them: the same pictures, from the same seeds, that the benchmark
// (pkg/fmnist/photobench_test.go) generates in memory and scores.
//
//	go run ./testdata/gen/photos -out /tmp/photos -n 20
//
// It writes FORM/NNNNN-CLASS.jpg (or .png) for each test item 0..n-1 and
// form, and blank/KIND-NN.jpg for the blank pictures. Nothing it writes is
// committed.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fmkit/fmkit/internal/photogen"
	"github.com/fmkit/fmkit/pkg/fmnist"
)

func main() {
	out := flag.String("out", "photos", "directory to write into")
	n := flag.Int("n", 20, "test items per form")
	seed := flag.Uint64("seed", 1, "benchmark seed")
	data := flag.String("data", "", "Fashion-MNIST directory (default: found as fmtrain finds it)")
	forms := flag.String("forms", "", "comma-separated forms (default: all)")
	flag.Parse()
	if err := run(*out, *n, *seed, *data, *forms); err != nil {
		fmt.Fprintln(os.Stderr, "photos:", err)
		os.Exit(1)
	}
}

func run(out string, n int, seed uint64, data, only string) error {
	l := &fmnist.Locator{NoDownload: true}
	dir, err := l.Locate(data)
	if err != nil {
		return err
	}
	set, err := l.LoadTest(dir)
	if err != nil {
		return err
	}
	n = min(n, set.N)
	for _, f := range photogen.Forms {
		if only != "" && !strings.Contains(","+only+",", ","+string(f)+",") {
			continue
		}
		dir := filepath.Join(out, string(f))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			s := photogen.NewSpec(f, photogen.Seed(seed, string(f), i))
			b, err := photogen.Encode(set.Image(i), s)
			if err != nil {
				return err
			}
			name := fmt.Sprintf("%05d-%s%s", i, strings.ReplaceAll(fmnist.ClassNames[set.Labels[i]], "/", "-"), ext(s))
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return err
			}
		}
	}
	if only != "" && !strings.Contains(","+only+",", ",blank,") {
		return nil
	}
	dir = filepath.Join(out, "blank")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, k := range photogen.BlankKinds {
		for i := 0; i < max(1, n/len(photogen.BlankKinds)); i++ {
			s := photogen.NewBlank(k, photogen.Seed(seed, string(k), i))
			b, err := photogen.Encode(nil, s)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%02d%s", k, i, ext(s))), b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func ext(s photogen.Spec) string {
	if s.Quality == 0 {
		return ".png"
	}
	return ".jpg"
}
