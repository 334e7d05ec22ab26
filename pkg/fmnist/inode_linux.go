//go:build linux

package fmnist

import (
	"io/fs"
	"syscall"
)

// inode identifies a file for a verification stamp.
type inode struct {
	dev, ino uint64
	ctime    int64 // inode change time, ns
}

// inodeOf returns st's device, inode number and inode change time.
func inodeOf(st fs.FileInfo) (inode, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return inode{}, false
	}
	sec, nsec := s.Ctim.Unix()
	return inode{dev: uint64(s.Dev), ino: uint64(s.Ino), ctime: sec*1e9 + nsec}, true
}
