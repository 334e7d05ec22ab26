package fmnist

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// realDir returns the directory of the real dataset, or skips the test.
func realDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv(EnvDataDir)
	if d == "" {
		d = DefaultSystemDir
	}
	l := &Locator{}
	if m, err := l.missing(d); err != nil || len(m) > 0 {
		t.Skipf("Fashion-MNIST not in %s (missing %v): install dataset-fashion-mnist or set $%s", d, m, EnvDataDir)
	}
	return d
}

func TestRealData(t *testing.T) {
	dir := realDir(t)
	l := &Locator{CacheDir: t.TempDir(), NoDownload: true}
	got, err := l.Locate(dir)
	if err != nil {
		t.Fatal(err)
	}
	train, err := l.LoadTrain(got)
	if err != nil {
		t.Fatal(err)
	}
	test, err := l.LoadTest(got)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 {
		t.Fatalf("train %d, test %d examples, want 60000 and 10000", train.N, test.N)
	}
	for _, s := range []*Set{train, test} {
		if s.Rows != 28 || s.Cols != 28 || len(s.Images) != s.N*784 || len(s.Labels) != s.N {
			t.Fatalf("set of %d is %dx%d with %d image bytes and %d labels", s.N, s.Rows, s.Cols, len(s.Images), len(s.Labels))
		}
	}
	if l := train.Labels; l[0] != 9 || l[1] != 0 || l[2] != 0 || l[len(l)-1] != 5 {
		t.Errorf("train labels begin %v and end %d, want 9 0 0 ... 5", l[:3], l[len(l)-1])
	}
	if test.Labels[0] != 9 {
		t.Errorf("test label 0 is %d, want 9", test.Labels[0])
	}
	// Locate verified every checksum and stamped it.
	for _, s := range canonicalSpecs {
		p := findFile(got, s.Name)
		st, _ := os.Stat(p)
		if !l.stamped(p, st, s) {
			t.Errorf("%s: not verified", p)
		}
	}
}

