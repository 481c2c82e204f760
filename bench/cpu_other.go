//go:build !unix

package bench

import "time"

// processCPU returns 0: this system is not measured.
func processCPU() time.Duration { return 0 }
