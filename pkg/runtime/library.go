package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/fmkit/fmkit/internal/userpath"
)

// Versions of the onnxruntime shared library.
const (
	// RequiredVersion is the onnxruntime minor version this package needs: onnxruntime_go
	// v1.27.0 is built against the 1.24 C API (ORT_API_VERSION 24), so any 1.24.x loads.
	RequiredVersion = "1.24"
	// CacheVersion is the release scripts/setup.sh installs into the set-up cache.
	CacheVersion = "1.24.1"
	// LibraryEnv names the environment variable that points at the library.
	LibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"
	// CacheEnv names the environment variable that moves scripts/setup.sh's cache folder.
	CacheEnv = "FMKIT_CACHE"
	// libraryName is the file name setup.sh installs and the loader looks for first.
	libraryName = "libonnxruntime.so.1"
	// modulePath identifies this repository's go.mod when looking for the set-up cache.
	modulePath = "github.com/fmkit/fmkit"
)

// Sources of library candidates, in discovery order.
const (
	SourceOption = "option"       // the path given in ORTOptions.LibraryPath (or LoadLibrary's argument)
	SourceEnv    = LibraryEnv     // $ONNXRUNTIME_SHARED_LIBRARY_PATH
	SourceFMKIT  = CacheEnv       // $FMKIT_CACHE/onnxruntime/1.24.1/ (setup.sh's cache override)
	SourceRepo   = "set-up cache" // <repo>/.cache/onnxruntime/1.24.1/, repo found from the executable or working directory
	SourceUser   = "user cache"   // os.UserCacheDir()/fmkit/onnxruntime/1.24.1/
	SourceSystem = "system"       // /usr/lib, /usr/local/lib, /usr/lib/<multiarch>
)

// Candidate is one place library discovery looks.
type Candidate struct {
	Path   string
	Source string // one of the Source constants
}

// Attempt is a Candidate that discovery tried, with what went wrong (nil for the one loaded).
type Attempt struct {
	Candidate
	Err error
}

// errNotFound marks a candidate whose file does not exist.
var errNotFound = errors.New("not found")

// LibraryError reports that no usable onnxruntime library was loaded. It lists every path tried;
// errors.As finds the cause of the last attempt (e.g. a *VersionError) through Unwrap.
type LibraryError struct {
	Tried []Attempt
	// Msg, when set, replaces the generic first line (e.g. a library already loaded).
	Msg string
}

// Error implements error: a first line, one line per path tried, and how to fix it (omitted
// when Msg is set: a second library cannot be fixed by installing one).
func (e *LibraryError) Error() string {
	var b strings.Builder
	if e.Msg != "" {
		b.WriteString("runtime: " + e.Msg)
	} else {
		fmt.Fprintf(&b, "runtime: cannot load the onnxruntime %s.x shared library", RequiredVersion)
	}
	if len(e.Tried) > 0 {
		b.WriteString("; tried:")
		for _, a := range e.Tried {
			fmt.Fprintf(&b, "\n  %s (%s): %v", a.Path, a.Source, a.Err)
		}
	}
	if e.Msg != "" {
		return b.String()
	}
	fmt.Fprintf(&b, "\nfix: run `make setup` (installs onnxruntime %s into .cache/onnxruntime/%s/), or set %s to a libonnxruntime.so.1 of version %s.x",
		CacheVersion, CacheVersion, LibraryEnv, RequiredVersion)
	return b.String()
}

// Unwrap returns the last attempt's error.
func (e *LibraryError) Unwrap() error {
	if len(e.Tried) == 0 {
		return nil
	}
	return e.Tried[len(e.Tried)-1].Err
}

// VersionError reports an onnxruntime library of the wrong version.
type VersionError struct {
	Path     string
	Found    string // the library's version string
	Required string // RequiredVersion
}

// Error implements error.
func (e *VersionError) Error() string {
	return fmt.Sprintf("%s is onnxruntime %s, but %s.x is required (the C API github.com/yalue/onnxruntime_go v1.27.0 is built against)",
		e.Path, e.Found, e.Required)
}

// checkVersion returns a *VersionError unless version is RequiredVersion or RequiredVersion.x.
func checkVersion(path, version string) error {
	if version == RequiredVersion || strings.HasPrefix(version, RequiredVersion+".") {
		return nil
	}
	if version == "" {
		version = "of unknown version"
	}
	return &VersionError{Path: path, Found: version, Required: RequiredVersion}
}

