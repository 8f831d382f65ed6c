package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/testkit"
)

// The drain timeout counts from the end of the capture, not from its start: a run longer
// than the timeout still processes and archives everything it captured.
func TestDrainTimeoutCountsFromTheEndOfTheCapture(t *testing.T) {
	sfstream := build(t, ".", "sfstream")
	dir := t.TempDir()
	cmd := exec.Command(sfstream, "run", "--data-dir", filepath.Join(dir, "data"), "--kafka-port", "0", "--registry-port", "0",
		"--metrics-addr=", "--progress", "1h", "--synthetic", "--duration", "4s", "--drain-timeout", "3s", "--log-level", "warn")
	cmd.Env = testkit.CleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sfstream run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if s := stderr.String(); strings.Contains(s, "did not finish") || strings.Contains(s, "did not store") {
		t.Errorf("the drain ran out of time:\n%s", s)
	}
	files, err := filepath.Glob(filepath.Join(dir, "data", "archive", "*", "*", "*", "*.sf"))
	if err != nil || len(files) == 0 {
		t.Errorf("no archived file (%v)\nstdout:\n%s", err, stdout.String())
	}
}
