// Command healthprobe is the container health check of the sfstream images: it asks the
// metrics server of the service in the same container whether it is ready, and exits 0 when
// the answer is 200 OK and 1 otherwise.
//
// The images are distroless (no shell, no curl, no wget), so the Dockerfile's HEALTHCHECK and
// compose.yaml run this static binary instead. It finds the port the way the service does,
// from SFSTREAM_METRICS_ADDR (default ":9090"), and probes the loopback address:
//
//	healthprobe                        GET http://127.0.0.1:9090/readyz
//	healthprobe -path /healthz         liveness instead of readiness
//	healthprobe -url http://h:9090/x   any URL
//
// Kubernetes does not need it: the chart uses httpGet probes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const (
	envMetricsAddr     = "SFSTREAM_METRICS_ADDR"
	defaultMetricsAddr = ":9090"
	defaultPath        = "/readyz"
	defaultTimeout     = 3 * time.Second
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "healthprobe:", err)
		os.Exit(1)
	}
}

// run parses the arguments, builds the URL and probes it once.
func run(ctx context.Context, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("healthprobe", flag.ContinueOnError)
	url := fs.String("url", "", "URL to probe (default: loopback, port of "+envMetricsAddr+", -path)")
	path := fs.String("path", defaultPath, "path to probe when -url is not given")
	timeout := fs.Duration("timeout", defaultTimeout, "time allowed for the whole request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target := *url
	if target == "" {
		addr := getenv(envMetricsAddr)
		if addr == "" {
			addr = defaultMetricsAddr
		}
		var err error
		if target, err = probeURL(addr, *path); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return probe(ctx, target)
}

// probeURL turns a listen address such as ":9090", "0.0.0.0:9090" or "[::]:9090" into the
// URL of path on that port, on the loopback address of the same family when the listen
// address is a wildcard.
func probeURL(listenAddr, path string) (string, error) {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return "", fmt.Errorf("parse %s %q: %w", envMetricsAddr, listenAddr, err)
	}
	if port == "" {
		return "", fmt.Errorf("parse %s %q: no port", envMetricsAddr, listenAddr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// probe sends one GET and accepts only 200 OK.
func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, 512))
	closeErr := resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := errors.Join(readErr, closeErr); err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	return nil
}
