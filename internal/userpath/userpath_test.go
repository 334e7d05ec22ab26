package userpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenRefusesWhatIsNotARegularFile opens a FIFO with no writer, a
// directory and a device: each must be refused at once by its type (a
// blocking open of the FIFO would hang here until the test's deadline).
func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, c := range []struct{ path, kind string }{
		{fifo, "a named pipe"},
		{dir, "a directory"},
		{"/dev/null", "a device"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := ReadFile(c.path, 1<<20)
			done <- err
		}()
		select {
		case err := <-done:
			var nr *NotRegularError
			if !errors.As(err, &nr) || !errors.Is(err, ErrNotRegular) {
				t.Errorf("%s: got %v, want a *NotRegularError", c.path, err)
			} else if !strings.Contains(err.Error(), c.kind) {
				t.Errorf("%s: %q does not say %q", c.path, err, c.kind)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: ReadFile blocked", c.path)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(p, 5)
	if err != nil || string(b) != "hello" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	var le *TooLargeError
	if _, err := ReadFile(p, 4); !errors.As(err, &le) || le.Size != 5 {
		t.Errorf("over the limit: got %v, want a *TooLargeError of 5 bytes", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none"), 5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
	// A file whose size stat does not tell (procfs says 0) is read to its
	// end, within the limit.
	if b, err := ReadFile("/proc/self/status", 1<<20); err != nil || len(b) == 0 {
		t.Errorf("/proc/self/status: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile("/proc/self/status", 10); !errors.As(err, &le) {
		t.Errorf("/proc/self/status past a 10-byte limit: got %v, want a *TooLargeError", err)
	}
}

func TestCheckRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := CheckRegular(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("FIFO: %v", err)
	}
	if err := CheckRegular(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	p := filepath.Join(dir, "f")
	os.WriteFile(p, nil, 0o644)
	if err := CheckRegular(p); err != nil {
		t.Errorf("regular file: %v", err)
	}
}

func TestSameAndDistinct(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(sub, link); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(sub, "a.onnx")
	os.WriteFile(a, []byte("x"), 0o644)
	hard := filepath.Join(dir, "hard.onnx")
	if err := os.Link(a, hard); err != nil {
		t.Fatal(err)
	}
	same := [][2]string{
		{a, filepath.Join(link, "a.onnx")},             // through a symlinked directory
		{a, filepath.Join(sub, "..", "sub", "a.onnx")}, // another spelling
		{a, hard}, // a hard link
		{filepath.Join(sub, "new"), filepath.Join(link, "new")}, // not there yet
	}
	for _, p := range same {
		if !Same(p[0], p[1]) {
			t.Errorf("Same(%s, %s) = false", p[0], p[1])
		}
	}
	if Same(a, filepath.Join(sub, "b.onnx")) {
		t.Error("two different files are the same")
	}
	err := Distinct(Role{Flag: "--out", Path: a}, Role{Flag: "--checkpoint", Path: filepath.Join(link, "a.onnx")})
	var ce *CollisionError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--out") || !strings.Contains(err.Error(), "--checkpoint") {
		t.Errorf("Distinct: %v", err)
	}
	if err := Distinct(Role{Flag: "--model", Path: a, Input: true}, Role{Flag: "--data", Path: hard, Input: true}); err != nil {
		t.Errorf("two inputs may be one file: %v", err)
	}
	if err := Distinct(Role{Flag: "--explain", Path: a}, Role{Flag: "image", Path: hard, Input: true}); err == nil || !strings.Contains(err.Error(), "overwrite the input") {
		t.Errorf("output over an input: %v", err)
	}
	if err := Distinct(Role{Flag: "--out", Path: ""}, Role{Flag: "--plot", Path: ""}); err != nil {
		t.Errorf("empty paths: %v", err)
	}
}

func TestShowAndSanitize(t *testing.T) {
	for _, c := range []struct{ in, show string }{
		{"shirt.png", "shirt.png"},
		{"my photos/été 2024.jpg", "my photos/été 2024.jpg"},
		{"a.png: Sneaker (7) 99.0%\nb.png", `"a.png: Sneaker (7) 99.0%\nb.png"`},
		{"x\rEvil", `"x\rEvil"`},
		{"\x1b[2Jclear", `"\x1b[2Jclear"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"line\u2028sep", `"line\u2028sep"`},
	} {
		if got := Show(c.in); got != c.show {
			t.Errorf("Show(%q) = %s, want %s", c.in, got, c.show)
		}
	}
	if got, want := Sanitize("open x\x1b[31m\ry: no\n  tried\t1\xfe"), "open x\\x1b[31m\\ry: no\n  tried\t1\\xfe"; got != want {
		t.Errorf("Sanitize = %q, want %q", got, want)
	}
	if got := Sanitize("plain"); got != "plain" {
		t.Errorf("Sanitize(plain) = %q", got)
	}
	nr := &NotRegularError{Path: "p\n", Mode: fs.ModeNamedPipe}
	if got := nr.Error(); got != `"p\n": not a regular file (a named pipe)` {
		t.Errorf("NotRegularError = %q", got)
	}
}
