package sysflow_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

func ptr[T any](v T) *T { return &v }

// fixture is a small self-contained stream: a container, a parent and child process in it,
// two files and the events that reference them.
type fixture struct {
	hdr           *sysflow.Header
	cont          *sysflow.Container
	pod           *sysflow.Pod
	parent, child *sysflow.Process
	f1, f2        *sysflow.File
}

func newFixture() fixture {
	parentOID := sysflow.OID{HPID: 10, CreateTS: 100}
	childOID := sysflow.OID{HPID: 11, CreateTS: 200}
	return fixture{
		hdr:    &sysflow.Header{Version: 5, Exporter: "node1"},
		pod:    &sysflow.Pod{ID: "pod-1", Name: "web"},
		cont:   &sysflow.Container{ID: "c1", Name: "alpine", PodID: ptr("pod-1")},
		parent: &sysflow.Process{State: sysflow.StateReup, OID: parentOID, Exe: "/bin/sh", ContainerID: ptr("c1")},
		child:  &sysflow.Process{State: sysflow.StateCreated, OID: childOID, POID: &parentOID, Exe: "/bin/mv", ContainerID: ptr("c1")},
		f1:     &sysflow.File{OID: sysflow.NewFOID("c1", "/tmp/a"), Path: "/tmp/a", ContainerID: ptr("c1")},
		f2:     &sysflow.File{OID: sysflow.NewFOID("c1", "/tmp/b"), Path: "/tmp/b", ContainerID: ptr("c1")},
	}
}

func (fx fixture) entities() []sysflow.Record {
	return []sysflow.Record{fx.hdr, fx.pod, fx.cont, fx.parent, fx.child, fx.f1, fx.f2}
}

