package fmnist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fmkit/fmkit/internal/userpath"
)

// Where the dataset is looked for and fetched from.
const (
	// EnvDataDir names the environment variable that points at a directory
	// holding the four files.
	EnvDataDir = "FMNIST_DATA"
	// DefaultSystemDir is where Debian's dataset-fashion-mnist package puts
	// the files.
	DefaultSystemDir = "/usr/share/datasets/fashion-mnist"
	// DefaultBaseURL is the canonical Fashion-MNIST download location; a file
	// is fetched from DefaultBaseURL + name + ".gz".
	DefaultBaseURL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
	// DefaultDownloadTimeout bounds one whole download with the default client.
	DefaultDownloadTimeout = 10 * time.Minute
)

// fileSpec describes one of the four dataset files by its decompressed content.
type fileSpec struct {
	Name   string // file name without ".gz"
	Size   int64  // decompressed size in bytes
	SHA256 string // of the decompressed content
	NDims  int    // 3 for images, 1 for labels
	N      int    // number of examples
}

// The four files of Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), verified by
// the SHA-256 of their decompressed content: Debian recompresses the .gz files,
// so only the decompressed bytes are the same everywhere.
var canonicalSpecs = []fileSpec{
	{"train-images-idx3-ubyte", 47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 3, 60000},
	{"train-labels-idx1-ubyte", 60008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 1, 60000},
	{"t10k-images-idx3-ubyte", 7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 3, 10000},
	{"t10k-labels-idx1-ubyte", 10008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 1, 10000},
}

// The first ten labels of MNIST's (handwritten digits) training and test
// label files. MNIST uses the same file names and sizes as Fashion-MNIST, and
// is the classic thing to find in their place.
var (
	mnistTrainLabels = []byte{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}
	mnistTestLabels  = []byte{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}
)

// Locator finds, verifies, downloads and loads the dataset. The zero value
// uses the defaults documented on each field; tests point the fields at
// temporary directories and an httptest server.
type Locator struct {
	// BaseURL is where missing files are downloaded from (name + ".gz" is
	// appended); "" means DefaultBaseURL.
	BaseURL string
	// Client does the downloads; nil means a client with
	// DefaultDownloadTimeout.
	Client *http.Client
	// NoDownload turns the download off: Locate fails when no directory
	// holds the files.
	NoDownload bool
	// CacheDir holds the downloaded dataset (CacheDir/fashion-mnist) and the
	// verification stamps (CacheDir/verified.json); "" means
	// os.UserCacheDir()/fmkit. When no cache directory can be found,
	// downloads and stamps are skipped.
	CacheDir string
	// SystemDir is the system-wide directory; "" means DefaultSystemDir.
	SystemDir string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Progress, if not nil, receives one line per downloaded file.
	Progress io.Writer
	// NoStamps hashes every file even when a stamp vouches for it (the
	// stamps are still written).
	NoStamps bool

	specs []fileSpec // nil means canonicalSpecs; tests substitute small files
}

var defaultLocator Locator

// Locate returns the absolute path of a directory holding the four
// Fashion-MNIST files, each as name or name.gz, all verified by checksum.
// It looks, in order, in dir (a flag; "" for none), $FMNIST_DATA,
// /usr/share/datasets/fashion-mnist and the user cache directory
// (os.UserCacheDir()/fmkit/fashion-mnist); when none holds the files it
// downloads them into the cache from DefaultBaseURL. A directory given
// explicitly (dir or $FMNIST_DATA) must hold the files: Locate does not fall
// back to other places when the user named one.
//
// Verification hashes the decompressed content of each file; the result is
// remembered in a stamp keyed by absolute path and recording the file's size,
// modification time, device, inode and inode change time, so later runs only
// stat the files. Any change to a file changes its inode change time (which,
// unlike the modification time, no user can set back), so a file rewritten
// in place is hashed again. Reverify ignores the stamps.
func Locate(dir string) (string, error) { return defaultLocator.Locate(dir) }

// LocateTrain is Locate for the two training files only: it neither
// opens, verifies nor requires the test files, for a run that validates on
// a split of the training samples and must not read the test set.
func LocateTrain(dir string) (string, error) {
	l := defaultLocator
	l.specs = l.specList()[:2]
	return l.Locate(dir)
}

