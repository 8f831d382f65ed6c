// Command srfake serves franz-go's in-memory schema registry fake (srfake) on
// a fixed address, with the Confluent REST API at the root. It is the local
// stack's stand-in registry when a real one (Apicurio Registry) cannot run,
// for example on a machine without Java 21:
//
//	SFSTREAM_STACK_REGISTRY=srfake deploy/local/up.sh
//
// Registrations live in memory only and are lost when it stops.
//
// Flags (each also read from the environment variable in brackets):
//
//	-addr   listen address (SFSTREAM_SRFAKE_ADDR, default 127.0.0.1:38081)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

const (
	defaultAddr     = "127.0.0.1:38081"
	shutdownTimeout = 5 * time.Second

	logKeyAddr = "addr"
)

// Config is what srfake needs to run.
type Config struct {
	// Addr is the TCP address to listen on.
	Addr string
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("invalid -addr %q: %w", c.Addr, err)
	}
	return nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg, log)
	stop()
	if err != nil {
		log.Error("srfake failed", "err", err)
		os.Exit(1)
	}
}

func parseConfig(args []string) (Config, error) {
	fs := flag.NewFlagSet("srfake", flag.ContinueOnError)
	cfg := Config{}
	fs.StringVar(&cfg.Addr, "addr", envOr("SFSTREAM_SRFAKE_ADDR", defaultAddr), "listen address")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

func envOr(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

// run serves the registry until ctx is cancelled, then shuts the server down.
func run(ctx context.Context, cfg Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	reg := srfake.NewRegistry()
	srv := &http.Server{
		Handler:           reg.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("schema registry fake listening", logKeyAddr, ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("schema registry fake stopped")
	return nil
}
