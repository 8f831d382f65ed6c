package hourly

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

const (
	sec  = int64(time.Second)
	hour = int64(1_700_002_800) // 2023-11-14T23:00:00Z
)

func TestNames(t *testing.T) {
	k := Key{Exporter: "node-1", Hour: hour, Partition: 7}
	tests := []struct {
		prefix  string
		variant int
		want    string
	}{
		{"", 0, "node-1/2023-11-14/23/node-1.2023111423.p7.sf"},
		{"/arch/", 0, "arch/node-1/2023-11-14/23/node-1.2023111423.p7.sf"},
		{"a/b", 1, "a/b/node-1/2023-11-14/23/node-1.2023111423.p7.late.sf"},
		{"a", 3, "a/node-1/2023-11-14/23/node-1.2023111423.p7.late.3.sf"},
	}
	for _, tt := range tests {
		k.Variant = tt.variant
		got := k.Name(tt.prefix)
		if got != tt.want {
			t.Errorf("Name(%q) v%d = %s, want %s", tt.prefix, tt.variant, got, tt.want)
		}
		if v, ok := ParseVariant(k.Stem(tt.prefix), got); !ok || v != tt.variant {
			t.Errorf("ParseVariant(%s) = %d, %v", got, v, ok)
		}
	}
	pq := map[string]Key{
		"arch/parquet/exporter=node-1/date=2023-11-14/hour=23/node-1.2023111423.p7.parquet":      {Exporter: "node-1", Hour: hour, Partition: 7},
		"arch/parquet/exporter=node-1/date=2023-11-14/hour=23/node-1.2023111423.p7.late.parquet": {Exporter: "node-1", Hour: hour, Partition: 7, Variant: 1},
		"parquet/exporter=a_b/date=2023-11-14/hour=22/a_b.2023111422.p0.late.2.parquet":          {Exporter: "a/b", Hour: hour - 3600, Variant: 2},
	}
	for want, k := range pq {
		prefix := "/arch/"
		if !strings.HasPrefix(want, "arch/") {
			prefix = ""
		}
		if got := k.ParquetName(prefix); got != want {
			t.Errorf("ParquetName(%q) of %v = %s, want %s", prefix, k, got, want)
		}
	}
	for _, bad := range []string{"late.1.sf", "late.02.sf", "late.x.sf", "sf.tmp", "late.sf.x"} {
		if _, ok := ParseVariant("s.", "s."+bad); ok {
			t.Errorf("ParseVariant accepted %q", bad)
		}
	}
	for in, want := range map[string]string{"a/b": "a_b", "..": "_", "": "_", "host.example.com": "host.example.com", "ü": "__"} {
		if got := SafeExporter(in); got != want {
			t.Errorf("SafeExporter(%q) = %q, want %q", in, got, want)
		}
	}
	for ts, want := range map[int64]int64{hour * sec: hour, hour*sec - 1: hour - 3600, -1: -3600, 0: 0} {
		if got := HourOf(ts); got != want {
			t.Errorf("HourOf(%d) = %d, want %d", ts, got, want)
		}
	}
}