// Reverify is Locate with every file hashed again whatever the stamps say
// (fminfer doctor uses it); the stamps are then renewed.
func Reverify(dir string) (string, error) {
	l := defaultLocator
	l.NoStamps = true
	return l.Locate(dir)
}

// Files returns the paths of the dataset files in dir (each name or
// name.gz, whichever Locate would read), for callers that must not write
// over them.
func Files(dir string) []string { return defaultLocator.files(dir) }

// LoadTrain loads the 60,000 training examples from the directory dir (as
// returned by Locate), checking the checksums unless a valid stamp already
// vouches for the files.
func LoadTrain(dir string) (*Set, error) { return defaultLocator.LoadTrain(dir) }

// LoadTest loads the 10,000 test examples; see LoadTrain.
func LoadTest(dir string) (*Set, error) { return defaultLocator.LoadTest(dir) }

// Load reads an image file and a label file into a Set without any checksum:
// for data that is not Fashion-MNIST (a subset, a fixture, augmented data).
// The two files must hold the same number of examples.
func Load(imagesPath, labelsPath string) (*Set, error) {
	images, n, rows, cols, err := ReadImages(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, fmt.Errorf("fmnist: %s holds %d images but %s holds %d labels", imagesPath, n, labelsPath, len(labels))
	}
	return &Set{Images: images, Labels: labels, N: n, Rows: rows, Cols: cols}, nil
}

func (l *Locator) getenv(k string) string {
	if l.Getenv != nil {
		return l.Getenv(k)
	}
	return os.Getenv(k)
}

func (l *Locator) specList() []fileSpec {
	if l.specs != nil {
		return l.specs
	}
	return canonicalSpecs
}

func (l *Locator) baseURL() string {
	if l.BaseURL != "" {
		return l.BaseURL
	}
	return DefaultBaseURL
}

func (l *Locator) systemDir() string {
	if l.SystemDir != "" {
		return l.SystemDir
	}
	return DefaultSystemDir
}

// cacheRoot returns the fmkit cache directory, or "" if there is none.
func (l *Locator) cacheRoot() string {
	if l.CacheDir != "" {
		return l.CacheDir
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "fmkit")
}

// dataCache returns the directory downloads go to, or "" if there is none.
func (l *Locator) dataCache() string {
	if r := l.cacheRoot(); r != "" {
		return filepath.Join(r, "fashion-mnist")
	}
	return ""
}

// Locate is the package-level Locate with this Locator's settings.
func (l *Locator) Locate(dir string) (string, error) {
	for _, c := range []struct{ dir, what string }{{dir, "the directory given"}, {l.getenv(EnvDataDir), "$" + EnvDataDir}} {
		if c.dir == "" {
			continue
		}
		if err := unreadable(c.dir); errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("fmnist: %s (%s) does not hold the Fashion-MNIST files: it does not exist", userpath.Show(c.dir), c.what)
		} else if err != nil {
			return "", fmt.Errorf("fmnist: %s (%s) cannot be read: %w", userpath.Show(c.dir), c.what, err)
		}
		missing, err := l.missing(c.dir)
		if err != nil {
			return "", fmt.Errorf("fmnist: %s (%s) cannot be read: %w", userpath.Show(c.dir), c.what, err)
		}
		if len(missing) > 0 {
			return "", fmt.Errorf("fmnist: %s (%s) does not hold the Fashion-MNIST files: missing %s (each may be NAME or NAME.gz)",
				userpath.Show(c.dir), c.what, strings.Join(missing, ", "))
		}
		return l.verifyDir(c.dir)
	}
	var looked []string
	for _, d := range []string{l.systemDir(), l.dataCache()} {
		if d == "" {
			continue
		}
		looked = append(looked, d)
		err := unreadable(d)
		var missing []string
		if err == nil {
			missing, err = l.missing(d)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Present but unreadable: say so, rather than call it missing.
			looked[len(looked)-1] = fmt.Sprintf("%s (which cannot be read: %v)", d, err)
			continue
		}
		if err == nil && len(missing) == 0 {
			return l.verifyDir(d)
		}
	}
	cache := l.dataCache()
	fix := fmt.Sprintf("install Debian's dataset-fashion-mnist package, or put the four files (from %s) in a directory and pass it or set $%s", DefaultBaseURL, EnvDataDir)
	switch {
	case l.NoDownload:
		return "", fmt.Errorf("fmnist: Fashion-MNIST not found in %s and downloading is off: %s", strings.Join(looked, " or "), fix)
	case cache == "":
		return "", fmt.Errorf("fmnist: Fashion-MNIST not found in %s and there is no user cache directory to download it into: %s", strings.Join(looked, " or "), fix)
	}
	if err := l.download(cache); err != nil {
		return "", fmt.Errorf("fmnist: Fashion-MNIST not found in %s, and downloading it failed: %w; %s", strings.Join(looked, " or "), err, fix)
	}
	return l.verifyDir(cache)
}

