package clientsteps

import "golang.org/x/sys/unix"

// fionread returns the bytes waiting in the pipe fd belongs to (either
// end), or -1: TIOCINQ is Linux's FIONREAD.
func fionread(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
	if err != nil {
		return -1
	}
	return n
}
