//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// checkFiles fails early when the open-file limit cannot hold the clients'
// sockets (and, with a server in this process, the server's ends too).
// Go raises the soft limit to the hard limit at start-up, so the hard limit
// is what counts.
func checkFiles(clients int, inProcess bool) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // cannot tell: let the dials say
	}
	need := uint64(clients) + 64
	if inProcess {
		need += uint64(clients)
	}
	if limit := uint64(lim.Cur); need > limit { // Cur is int64 on some systems (FreeBSD)
		how := "one socket per client"
		if inProcess {
			how = "two sockets per client with the server in this process"
		}
		return fmt.Errorf("%d clients need about %d open files (%s), but the limit is %d: raise it (ulimit -n) or, with an in-process server, measure a server in another process with -addr",
			clients, need, how, limit)
	}
	return nil
}
