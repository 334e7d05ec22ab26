//go:build !linux

package fmnist

import "io/fs"

// inode identifies a file for a verification stamp.
type inode struct {
	dev, ino uint64
	ctime    int64
}

// inodeOf reports false (only Linux is read here): without an inode change time a stamp could not
// tell a file rewritten in place, so none is kept and every run hashes.
func inodeOf(fs.FileInfo) (inode, bool) { return inode{}, false }