// fixture is an entity table with a process tree: init (before the hour), a shell (before
// the hour, then MODIFIED by a setuid in the hour), a child in a container (CREATED, then
// MODIFIED by an exec), and files.
type fixture struct {
	table                   *entities.Table
	init, shell, child      sysflow.OID
	cont                    string
	log, tmp, out           sysflow.FOID
	created, execTS, suidTS int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		table: entities.NewTable(0),
		init:  sysflow.OID{HPID: 1, CreateTS: 1}, shell: sysflow.OID{HPID: 100, CreateTS: 2}, child: sysflow.OID{HPID: 1000, CreateTS: hour*sec + 10*sec},
		cont:    "c0ffee",
		created: hour*sec + 10*sec, execTS: hour*sec + 11*sec, suidTS: hour*sec + 20*sec,
	}
	f.log, f.tmp, f.out = sysflow.NewFOID(f.cont, "/var/log/app"), sysflow.NewFOID(f.cont, "/tmp/a"), sysflow.NewFOID(f.cont, "/tmp/b")
	add := func(key string, rec sysflow.Record, kts int64) {
		if err := f.table.Add(key, rec, kts); err != nil {
			t.Fatal(err)
		}
	}
	cid := f.cont
	before := hour*sec - 600*sec
	add(sysflow.ContainerKey("n", cid), &sysflow.Container{ID: cid, Name: "app", Image: "alpine:3", Type: sysflow.CTDocker}, 1)
	add(f.init.Key("n"), &sysflow.Process{State: sysflow.StateReup, OID: f.init, TS: before, Exe: "/sbin/init", Env: []string{}}, 1)
	add(f.shell.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: f.shell, POID: &f.init, TS: before, Exe: "/bin/sh", Env: []string{}}, 1)
	add(f.shell.Key("n"), &sysflow.Process{State: sysflow.StateModified, OID: f.shell, POID: &f.init, TS: f.suidTS, Exe: "/bin/sh", UID: 1000, Env: []string{}}, 5)
	add(f.child.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: f.child, POID: &f.shell, TS: f.created, Exe: "/bin/sh", ContainerID: &cid, Env: []string{}}, 2)
	add(f.child.Key("n"), &sysflow.Process{State: sysflow.StateModified, OID: f.child, POID: &f.shell, TS: f.execTS, Exe: "/usr/bin/app", ContainerID: &cid, Env: []string{}}, 3)
	add(f.log.Key("n"), &sysflow.File{State: sysflow.StateReup, OID: f.log, TS: f.created + sec, Path: "/var/log/app", ContainerID: &cid, ResType: 'f'}, 3)
	add(f.tmp.Key("n"), &sysflow.File{State: sysflow.StateReup, OID: f.tmp, TS: f.created + 2*sec, Path: "/tmp/a", ContainerID: &cid, ResType: '?'}, 4)
	add(f.out.Key("n"), &sysflow.File{State: sysflow.StateCreated, OID: f.out, TS: f.created + 2*sec, Path: "/tmp/b", ContainerID: &cid, ResType: '?'}, 4)
	return f
}

