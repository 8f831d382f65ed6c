package state_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

// out records what a State emits, in order.
type out struct {
	recs []emitted
}

type emitted struct {
	entity bool
	key    string
	rec    sysflow.Record
}

func (o *out) Entity(key []byte, rec sysflow.Record) {
	o.recs = append(o.recs, emitted{true, string(key), rec})
}
func (o *out) Event(key []byte, rec sysflow.Record) {
	o.recs = append(o.recs, emitted{false, string(key), rec})
}

const (
	exporter = "node"
	hpid     = 100
	cts      = 5_000_000_000 // createTS of the test process
	sec      = int64(1_000_000_000)
	t0       = 1_700_000_000 * sec
)

var (
	oid    = sysflow.OID{CreateTS: cts, HPID: hpid}
	parent = sysflow.OID{CreateTS: 1_000, HPID: 1}
	pkey   = fmt.Sprintf("node/P/%d/%d", hpid, cts)
)

func strp(s string) *string { return &s }

func ev(op raw.Op, ts int64, mod func(*raw.Event)) raw.Event {
	e := raw.NewEvent(op, ts, hpid)
	if mod != nil {
		mod(&e)
	}
	return e
}

func batch(events ...raw.Event) *raw.Batch {
	return &raw.Batch{Exporter: exporter, HPID: hpid, CreateTS: cts, Events: events}
}

func procAttrs() *raw.Proc {
	return &raw.Proc{PPID: 1, PCreateTS: 1_000, Exe: "/usr/bin/app", Args: []string{"-v", "x"}, Comm: "app",
		Cwd: "/home/u", UID: 1000, GID: 1000, UserName: "u", GroupName: "g"}
}

func snapshot(ts int64, fds ...raw.FD) raw.Event {
	return ev(raw.OpSnapshot, ts, func(e *raw.Event) { e.Proc = procAttrs(); e.FDs = fds })
}

func processEntity(state sysflow.ObjectState, ts int64) *sysflow.Process {
	return &sysflow.Process{State: state, OID: oid, POID: &parent, TS: ts, Exe: "/usr/bin/app", ExeArgs: "-v x",
		UID: 1000, UserName: "u", GID: 1000, GroupName: "g", Cwd: "/home/u/", Env: []string{}}
}

func fileEntity(state sysflow.ObjectState, ts int64, restype int32, path string) *sysflow.File {
	return &sysflow.File{State: state, OID: sysflow.NewFOID("", path), TS: ts, ResType: restype, Path: path}
}

var (
	lo        = []byte{127, 0, 0, 1}
	localhost = int32(16777343)
)

func tcp(lport, rport int32) *raw.Sock {
	return &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: lo, LPort: lport, RAddr: lo, RPort: rport}
}

func ptr[T any](v T) *T { return &v }

func foid(path string) sysflow.FOID { return sysflow.NewFOID("", path) }

func run(t *testing.T, cfg state.Config, batches ...*raw.Batch) []emitted {
	t.Helper()
	o := &out{}
	s, err := state.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := s.Apply(b); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	return o.recs
}

func check(t *testing.T, got []emitted, want []emitted) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			t.Errorf("missing record %d: %s", i, show(want[i]))
		case i >= len(want):
			t.Errorf("extra record %d: %s", i, show(got[i]))
		case !reflect.DeepEqual(got[i], want[i]):
			t.Errorf("record %d:\n got %s\nwant %s", i, show(got[i]), show(want[i]))
		}
	}
}

func show(e emitted) string {
	where := "event"
	if e.entity {
		where = "entity"
	}
	if e.rec == nil {
		return fmt.Sprintf("%s %s tombstone", where, e.key)
	}
	s := fmt.Sprintf("%s %s %s %+v", where, e.key, e.rec.Kind(), e.rec)
	return strings.ReplaceAll(s, "\n", " ")
}

