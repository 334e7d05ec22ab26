package fmnist

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/fmkit/fmkit/internal/atomicfile"
)

// maxGzipOverhead bounds how much larger than its content a downloaded .gz
// file may be (gzip header and trailer plus stored-block overhead); anything
// longer is refused while it streams in.
const maxGzipOverhead = 1 << 16

// download fetches every file dir lacks from the base URL. All files are
// downloaded into temporary files and verified first, then renamed into
// place together: a failed or corrupt download leaves nothing behind.
func (l *Locator) download(dir string) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	client := l.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultDownloadTimeout}
	}
	var got []*atomicfile.Pending
	defer func() {
		for _, p := range got {
			p.Abort() // a no-op for the ones committed
		}
	}()
	for _, s := range l.specList() {
		if findFile(dir, s.Name) != "" {
			continue
		}
		url := l.baseURL() + s.Name + ".gz"
		if l.Progress != nil {
			fmt.Fprintf(l.Progress, "fmnist: downloading %s into %s\n", url, dir)
		}
		p, err := fetch(client, url, filepath.Join(dir, s.Name+".gz"), s)
		if err != nil {
			return err
		}
		got = append(got, p)
	}
	for _, p := range got {
		if err := p.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// fetch downloads url into a pending replacement of path (internal/atomicfile:
// a locked temporary file beside it) and checks its decompressed content
// against s. The caller commits it; on error nothing is left behind.
func fetch(client *http.Client, url, path string, s fileSpec) (_ *atomicfile.Pending, err error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	pending, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			pending.Abort()
		}
	}()
	f := pending.File()
	limit := s.Size + maxGzipOverhead
	n, err := io.Copy(f, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if n > limit {
		return nil, fmt.Errorf("GET %s: more than %d bytes, too long for %s", url, limit, s.Name)
	}
	if _, err = f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	sum, size, prefix, err := hashStream(f, s.Size+1)
	if err != nil {
		return nil, fmt.Errorf("GET %s: the download is not a valid gzip file: %w", url, err)
	}
	if err = (&Locator{}).check(url, s, sum, size, prefix); err != nil {
		if ce, ok := err.(*ChecksumError); ok {
			ce.Hint = "the server sent other content (a wrong base URL, a proxy's error page or a broken transfer); nothing was kept"
		}
		return nil, fmt.Errorf("the download is corrupt: %w", err)
	}
	return pending, nil
}
