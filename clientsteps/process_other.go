//go:build !unix

package clientsteps

import "os"

// pipeUnread cannot tell.
func pipeUnread(*os.File) int { return -1 }
