// Command faultserver runs one server of the self-test's catalogue (or
// the plain reference server) as a process of its own on a given
// address, for tests that need a broken server to be a real process: the
// class grader's, which starts student servers by command.
//
// Usage:
//
//	faultserver [-mutant NAME] [-addr 127.0.0.1:5000] [-framing line|utf]
//	            [-heartbeat-timeout 2s] [-crash-on TEXT]
//
// -crash-on makes the process exit with status 1, as a student's server
// that dies of an uncaught exception, as soon as a client sends TEXT. It
// prints "faultserver: listening on <address>" once it accepts
// connections, and runs until it is killed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
)

func main() {
	mutant := flag.String("mutant", "", "the catalogue server to run, by `name`; none: the reference server")
	addr := flag.String("addr", "127.0.0.1:5000", "the `address` to listen on")
	var framing protocol.Framing
	flag.Var(&framing, "framing", "`line` or utf")
	timeout := flag.Duration("heartbeat-timeout", 2*time.Second, "the reference server's heartbeat timeout")
	crashOn := flag.String("crash-on", "", "exit with status 1 when a client sends `TEXT`")
	flag.Parse()

	m := faultproxy.Mutant{Name: "reference"}
	if *mutant != "" {
		found := false
		for _, c := range faultproxy.Catalogue() {
			if c.Name == *mutant {
				m, found = c, true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "faultserver: no server %q in the catalogue\n", *mutant)
			os.Exit(2)
		}
	}
	srv, err := m.Start(framing, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultserver:", err)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultserver:", err)
		os.Exit(2)
	}
	fmt.Printf("faultserver: listening on %s (%s, framing %s)\n", l.Addr(), m.Name, framing)
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "faultserver:", err)
			os.Exit(2)
		}
		go relay(c, srv.Addr(), []byte(*crashOn))
	}
}

// relay passes the bytes of client c to the catalogue server at upstream
// and back, until either side closes; a client that sends crash ends the
// process.
func relay(c net.Conn, upstream string, crash []byte) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(c, u)
		_ = c.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if len(crash) > 0 && bytes.Contains(buf[:n], crash) {
				fmt.Fprintf(os.Stderr, "Exception in thread \"client-%s\" java.lang.IllegalStateException: cannot handle %q\n\tat Server.handle(Server.java:42)\n", c.RemoteAddr(), crash)
				os.Exit(1)
			}
			if _, werr := u.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = u.Close()
	wg.Wait()
}