// findFile returns the path of name or name.gz in dir ("" if neither is a
// regular file), preferring the uncompressed file, which is faster to read.
func findFile(dir, name string) string {
	p, _ := lookFile(dir, name)
	return p
}

// lookFile is findFile that also returns the first error other than "does
// not exist" met on the way (permission denied, a symbolic-link loop), so
// that a file that cannot be examined is not reported as missing.
func lookFile(dir, name string) (string, error) {
	var first error
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, name+".gz")} {
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() {
			return p, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return "", first
}

// unreadable returns why dir cannot be listed (it does not exist, is not a
// directory, or its permissions forbid it), or nil.
func unreadable(dir string) error {
	// Stat first: opening a named pipe given as the directory would block.
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is %s, not a directory", userpath.Show(dir), userpath.Kind(st.Mode()))
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// missing lists the files dir lacks; err is the first file that could not
// be examined (other than by not existing).
func (l *Locator) missing(dir string) (m []string, err error) {
	for _, s := range l.specList() {
		p, ferr := lookFile(dir, s.Name)
		if ferr != nil {
			return nil, ferr
		}
		if p == "" {
			m = append(m, s.Name)
		}
	}
	return m, nil
}

// files returns the dataset files present in dir.
func (l *Locator) files(dir string) []string {
	var out []string
	for _, s := range l.specList() {
		if p := findFile(dir, s.Name); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// verifyDir checks every file of dir and returns dir made absolute.
func (l *Locator) verifyDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("fmnist: %w", err)
	}
	for _, s := range l.specList() {
		if err := l.verifyFile(findFile(abs, s.Name), s); err != nil {
			return "", err
		}
	}
	return abs, nil
}

// verifyFile checks path's decompressed content against s, unless a stamp
// already vouches for it.
func (l *Locator) verifyFile(path string, s fileSpec) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("fmnist: %w", err)
	}
	if l.stamped(path, st, s) {
		return nil
	}
	f, err := userpath.Open(path)
	if err != nil {
		return fmt.Errorf("fmnist: %w", err)
	}
	defer f.Close()
	sum, size, prefix, err := hashStream(f, s.Size+1)
	if err != nil {
		return fmt.Errorf("fmnist: verifying %s: %w", path, err)
	}
	if err := l.check(path, s, sum, size, prefix); err != nil {
		return err
	}
	l.stamp(path, st, s)
	return nil
}

// hashStream returns the SHA-256 and length of r's content, decompressed if it
// is gzip, reading at most limit decompressed bytes, and its first 18 bytes.
func hashStream(r io.Reader, limit int64) (sum []byte, size int64, prefix []byte, err error) {
	var head [2]byte
	k, _ := io.ReadFull(r, head[:])
	src := io.MultiReader(bytes.NewReader(head[:k]), r)
	if isGzip(head[:k]) {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, 0, nil, err
		}
		defer zr.Close()
		src = zr
	}
	h := sha256.New()
	p := &prefixWriter{max: 18}
	size, err = io.Copy(io.MultiWriter(h, p), io.LimitReader(src, limit))
	if err != nil {
		return nil, 0, nil, err
	}
	return h.Sum(nil), size, p.b, nil
}

// prefixWriter keeps the first max bytes written to it.
type prefixWriter struct {
	b   []byte
	max int
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if n := p.max - len(p.b); n > 0 {
		p.b = append(p.b, b[:min(n, len(b))]...)
	}
	return len(b), nil
}

