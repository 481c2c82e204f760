package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// ReadRSS returns the resident memory of process pid in bytes, from the
// VmRSS line of /proc/<pid>/status (Linux only).
func ReadRSS(pid int) (int64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("bench: read rss: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// "VmRSS:	   12345 kB"
		f := bytes.Fields(sc.Bytes())
		if len(f) == 3 && string(f[0]) == "VmRSS:" && string(f[2]) == "kB" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: read rss from %s: %w", path, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("bench: read rss: no VmRSS in %s", path)
}