func TestFlattenerResolvesReferences(t *testing.T) {
	fx := newFixture()
	fl := sysflow.NewFlattener()
	for _, rec := range fx.entities() {
		if _, ok := fl.Add(rec); ok {
			t.Fatalf("entity %s returned a Flat without WithEntities", rec.Kind())
		}
	}
	rename := &sysflow.FileEvent{ProcOID: fx.child.OID, OpFlags: int32(sysflow.OpRename), FileOID: fx.f1.OID, NewFileOID: &fx.f2.OID}
	got, ok := fl.Add(rename)
	if !ok {
		t.Fatal("FileEvent returned no Flat")
	}
	want := sysflow.Flat{
		Kind: sysflow.KindFileEvent, Rec: rename, Header: fx.hdr, Pod: fx.pod, Container: fx.cont,
		Process: fx.child, Parent: fx.parent, File: fx.f1, NewFile: fx.f2,
	}
	if got != want {
		t.Errorf("Flat = %+v\nwant %+v", got, want)
	}

	tests := []struct {
		name string
		rec  sysflow.Record
		file *sysflow.File
	}{
		{"process event", &sysflow.ProcessEvent{ProcOID: fx.child.OID, OpFlags: int32(sysflow.OpExec)}, nil},
		{"file flow", &sysflow.FileFlow{ProcOID: fx.child.OID, FileOID: fx.f2.OID}, fx.f2},
		{"network flow", &sysflow.NetworkFlow{ProcOID: fx.child.OID}, nil},
		{"network event", &sysflow.NetworkEvent{ProcOID: fx.child.OID}, nil},
		{"process flow", &sysflow.ProcessFlow{ProcOID: fx.child.OID}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fl.Add(tt.rec)
			if !ok {
				t.Fatal("no Flat")
			}
			want := sysflow.Flat{
				Kind: tt.rec.Kind(), Rec: tt.rec, Header: fx.hdr, Pod: fx.pod, Container: fx.cont,
				Process: fx.child, Parent: fx.parent, File: tt.file,
			}
			if got != want {
				t.Errorf("Flat = %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestFlattenerMissingReferences(t *testing.T) {
	fx := newFixture()
	tests := []struct {
		name    string
		known   []sysflow.Record
		rec     sysflow.Record
		process bool
		parent  bool
		cont    bool
		file    bool
	}{
		{"nothing known", nil, &sysflow.FileFlow{ProcOID: fx.child.OID, FileOID: fx.f1.OID}, false, false, false, false},
		{"no parent", []sysflow.Record{fx.cont, fx.child, fx.f1}, &sysflow.FileFlow{ProcOID: fx.child.OID, FileOID: fx.f1.OID}, true, false, true, true},
		{"no container", []sysflow.Record{fx.parent, fx.child}, &sysflow.ProcessEvent{ProcOID: fx.child.OID}, true, true, false, false},
		{"no file", []sysflow.Record{fx.child}, &sysflow.FileEvent{ProcOID: fx.child.OID, FileOID: fx.f1.OID, NewFileOID: &fx.f2.OID}, true, false, false, false},
		{"no process", []sysflow.Record{fx.f1}, &sysflow.FileFlow{ProcOID: fx.child.OID, FileOID: fx.f1.OID}, false, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl := sysflow.NewFlattener()
			for _, rec := range tt.known {
				fl.Add(rec)
			}
			got, ok := fl.Add(tt.rec)
			if !ok {
				t.Fatal("no Flat")
			}
			if (got.Process != nil) != tt.process || (got.Parent != nil) != tt.parent ||
				(got.Container != nil) != tt.cont || (got.File != nil) != tt.file {
				t.Errorf("Flat = %+v: want process %v parent %v container %v file %v", got, tt.process, tt.parent, tt.cont, tt.file)
			}
			if got.Header != nil || got.NewFile != nil || got.Pod != nil {
				t.Errorf("Flat = %+v: want no header, new file or pod", got)
			}
		})
	}
}

func TestFlattenerLaterRecordReplaces(t *testing.T) {
	fx := newFixture()
	fl := sysflow.NewFlattener()
	for _, rec := range fx.entities() {
		fl.Add(rec)
	}
	modified := *fx.child
	modified.State, modified.Exe = sysflow.StateModified, "/usr/bin/id"
	fl.Add(&modified)
	got, _ := fl.Add(&sysflow.ProcessEvent{ProcOID: fx.child.OID})
	if got.Process != &modified {
		t.Errorf("Process = %+v, want the MODIFIED record", got.Process)
	}
	if fl.Process(fx.child.OID) != &modified || fl.File(fx.f1.OID) != fx.f1 || fl.Container("c1") != fx.cont || fl.Header() != fx.hdr {
		t.Error("accessors do not return the latest entities")
	}
	hdr2 := &sysflow.Header{Version: 5, Exporter: "node1", Filename: "second"}
	fl.Add(hdr2)
	got, _ = fl.Add(&sysflow.ProcessEvent{ProcOID: fx.child.OID})
	if got.Header != hdr2 || got.Process != &modified {
		t.Errorf("after a second header: Flat = %+v, want the new header and the kept process", got)
	}
	fl.Reset()
	got, _ = fl.Add(&sysflow.ProcessEvent{ProcOID: fx.child.OID})
	if got.Header != nil || got.Process != nil {
		t.Errorf("after Reset: Flat = %+v, want nothing resolved", got)
	}
}

func TestFlattenerResetOnHeader(t *testing.T) {
	fx := newFixture()
	fl := sysflow.NewFlattener(sysflow.WithResetOnHeader())
	for _, rec := range fx.entities() {
		fl.Add(rec)
	}
	hdr2 := &sysflow.Header{Version: 5, Exporter: "node1"}
	fl.Add(hdr2)
	got, _ := fl.Add(&sysflow.FileFlow{ProcOID: fx.child.OID, FileOID: fx.f1.OID})
	if got.Header != hdr2 || got.Process != nil || got.File != nil {
		t.Errorf("Flat = %+v, want only the new header", got)
	}
}

func TestFlattenerEntities(t *testing.T) {
	fx := newFixture()
	fl := sysflow.NewFlattener(sysflow.WithEntities())
	want := []sysflow.Flat{
		{Kind: sysflow.KindHeader, Rec: fx.hdr, Header: fx.hdr},
		{Kind: sysflow.KindPod, Rec: fx.pod, Header: fx.hdr, Pod: fx.pod},
		{Kind: sysflow.KindContainer, Rec: fx.cont, Header: fx.hdr, Pod: fx.pod, Container: fx.cont},
		{Kind: sysflow.KindProcess, Rec: fx.parent, Header: fx.hdr, Pod: fx.pod, Container: fx.cont, Process: fx.parent},
		{Kind: sysflow.KindProcess, Rec: fx.child, Header: fx.hdr, Pod: fx.pod, Container: fx.cont, Process: fx.child, Parent: fx.parent},
		{Kind: sysflow.KindFile, Rec: fx.f1, Header: fx.hdr, Pod: fx.pod, Container: fx.cont, File: fx.f1},
		{Kind: sysflow.KindFile, Rec: fx.f2, Header: fx.hdr, Pod: fx.pod, Container: fx.cont, File: fx.f2},
	}
	for i, rec := range fx.entities() {
		got, ok := fl.Add(rec)
		if !ok || got != want[i] {
			t.Errorf("Add(%s) = %+v, %v\nwant %+v", rec.Kind(), got, ok, want[i])
		}
	}
}

func TestFlattenerOtherRecords(t *testing.T) {
	fl := sysflow.NewFlattener()
	if _, ok := fl.Add(nil); ok {
		t.Error("Add(nil) returned a Flat")
	}
	hdr := &sysflow.Header{Version: 5}
	fl.Add(hdr)
	ke := &sysflow.K8sEvent{Component: "K8S_PODS", Action: "K8S_COMPONENT_ADDED", TS: 1}
	got, ok := fl.Add(ke)
	if want := (sysflow.Flat{Kind: sysflow.KindK8sEvent, Rec: ke, Header: hdr}); !ok || got != want {
		t.Errorf("Add(K8sEvent) = %+v, %v; want %+v", got, ok, want)
	}
}

// referenceDir is the project's testdata/reference seen from this package.
var referenceDir = filepath.Join("..", "testdata", "reference")

func readReference(t *testing.T, name string) []sysflow.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(referenceDir, name))
	if err != nil {
		t.Fatalf("open reference file: %v", err)
	}
	defer f.Close()
	r, err := sffile.NewReader(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var recs []sysflow.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		recs = append(recs, rec)
	}
}

func TestFlattenReferenceFiles(t *testing.T) {
	tests := []struct {
		file   string
		events int // records that are not entities
	}{
		{"alpine/alpine.sf", 24},
		{"client-server/tcp-client-server.sf", 10},
		{"setuid/setuid.sf", 12},
		{"files/files.sf", 21},
		{"rename/rename.sf", 28},
		{"legacy-v1/files-v1.sf", 21}, // pre-v1: pid 1's poid is (0, 0), never written
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fl := sysflow.NewFlattener(sysflow.WithResetOnHeader())
			var flats []sysflow.Flat
			for _, rec := range readReference(t, tt.file) {
				if f, ok := fl.Add(rec); ok {
					flats = append(flats, f)
				}
			}
			if len(flats) != tt.events {
				t.Fatalf("%d flats, want %d", len(flats), tt.events)
			}
			// Reference files are self-contained: every reference resolves.
			for i, f := range flats {
				if f.Header == nil || f.Process == nil {
					t.Errorf("flat %d (%s): header %v process %v, want both", i, f.Kind, f.Header, f.Process)
					continue
				}
				if f.Process.POID != nil && f.Parent == nil && f.Process.POID.HPID != 0 {
					t.Errorf("flat %d (%s): parent %s not resolved", i, f.Kind, f.Process.POID)
				}
				if (f.Kind == sysflow.KindFileFlow || f.Kind == sysflow.KindFileEvent) && f.File == nil {
					t.Errorf("flat %d (%s): file not resolved", i, f.Kind)
				}
				if f.Process.ContainerID != nil && f.Container == nil {
					t.Errorf("flat %d (%s): container %s not resolved", i, f.Kind, *f.Process.ContainerID)
				}
			}
		})
	}
}

