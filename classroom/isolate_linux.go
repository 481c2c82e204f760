package classroom

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/chatspec/chatspec/internal/procgroup"
)

// sandbox is how a student's grading process is started on this
// machine: in namespaces of its own, or not.
type sandbox struct {
	// isolated: the process gets its own network namespace (only a
	// loopback interface) and PID namespace (everything in it dies with
	// it).
	isolated bool
	// user: a user namespace too, for a user who is not root.
	user bool
}

// attr returns the process attributes of a grading process: its own
// process group, killed if chatgrade dies, and the namespaces.
func (sb sandbox) attr() *syscall.SysProcAttr {
	a := procgroup.Attr(nil)
	if !sb.isolated {
		return a
	}
	a.Cloneflags = syscall.CLONE_NEWNET | syscall.CLONE_NEWPID
	if sb.user {
		a.Cloneflags |= syscall.CLONE_NEWUSER
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	return a
}

// sandboxes returns the sandboxes to try, the best first.
func sandboxes() []sandbox {
	if os.Geteuid() == 0 {
		return []sandbox{{isolated: true}}
	}
	return []sandbox{{isolated: true, user: true}}
}

// bringLoopbackUp sets the loopback interface of the current network
// namespace up: a fresh namespace has it down.
func bringLoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("classroom: loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("classroom: loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("classroom: loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("classroom: loopback up: %w", err)
	}
	return nil
}

// listeners returns the TCP ports something listens on in this network
// namespace, read from /proc/net/tcp and tcp6: no connection is opened
// (a fragile server may crash on an empty one).
func listeners() (map[int]bool, error) {
	ports := make(map[int]bool)
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue // no IPv6
		}
		if err != nil {
			return nil, fmt.Errorf("classroom: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
				ports[int(p)] = true
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("classroom: %s: %w", name, err)
		}
	}
	return ports, nil
}

// listening reports whether something listens on TCP port, without
// connecting to it.
func listening(port int) (bool, error) {
	ls, err := listeners()
	return ls[port], err
}

// probeLoopback checks, in a fresh namespace, that the loopback interface
// came up and carries a connection.
func probeLoopback() error {
	if err := bringLoopbackUp(); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("classroom: listen on loopback: %w", err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return fmt.Errorf("classroom: dial on loopback: %w", err)
	}
	return c.Close()
}