func entity(key string, rec sysflow.Record) emitted { return emitted{true, key, rec} }
func event(rec sysflow.Record) emitted              { return emitted{false, pkey, rec} }
func fkey(path string) string {
	f := foid(path)
	return "node/F/" + fmt.Sprintf("%x", f[:])
}

type goldenCase struct {
	name string
	cfg  state.Config
	in   []*raw.Batch
	want []emitted
}

func TestGolden(t *testing.T) {
	for _, tt := range goldenCases() {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, tt.cfg, tt.in...), tt.want)
		})
	}
}

// other is a batch of a second process whose event emits nothing (a read of an unknown fd):
// it only advances event time.
func other(hpid int64, ts int64) *raw.Batch {
	e := raw.NewEvent(raw.OpRead, ts, hpid)
	e.FD, e.Ret = 9, 1
	return &raw.Batch{Exporter: exporter, HPID: hpid, CreateTS: 7, Events: []raw.Event{e}}
}

func goldenCases() []goldenCase {
	ref := state.ReferenceTestConfig()
	tomb := ref
	tomb.ExitGrace, tomb.EntityTombstoneAfter = time.Second, 3*time.Second
	return append([]goldenCase{
		{
			name: "an exited process's entity is tombstoned EntityTombstoneAfter after its exit",
			cfg:  tomb,
			in: []*raw.Batch{
				batch(snapshot(t0), ev(raw.OpExit, t0+1, nil)),
				other(200, t0+2*sec),   // removes the process (exit grace 1s): tombstone due at t0+1+3s
				other(200, t0+3*sec),   // not yet due
				other(200, t0+4*sec+1), // due
				other(200, t0+9*sec),   // nothing more
			},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opExit, Args: []string{}}),
				{true, pkey, nil},
			},
		},
		{
			name: "a late event of a removed process cancels its tombstone",
			cfg:  tomb,
			in: []*raw.Batch{
				batch(snapshot(t0), ev(raw.OpExit, t0+1, nil)),
				other(200, t0+2*sec),                                                        // removed: tombstone due at t0+1+3s
				batch(ev(raw.OpRead, t0+3*sec, func(e *raw.Event) { e.FD = 9; e.Ret = 1 })), // late: the process is back
				other(200, t0+5*sec),
			},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opExit, Args: []string{}}),
			},
		},
		{
			name: "open read write close",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpOpen, t0+1, func(e *raw.Event) { e.Path = "data/../out.txt"; e.Flags = 0o1102; e.Ret = 3 }), // O_RDWR|O_CREAT|O_TRUNC
				ev(raw.OpWrite, t0+2, func(e *raw.Event) { e.FD = 3; e.Ret = 10 }),
				ev(raw.OpRead, t0+3, func(e *raw.Event) { e.FD = 3; e.Ret = 0 }),
				ev(raw.OpRead, t0+4, func(e *raw.Event) { e.FD = 3; e.Ret = -9 }),
				ev(raw.OpClose, t0+5, func(e *raw.Event) { e.FD = 3 }),
				ev(raw.OpClose, t0+6, func(e *raw.Event) { e.FD = 3 }), // unknown fd: dropped
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)), // first event: the reference's cache time
				entity(fkey("/home/u/out.txt"), fileEntity(sysflow.StateReup, t0+1, 'f', "/home/u/out.txt")),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opOpen | opRead | opWrite | opClose, OpenFlags: 263,
					EndTS: t0 + 5, FileOID: foid("/home/u/out.txt"), FD: 3, NumRRecvOps: 2, NumWSendOps: 1, NumWSendBytes: 10}),
			},
		},
		{
			name: "connect send recv close (client side, TCP)",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpSocket, t0+1, func(e *raw.Event) { e.Mode = raw.AFInet; e.Ret = 4; e.Sock = &raw.Sock{Proto: raw.ProtoTCP} }),
				ev(raw.OpConnect, t0+2, func(e *raw.Event) { e.FD = 4; e.Ret = 0; e.Sock = tcp(40556, 8080) }),
				ev(raw.OpWrite, t0+3, func(e *raw.Event) { e.FD = 4; e.Ret = 5 }),
				ev(raw.OpRead, t0+4, func(e *raw.Event) { e.FD = 4; e.Ret = 5 }),
				ev(raw.OpShutdown, t0+5, func(e *raw.Event) { e.FD = 4 }),
				ev(raw.OpClose, t0+6, func(e *raw.Event) { e.FD = 4 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+2)),
				event(&sysflow.NetworkFlow{ProcOID: oid, TS: t0 + 2, TID: hpid, OpFlags: opConnect | opRead | opWrite | opShutdown | opClose, EndTS: t0 + 6,
					SIP: localhost, SPort: 40556, DIP: localhost, DPort: 8080, Proto: 6, FD: 4, NumRRecvOps: 1, NumWSendOps: 1, NumRRecvBytes: 5, NumWSendBytes: 5}),
			},
		},
		{
			name: "accept: the tuple is client to server on the server side too; IPv6 is dropped",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0, raw.FD{FD: 3, Kind: raw.FDIPv4, Sock: &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: lo, LPort: 8080}},
					raw.FD{FD: 9, Kind: raw.FDIPv6}),
				ev(raw.OpAccept, t0+1, func(e *raw.Event) {
					e.FD = 3
					e.Ret = 5
					e.Sock = &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: lo, LPort: 8080, RAddr: lo, RPort: 40556}
				}),
				ev(raw.OpRead, t0+2, func(e *raw.Event) { e.FD = 9; e.Ret = 100 }),
				ev(raw.OpRead, t0+3, func(e *raw.Event) { e.FD = 5; e.Ret = 7 }),
				ev(raw.OpClose, t0+4, func(e *raw.Event) { e.FD = 5 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)),
				event(&sysflow.NetworkFlow{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opAccept | opRead | opClose, EndTS: t0 + 4,
					SIP: localhost, SPort: 40556, DIP: localhost, DPort: 8080, Proto: 6, FD: 5, NumRRecvOps: 1, NumRRecvBytes: 7}),
			},
		},
		{
			name: "clone exec exit: child created, exec modified, exit truncates open flows",
			cfg:  ref,
			in: []*raw.Batch{
				{Exporter: exporter, HPID: 1, CreateTS: 1_000, Events: []raw.Event{
					{Op: raw.OpSnapshot, TS: t0, TID: 1, FD: -1, DirFD: -100, DirFD2: -100, UID: -1, Proc: &raw.Proc{Exe: "/sbin/init", Comm: "init", UID: 0, GID: 0, UserName: "root", GroupName: "root", VPID: 1}},
					{Op: raw.OpClone, TS: t0 + 1, TID: 1, Ret: hpid, FD: -1, DirFD: -100, DirFD2: -100, UID: -1},
				}},
				batch(
					ev(raw.OpClone, t0+2, func(e *raw.Event) { e.Ret = 0; e.Proc = procAttrs(); e.Proc.Exe = "/sbin/init"; e.Proc.Args = nil }),
					ev(raw.OpExec, t0+3, func(e *raw.Event) { e.Path = "/usr/bin/app"; e.Proc = procAttrs() }),
					ev(raw.OpOpen, t0+4, func(e *raw.Event) { e.Path = "/etc/hosts"; e.Ret = 3 }),
					ev(raw.OpExit, t0+5, func(e *raw.Event) { e.Ret = 1 << 8 }),
				),
			},
			want: []emitted{
				entity("node/P/1/1000", &sysflow.Process{State: sysflow.StateReup, OID: parent, TS: t0, Exe: "/sbin/init", UID: 0, GID: 0, UserName: "root", GroupName: "root", Entry: true, Env: []string{}}),
				// A process first met through a clone is CREATED, at the clone.
				entity("node/P/1/1000", &sysflow.Process{State: sysflow.StateCreated, OID: parent, TS: t0 + 1, Exe: "/sbin/init", UID: 0, GID: 0, UserName: "root", GroupName: "root", Entry: true, Env: []string{}}),
				{false, "node/P/1/1000", &sysflow.ProcessEvent{ProcOID: parent, TS: t0 + 1, TID: 1, OpFlags: opClone, Args: []string{}, Ret: hpid}},
				entity(pkey, func() *sysflow.Process {
					p := processEntity(sysflow.StateCreated, t0+2)
					p.Exe, p.ExeArgs = "/sbin/init", ""
					return p
				}()),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 2, TID: hpid, OpFlags: opClone, Args: []string{}}),
				entity(pkey, processEntity(sysflow.StateModified, t0+3)),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 3, TID: hpid, OpFlags: opExec, Args: []string{}}),
				entity(fkey("/etc/hosts"), fileEntity(sysflow.StateReup, t0+4, 'f', "/etc/hosts")),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0 + 4, TID: hpid, OpFlags: opOpen | opTruncate, OpenFlags: 1, EndTS: t0 + 5, FileOID: foid("/etc/hosts"), FD: 3}),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 5, TID: hpid, OpFlags: opExit, Args: []string{}, Ret: 256}),
			},
		},
		{
			name: "rename resolves both paths; first is REUP, second CREATED",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpRename, t0+1, func(e *raw.Event) { e.Path = "/tmp/../tmp/test1"; e.Path2 = "test2"; e.Ret = 0 }),
				ev(raw.OpMkdir, t0+2, func(e *raw.Event) { e.Path = "./testing_dir"; e.Ret = -17 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)),
				entity(fkey("/tmp/test1"), fileEntity(sysflow.StateReup, t0+1, '?', "/tmp/test1")),
				entity(fkey("/home/u/test2"), fileEntity(sysflow.StateCreated, t0+1, '?', "/home/u/test2")),
				event(&sysflow.FileEvent{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opRename, FileOID: foid("/tmp/test1"), NewFileOID: ptr(foid("/home/u/test2"))}),
				entity(fkey("/home/u/testing_dir"), fileEntity(sysflow.StateCreated, t0+2, 'd', "/home/u/testing_dir")),
				event(&sysflow.FileEvent{ProcOID: oid, TS: t0 + 2, TID: hpid, OpFlags: opMkdir, FileOID: foid("/home/u/testing_dir"), Ret: -17}),
			},
		},
		{
			name: "setuid: MODIFIED process and the user name as the event's argument, failures too",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpSetuid, t0+1, func(e *raw.Event) {
					e.UID, e.Path, e.Ret = 500, "bob", 0
					e.Proc = procAttrs()
					e.Proc.UID, e.Proc.UserName = 500, "bob"
				}),
				ev(raw.OpSetuid, t0+2, func(e *raw.Event) { e.UID, e.Path, e.Ret = 0, "root", -1 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, func() *sysflow.Process {
					p := processEntity(sysflow.StateReup, t0+1) // first setuid of a process not yet in the cache
					p.UID, p.UserName = 500, "bob"
					return p
				}()),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opSetuid, Args: []string{"bob"}}),
				entity(pkey, func() *sysflow.Process {
					p := processEntity(sysflow.StateModified, t0+2)
					p.UID, p.UserName = 500, "bob"
					return p
				}()),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 2, TID: hpid, OpFlags: opSetuid, Args: []string{"root"}, Ret: -1}),
			},
		},
		{
			name: "dup'd fds are separate flows on the same file",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpOpen, t0+1, func(e *raw.Event) { e.Path = "/var/log/app.log"; e.Flags = 0o2101; e.Ret = 3 }), // O_WRONLY|O_CREAT|O_APPEND
				ev(raw.OpDup, t0+2, func(e *raw.Event) { e.FD = 3; e.Ret = 1 }),
				ev(raw.OpWrite, t0+3, func(e *raw.Event) { e.FD = 1; e.Ret = 4 }),
				ev(raw.OpClose, t0+4, func(e *raw.Event) { e.FD = 3 }),
				ev(raw.OpClose, t0+5, func(e *raw.Event) { e.FD = 1 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)),
				entity(fkey("/var/log/app.log"), fileEntity(sysflow.StateReup, t0+1, 'f', "/var/log/app.log")),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opOpen | opClose, OpenFlags: 2 | 4 | 8, EndTS: t0 + 4, FileOID: foid("/var/log/app.log"), FD: 3}),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0 + 3, TID: hpid, OpFlags: opWrite | opClose, EndTS: t0 + 5, FileOID: foid("/var/log/app.log"), FD: 1, NumWSendOps: 1, NumWSendBytes: 4}),
			},
		},
		{
			name: "threads: a close by another thread truncates the opener's flow first",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpClone, t0+1, func(e *raw.Event) { e.Flags = 0x00010000; e.Ret = 101 }),
				ev(raw.OpClone, t0+2, func(e *raw.Event) { e.TID = 101; e.Flags = 0x00010000; e.Ret = 0 }),
				ev(raw.OpOpen, t0+3, func(e *raw.Event) { e.Path = "/data"; e.Ret = 3 }),
				ev(raw.OpRead, t0+4, func(e *raw.Event) { e.TID = 101; e.FD = 3; e.Ret = 8 }),
				ev(raw.OpClose, t0+5, func(e *raw.Event) { e.TID = 101; e.FD = 3 }),
				ev(raw.OpExit, t0+6, func(e *raw.Event) { e.TID = 101 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateCreated, t0+1)),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opClone, Args: []string{}, Ret: 101}),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 2, TID: 101, OpFlags: opClone, Args: []string{}}),
				entity(fkey("/data"), fileEntity(sysflow.StateReup, t0+3, 'f', "/data")),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0 + 3, TID: hpid, OpFlags: opOpen | opTruncate, OpenFlags: 1, EndTS: t0 + 5, FileOID: foid("/data"), FD: 3}),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0 + 4, TID: 101, OpFlags: opRead | opClose, EndTS: t0 + 5, FileOID: foid("/data"), FD: 3, NumRRecvOps: 1, NumRRecvBytes: 8}),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 6, TID: 101, OpFlags: opExit, Args: []string{}}),
			},
		},
		{
			name: "threads with process flows on aggregate into one ProcessFlow written at exit",
			cfg:  state.DefaultConfig(),
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpClone, t0+1, func(e *raw.Event) { e.Flags = 0x00010000; e.Ret = 101 }),
				ev(raw.OpClone, t0+2, func(e *raw.Event) { e.TID = 101; e.Flags = 0x00010000; e.Ret = 0 }),
				ev(raw.OpClone, t0+3, func(e *raw.Event) { e.Flags = 0x00010000; e.Ret = -1 }),
				ev(raw.OpExit, t0+4, func(e *raw.Event) { e.TID = 101 }),
				ev(raw.OpExit, t0+5, nil),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateCreated, t0+1)),
				event(&sysflow.ProcessFlow{ProcOID: oid, TS: t0 + 1, NumThreadsCloned: 1, OpFlags: opClone | opExit, EndTS: t0 + 5, NumThreadsExited: 1, NumCloneErrors: 1}),
				event(&sysflow.ProcessEvent{ProcOID: oid, TS: t0 + 5, TID: hpid, OpFlags: opExit, Args: []string{}}),
			},
		},
		{
			name: "end of capture truncates network flows, then file flows; unknown-fd close is dropped",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0, raw.FD{FD: 0, Kind: raw.FDFile, Path: "/dev/pts/0", Flags: 2}),
				ev(raw.OpRead, t0+1, func(e *raw.Event) { e.FD = 0; e.Ret = 1 }),
				ev(raw.OpConnect, t0+2, func(e *raw.Event) { e.FD = 4; e.Ret = -115; e.Sock = tcp(50000, 443) }),
			), {Exporter: exporter, Events: []raw.Event{{Op: raw.OpEnd, TS: t0 + 9}}}},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)),
				entity(fkey("/dev/pts/0"), fileEntity(sysflow.StateReup, t0+1, 'f', "/dev/pts/0")),
				event(&sysflow.NetworkFlow{ProcOID: oid, TS: t0 + 2, TID: hpid, OpFlags: opConnect | opTruncate, EndTS: t0 + 9,
					SIP: localhost, SPort: 50000, DIP: localhost, DPort: 443, Proto: 6, FD: 4}),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0 + 1, TID: hpid, OpFlags: opRead | opTruncate, EndTS: t0 + 9, FileOID: foid("/dev/pts/0"), FD: 0, NumRRecvOps: 1, NumRRecvBytes: 1}),
			},
		},
		{
			name: "read mode 2 drops read-only flows under /proc at close; file-only drops pipes",
			cfg:  state.DefaultConfig(),
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpOpen, t0+1, func(e *raw.Event) { e.Path = "/proc/self/status"; e.Ret = 3 }),
				ev(raw.OpRead, t0+2, func(e *raw.Event) { e.FD = 3; e.Ret = 100 }),
				ev(raw.OpClose, t0+3, func(e *raw.Event) { e.FD = 3 }),
				ev(raw.OpPipe, t0+4, func(e *raw.Event) {
					e.FDs = []raw.FD{{FD: 5, Kind: raw.FDPipe, Path: "pipe:[7]"}, {FD: 6, Kind: raw.FDPipe, Path: "pipe:[7]"}}
				}),
				ev(raw.OpWrite, t0+5, func(e *raw.Event) { e.FD = 6; e.Ret = 1 }),
				ev(raw.OpClose, t0+6, func(e *raw.Event) { e.FD = 6 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0+1)),
				entity(fkey("/proc/self/status"), fileEntity(sysflow.StateReup, t0+1, 'f', "/proc/self/status")),
			},
		},
		{
			name: "periodic export every 30s with counters reset; idle flows expire unwritten",
			cfg:  ref,
			in: []*raw.Batch{batch(
				snapshot(t0),
				ev(raw.OpOpen, t0, func(e *raw.Event) { e.Path = "/log"; e.Flags = 1; e.Ret = 3 }),
				ev(raw.OpWrite, t0+10*sec, func(e *raw.Event) { e.FD = 3; e.Ret = 2 }),
				ev(raw.OpWrite, t0+31*sec, func(e *raw.Event) { e.FD = 3; e.Ret = 3 }),
				ev(raw.OpOpen, t0+32*sec, func(e *raw.Event) { e.Path = "/idle"; e.Ret = 4 }),
				ev(raw.OpWrite, t0+150*sec, func(e *raw.Event) { e.FD = 3; e.Ret = 3 }),
			)},
			want: []emitted{
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(pkey, processEntity(sysflow.StateReup, t0)),
				entity(fkey("/log"), fileEntity(sysflow.StateReup, t0, 'f', "/log")),
				event(&sysflow.FileFlow{ProcOID: oid, TS: t0, TID: hpid, OpFlags: opOpen | opWrite, OpenFlags: 2, EndTS: t0 + 31*sec, FileOID: foid("/log"), FD: 3, NumWSendOps: 1, NumWSendBytes: 2}),
				entity(fkey("/idle"), fileEntity(sysflow.StateReup, t0+32*sec, 'f', "/idle")),
			},
		},
	}, containerCases()...)
}

const (
	opClone    = 1 << 0
	opExec     = 1 << 1
	opExit     = 1 << 2
	opSetuid   = 1 << 3
	opMkdir    = 1 << 15
	opAccept   = 1 << 5
	opConnect  = 1 << 6
	opOpen     = 1 << 7
	opRead     = 1 << 8
	opWrite    = 1 << 9
	opClose    = 1 << 10
	opTruncate = 1 << 11
	opShutdown = 1 << 12
	opRename   = 1 << 20
)
