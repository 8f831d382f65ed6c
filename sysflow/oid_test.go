package sysflow_test

import (
	"crypto/sha1"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

func TestNewFOID(t *testing.T) {
	tests := []struct {
		name, container, path string
		want                  string
	}{
		// SEMANTICS.md §2 gives the prefixes; the full values are the FOIDs of the reference files.
		{"host file", "", "/etc/ld.so.cache", "8d57b8c634ff3c042c2d003a93f46a7bc6cc86da"},
		{"container file", "347b1411b047", "/proc/sys/kernel/cap_last_cap", "56134a02289bcbeba9a24a66a6c8d37d39dbbbfe"},
		{"empty unix socket name", "", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"alpine tty", "c010f5a08549", "/dev/pts/0", "4d7c93fc5836f0110049691a398897aeb3f54cee"},
		{"no separator", "c010f5a08549/dev", "/pts/0", "4d7c93fc5836f0110049691a398897aeb3f54cee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sysflow.NewFOID(tt.container, tt.path)
			if got.String() != tt.want {
				t.Errorf("NewFOID(%q, %q) = %s, want %s", tt.container, tt.path, got, tt.want)
			}
			back, err := sysflow.ParseFOID(strings.ToUpper(tt.want))
			if err != nil || back != got {
				t.Errorf("ParseFOID(%s) = %s, %v; want %s", tt.want, back, err, got)
			}
		})
	}
}

func TestNewFOIDLongInput(t *testing.T) {
	// Inputs longer than NewFOID's stack buffer take another path.
	for _, n := range []int{250, 256, 257, 4096} {
		path := "/" + strings.Repeat("d", n)
		if got, want := sysflow.NewFOID("abc", path), sysflow.FOID(sha1.Sum([]byte("abc"+path))); got != want {
			t.Errorf("NewFOID of %d bytes = %s, want %s", n+4, got, want)
		}
	}
}

func TestParseFOIDErrors(t *testing.T) {
	for _, s := range []string{"", "8d57", strings.Repeat("g", 40), strings.Repeat("0", 41)} {
		if _, err := sysflow.ParseFOID(s); err == nil {
			t.Errorf("ParseFOID(%q) succeeded, want an error", s)
		}
	}
}

func TestKeys(t *testing.T) {
	oid := sysflow.OID{CreateTS: 1588262426778371797, HPID: 120839}
	foid := sysflow.NewFOID("", "/etc/ld.so.cache")
	cid := "c010f5a08549"
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"oid string", oid.String(), "120839/1588262426778371797"},
		{"process key", oid.Key("node1"), "node1/P/120839/1588262426778371797"},
		{"process key createTS 0", sysflow.OID{HPID: 1}.Key("tests"), "tests/P/1/0"},
		{"file key", foid.Key("node1"), "node1/F/8d57b8c634ff3c042c2d003a93f46a7bc6cc86da"},
		{"container key", sysflow.ContainerKey("node1", cid), "node1/C/c010f5a08549"},
		{"header key", sysflow.HeaderKey("node1"), "node1/H"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestRecordKey(t *testing.T) {
	oid := sysflow.OID{CreateTS: 7, HPID: 42}
	foid := sysflow.NewFOID("", "/x")
	tests := []struct {
		rec  sysflow.Record
		want string
	}{
		{&sysflow.Header{}, "n/H"},
		{&sysflow.Container{ID: "abc"}, "n/C/abc"},
		{&sysflow.Process{OID: oid}, "n/P/42/7"},
		{&sysflow.File{OID: foid}, "n/F/" + foid.String()},
		{&sysflow.ProcessEvent{ProcOID: oid}, "n/P/42/7"},
		{&sysflow.NetworkFlow{ProcOID: oid}, "n/P/42/7"},
		{&sysflow.FileFlow{ProcOID: oid, FileOID: foid}, "n/P/42/7"},
		{&sysflow.FileEvent{ProcOID: oid, FileOID: foid}, "n/P/42/7"},
		{&sysflow.NetworkEvent{ProcOID: oid}, "n/P/42/7"},
		{&sysflow.ProcessFlow{ProcOID: oid}, "n/P/42/7"},
	}
	for _, tt := range tests {
		got, ok := sysflow.RecordKey("n", tt.rec)
		if !ok || got != tt.want {
			t.Errorf("RecordKey(%s) = %q, %v; want %q", tt.rec.Kind(), got, ok, tt.want)
		}
	}
	for _, rec := range []sysflow.Record{&sysflow.Pod{}, &sysflow.K8sEvent{}, nil} {
		if got, ok := sysflow.RecordKey("n", rec); ok {
			t.Errorf("RecordKey(%T) = %q, want no key", rec, got)
		}
	}
}