// fakeData writes a tiny dataset (two files per split) into dir, gzipped or
// raw, and returns specs describing exactly those files.
func fakeData(t *testing.T, dir string, gzipped bool) []fileSpec {
	t.Helper()
	ext := ""
	if gzipped {
		ext = ".gz"
	}
	imgs := make([]uint8, 2*28*28)
	for i := range imgs {
		imgs[i] = uint8(i % 251)
	}
	var specs []fileSpec
	for _, split := range []string{"train", "t10k"} {
		ip := filepath.Join(dir, split+"-images-idx3-ubyte"+ext)
		lp := filepath.Join(dir, split+"-labels-idx1-ubyte"+ext)
		if err := WriteImages(ip, imgs, 2, 28, 28); err != nil {
			t.Fatal(err)
		}
		if err := WriteLabels(lp, []uint8{9, 0}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{ip, lp} {
			f, _ := os.Open(p)
			sum, size, _, err := hashStream(f, 1<<30)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			nd := 1
			if strings.Contains(p, "images") {
				nd = 3
			}
			specs = append(specs, fileSpec{strings.TrimSuffix(filepath.Base(p), ".gz"), size, hex.EncodeToString(sum), nd, 2})
		}
	}
	return specs
}

// fileServer serves the .gz files of dir, counting requests.
func fileServer(t *testing.T, dir string, corrupt string) (*httptest.Server, *int) {
	n := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*n++
		b, err := os.ReadFile(filepath.Join(dir, filepath.Base(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(filepath.Base(r.URL.Path), corrupt) && corrupt != "" {
			b = gz(append([]byte{0, 0, 8, 3}, make([]byte, 100)...))
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, n
}

func newTestLocator(t *testing.T, specs []fileSpec) *Locator {
	return &Locator{
		CacheDir:  t.TempDir(),
		SystemDir: filepath.Join(t.TempDir(), "none"),
		Getenv:    func(string) string { return "" },
		specs:     specs,
	}
}

func TestLocateOrder(t *testing.T) {
	src := t.TempDir()
	specs := fakeData(t, src, true)
	env := t.TempDir()
	fakeData(t, env, false)
	l := newTestLocator(t, specs)
	l.NoDownload = true

	if _, err := l.Locate(""); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("empty world: %v", err)
	}
	l.SystemDir = src
	if got, err := l.Locate(""); err != nil || got != src {
		t.Errorf("system dir: %q %v", got, err)
	}
	// $FMNIST_DATA holds raw files: they are used, and they are preferred.
	l.Getenv = func(k string) string {
		if k == EnvDataDir {
			return env
		}
		return ""
	}
	// The raw files in env have the same decompressed content as src's.
	if got, err := l.Locate(""); err != nil || got != env {
		t.Errorf("$FMNIST_DATA: %q %v, want %q", got, err, env)
	}
	if got, err := l.Locate(src); err != nil || got != src {
		t.Errorf("explicit dir: %q %v", got, err)
	}
	empty := t.TempDir()
	if _, err := l.Locate(empty); err == nil || !strings.Contains(err.Error(), "missing train-images-idx3-ubyte") {
		t.Errorf("explicit empty dir: %v", err)
	}
	s, err := l.LoadTest(src)
	if err != nil || s.N != 2 || s.Labels[0] != 9 {
		t.Errorf("LoadTest: %+v %v", s, err)
	}
}

func TestVerifyStamp(t *testing.T) {
	src := t.TempDir()
	specs := fakeData(t, src, true)
	l := newTestLocator(t, specs)
	if _, err := l.Locate(src); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(src, specs[0].Name+".gz"))
	if !l.stamped(filepath.Join(src, specs[0].Name+".gz"), st, specs[0]) {
		t.Fatal("no stamp after a successful verification")
	}
	// Same size, new content and mtime: the stamp no longer vouches.
	p := filepath.Join(src, specs[1].Name+".gz")
	if err := WriteLabels(p, []uint8{1, 1}); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	_, err := l.Locate(src)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.File != p || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("after replacing a file: %v", err)
	}
	if _, err := l.LoadTrain(src); !errors.As(err, &ce) {
		t.Fatalf("LoadTrain after replacing a file: %v", err)
	}
	// An unwritable cache never fails a load.
	l.CacheDir = "/proc/no/such/dir"
	if err := WriteLabels(p, []uint8{9, 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Locate(src); err != nil {
		t.Fatalf("with an unwritable cache: %v", err)
	}
}

// TestStampSeesAFileRewrittenInPlace rewrites a verified label file in
// place, same size, and sets its modification time back: the stamp must no
// longer vouch for it (its inode change time moved), so the next Locate
// hashes the file and refuses it. Reverify hashes whatever the stamps say.
func TestStampSeesAFileRewrittenInPlace(t *testing.T) {
	src := t.TempDir()
	specs := fakeData(t, src, false) // raw files, rewritable byte for byte
	l := newTestLocator(t, specs)
	if _, err := l.Locate(src); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(src, specs[1].Name)
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if !l.stamped(p, before, specs[1]) {
		t.Fatal("no stamp after a successful verification")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = (b[len(b)-1] + 1) % NumClasses
	f, err := os.OpenFile(p, os.O_WRONLY, 0) // in place: same inode, same size
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(p, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the rewrite changed size or mtime: %v %v", after.Size(), after.ModTime())
	}
	var ce *ChecksumError
	if _, err := l.Locate(src); !errors.As(err, &ce) || ce.File != p {
		t.Fatalf("Locate after an in-place rewrite with the mtime restored: %v, want a checksum error for %s", err, p)
	}
	if _, err := l.LoadTrain(src); !errors.As(err, &ce) {
		t.Fatalf("LoadTrain after the rewrite: %v", err)
	}

	// Reverify: a good stamp is not trusted, a bad file is found.
	b[len(b)-1] = (b[len(b)-1] + NumClasses - 1) % NumClasses
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Locate(src); err != nil {
		t.Fatalf("after restoring the file: %v", err)
	}
	st, _ := os.Stat(p)
	if !l.stamped(p, st, specs[1]) {
		t.Fatal("not stamped again")
	}
	l.NoStamps = true
	if l.stamped(p, st, specs[1]) {
		t.Error("NoStamps: a stamp still vouches")
	}
}

// TestUnreadableIsNotMissing: a file that cannot be examined (here a
// symbolic-link loop, which even root cannot follow) and a directory that
// cannot be listed are reported as such, never as missing files.
func TestUnreadableIsNotMissing(t *testing.T) {
	src := t.TempDir()
	specs := fakeData(t, src, true)
	l := newTestLocator(t, specs)
	loop := filepath.Join(src, specs[0].Name+".gz")
	if err := os.Remove(loop); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	_, err := l.Locate(src)
	if err == nil || !strings.Contains(err.Error(), "cannot be read") || strings.Contains(err.Error(), "missing") {
		t.Errorf("a symbolic-link loop: %v", err)
	}
	if _, err := l.Locate(filepath.Join(src, specs[1].Name+".gz")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file given as the directory: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: directory permissions are not enforced; the e2e catalogue checks an unreadable directory as another user")
		return
	}
	locked := t.TempDir()
	fakeData(t, locked, true)
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	if _, err := l.Locate(locked); err == nil || !strings.Contains(err.Error(), "cannot be read") || !errors.Is(err, os.ErrPermission) {
		t.Errorf("an unreadable directory: %v", err)
	}
}

func TestChecksumHints(t *testing.T) {
	dir := t.TempDir()
	l := newTestLocator(t, nil)
	mnist := append(be32(MagicLabels, 60000), mnistTrainLabels...)
	mnist = append(mnist, make([]byte, 60000-10)...)
	p := filepath.Join(dir, "train-labels-idx1-ubyte")
	os.WriteFile(p, mnist, 0o644)
	err := l.verifyFile(p, canonicalSpecs[1])
	if err == nil || !strings.Contains(err.Error(), "MNIST's handwritten-digit labels") {
		t.Errorf("MNIST labels: %v", err)
	}
	os.WriteFile(p, mnist[:100], 0o644)
	if err := l.verifyFile(p, canonicalSpecs[1]); err == nil || !strings.Contains(err.Error(), "short") {
		t.Errorf("short file: %v", err)
	}
	p = filepath.Join(dir, "t10k-images-idx3-ubyte")
	os.WriteFile(p, make([]byte, 7840016), 0o644)
	if err := l.verifyFile(p, canonicalSpecs[2]); err == nil || !strings.Contains(err.Error(), "may be MNIST") {
		t.Errorf("same-size file: %v", err)
	}
}

func TestDownload(t *testing.T) {
	src := t.TempDir()
	specs := fakeData(t, src, true)
	srv, hits := fileServer(t, src, "")
	l := newTestLocator(t, specs)
	l.BaseURL = srv.URL + "/"
	var log strings.Builder
	l.Progress = &log
	got, err := l.Locate("")
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(l.CacheDir, "fashion-mnist") || *hits != 4 || strings.Count(log.String(), "downloading") != 4 {
		t.Fatalf("downloaded into %q with %d requests", got, *hits)
	}
	s, err := l.LoadTrain(got)
	if err != nil || s.N != 2 {
		t.Fatalf("LoadTrain: %v", err)
	}
	// Found in the cache now: no more requests.
	if _, err := l.Locate(""); err != nil || *hits != 4 {
		t.Errorf("second Locate: %v, %d requests", err, *hits)
	}
}

func TestDownloadCorrupt(t *testing.T) {
	src := t.TempDir()
	specs := fakeData(t, src, true)
	srv, _ := fileServer(t, src, "t10k-images")
	l := newTestLocator(t, specs)
	l.BaseURL = srv.URL + "/"
	_, err := l.Locate("")
	var ce *ChecksumError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte") {
		t.Fatalf("corrupt download: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(l.CacheDir, "fashion-mnist"))
	if len(ents) != 0 {
		t.Errorf("the cache holds %d files after a failed download", len(ents))
	}
}

func TestDownloadUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	l := newTestLocator(t, canonicalSpecs)
	l.BaseURL = url + "/"
	_, err := l.Locate("")
	if err == nil || !strings.Contains(err.Error(), "downloading it failed") || !strings.Contains(err.Error(), EnvDataDir) {
		t.Fatalf("unreachable: %v", err)
	}
	// 404 is an error too.
	srv2, _ := fileServer(t, t.TempDir(), "")
	l.BaseURL = srv2.URL + "/"
	if _, err := l.Locate(""); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
}

// BenchmarkLoadTrain_Verified loads the 60,000 training examples with a valid
// stamp (decompression only); BenchmarkLoadTrain_Hashing hashes while parsing.
func BenchmarkLoadTrain_Verified(b *testing.B) {
	dir := realDir(b)
	l := &Locator{CacheDir: b.TempDir(), NoDownload: true}
	if _, err := l.Locate(dir); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(47040016 + 60008)
	for b.Loop() {
		if _, err := l.LoadTrain(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadTrain_Hashing(b *testing.B) {
	dir := realDir(b)
	b.SetBytes(47040016 + 60008)
	for b.Loop() {
		l := &Locator{CacheDir: b.TempDir(), NoDownload: true}
		if _, err := l.LoadTrain(dir); err != nil {
			b.Fatal(err)
		}
	}
}
