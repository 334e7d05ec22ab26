//go:build !unix

package userpath

// nonBlock is 0 where the system has no O_NONBLOCK for open; the type check
// after the open still refuses what is not a regular file.
const nonBlock = 0
