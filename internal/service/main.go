package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// RunFunc is a binary's body: it parses args (flags, with getenv for SFSTREAM_* variables),
// writes usage and errors to stderr, and runs until ctx ends.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error

// Main runs a service binary called name: run gets the process's arguments and environment
// and a context that ends on SIGINT or SIGTERM. It exits 0 on success or -h, and 1 after
// printing "name: error" otherwise. Deferred calls of run have run by then.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Component is a long-running stage: the producer, a processor, an archiver.
type Component interface {
	Run(ctx context.Context) error
	Ready() bool
}

// Serve runs c until ctx ends or c fails, beside the metrics and health server on addr
// (reg's metrics, /readyz from c.Ready) when addr is not empty. name labels the log line
// written when c stops. It returns c's error; a server that fails stops c.
func Serve(ctx context.Context, name, addr string, reg *prometheus.Registry, log *slog.Logger, c Component) error {
	g, ctx := errgroup.WithContext(ctx)
	if addr != "" {
		srv := &Server{Addr: addr, Reg: reg, Ready: c.Ready, Log: log}
		if err := srv.Listen(); err != nil {
			return err
		}
		g.Go(func() error { return srv.Run(ctx) })
	}
	g.Go(func() error {
		start := time.Now()
		err := c.Run(ctx)
		log.Info(name+" stopped", "uptime", time.Since(start).Round(time.Second), "err", err)
		if err == nil {
			return errStopped // ends the server too
		}
		return err
	})
	if err := g.Wait(); err != nil && !errors.Is(err, errStopped) {
		return err
	}
	return nil
}

var errStopped = errors.New("component stopped")