// write writes recs (with Kafka timestamps kts and offsets 10, 11, ...) to a new object and
// returns its bytes.
func write(t *testing.T, f *fixture, key Key, recs []sysflow.Record, kts []int64) ([]byte, Object) {
	t.Helper()
	name := key.Name("arch")
	file, err := Create(t.TempDir(), key, name, f.table, WithIP("10.1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if err := file.Append(r, kts[i], int64(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := file.Finish("sysflow.events")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(obj.Path)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != int64(len(b)) {
		t.Errorf("object size %d, file has %d bytes", obj.Size, len(b))
	}
	return b, obj
}

func read(t *testing.T, b []byte) ([]sysflow.Record, map[string][]byte) {
	t.Helper()
	r, err := sffile.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []sysflow.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, r.Metadata()
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

// describe summarises records as "H", "C", "P1000 CREATED", "F/tmp/a REUP", "FF", ...
func describe(recs []sysflow.Record) string {
	var parts []string
	for _, r := range recs {
		switch x := r.(type) {
		case *sysflow.Process:
			parts = append(parts, fmt.Sprintf("P%d %s", x.OID.HPID, x.State))
		case *sysflow.File:
			parts = append(parts, fmt.Sprintf("F%s %s", x.Path, x.State))
		default:
			parts = append(parts, r.Kind().String())
		}
	}
	return strings.Join(parts, ", ")
}

func TestEntitiesPrecedeReferencesWithTheirVersions(t *testing.T) {
	f := newFixture(t)
	out := f.out
	recs := []sysflow.Record{
		&sysflow.FileFlow{ProcOID: f.child, TS: f.created + sec, FileOID: f.log, OpFlags: 1}, // before the exec
		&sysflow.ProcessEvent{ProcOID: f.child, TS: f.execTS, OpFlags: 2, Args: []string{}},  // the exec
		&sysflow.FileFlow{ProcOID: f.child, TS: f.created + sec, FileOID: f.log, OpFlags: 1}, // an older version: not again
		&sysflow.FileEvent{ProcOID: f.child, TS: f.created + 2*sec, FileOID: f.tmp, NewFileOID: &out},
		&sysflow.ProcessEvent{ProcOID: f.shell, TS: f.suidTS, OpFlags: 4, Args: []string{"u"}}, // the setuid
		&sysflow.ProcessEvent{ProcOID: sysflow.OID{HPID: 9, CreateTS: 9}, TS: f.suidTS, Args: []string{}},
	}
	b, obj := write(t, f, Key{Exporter: "n", Hour: hour, Partition: 2}, recs, []int64{2, 3, 4, 4, 5, 6})
	got, meta := read(t, b)
	want := "H, C, P1 REUP, P100 REUP, P1000 CREATED, F/var/log/app REUP, FF, " +
		"P1000 MODIFIED, PE, FF, " +
		"F/tmp/a REUP, F/tmp/b CREATED, FE, " +
		"P100 MODIFIED, PE, P9 REUP, PE"
	if d := describe(got); d != want {
		t.Errorf("records:\n got %s\nwant %s", d, want)
	}
	h := got[0].(*sysflow.Header)
	if h.Version != 5 || h.Exporter != "n" || h.IP != "10.1.2.3" || h.Filename != "arch/n/2023-11-14/23/n.2023111423.p2.sf" {
		t.Errorf("header %+v", h)
	}
	if p := got[3].(*sysflow.Process); p.TS != hour*sec-600*sec || p.State != sysflow.StateReup {
		t.Errorf("shell written before its hour: %+v, want REUP with its own ts", p)
	}
	for k, v := range map[string]string{MetaTopic: "sysflow.events", MetaPartition: "2", MetaOffsets: "10-15", MetaRecords: "6", "avro.codec": "deflate"} {
		if string(meta[k]) != v {
			t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
		}
	}
	if p := got[len(got)-2].(*sysflow.Process); p.UID != -1 || p.GID != -1 || p.Exe != "" || p.POID != nil || p.TS != f.suidTS {
		t.Errorf("unknown process 9 written as %+v, want a placeholder (uid/gid -1, no exe, no parent, the record's ts)", p)
	}
	if obj.Events != 6 || obj.Entities != 10 || obj.First != 10 || obj.Last != 15 || obj.Missing.Processes != 1 || obj.Missing.Total() != 1 {
		t.Errorf("object %+v", obj)
	}
}

// A version created in another hour is written as REUP with its own ts; a version written to
// Kafka after the record is not used.
func TestStatesOutsideTheHourAreReup(t *testing.T) {
	f := newFixture(t)
	recs := []sysflow.Record{&sysflow.ProcessEvent{ProcOID: f.child, TS: f.execTS + 3600*sec, Args: []string{}}}
	b, _ := write(t, f, Key{Exporter: "n", Hour: hour + 3600}, recs, []int64{100})
	got, _ := read(t, b)
	if d := describe(got); d != "H, C, P1 REUP, P100 REUP, P1000 REUP, PE" {
		t.Fatalf("records: %s", d)
	}
	if p := got[4].(*sysflow.Process); p.TS != f.execTS || p.Exe != "/usr/bin/app" {
		t.Errorf("child %+v: want the exec version, REUP with its ts", p)
	}
	if p := got[3].(*sysflow.Process); p.TS != f.suidTS || p.UID != 1000 {
		t.Errorf("shell %+v: want the setuid version, REUP with its ts", p)
	}
	// Kafka timestamp 2: the exec version (written at 3) does not exist yet for the record.
	b, _ = write(t, f, Key{Exporter: "n", Hour: hour}, []sysflow.Record{&sysflow.ProcessEvent{ProcOID: f.child, TS: f.execTS, Args: []string{}}}, []int64{2})
	got, _ = read(t, b)
	if d := describe(got); d != "H, C, P1 REUP, P100 REUP, P1000 CREATED, PE" {
		t.Errorf("records: %s", d)
	}
}

func TestObjectsAreDeterministic(t *testing.T) {
	f := newFixture(t)
	var recs []sysflow.Record
	var kts []int64
	for i := range 3000 { // several blocks
		recs = append(recs, &sysflow.NetworkFlow{ProcOID: f.child, TS: f.execTS + int64(i), SPort: int32(i), OpFlags: 1})
		kts = append(kts, 10)
	}
	key := Key{Exporter: "n", Hour: hour, Partition: 1, Variant: 2}
	a, _ := write(t, f, key, recs, kts)
	b, _ := write(t, f, key, recs, kts)
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same records differ")
	}
	sync := SyncMarker(key.Name("arch"))
	if !bytes.HasSuffix(a, sync[:]) {
		t.Error("object does not end with the name's sync marker")
	}
	key.Partition = 2
	c, _ := write(t, f, key, recs, kts)
	if bytes.Equal(a, c) {
		t.Error("objects of different names are identical")
	}
	got, _ := read(t, a)
	if len(got) != 3000+5 {
		t.Errorf("%d records read back, want %d", len(got), 3005)
	}
}

func TestDiscardRemovesStaging(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	file, err := Create(dir, Key{Exporter: "n", Hour: hour}, "n.sf", f.table)
	if err != nil {
		t.Fatal(err)
	}
	if err := file.Append(&sysflow.ProcessEvent{ProcOID: f.child, TS: f.execTS, Args: []string{}}, 9, 1); err != nil {
		t.Fatal(err)
	}
	if err := file.Discard(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("staging dir holds %d files after Discard", len(ents))
	}
	if _, _, err := ParseOffsets("12-3"); err == nil {
		t.Error("ParseOffsets accepted last < first")
	}
}
