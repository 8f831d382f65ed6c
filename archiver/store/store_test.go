package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/archiver/store"
	"github.com/sfstream/sfstream/internal/stack"
)

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "obj")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readHead(t *testing.T, s store.Store, name string, n int64) []byte {
	t.Helper()
	rc, err := s.Head(context.Background(), name, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// exercise stores, replaces, lists and reads objects.
func exercise(t *testing.T, s store.Store, big int) {
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	data := make([]byte, big)
	rand.Read(data)
	names := []string{"p/n/2023-11-14/23/n.2023111423.p1.sf", "p/n/2023-11-14/23/n.2023111423.p1.late.sf", "p/n/2023-11-14/23/n.2023111423.p10.sf", "p/m/x.sf"}
	for _, n := range names {
		if err := s.Put(ctx, n, writeTemp(t, data), int64(len(data))); err != nil {
			t.Fatalf("put %s: %v", n, err)
		}
	}
	if err := s.Put(ctx, names[0], writeTemp(t, []byte("replaced")), 8); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, "p/n/2023-11-14/23/n.2023111423.p1.")
	if err != nil {
		t.Fatal(err)
	}
	if want := names[:2]; !slices.Equal(got, []string{want[1], want[0]}) {
		t.Errorf("list = %q, want %q", got, []string{want[1], want[0]})
	}
	if b := readHead(t, s, names[0], 1<<20); string(b) != "replaced" {
		t.Errorf("replaced object reads %q", b)
	}
	if b := readHead(t, s, names[1], 1<<40); !bytes.Equal(b, data) {
		t.Errorf("object of %d bytes reads back %d bytes, or different ones", len(data), len(b))
	}
	if b := readHead(t, s, names[1], 100); !bytes.Equal(b, data[:100]) {
		t.Errorf("head reads %d bytes", len(b))
	}
	if got, _ := s.List(ctx, "p/none/"); len(got) != 0 {
		t.Errorf("list of nothing = %q", got)
	}
}

func TestDirStore(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(stack.ArchiveTarget{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s, 100_000)
	for _, bad := range []string{"../x.sf", "/abs.sf", "a//b.sf", "a/./b.sf"} {
		if err := s.Put(context.Background(), bad, writeTemp(t, []byte("x")), 1); err == nil {
			t.Errorf("put %q outside the root succeeded", bad)
		}
	}
	// A writer killed before its rename leaves a temporary file; the next Put of the name
	// removes it.
	stale := filepath.Join(root, "p", "m", ".x.sf.sfstream-tmp-0123")
	if err := os.WriteFile(stale, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.List(context.Background(), "p/m/"); !slices.Equal(names, []string{"p/m/x.sf"}) {
		t.Errorf("list shows temporary files: %q", names)
	}
	if err := s.Put(context.Background(), "p/m/x.sf", writeTemp(t, []byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale temporary file not removed")
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, "p", "*", "*", "*", ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %q", leftovers)
	}
}

func TestS3Store(t *testing.T) {
	s3 := archivetest.NewS3(t, "bucket", "key", "secret")
	s3.Start(t)
	s, err := store.Open(s3.Target, store.WithPartSize(store.MinPartSize))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.String(), s3.Target.Endpoint) || strings.Contains(s.String(), "secret") {
		t.Errorf("String() = %q", s.String())
	}
	defer s.Close()
	exercise(t, s, 3*store.MinPartSize+12345) // multipart
}

func TestS3Errors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	down := archivetest.NewS3(t, "bucket", "key", "secret") // never started
	s, _ := store.Open(down.Target)
	err := s.Put(ctx, "a.sf", writeTemp(t, []byte("x")), 1)
	if err == nil || store.Reason(err) != store.ReasonNetwork || store.IsPermanent(err) {
		t.Errorf("unreachable: %v (reason %s), want a network error to retry", err, store.Reason(err))
	}

	up := archivetest.NewS3(t, "bucket", "key", "secret")
	up.Start(t)
	wrong := up.Target
	wrong.AccessKey = "other"
	s, _ = store.Open(wrong)
	err = s.Check(ctx)
	if err == nil || !store.IsPermanent(err) || store.Reason(err) != store.ReasonAuth || !strings.Contains(err.Error(), "credentials refused") {
		t.Errorf("wrong key: %v, want a permanent, clear credentials error", err)
	}
	if err := s.Put(ctx, "a.sf", writeTemp(t, []byte("x")), 1); store.Reason(err) != store.ReasonAuth {
		t.Errorf("put with a wrong key: reason %s (%v)", store.Reason(err), err)
	}
	nobucket := up.Target
	nobucket.Bucket = "missing"
	s, _ = store.Open(nobucket)
	err = s.Check(ctx)
	if err == nil || store.Reason(err) != store.ReasonNoBucket || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v (reason %s)", err, store.Reason(err))
	}
	if _, err := store.Open(stack.ArchiveTarget{Endpoint: up.Target.Endpoint, Bucket: "b"}, store.WithPartSize(1<<20)); err == nil {
		t.Error("a part size below 5 MiB was accepted")
	}
}
