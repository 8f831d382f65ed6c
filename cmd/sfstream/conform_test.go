package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

var refDir = filepath.Join("..", "..", "testdata", "reference")

// Every reference capture, replayed through producer, Kafka, processor and archiver, gives the
// reference collector's records field by field.
func TestConformReferenceCaptures(t *testing.T) {
	for _, name := range []string{"alpine/alpine", "client-server/tcp-client-server", "files/files", "files/filesat", "rename/rename", "setuid/setuid"} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := conformCmd(context.Background(), []string{"-threshold", "100",
				filepath.Join(refDir, name+".scap"), filepath.Join(refDir, name+".sf")}, func(string) string { return "" }, &out, &errb)
			t.Log(out.String())
			if err != nil {
				t.Fatalf("conform: %v\n%s", err, errb.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if last := lines[len(lines)-1]; last != "matched 100.0%" {
				t.Errorf("last line %q, want matched 100.0%%", last)
			}
			if !strings.Contains(out.String(), "\nmismatches by type and field: no mismatches\n") {
				t.Error("the mismatch summary does not say there are no mismatches")
			}
		})
	}
}

// Below the threshold the command fails after printing its report; a capture it cannot read
// is an error naming it.
func TestConformThresholdAndErrors(t *testing.T) {
	var out bytes.Buffer
	// The setuid capture compared with the rename reference matches little.
	err := conformCmd(context.Background(), []string{"-threshold", "50",
		filepath.Join(refDir, "setuid", "setuid.scap"), filepath.Join(refDir, "rename", "rename.sf")}, func(string) string { return "" }, &out, &bytes.Buffer{})
	if !errors.Is(err, errBelowThreshold) {
		t.Fatalf("err = %v, want below threshold", err)
	}
	if !strings.Contains(out.String(), "matched ") {
		t.Errorf("no report printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "\nmismatches by type and field, biggest first:\n") {
		t.Errorf("no mismatch summary printed:\n%s", out.String())
	}
	err = conformCmd(context.Background(), []string{filepath.Join(refDir, "README.md"), filepath.Join(refDir, "rename", "rename.sf")}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Errorf("unreadable capture: err = %v", err)
	}
}
