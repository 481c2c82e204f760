//go:build unix

package clientsteps

import "os"

// pipeUnread returns how many bytes wait in the pipe whose write end is f,
// or -1 where the system cannot tell.
func pipeUnread(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	if cerr := rc.Control(func(fd uintptr) { n = fionread(int(fd)) }); cerr != nil {
		return -1
	}
	return n
}
