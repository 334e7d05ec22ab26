package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	for _, content := range [][]byte{
		[]byte("first version\n"),
		bytes.Repeat([]byte{0xAB, 0, 1}, 300_000), // larger than the buffer
		{},
	} {
		if err := WriteFile(path, content, 0o640); err != nil {
			t.Fatalf("WriteFile(%d bytes): %v", len(content), err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content) {
			t.Fatalf("content: got %d bytes, want %d", len(got), len(content))
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
			t.Errorf("mode = %v, want 0640", st.Mode().Perm())
		}
		if names := listDir(t, dir); len(names) != 1 || names[0] != "out.bin" {
			t.Errorf("directory holds %q, want only out.bin", names)
		}
	}
}

func TestWriteFailureLeavesTargetIntact(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name  string
		fn    func(w io.Writer) error
		panic bool
	}{
		{"error before writing", func(w io.Writer) error { return errBoom }, false},
		{"error after partial write", func(w io.Writer) error {
			w.Write(bytes.Repeat([]byte("x"), 1<<20)) // past the buffer: reaches the temp file
			return errBoom
		}, false},
		{"panic after partial write", func(w io.Writer) error {
			w.Write(bytes.Repeat([]byte("y"), 1<<20))
			panic(errBoom)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "keep.txt")
			if err := os.WriteFile(path, []byte("old content"), 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			func() {
				defer func() {
					r := recover()
					if tt.panic && r == nil {
						t.Error("panic did not propagate")
					}
					if !tt.panic && r != nil {
						t.Errorf("unexpected panic %v", r)
					}
				}()
				err = Write(path, 0o644, tt.fn)
			}()
			if !tt.panic {
				if !errors.Is(err, errBoom) {
					t.Fatalf("err = %v, want it to wrap %v", err, errBoom)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}
			}
			got, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if string(got) != "old content" {
				t.Errorf("target changed to %q", got)
			}
			if names := listDir(t, dir); len(names) != 1 || names[0] != "keep.txt" {
				t.Errorf("directory holds %q, want only keep.txt (temporary file left behind)", names)
			}
		})
	}
}

func TestWriteBadDirectory(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		wantIs error // nil: any error
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "f.json"), fs.ErrNotExist},
		{"parent is a file", filepath.Join(notDir, "f.json"), nil},
		{"path is a directory", dir + string(filepath.Separator), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteFile(tt.path, []byte("x"), 0o644)
			if err == nil {
				t.Fatal("no error")
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not *Error", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

func TestWriteReadOnlyDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("directory permissions differ on Windows")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o700) })
	// Root (as in CI containers) ignores directory permissions; detect that
	// by probing rather than by asking for the uid.
	if f, err := os.CreateTemp(ro, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("directory permissions are not enforced for this user (root?); TestWriteUnwritableFileSystem covers the failure path")
	}
	path := filepath.Join(ro, "f.txt")
	err := WriteFile(path, []byte("x"), 0o644)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("err = %v, want permission error", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

// TestWriteUnwritableFileSystem writes into /proc, where nobody, root
// included, may create files: the failure path that a read-only directory
// takes, checkable whatever the user.
func TestWriteUnwritableFileSystem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux /proc")
	}
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("no /proc mounted")
	}
	path := "/proc/fmkit-atomicfile-test.txt"
	err := WriteFile(path, []byte("x"), 0o644)
	if err == nil {
		os.Remove(path)
		t.Fatal("writing into /proc succeeded")
	}
	var ae *Error
	if !errors.As(err, &ae) || ae.Op != "create temporary file" {
		t.Fatalf("err = %#v, want *Error from creating the temporary file", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestWriteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("rel.txt", []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "rel.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func BenchmarkWriteFile_1MiB(b *testing.B) {
	dir := b.TempDir()
	data := bytes.Repeat([]byte{1, 2, 3, 4}, 1<<18)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := WriteFile(filepath.Join(dir, "bench.bin"), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPendingCommitAndAbort: a Pending replaces its target only at Commit, can be read
// back before, and Abort leaves the target and the directory as they were.
func TestPendingCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "data.gz")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Create(target, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	if _, err := p.File().WriteString("new content"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.File().Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(p.File())
	if err != nil || string(back) != "new content" {
		t.Fatalf("read back %q, %v", back, err)
	}
	if got, _ := os.ReadFile(target); string(got) != "old" {
		t.Fatalf("the target changed before Commit: %q", got)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	p.Abort() // a no-op now
	if got, _ := os.ReadFile(target); string(got) != "new content" {
		t.Fatalf("after Commit the target holds %q", got)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	if err := p.Commit(); err == nil {
		t.Error("a second Commit succeeded")
	}

	q, err := Create(target, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	q.File().WriteString("discarded")
	q.Abort()
	if got, _ := os.ReadFile(target); string(got) != "new content" {
		t.Fatalf("Abort changed the target: %q", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("Abort left files behind: %v", ents)
	}
}
