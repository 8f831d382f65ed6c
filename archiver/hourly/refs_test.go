package hourly

import (
	"os"
	"slices"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

// A parent, file or container the table lacks is written as a placeholder before the record
// that needs it, once per file; when its entity arrives, a later record of the file gets the
// real version after the placeholder.
func TestUnknownEntitiesAreWrittenAsPlaceholdersBeforeTheirReferences(t *testing.T) {
	f := newFixture(t)
	orphan := sysflow.OID{HPID: 2000, CreateTS: hour*sec + 30*sec}
	lost := sysflow.OID{HPID: 1999, CreateTS: hour*sec + 29*sec}
	ghost := sysflow.NewFOID("", "/gone")
	other := "beef00"
	if err := f.table.Add(orphan.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: orphan, POID: &lost, TS: orphan.CreateTS, Exe: "/bin/cat", ContainerID: &other, Env: []string{}}, 7); err != nil {
		t.Fatal(err)
	}
	key := Key{Exporter: "n", Hour: hour, Partition: 0}
	file, err := Create(t.TempDir(), key, key.Name(""), f.table)
	if err != nil {
		t.Fatal(err)
	}
	ts := orphan.CreateTS + sec
	appendRec := func(rec sysflow.Record, kts int64) {
		t.Helper()
		if err := file.Append(rec, kts, kts); err != nil {
			t.Fatal(err)
		}
	}
	appendRec(&sysflow.FileFlow{ProcOID: orphan, TS: ts, FileOID: ghost, OpFlags: 1}, 8)
	appendRec(&sysflow.FileFlow{ProcOID: orphan, TS: ts, FileOID: ghost, OpFlags: 2}, 9) // nothing again
	// The parent's entity arrives (its partition caught up); the next record finds it.
	if err := f.table.Add(lost.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: lost, POID: &f.shell, TS: lost.CreateTS, Exe: "/bin/sh", Env: []string{}}, 10); err != nil {
		t.Fatal(err)
	}
	child := sysflow.OID{HPID: 2001, CreateTS: ts}
	if err := f.table.Add(child.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: child, POID: &lost, TS: ts, Exe: "/bin/ls", Env: []string{}}, 11); err != nil {
		t.Fatal(err)
	}
	appendRec(&sysflow.ProcessEvent{ProcOID: child, TS: ts, OpFlags: 1, Args: []string{}}, 11)
	obj, err := file.Finish("sysflow.events")
	if err != nil {
		t.Fatal(err)
	}
	b := readFile(t, obj.Path)
	got, _ := read(t, b)
	want := "H, C, P1999 REUP, P2000 CREATED, F REUP, FF, FF, P1 REUP, P100 MODIFIED, P1999 CREATED, P2001 CREATED, PE"
	if d := describe(got); d != want {
		t.Fatalf("records:\n got %s\nwant %s", d, want)
	}
	if c := got[1].(*sysflow.Container); c.ID != other || c.Name != "incomplete" || c.Image != "incomplete:incomplete" {
		t.Errorf("unknown container written as %+v", c)
	}
	if p := got[2].(*sysflow.Process); p.OID != lost || p.UID != -1 || p.Exe != "" || p.POID != nil {
		t.Errorf("unknown parent written as %+v", p)
	}
	if fl := got[4].(*sysflow.File); fl.OID != ghost || fl.Path != "" || fl.ResType != '?' || fl.State != sysflow.StateReup {
		t.Errorf("unknown file written as %+v", fl)
	}
	if m := obj.Missing; m.Parents != 1 || m.Files != 1 || m.Containers != 1 || m.Processes != 0 {
		t.Errorf("missing %+v, want one parent, one file, one container", m)
	}
}

// The resolver names what the table has never held, through the whole ancestor chain, and
// nothing for an entity the table holds only as deleted.
func TestResolverNamesEntitiesNotArrivedThroughTheAncestorChain(t *testing.T) {
	f := newFixture(t)
	r := NewResolver(f.table, 0)
	gp := sysflow.OID{HPID: 50, CreateTS: 5}
	p := sysflow.OID{HPID: 60, CreateTS: 6}
	c := sysflow.OID{HPID: 70, CreateTS: 7}
	add := func(oid sysflow.OID, parent *sysflow.OID, kts int64) {
		t.Helper()
		if err := f.table.Add(oid.Key("n"), &sysflow.Process{State: sysflow.StateReup, OID: oid, POID: parent, TS: oid.CreateTS, Env: []string{}}, kts); err != nil {
			t.Fatal(err)
		}
	}
	missingFile := sysflow.NewFOID("", "/x")
	rec := &sysflow.FileFlow{ProcOID: c, TS: hour * sec, FileOID: missingFile}
	kinds := func() []string {
		var out []string
		for _, ref := range r.Unresolved(nil, "n", rec, 100) {
			out = append(out, ref.String())
		}
		return out
	}
	if got, want := kinds(), []string{c.Key("n"), missingFile.Key("n")}; !slices.Equal(got, want) {
		t.Fatalf("nothing arrived: %v, want %v", got, want)
	}
	add(c, &p, 200) // written after the record: still found (no version before it)
	if got, want := kinds(), []string{p.Key("n"), missingFile.Key("n")}; !slices.Equal(got, want) {
		t.Fatalf("child arrived: %v, want %v", got, want)
	}
	add(p, &gp, 1)
	add(gp, &f.init, 1)
	if err := f.table.Add(missingFile.Key("n"), &sysflow.File{State: sysflow.StateReup, OID: missingFile, Path: "/x", ResType: 'f'}, 1); err != nil {
		t.Fatal(err)
	}
	if got := kinds(); len(got) != 0 {
		t.Fatalf("everything arrived: %v", got)
	}
	gone := sysflow.OID{HPID: 80, CreateTS: 8}
	add(gone, nil, 1)
	f.table.Remove(gone.Key("n"), 2)
	orphan := sysflow.OID{HPID: 81, CreateTS: 9}
	add(orphan, &gone, 1)
	if got := r.Unresolved(nil, "n", &sysflow.ProcessEvent{ProcOID: orphan, TS: hour * sec}, 100); len(got) != 0 {
		t.Errorf("a parent deleted from the table is waited for: %v", got)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
