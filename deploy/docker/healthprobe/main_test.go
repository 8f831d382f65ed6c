package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbeURL(t *testing.T) {
	tests := []struct {
		name, addr, path, want, wantErr string
	}{
		{name: "port only", addr: ":9090", path: "/readyz", want: "http://127.0.0.1:9090/readyz"},
		{name: "ipv4 wildcard", addr: "0.0.0.0:8080", path: "/healthz", want: "http://127.0.0.1:8080/healthz"},
		{name: "ipv6 wildcard", addr: "[::]:9090", path: "/readyz", want: "http://[::1]:9090/readyz"},
		{name: "explicit host", addr: "10.1.2.3:9100", path: "/readyz", want: "http://10.1.2.3:9100/readyz"},
		{name: "path without slash", addr: ":9090", path: "healthz", want: "http://127.0.0.1:9090/healthz"},
		{name: "no port", addr: "localhost", path: "/readyz", wantErr: "missing port"},
		{name: "empty port", addr: "localhost:", path: "/readyz", wantErr: "no port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := probeURL(tt.addr, tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("probeURL(%q) error = %v, want it to contain %q", tt.addr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("probeURL(%q): %v", tt.addr, err)
			}
			if got != tt.want {
				t.Fatalf("probeURL(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(http.StatusOK)
		case "/healthz":
			http.Error(w, "kafka unreachable", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	env := func(key string) string {
		if key == envMetricsAddr {
			return addr
		}
		return ""
	}

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "ready", args: nil},
		{name: "unhealthy", args: []string{"-path", "/healthz"}, wantErr: "503 Service Unavailable: kafka unreachable"},
		{name: "explicit url", args: []string{"-url", srv.URL + "/readyz"}},
		{name: "not found", args: []string{"-url", srv.URL + "/nope"}, wantErr: "404"},
		{name: "bad flag", args: []string{"-nope"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, env)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("run(%v): %v", tt.args, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%v) error = %v, want it to contain %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestRunNothingListening(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	env := func(string) string { return addr }
	if err := run(context.Background(), nil, env); err == nil {
		t.Fatal("run against a closed port succeeded, want an error")
	}
}