func TestReferenceTCPFlows(t *testing.T) {
	fl := sysflow.NewFlattener()
	var nfs []sysflow.Flat
	for _, rec := range readReference(t, "client-server/tcp-client-server.sf") {
		if f, ok := fl.Add(rec); ok && f.Kind == sysflow.KindNetworkFlow {
			nfs = append(nfs, f)
		}
	}
	if len(nfs) != 2 {
		t.Fatalf("%d network flows, want 2", len(nfs))
	}
	// SEMANTICS.md §4: both sides carry the client→server tuple 127.0.0.1:40556 → 127.0.0.1:8080.
	wantExe := map[string]sysflow.OpFlags{
		"./client": sysflow.OpConnect | sysflow.OpReadRecv | sysflow.OpWriteSend | sysflow.OpTruncate,
		"./server": sysflow.OpAccept | sysflow.OpReadRecv | sysflow.OpWriteSend | sysflow.OpTruncate,
	}
	for _, f := range nfs {
		nf := f.Rec.(*sysflow.NetworkFlow)
		if got := nf.Tuple(); got != "127.0.0.1:40556-127.0.0.1:8080" {
			t.Errorf("%s: tuple %s", f.Process.Exe, got)
		}
		if sysflow.IntToIPv4(nf.SIP).String() != "127.0.0.1" || nf.SIP != 16777343 || sysflow.ProtoName(nf.Proto) != "tcp" {
			t.Errorf("%s: sip %d proto %d", f.Process.Exe, nf.SIP, nf.Proto)
		}
		if want, ok := wantExe[f.Process.Exe]; !ok || sysflow.OpFlags(nf.OpFlags) != want {
			t.Errorf("%s: opflags %v, want %v", f.Process.Exe, sysflow.OpFlags(nf.OpFlags).Names(), want.Names())
		}
	}
}

// Every File entity of the v5 reference files has FOID = sha1(containerId + path).
func TestReferenceFOIDs(t *testing.T) {
	for _, file := range []string{"alpine/alpine.sf", "client-server/tcp-client-server.sf", "setuid/setuid.sf", "files/files.sf", "files/filesat.sf", "rename/rename.sf"} {
		n := 0
		for _, rec := range readReference(t, file) {
			f, ok := rec.(*sysflow.File)
			if !ok {
				continue
			}
			n++
			cid := ""
			if f.ContainerID != nil {
				cid = *f.ContainerID
			}
			if got := sysflow.NewFOID(cid, f.Path); got != f.OID {
				t.Errorf("%s: %q in %q: NewFOID = %s, file has %s", file, f.Path, cid, got, f.OID)
			}
		}
		if n == 0 {
			t.Errorf("%s: no File records", file)
		}
	}
}
