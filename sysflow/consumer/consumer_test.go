package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/consumer"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// referenceDir is the project's testdata/reference seen from this package.
var referenceDir = filepath.Join("..", "..", "testdata", "reference")

// referenceFiles are the reference captures, in the lexical order of their paths.
var referenceFiles = []string{
	"alpine/alpine.sf",
	"client-server/tcp-client-server.sf",
	"files/files.sf",
	"legacy-v1/files-v1.sf",
	"rename/rename.sf",
	"setuid/setuid.sf",
}

// summary is what a test compares of a Flat: the record and every entity joined with it.
func summary(f *sysflow.Flat) string {
	var b strings.Builder
	ev := sysflow.EventFieldsOf(f.Rec)
	fmt.Fprintf(&b, "%s ts=%d op=%d", f.Kind, ev.TS, ev.OpFlags)
	if f.Header != nil {
		fmt.Fprintf(&b, " exporter=%s", f.Header.Exporter)
	}
	if f.Process != nil {
		fmt.Fprintf(&b, " proc=%s/%d/%s", f.Process.Exe, f.Process.OID.HPID, f.Process.State)
	}
	if f.Parent != nil {
		fmt.Fprintf(&b, " parent=%s/%d", f.Parent.Exe, f.Parent.OID.HPID)
	}
	if f.Container != nil {
		fmt.Fprintf(&b, " container=%s", f.Container.Name)
	}
	if f.File != nil {
		fmt.Fprintf(&b, " file=%s", f.File.Path)
	}
	if f.NewFile != nil {
		fmt.Fprintf(&b, " newfile=%s", f.NewFile.Path)
	}
	return b.String()
}

// fileSummaries flattens one reference file with sffile.NewFlatReader.
func fileSummaries(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(referenceDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := sffile.NewFlatReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		flat, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, summary(flat))
	}
}

// drain reads src to io.EOF (or fails the test after a minute) and returns the summaries.
func drain(t testing.TB, src consumer.Source) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out []string
	for {
		flat, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		out = append(out, summary(flat))
	}
}

func equalLists(t testing.TB, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// referenceTree copies the reference files into a directory tree with a file that is not
// SysFlow and an archive's Parquet file beside them.
func referenceTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range referenceFiles {
		data, err := os.ReadFile(filepath.Join(referenceDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "alpine", "NOTES.txt"), []byte("not sysflow"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "files", "x.2026010100.p0.parquet"), []byte("PAR1 not sysflow PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func allReferenceSummaries(t testing.TB) []string {
	var want []string
	for _, name := range referenceFiles {
		want = append(want, fileSummaries(t, name)...)
	}
	return want
}

func TestFromDir(t *testing.T) {
	want := allReferenceSummaries(t)
	if len(want) != 116 {
		t.Fatalf("the reference files hold %d events and flows, want 116", len(want))
	}
	t.Run("tree", func(t *testing.T) {
		src, err := consumer.FromDir(referenceTree(t))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		equalLists(t, drain(t, src), want)
	})
	t.Run("one file", func(t *testing.T) {
		src, err := consumer.FromDir(filepath.Join(referenceDir, referenceFiles[0]))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		equalLists(t, drain(t, src), fileSummaries(t, referenceFiles[0]))
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := consumer.FromDir(filepath.Join(t.TempDir(), "none")); err == nil {
			t.Fatal("FromDir of a missing directory succeeded")
		}
	})
}

// TestFromDirCorruptFile: a truncated file gives its records before the damage, then a
// *FileError naming it; the next call goes on with the next file.
func TestFromDirCorruptFile(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(referenceDir, "alpine", "alpine.sf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.sf"), data[:len(data)-40], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.sf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := consumer.FromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := t.Context()
	n, failed := 0, 0
	for {
		_, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		var fe *consumer.FileError
		if errors.As(err, &fe) {
			if fe.Name != filepath.Join(dir, "a.sf") {
				t.Errorf("error names %s, want a.sf", fe.Name)
			}
			failed++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if failed != 1 || n < 24 || n >= 48 {
		t.Errorf("%d records and %d errors, want those of b.sf (24) and any before the damage of a.sf, and 1 error", n, failed)
	}
}

func TestFilter(t *testing.T) {
	all := allReferenceSummaries(t)
	tests := []struct {
		expr string
		keep func(s string) bool
	}{
		{"type = PE", func(s string) bool { return strings.HasPrefix(s, "PE ") }},
		{"type in (FF, FE) and file.path startswith /etc", func(s string) bool {
			return (strings.HasPrefix(s, "FF ") || strings.HasPrefix(s, "FE ")) && strings.Contains(s, " file=/etc")
		}},
		{"proc.exe = /bin/touch", func(s string) bool { return strings.Contains(s, " proc=/bin/touch/") }},
		{"container.name = alpine and not type = PE", func(s string) bool {
			return strings.Contains(s, " container=alpine") && !strings.HasPrefix(s, "PE ")
		}},
	}
	dir := referenceTree(t)
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			var want []string
			for _, s := range all {
				if tt.keep(s) {
					want = append(want, s)
				}
			}
			if len(want) == 0 {
				t.Fatal("the expression selects nothing: a useless case")
			}
			src, err := consumer.FromDir(dir, consumer.WithFilter(tt.expr))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			equalLists(t, drain(t, src), want)
		})
	}
	t.Run("bad expression", func(t *testing.T) {
		_, err := consumer.FromDir(dir, consumer.WithFilter("type = PE and"))
		if err == nil || !strings.Contains(err.Error(), "1:") {
			t.Fatalf("FromDir with a bad filter: %v, want an error with its position", err)
		}
	})
}