// LibraryCandidates returns the paths library discovery tries, in order. An explicit path
// (non-empty) is the only candidate: naming a library never silently loads another. Otherwise:
// $ONNXRUNTIME_SHARED_LIBRARY_PATH; $FMKIT_CACHE/onnxruntime/1.24.1/libonnxruntime.so.1; the
// set-up cache <repo>/.cache/onnxruntime/1.24.1/libonnxruntime.so.1 of every fmkit checkout
// (a directory whose go.mod declares module github.com/fmkit/fmkit) that contains the running
// executable or the working directory; os.UserCacheDir()/fmkit/onnxruntime/1.24.1/; then
// libonnxruntime.so.1 and libonnxruntime.so in /usr/local/lib, /usr/lib/<multiarch> and /usr/lib.
func LibraryCandidates(explicit string) []Candidate {
	return hostEnv().candidates(explicit)
}

// searchEnv is what discovery consults, so tests can substitute each part.
type searchEnv struct {
	getenv     func(string) string
	executable func() (string, error)
	getwd      func() (string, error)
	userCache  func() (string, error)
	systemDirs []string
}

// hostEnv returns the real process environment.
func hostEnv() searchEnv {
	dirs := []string{"/usr/local/lib"}
	if d := multiarchDir(goruntime.GOARCH); d != "" {
		dirs = append(dirs, "/usr/lib/"+d)
	}
	dirs = append(dirs, "/usr/lib")
	return searchEnv{
		getenv: os.Getenv,
		executable: func() (string, error) {
			p, err := os.Executable()
			if err != nil {
				return "", err
			}
			return filepath.EvalSymlinks(p)
		},
		getwd:      os.Getwd,
		userCache:  os.UserCacheDir,
		systemDirs: dirs,
	}
}

// multiarchDir returns Debian's multiarch directory name for a GOARCH, or "".
func multiarchDir(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	}
	return ""
}

// cacheSubdir is the library's place inside a cache folder (setup.sh's layout).
func cacheSubdir(cache string) string {
	return filepath.Join(cache, "onnxruntime", CacheVersion, libraryName)
}

func (e searchEnv) candidates(explicit string) []Candidate {
	if explicit != "" {
		return []Candidate{{Path: explicit, Source: SourceOption}}
	}
	var out []Candidate
	seen := map[string]bool{}
	add := func(path, source string) {
		if path == "" || seen[path] {
			return
		}
		seen[path] = true
		out = append(out, Candidate{Path: path, Source: source})
	}
	add(e.getenv(LibraryEnv), SourceEnv)
	if c := e.getenv(CacheEnv); c != "" {
		add(cacheSubdir(c), SourceFMKIT)
	}
	var starts []string
	if p, err := e.executable(); err == nil {
		starts = append(starts, filepath.Dir(p))
	}
	if wd, err := e.getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, s := range starts {
		if root := findRepoRoot(s); root != "" {
			add(cacheSubdir(filepath.Join(root, ".cache")), SourceRepo)
		}
	}
	if uc, err := e.userCache(); err == nil && uc != "" {
		add(cacheSubdir(filepath.Join(uc, "fmkit")), SourceUser)
	}
	for _, d := range e.systemDirs {
		add(filepath.Join(d, libraryName), SourceSystem)
		add(filepath.Join(d, "libonnxruntime.so"), SourceSystem)
	}
	return out
}

// findRepoRoot returns the nearest ancestor of dir (dir included) whose go.mod declares this
// module, or "".
func findRepoRoot(dir string) string {
	dir = filepath.Clean(dir)
	for {
		if isFmkitModule(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// isFmkitModule reports whether the go.mod file at path declares module github.com/fmkit/fmkit.
func isFmkitModule(path string) bool {
	f, err := userpath.Open(path) // never blocks: a FIFO named go.mod is no module
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`) == modulePath
		}
	}
	return false
}

// discover walks the candidates for explicit and calls load on the first whose file exists.
// Candidates that do not exist are recorded and skipped; the first existing one decides: its
// success is returned, and its failure (load error, wrong version) ends discovery, so a broken
// library named by the environment is reported rather than silently passed over.
func (e searchEnv) discover(explicit string, load func(Candidate) (Library, error)) (Library, error) {
	var tried []Attempt
	for _, c := range e.candidates(explicit) {
		st, err := os.Stat(c.Path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			tried = append(tried, Attempt{c, errNotFound})
			continue
		case err != nil:
			tried = append(tried, Attempt{c, err})
			continue
		case st.IsDir():
			tried = append(tried, Attempt{c, errors.New("is a directory")})
			continue
		case !st.Mode().IsRegular():
			// dlopen would block on a named pipe until a writer came.
			tried = append(tried, Attempt{c, fmt.Errorf("is %s, not a regular file", userpath.Kind(st.Mode()))})
			continue
		}
		lib, err := load(c)
		if err != nil {
			tried = append(tried, Attempt{c, err})
			return Library{}, &LibraryError{Tried: tried}
		}
		return lib, nil
	}
	return Library{}, &LibraryError{Tried: tried}
}
