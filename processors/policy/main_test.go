package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, noEnv, &buf); err == nil {
		t.Fatal("-h returned no error")
	}
	for _, want := range []string{"-rules", "-group", "-transactional-id", "-kafka-brokers", "-schema-registry-url", "-metrics-addr", "SFSTREAM_"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

// A rule file with an error is refused at start, before any connection, with its file, line
// and reason.
func TestBadRuleFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "local.yaml")
	if err := os.WriteFile(bad, []byte("- rule: r\n  desc: d\n  condition: sf.type = PE and sf.proc.nam = sh\n  output: o\n  priority: WARNING\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-rules", bad, "-kafka-brokers", "127.0.0.1:1"}, noEnv, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), bad+`:3:31: rule "r": condition: unknown field "sf.proc.nam"`) {
		t.Fatalf("err = %v, want the file, position and reason", err)
	}
	err = run(context.Background(), []string{"-rules", filepath.Join(dir, "missing.yaml")}, noEnv, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("err = %v, want the missing file named", err)
	}
}
