//go:build unix

package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestRemoveStale plants what a killed run leaves beside m.onnx, and what
// must survive: only old, unlocked, regular temporary files of m.onnx go.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "m.onnx")
	old := time.Now().Add(-time.Hour)
	mk := func(name string, age time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, age, age); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk(".m.onnx.tmp-123456", old)
	legacy := mk(".m.onnx.tmp987", old) // the older writers' spelling
	mk("m.onnx", old)
	mk(".m.onnx.tmp-12ab", old)       // not ours: the suffix is not digits
	mk(".m.onnx.tmp-", old)           // no digits at all
	mk(".other.onnx.tmp-42", old)     // another target's
	mk(".m.onnx.tmp-777", time.Now()) // too young: a writer may be about to lock it
	locked := mk(".m.onnx.tmp-555", old)
	lf, err := os.Open(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(precious, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(precious, filepath.Join(dir, ".m.onnx.tmp-31337")); err != nil {
		t.Fatal(err)
	}

	removed, err := RemoveStale(target)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if want := []string{stale, legacy}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	got := listDir(t, dir)
	want := []string{".m.onnx.tmp-", ".m.onnx.tmp-12ab", ".m.onnx.tmp-31337", ".m.onnx.tmp-555", ".m.onnx.tmp-777", ".other.onnx.tmp-42", "m.onnx"}
	if !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
		t.Errorf("the symbolic link's target changed: %q, %v", b, err)
	}
	if removed, err := RemoveStale(filepath.Join(dir, "nowhere", "x")); err != nil || removed != nil {
		t.Errorf("missing directory: %v, %v", removed, err)
	}
}

// TestRemoveStaleSparesAWriteInProgress runs RemoveStale, with no age
// margin at all, while Write is in the middle of writing: the lock alone
// must keep the temporary file, and the write must complete.
func TestRemoveStaleSparesAWriteInProgress(t *testing.T) {
	saved := StaleAge
	StaleAge = 0
	defer func() { StaleAge = saved }()
	dir := t.TempDir()
	target := filepath.Join(dir, "m.fmk")
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Write(target, 0o644, func(w io.Writer) error {
			close(inside)
			<-release
			_, err := w.Write([]byte("whole"))
			return err
		})
	}()
	<-inside
	removed, err := RemoveStale(target)
	close(release)
	if err != nil || len(removed) > 0 {
		t.Errorf("RemoveStale during a write removed %v (err %v)", removed, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the write failed: %v", err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "whole" {
		t.Errorf("target holds %q, %v", b, err)
	}
	if names := listDir(t, dir); !slices.Equal(names, []string{"m.fmk"}) {
		t.Errorf("directory holds %v", names)
	}
}