// ChecksumError reports a dataset file whose decompressed content is not the
// Fashion-MNIST file it is named after. Hint says what it probably is and how
// to fix it.
type ChecksumError struct {
	File     string // path of the file
	Name     string // the Fashion-MNIST file it should be, e.g. "train-images-idx3-ubyte"
	Want     string // expected SHA-256 of the decompressed content, hex
	Got      string // actual SHA-256, hex ("" if the size was already wrong)
	WantSize int64  // expected decompressed size
	GotSize  int64  // actual decompressed size (WantSize+1 means "longer")
	Hint     string
}

// Error implements error.
func (e *ChecksumError) Error() string {
	var got string
	switch {
	case e.GotSize != e.WantSize:
		rel := "shorter"
		if e.GotSize > e.WantSize {
			rel = "longer"
		}
		got = fmt.Sprintf("decompressed size %d bytes is %s than the %d of Fashion-MNIST's %s", e.GotSize, rel, e.WantSize, e.Name)
		if e.GotSize > e.WantSize {
			got = fmt.Sprintf("decompressed content is longer than the %d bytes of Fashion-MNIST's %s", e.WantSize, e.Name)
		}
	default:
		got = fmt.Sprintf("SHA-256 of the decompressed content is %s, want %s (Fashion-MNIST's %s)", e.Got, e.Want, e.Name)
	}
	return fmt.Sprintf("fmnist: %s: %s; %s", e.File, got, e.Hint)
}

// check compares what hashStream found in path with s.
func (l *Locator) check(path string, s fileSpec, sum []byte, size int64, prefix []byte) error {
	got := hex.EncodeToString(sum)
	if size == s.Size && got == s.SHA256 {
		return nil
	}
	e := &ChecksumError{File: path, Name: s.Name, Want: s.SHA256, WantSize: s.Size, GotSize: size}
	if size == s.Size {
		e.Got = got
	}
	var what string
	switch {
	case s.NDims == 1 && len(prefix) >= 18 && (bytes.Equal(prefix[8:18], mnistTrainLabels) || bytes.Equal(prefix[8:18], mnistTestLabels)):
		what = "these are MNIST's handwritten-digit labels, not Fashion-MNIST's (the two datasets use the same file names)"
	case size == s.Size:
		what = "the file has the right size but other content: this may be MNIST digits, which use the same file names and sizes"
	case size < s.Size:
		what = "the file is short: probably an interrupted download or copy"
	default:
		what = "this is not the Fashion-MNIST file"
	}
	fix := fmt.Sprintf("replace it with %s.gz from %s", s.Name, DefaultBaseURL)
	if c := l.dataCache(); c != "" && filepath.Dir(path) == c {
		fix = "delete it and run again: the file will be downloaded again"
	} else if filepath.Dir(path) == DefaultSystemDir {
		fix = "reinstall Debian's dataset-fashion-mnist package (apt-get install --reinstall dataset-fashion-mnist)"
	}
	e.Hint = what + "; to fix it, " + fix
	return e
}

// LoadTrain is the package-level LoadTrain with this Locator's settings.
func (l *Locator) LoadTrain(dir string) (*Set, error) {
	s := l.specList()
	return l.load(dir, s[0], s[1])
}

// LoadTest is the package-level LoadTest with this Locator's settings.
func (l *Locator) LoadTest(dir string) (*Set, error) {
	s := l.specList()
	return l.load(dir, s[2], s[3])
}

func (l *Locator) load(dir string, is, ls fileSpec) (*Set, error) {
	read := func(s fileSpec) ([]int, []byte, error) {
		path := findFile(dir, s.Name)
		if path == "" {
			return nil, nil, fmt.Errorf("fmnist: %s holds neither %s nor %s.gz", dir, s.Name, s.Name)
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, nil, fmt.Errorf("fmnist: %w", err)
		}
		if l.stamped(path, st, s) {
			return readIDXFile(path, s.NDims, nil)
		}
		// Hash while parsing: the file is decompressed once.
		h := &countingHash{h: sha256.New(), p: prefixWriter{max: 18}}
		dims, data, err := readIDXFile(path, s.NDims, h)
		if err != nil {
			return nil, nil, err
		}
		if err := l.check(path, s, h.h.Sum(nil), h.n, h.p.b); err != nil {
			return nil, nil, err
		}
		l.stamp(path, st, s)
		return dims, data, nil
	}
	dims, images, err := read(is)
	if err != nil {
		return nil, err
	}
	_, labels, err := read(ls)
	if err != nil {
		return nil, err
	}
	if len(labels) != dims[0] {
		return nil, fmt.Errorf("fmnist: %s: %d images but %d labels", dir, dims[0], len(labels))
	}
	return &Set{Images: images, Labels: labels, N: dims[0], Rows: dims[1], Cols: dims[2]}, nil
}

