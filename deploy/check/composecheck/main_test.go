package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// base is a minimal compose file that passes every rule; the cases edit it.
const base = `
services:
  kafka:
    image: apache/kafka:4.1.1
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "true"]
  init:
    image: apache/kafka:4.1.1
    restart: "no"
    depends_on:
      kafka:
        condition: service_healthy
  producer:
    image: sfstream/sf-producer:dev
    restart: unless-stopped
    privileged: true
    pid: host
    depends_on:
      init:
        condition: service_completed_successfully
    environment:
      SFSTREAM_KAFKA_BROKERS: kafka:9092
      SFSTREAM_EXPORTER_ID: node-1
    volumes:
      - /sys/kernel/btf:/sys/kernel/btf:ro
      - /sys/kernel/debug:/sys/kernel/debug:ro
      - /proc:/host/proc:ro
      - /sys/fs/cgroup:/sys/fs/cgroup:ro
    healthcheck:
      test: ["CMD", "/usr/local/bin/healthprobe"]
  processor:
    image: sfstream/sf-processor:dev
    restart: unless-stopped
    deploy:
      replicas: 2
    environment:
      SFSTREAM_KAFKA_BROKERS: kafka:9092
    healthcheck:
      test: ["CMD", "/usr/local/bin/healthprobe"]
`

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		env     []string
		wantErr string
	}{
		{name: "valid", edit: func(s string) string { return s }},
		{
			name:    "schema: unknown attribute",
			edit:    replace("privileged: true", "privilegd: true"),
			wantErr: "privilegd",
		},
		{
			name:    "consistency: undefined dependency",
			edit:    replace("      init:\n", "      nope:\n"),
			wantErr: "nope",
		},
		{
			name:    "variable without default",
			edit:    replace("sf-producer:dev", "sf-producer:${TAG}"),
			wantErr: `"TAG" variable is not set`,
		},
		{
			name: "variable set with -env",
			edit: replace("sf-producer:dev", "sf-producer:${TAG}"),
			env:  []string{"-env", "TAG=v1"},
		},
		{
			name:    "latest tag",
			edit:    replace("apache/kafka:4.1.1\n    restart: unless", "apache/kafka:latest\n    restart: unless"),
			wantErr: "no explicit tag",
		},
		{
			name:    "no health check on a long-running service",
			edit:    replace("      replicas: 2\n    environment:\n      SFSTREAM_KAFKA_BROKERS: kafka:9092\n    healthcheck:\n      test: [\"CMD\", \"/usr/local/bin/healthprobe\"]\n", "      replicas: 2\n    environment:\n      SFSTREAM_KAFKA_BROKERS: kafka:9092\n"),
			wantErr: "service processor: keeps running",
		},
		{
			name:    "waiting for completion of a restarting service",
			edit:    replace("restart: \"no\"", "restart: always"),
			wantErr: `waits for "init" to complete`,
		},
		{
			name:    "unknown sfstream variable",
			edit:    replace("SFSTREAM_EXPORTER_ID: node-1", "SFSTREAM_EXPORTER_ID: node-1\n      SFSTREAM_KAFKA_BROKER: x"),
			wantErr: "unknown variable SFSTREAM_KAFKA_BROKER",
		},
		{
			name: "producer with the capture capabilities instead of privileged",
			edit: replace("privileged: true", "cap_add: [SYS_ADMIN, SYS_PTRACE]\n    security_opt: [\"seccomp=unconfined\"]"),
		},
		{
			name:    "producer with the capabilities but seccomp",
			edit:    replace("privileged: true", "cap_add: [SYS_ADMIN, SYS_PTRACE]"),
			wantErr: "must be privileged, or have cap_add",
		},
		{
			name:    "producer not privileged, writable proc",
			edit:    compose(replace("privileged: true", "privileged: false"), replace("/proc:/host/proc:ro", "/proc:/host/proc")),
			wantErr: "must be privileged",
		},
		{
			name:    "producer without tracefs",
			edit:    replace("      - /sys/kernel/debug:/sys/kernel/debug:ro\n", ""),
			wantErr: "no bind mount at /sys/kernel/tracing or /sys/kernel/debug",
		},
		{
			name:    "one processor",
			edit:    replace("replicas: 2", "replicas: 1"),
			wantErr: "1 sf-processor containers",
		},
		{
			name:    "root processor",
			edit:    replace("    deploy:\n", "    user: \"0\"\n    deploy:\n"),
			wantErr: "runs sf-processor as root",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "compose.yaml")
			if err := os.WriteFile(path, []byte(tt.edit(base)), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := run(context.Background(), append(tt.env, path), &out)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				if !strings.Contains(out.String(), "valid, 4 services") {
					t.Fatalf("output %q, want a valid summary", out.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDependencyCycle(t *testing.T) {
	doc := base + `
  a:
    image: x/a:1
    restart: "no"
    depends_on: [b]
  b:
    image: x/b:1
    restart: "no"
    depends_on: [a]
`
	path := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	// compose-go may already refuse the cycle while loading; either way it must fail.
	err := run(context.Background(), []string{path}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "cycle") && !strings.Contains(err.Error(), "circular") {
		t.Fatalf("run error = %v, want a dependency cycle", err)
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit does not apply: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func compose(edits ...func(string) string) func(string) string {
	return func(s string) string {
		for _, e := range edits {
			s = e(s)
		}
		return s
	}
}
