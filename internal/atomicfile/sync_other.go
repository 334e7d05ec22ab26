//go:build !unix

package atomicfile

// isSyncUnsupported reports whether err says that the file system cannot
// fsync a directory; outside Unix, directories generally cannot be synced.
func isSyncUnsupported(err error) bool { return err != nil }
