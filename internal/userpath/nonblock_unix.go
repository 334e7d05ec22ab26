//go:build unix

package userpath

import "syscall"

// nonBlock makes open(2) return at once on a named pipe or a device that
// would otherwise wait for the other end; regular files ignore it.
const nonBlock = syscall.O_NONBLOCK
