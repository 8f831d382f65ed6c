package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// good is the smallest Dockerfile that passes every rule; the cases edit it.
const good = `# syntax=docker/dockerfile:1
FROM golang:1.26 AS builder
ENV CGO_ENABLED=0 SFSTREAM_LDFLAGS="-s -w -X github.com/sfstream/sfstream/internal/version.Version=dev"
RUN go build -trimpath -ldflags "${SFSTREAM_LDFLAGS}" -o /out/p ./producer && \
    go build -trimpath -ldflags "${SFSTREAM_LDFLAGS}" -o /out/q ./processors

FROM scratch AS producer
COPY --from=builder /out/p /p
USER 0:0
HEALTHCHECK CMD ["/p", "health"]
ENTRYPOINT ["/p"]

FROM scratch AS processor
COPY --from=builder /out/q /q
USER 65532:65532
HEALTHCHECK CMD ["/q", "health"]
ENTRYPOINT ["/q"]

FROM scratch AS archiver
USER 65532
HEALTHCHECK CMD ["/a", "health"]
ENTRYPOINT ["/a"]

FROM scratch AS tools
USER 65532:65532
`

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr string
		wantOut string
	}{
		{name: "valid", edit: func(s string) string { return s }, wantOut: "note: ./producer is not in the tree yet"},
		{name: "syntax", edit: replace("COPY --from=builder /out/p /p", "COPY"), wantErr: "COPY requires at least two arguments"},
		{name: "lint", edit: replace("FROM scratch AS tools", "from scratch AS tools"), wantErr: "lint"},
		{name: "root processor", edit: replace("USER 65532:65532\nHEALTHCHECK CMD [\"/q\"", "USER 0\nHEALTHCHECK CMD [\"/q\""), wantErr: "target processor: runs as user \"0\""},
		{name: "non-root producer", edit: replace("USER 0:0", "USER 65532"), wantErr: "target producer: runs as user"},
		{name: "missing target", edit: replace("AS tools", "AS tool"), wantErr: "no target tools"},
		{name: "cgo", edit: replace("CGO_ENABLED=0", "CGO_ENABLED=1"), wantErr: "no ENV CGO_ENABLED=0"},
		{name: "no trimpath", edit: replace("-trimpath -ldflags \"${SFSTREAM_LDFLAGS}\" -o /out/q", "-o /out/q"), wantErr: "lacks -trimpath"},
		{name: "no version ldflag", edit: replace("-X github.com/sfstream/sfstream/internal/version.Version=dev", ""), wantErr: "no ENV SFSTREAM_LDFLAGS"},
		{name: "unknown stage", edit: replace("COPY --from=builder /out/q", "COPY --from=bulder /out/q"), wantErr: "COPY --from=bulder names no earlier stage"},
		{name: "no healthcheck", edit: replace("HEALTHCHECK CMD [\"/a\", \"health\"]\n", ""), wantErr: "target archiver: needs an ENTRYPOINT and a HEALTHCHECK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(path, []byte(tt.edit(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := run([]string{"-root", t.TempDir(), path}, &out)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				if !strings.Contains(out.String(), tt.wantOut) {
					t.Fatalf("output %q, want it to contain %q", out.String(), tt.wantOut)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
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
