package fmnist

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
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
	type done struct{ tmp, final string }
	var got []done
	defer func() {
		if err != nil {
			for _, d := range got {
				os.Remove(d.tmp)
			}
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
		tmp, err := fetch(client, url, dir, s)
		if err != nil {
			return err
		}
		got = append(got, done{tmp, filepath.Join(dir, s.Name+".gz")})
	}
	for _, d := range got {
		if err := os.Rename(d.tmp, d.final); err != nil {
			return err
		}
	}
	syncDir(dir)
	return nil
}

// fetch downloads url into a temporary file in dir and checks its
// decompressed content against s. It returns the temporary file's path; on
// error nothing is left behind.
func fetch(client *http.Client, url, dir string, s fileSpec) (path string, err error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.CreateTemp(dir, "."+s.Name+".gz.tmp*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	limit := s.Size + maxGzipOverhead
	n, err := io.Copy(f, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	if n > limit {
		return "", fmt.Errorf("GET %s: more than %d bytes, too long for %s", url, limit, s.Name)
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if _, err = f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	sum, size, prefix, err := hashStream(f, s.Size+1)
	if err != nil {
		return "", fmt.Errorf("GET %s: the download is not a valid gzip file: %w", url, err)
	}
	if err = (&Locator{}).check(url, s, sum, size, prefix); err != nil {
		if ce, ok := err.(*ChecksumError); ok {
			ce.Hint = "the server sent other content (a wrong base URL, a proxy's error page or a broken transfer); nothing was kept"
		}
		return "", fmt.Errorf("the download is corrupt: %w", err)
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}