// countingHash receives the decompressed bytes readIDX reads: SHA-256 plus
// a byte count and the first bytes, for ChecksumError's diagnosis.
type countingHash struct {
	h hash.Hash
	n int64
	p prefixWriter
}

func (c *countingHash) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	c.p.Write(b)
	return c.h.Write(b)
}

// Verification stamps: CacheDir/verified.json maps an absolute path to what
// the file was when it was verified: size, modification time, device, inode,
// inode change time, and the checksum. A stamp vouches only while all of them
// are unchanged. The inode change time is what makes the stamp safe against
// a file rewritten in place: the kernel sets it to the present on every
// write, rename or attribute change, and no system call sets it back (a
// restored modification time changes it too). A stamp is only an
// optimisation: failing to read or write it never fails a load.

// stampVersion 2 added the device, inode and change time; version-1 stamps
// are ignored (the files are hashed once more).
const stampVersion = 2

type stampEntry struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	CTime   int64  `json:"ctime_ns"`
	SHA256  string `json:"sha256"`
}

// entryFor describes the file st for a stamp; ok is false where the system
// does not tell the inode and change time (then nothing is stamped).
func entryFor(st fs.FileInfo, sum string) (stampEntry, bool) {
	id, ok := inodeOf(st)
	if !ok {
		return stampEntry{}, false
	}
	return stampEntry{Size: st.Size(), ModTime: st.ModTime().UnixNano(), Dev: id.dev, Ino: id.ino, CTime: id.ctime, SHA256: sum}, true
}

type stampFile struct {
	Version int                   `json:"version"`
	Files   map[string]stampEntry `json:"files"`
}

var stampMu sync.Mutex

func (l *Locator) stampPath() string {
	if r := l.cacheRoot(); r != "" {
		return filepath.Join(r, "verified.json")
	}
	return ""
}

// maxStampBytes bounds the stamp file read: thousands of entries.
const maxStampBytes = 4 << 20

func readStamps(path string) stampFile {
	var sf stampFile
	// userpath: a FIFO planted at the stamp path is refused, not waited on.
	if b, err := userpath.ReadFile(path, maxStampBytes); err == nil {
		if json.Unmarshal(b, &sf) != nil || sf.Version != stampVersion {
			sf = stampFile{}
		}
	}
	if sf.Files == nil {
		sf = stampFile{Version: stampVersion, Files: map[string]stampEntry{}}
	}
	return sf
}

// stamped reports whether a stamp says path, as st describes it, has s's content.
func (l *Locator) stamped(path string, st fs.FileInfo, s fileSpec) bool {
	sp := l.stampPath()
	abs, err := filepath.Abs(path)
	if sp == "" || err != nil || l.NoStamps {
		return false
	}
	want, ok := entryFor(st, s.SHA256)
	if !ok {
		return false
	}
	stampMu.Lock()
	defer stampMu.Unlock()
	e, ok := readStamps(sp).Files[abs]
	return ok && e == want
}

// stamp records that path, as st describes it, has s's content. Errors are
// ignored: the next run verifies again.
func (l *Locator) stamp(path string, st fs.FileInfo, s fileSpec) {
	sp := l.stampPath()
	abs, err := filepath.Abs(path)
	if sp == "" || err != nil {
		return
	}
	e, ok := entryFor(st, s.SHA256)
	if !ok {
		return
	}
	stampMu.Lock()
	defer stampMu.Unlock()
	sf := readStamps(sp)
	sf.Files[abs] = e
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(sp), 0o755) != nil {
		return
	}
	_ = writeAtomic(sp, false, func(w io.Writer) error { _, err := w.Write(b); return err })
}
