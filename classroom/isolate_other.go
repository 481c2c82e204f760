//go:build !linux

package classroom

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/chatspec/chatspec/internal/procgroup"
)

// sandbox is how a student's grading process is started: on systems
// other than Linux there are no network namespaces, so never isolated.
type sandbox struct {
	isolated bool
	user     bool
}

// attr returns the process attributes of a grading process.
func (sb sandbox) attr() *syscall.SysProcAttr { return procgroup.Attr(nil) }

// sandboxes returns none: only Linux has network namespaces.
func sandboxes() []sandbox { return nil }

var errNoNamespaces = errors.New("classroom: network namespaces exist only on Linux")

func bringLoopbackUp() error { return errNoNamespaces }

func probeLoopback() error { return errNoNamespaces }

// listeners cannot list the sockets of other processes here.
func listeners() (map[int]bool, error) { return nil, errNoListing }

var errNoListing = errors.New("classroom: no listing of listening sockets")

// dialProbe reports whether something accepts connections on port.
func dialProbe(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// listening reports whether something accepts connections on port on
// 127.0.0.1 (on Linux no connection is needed to know).
func listening(port int) (bool, error) { return dialProbe(port), nil }
