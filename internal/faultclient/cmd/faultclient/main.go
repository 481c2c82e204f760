// Command faultclient is the self-test's chat client: a small console
// client with a switch for every fault of package faultclient.
//
//	faultclient -addr host:port [-heartbeat 1s] [-quit WORD] [-faults a,b]
package main

import (
	"os"

	"github.com/chatspec/chatspec/internal/faultclient"
)

func main() { os.Exit(faultclient.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
