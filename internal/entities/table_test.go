package entities

import (
	"errors"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

func proc(state sysflow.ObjectState, hpid, ts int64, exe string) *sysflow.Process {
	return &sysflow.Process{State: state, OID: sysflow.OID{HPID: hpid, CreateTS: 7}, TS: ts, Exe: exe}
}

func TestProcessVersionChoice(t *testing.T) {
	tb := NewTable(0)
	oid := sysflow.OID{HPID: 42, CreateTS: 7}
	key := oid.Key("node/with/slashes")
	for _, v := range []struct {
		p   *sysflow.Process
		kts int64
	}{
		{proc(sysflow.StateCreated, 42, 100, "/bin/sh"), 1000},
		{proc(sysflow.StateModified, 42, 200, "/usr/bin/app"), 2000},
		{proc(sysflow.StateModified, 42, 300, "/usr/bin/other"), 3000},
	} {
		if err := tb.Add(key, v.p, v.kts); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		ts, kts int64
		want    string
	}{
		{"before every version: the earliest", 50, 5000, "/bin/sh"},
		{"between versions: the latest not after ts", 250, 5000, "/usr/bin/app"},
		{"at a version's ts: that version", 200, 5000, "/usr/bin/app"},
		{"after every version", 900, 5000, "/usr/bin/other"},
		{"versions written after the record are ignored", 900, 2500, "/usr/bin/app"},
		{"written no later than the record: inclusive", 900, 2000, "/usr/bin/app"},
		{"nothing written before the record: all versions count", 250, 10, "/usr/bin/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := tb.Process("node/with/slashes", oid, tt.ts, tt.kts)
			if !ok {
				t.Fatal("not found")
			}
			if got := v.Rec.(*sysflow.Process).Exe; got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, ok := tb.Process("node", oid, 900, 5000); ok {
		t.Error("found under another exporter")
	}
}

func TestVersionsAreDeduplicatedAndBounded(t *testing.T) {
	tb := NewTable(3)
	key := sysflow.OID{HPID: 1, CreateTS: 7}.Key("n")
	tb.Add(key, proc(sysflow.StateReup, 1, 100, "first"), 1)
	tb.Add(key, proc(sysflow.StateReup, 1, 100, "repeat"), 2) // same ts and state: a repeat
	tb.Add(key, proc(sysflow.StateModified, 1, 100, "modified"), 3)
	v, _ := tb.Process("n", sysflow.OID{HPID: 1, CreateTS: 7}, 100, 10)
	if got := v.Rec.(*sysflow.Process).Exe; got != "modified" {
		t.Errorf("equal ts: got %s, want the MODIFIED version", got)
	}
	v, _ = tb.Process("n", sysflow.OID{HPID: 1, CreateTS: 7}, 100, 2)
	if got := v.Rec.(*sysflow.Process).Exe; got != "first" {
		t.Errorf("got %s, want the first REUP (the repeat is dropped)", got)
	}
	for ts := int64(200); ts < 800; ts += 100 {
		tb.Add(key, proc(sysflow.StateModified, 1, ts, "v"), ts)
	}
	tb.mu.RLock()
	n := len(tb.procs[procKey{"n", sysflow.OID{HPID: 1, CreateTS: 7}}])
	tb.mu.RUnlock()
	if n != 3 {
		t.Errorf("%d versions kept, want 3", n)
	}
	v, _ = tb.Process("n", sysflow.OID{HPID: 1, CreateTS: 7}, 0, 1<<40)
	if v.TS != 500 {
		t.Errorf("earliest kept version has ts %d, want 500", v.TS)
	}
}

func TestContainersFilesHeadersAndTombstones(t *testing.T) {
	tb := NewTable(0)
	id := "abc123"
	incomplete := &sysflow.Container{ID: id, Name: "incomplete", Image: "incomplete:incomplete"}
	complete := &sysflow.Container{ID: id, Name: "web", Image: "nginx:1"}
	tb.Add(sysflow.ContainerKey("n", id), incomplete, 10)
	tb.Add(sysflow.ContainerKey("n", id), complete, 20)
	tb.Add(sysflow.ContainerKey("n", id), &sysflow.Container{ID: id, Name: "web", Image: "nginx:1"}, 30) // same again
	if v, _ := tb.Container("n", id, 15); v.Rec.(*sysflow.Container).Name != "incomplete" {
		t.Error("container written before the record: want the incomplete one")
	}
	if v, _ := tb.Container("n", id, 40); v.Rec.(*sysflow.Container).Name != "web" || v.KTS != 20 {
		t.Errorf("latest container: %+v", v)
	}
	foid := sysflow.NewFOID("", "/etc/hosts")
	tb.Add(foid.Key("n"), &sysflow.File{State: sysflow.StateReup, OID: foid, TS: 5, Path: "/etc/hosts"}, 1)
	if v, ok := tb.File("n", foid, 1, 1); !ok || v.Rec.(*sysflow.File).Path != "/etc/hosts" {
		t.Error("file not found")
	}
	tb.Add(sysflow.HeaderKey("n"), &sysflow.Header{Version: 5, Exporter: "n", IP: "10.0.0.1"}, 1)
	if h, ok := tb.Header("n", 5); !ok || h.IP != "10.0.0.1" {
		t.Error("header not found")
	}
	oid := sysflow.OID{HPID: 9, CreateTS: 7}
	tb.Add(oid.Key("n"), proc(sysflow.StateCreated, 9, 1, "x"), 1)
	before := tb.Len()
	for _, k := range []string{oid.Key("n"), foid.Key("n"), sysflow.ContainerKey("n", id), sysflow.HeaderKey("n"), "garbage"} {
		tb.Remove(k, 50) // tombstones written at Kafka time 50
	}
	// Records written before the tombstones still find the entities; later ones do not.
	if _, ok := tb.Process("n", oid, 9, 49); !ok {
		t.Error("process deleted for a record written before its tombstone")
	}
	if _, ok := tb.File("n", foid, 5, 49); !ok {
		t.Error("file deleted for a record written before its tombstone")
	}
	if _, ok := tb.Process("n", oid, 9, 50); !ok {
		t.Error("process deleted for a record written in the millisecond of its tombstone")
	}
	if _, ok := tb.Process("n", oid, 9, 51); ok {
		t.Error("process found for a record written after its tombstone")
	}
	if _, ok := tb.File("n", foid, 5, 60); ok {
		t.Error("file found for a record written after its tombstone")
	}
	if _, ok := tb.Container("n", id, 60); ok {
		t.Error("container found after its tombstone")
	}
	if _, ok := tb.Header("n", 60); ok {
		t.Error("header found after its tombstone")
	}
	if tb.Len() != before {
		t.Errorf("tombstones dropped entities at once: %d held, want %d until pruned", tb.Len(), before)
	}
	// A version written after a tombstone (the entity came back) is found again.
	tb.Add(oid.Key("n"), proc(sysflow.StateModified, 9, 20, "y"), 70)
	if v, ok := tb.Process("n", oid, 30, 80); !ok || v.KTS != 70 {
		t.Errorf("version after the tombstone: %+v, %v", v, ok)
	}
	if _, ok := tb.Process("n", oid, 30, 60); ok {
		t.Error("process found between its tombstone and its return")
	}
	if n := tb.Prune(50); n != 0 {
		t.Errorf("Prune(50) dropped %d: the tombstones were written at 50, not before", n)
	}
	if n := tb.Prune(51); n != 3 || tb.Len() != 1 {
		t.Errorf("Prune(51) dropped %d, %d left; want 3 dropped and the process that came back kept", n, tb.Len())
	}
}

func TestBadKeys(t *testing.T) {
	tb := NewTable(0)
	tests := []struct {
		key string
		rec sysflow.Record
	}{
		{"n/P/1/2", proc(sysflow.StateCreated, 42, 1, "x")},
		{"n/F/00", &sysflow.File{OID: sysflow.NewFOID("", "/a")}},
		{"n/C/other", &sysflow.Container{ID: "abc"}},
		{"n/X", &sysflow.Header{}},
	}
	for _, tt := range tests {
		if err := tb.Add(tt.key, tt.rec, 1); !errors.Is(err, ErrBadKey) {
			t.Errorf("Add(%q) = %v, want ErrBadKey", tt.key, err)
		}
	}
	if err := tb.Add("n/POD", &sysflow.Pod{}, 1); err != nil {
		t.Errorf("pods are ignored, got %v", err)
	}
}

// A container's "incomplete" version written after the runtime's answer (by a partition
// that was behind) is not kept: records after it still find the answer.
func TestContainerNeverGoesBackToIncomplete(t *testing.T) {
	tb := NewTable(0)
	key := sysflow.ContainerKey("n", "c1")
	incomplete := &sysflow.Container{ID: "c1", Name: "incomplete", Image: "incomplete:incomplete", Type: sysflow.CTDocker}
	full := &sysflow.Container{ID: "c1", Name: "web", Image: "nginx:1", ImageID: "sha256:1", Type: sysflow.CTDocker}
	for i, rec := range []*sysflow.Container{incomplete, full, incomplete} {
		if err := tb.Add(key, rec, int64(10*(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		kts  int64
		want string
	}{{15, "incomplete"}, {25, "web"}, {35, "web"}} {
		v, ok := tb.Container("n", "c1", tt.kts)
		if !ok || v.Rec.(*sysflow.Container).Name != tt.want {
			t.Errorf("container at kts %d: %+v, want %s", tt.kts, v.Rec, tt.want)
		}
	}
	// A renamed container is a new version all the same.
	renamed := *full
	renamed.Name = "web-2"
	if err := tb.Add(key, &renamed, 40); err != nil {
		t.Fatal(err)
	}
	if v, _ := tb.Container("n", "c1", 45); v.Rec.(*sysflow.Container).Name != "web-2" {
		t.Errorf("after a rename: %+v", v.Rec)
	}
}
