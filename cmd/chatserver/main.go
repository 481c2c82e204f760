// Command chatserver runs the reference chat server.
//
// Usage:
//
//	chatserver [-addr :4242] [-heartbeat-timeout 2m] [-framing line|utf]
//	           [-max-clients 0] [-log-level info]
//	           [-cluster nats://host:4222[,...] | -cluster embedded
//	            [-nats-addr 127.0.0.1:4222] [-nats-store DIR]]
//	           [-node NAME] [-cluster-room chat] [-node-timeout 10s] [-cluster-replicas 1]
//	           [-outbox-bytes 65536] [-write-timeout 10s] [-stall-timeout 2s]
//	           [-send-rate 5] [-send-burst 20]
//
// The last five set the overload policy: how far a client may fall behind,
// how long it may take nothing, and how fast anyone may send into a room
// that has fallen behind (see the package doc of reference/chatserver).
//
// It prints "chatserver: listening on <address>" on standard output once it
// accepts connections, and logs to standard error (every request and
// response with -log-level debug). SIGINT or SIGTERM stops it: it stops
// accepting, closes every connection after writing what is queued for it
// (at most a few seconds), and exits with status 0.
//
// With -cluster, the server is one node of a cluster of servers sharing one
// room through NATS JetStream (package chatcluster): "-cluster
// nats://host:4222" joins through an existing NATS server, "-cluster
// embedded" starts a NATS server with JetStream inside this node first and
// prints the URL the other nodes give to -cluster. Without -cluster no NATS
// code runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chatspec/chatspec/reference/chatserver"
)

// errUsage reports bad flags, already explained on standard error.
var errUsage = errors.New("usage")

// shutdownGrace bounds the graceful part of a shutdown on a signal.
const shutdownGrace = 5 * time.Second

// minOutboxBytes keeps the congestion mark (a quarter) above one long
// DATA frame.
const minOutboxBytes = 4096

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package has printed the problem and the usage
	case err != nil:
		fmt.Fprintln(os.Stderr, "chatserver:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends (a signal, in main), then shuts down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chatserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":4242", "TCP `address` to listen on")
	var cfg chatserver.Config
	fs.DurationVar(&cfg.HeartbeatTimeout, "heartbeat-timeout", chatserver.DefaultHeartbeatTimeout,
		"drop a client that sends no complete message for this `duration`")
	fs.Var(&cfg.Framing, "framing", "message `framing`: line (newline-terminated; the default) or utf (Java writeUTF)")
	fs.IntVar(&cfg.MaxClients, "max-clients", 0, "most joined clients at once; 0 means unlimited")
	var level slog.Level
	fs.TextVar(&level, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	fs.IntVar(&cfg.OutboxBytes, "outbox-bytes", chatserver.DefaultOutboxBytes,
		"most `bytes` queued for one client; senders over their allowance wait from a quarter of it, everyone from half")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", chatserver.DefaultWriteTimeout,
		"drop a client that takes no byte, or holds over half of -outbox-bytes, for this `duration`")
	fs.DurationVar(&cfg.StallTimeout, "stall-timeout", chatserver.DefaultStallTimeout,
		"drop a client that senders wait for (it holds over a quarter of -outbox-bytes) and takes no byte for this `duration`")
	fs.Float64Var(&cfg.SendRate, "send-rate", chatserver.DefaultSendRate,
		"DATA `per second` each client may send while some client is behind; 0 = none")
	fs.IntVar(&cfg.SendBurst, "send-burst", chatserver.DefaultSendBurst, "DATA `messages` a client may send at once beyond -send-rate")
	var cl clusterFlags
	cl.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.HeartbeatTimeout <= 0 {
		return fmt.Errorf("-heartbeat-timeout must be positive, not %v", cfg.HeartbeatTimeout)
	}
	if cfg.MaxClients < 0 {
		return fmt.Errorf("-max-clients must be 0 or more, not %d", cfg.MaxClients)
	}
	switch {
	case cfg.OutboxBytes < minOutboxBytes:
		return fmt.Errorf("-outbox-bytes must be at least %d (a long message is about 1000), not %d", minOutboxBytes, cfg.OutboxBytes)
	case cfg.WriteTimeout <= 0:
		return fmt.Errorf("-write-timeout must be positive, not %v", cfg.WriteTimeout)
	case cfg.StallTimeout <= 0 || cfg.StallTimeout > cfg.WriteTimeout:
		return fmt.Errorf("-stall-timeout must be positive and at most -write-timeout (%v), not %v", cfg.WriteTimeout, cfg.StallTimeout)
	case cfg.SendRate < 0:
		return fmt.Errorf("-send-rate must be 0 or more, not %v", cfg.SendRate)
	case cfg.SendBurst < 1:
		return fmt.Errorf("-send-burst must be 1 or more, not %d", cfg.SendBurst)
	case cfg.SendRate == 0:
		cfg.SendRate = -1 // Config's zero means the default; the flag's means none
	}
	if err := cl.check(fs, cfg.HeartbeatTimeout); err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if cl.url != "" {
		leave, err := cl.join(ctx, l.Addr(), &cfg, stdout)
		if err != nil {
			l.Close()
			return err
		}
		defer leave()
	}
	srv := chatserver.New(cfg)
	fmt.Fprintf(stdout, "chatserver: listening on %s (framing %s)\n", l.Addr(), cfg.Framing)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, chatserver.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
