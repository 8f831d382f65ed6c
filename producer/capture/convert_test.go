package capture

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/sfstream/sfstream/bpf"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/procfs"
)

// record builds a kernel record from a generated struct and its trailing strings, the way
// the BPF programs lay it out.
func record[T any](v T, strs ...string) []byte {
	size := int(unsafe.Sizeof(v))
	n := size
	for _, s := range strs {
		n += len(s)
	}
	words := make([]uint64, (n+7)/8) // 8-byte aligned, as ring buffer records are
	b := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)[:n]
	*(*T)(unsafe.Pointer(&b[0])) = v
	off := size
	for _, s := range strs {
		off += copy(b[off:], s)
	}
	return b
}

func cstr(s string) string { return s + "\x00" }

var testClock = procfs.Clock{BootEpoch: 1_700_000_000 * 1e9, Offset: 1_700_000_000*1e9 + 500}

const (
	testPID   = 4242
	testStart = 123_456_789_000 // ns after boot
)

func header(kind bpf.Kind, op raw.Op, nr uint16, flags uint16) bpf.Header {
	return bpf.Header{Ts: 1000, Start: testStart, Tid: testPID + 1, Tgid: testPID, Kind: uint16(kind), Op: uint16(op), Nr: nr, Flags: flags}
}

func sysEvent(op raw.Op, nr uint16, ret int64, mod func(*bpf.SysEvent)) bpf.SysEvent {
	e := bpf.SysEvent{H: header(bpf.KindSys, op, nr, 0), Ret: ret, Fd: -1, Dirfd: raw.AtFDCWD, Fd2: -1, Uid: -1}
	if mod != nil {
		mod(&e)
	}
	return e
}

func testProc() *raw.Proc {
	return &raw.Proc{PPID: 1, Exe: "/bin/app", Args: []string{"-x"}, Comm: "app", Cwd: "/srv", UID: 0, GID: 0,
		UserName: "root", GroupName: "root", Env: []string{}}
}

func newTestConverter() *converter {
	c := &converter{clock: testClock, table: procs{}}
	c.names = func(int64, *raw.Container) *procfs.Accounts { return nil }
	c.lookup = func(hpid, createTS int64) (*procEntry, error) { return &procEntry{createTS: createTS}, nil }
	c.table[testPID] = &procEntry{createTS: testClock.CreateTS(testStart), info: testProc()}
	return c
}

func TestConvert(t *testing.T) {
	createTS := testClock.CreateTS(testStart)
	base := func(op raw.Op) raw.Event { return raw.NewEvent(op, testClock.EventTS(1000), testPID+1) }
	var sock bpf.Sock
	sock.Family, sock.Proto, sock.Lport, sock.Rport = raw.AFInet, raw.ProtoTCP, 40000, 8080
	copy(sock.Laddr[:], []byte{127, 0, 0, 1})
	copy(sock.Raddr[:], []byte{127, 0, 0, 2})
	var unixSock bpf.Sock
	unixSock.Family, unixSock.PathLen = raw.AFUnix, 9
	for i, c := range "\x00abstract" {
		unixSock.Path[i] = int8(c)
	}

	tests := []struct {
		name string
		rec  []byte
		want func() raw.Event
	}{
		{
			name: "read",
			rec:  record(sysEvent(raw.OpRead, 0, 14, func(e *bpf.SysEvent) { e.Fd = 3 })),
			want: func() raw.Event { e := base(raw.OpRead); e.FD, e.Ret = 3, 14; return e },
		},
		{
			name: "failed write keeps its ret",
			rec:  record(sysEvent(raw.OpWrite, 1, -9, func(e *bpf.SysEvent) { e.Fd = 77 })),
			want: func() raw.Event { e := base(raw.OpWrite); e.FD, e.Ret = 77, -9; return e },
		},
		{
			name: "openat with dirfd, flags and mode",
			rec: record(sysEvent(raw.OpOpen, 257, 5, func(e *bpf.SysEvent) {
				e.Dirfd, e.Flags, e.Mode, e.PathLen = 9, 0o101, 0o640, uint16(len("a/b.txt")+1)
			}), cstr("a/b.txt")),
			want: func() raw.Event {
				e := base(raw.OpOpen)
				e.Ret, e.DirFD, e.Path, e.Flags, e.Mode = 5, 9, "a/b.txt", 0o101, 0o640
				return e
			},
		},
		{
			name: "renameat2 with two paths",
			rec: record(sysEvent(raw.OpRename, 316, 0, func(e *bpf.SysEvent) {
				e.Dirfd, e.Fd2, e.Flags = raw.AtFDCWD, 4, 1
				e.PathLen, e.Path2Len = uint16(len("old")+1), uint16(len("new")+1)
			}), cstr("old"), cstr("new")),
			want: func() raw.Event {
				e := base(raw.OpRename)
				e.Path, e.DirFD2, e.Path2, e.Flags = "old", 4, "new", 1
				return e
			},
		},
		{
			name: "failed mkdir",
			rec: record(sysEvent(raw.OpMkdir, 83, -17, func(e *bpf.SysEvent) {
				e.Mode, e.PathLen = 0o755, uint16(len("/tmp/d")+1)
			}), cstr("/tmp/d")),
			want: func() raw.Event { e := base(raw.OpMkdir); e.Ret, e.Path, e.Mode = -17, "/tmp/d", 0o755; return e },
		},
		{
			name: "socketpair lists two unix fds",
			rec: record(sysEvent(raw.OpPipe, bpf.NrSocketpair, 0, func(e *bpf.SysEvent) {
				e.Fd, e.Fd2, e.Mode, e.Flags = 5, 6, raw.AFUnix, 1
			})),
			want: func() raw.Event {
				e := base(raw.OpPipe)
				e.Flags = 1
				e.FDs = []raw.FD{{FD: 5, Kind: raw.FDUnix}, {FD: 6, Kind: raw.FDUnix}}
				return e
			},
		},
		{
			name: "pipe2",
			rec:  record(sysEvent(raw.OpPipe, 293, 0, func(e *bpf.SysEvent) { e.Fd, e.Fd2 = 3, 4 })),
			want: func() raw.Event {
				e := base(raw.OpPipe)
				e.FDs = []raw.FD{{FD: 3, Kind: raw.FDPipe}, {FD: 4, Kind: raw.FDPipe}}
				return e
			},
		},
		{
			name: "setresuid",
			rec:  record(sysEvent(raw.OpSetuid, 117, 0, func(e *bpf.SysEvent) { e.Uid, e.Flags = 1000, 1 })),
			want: func() raw.Event { e := base(raw.OpSetuid); e.UID, e.Flags = 1000, 1; return e },
		},
		{
			name: "mmap of a file",
			rec: record(sysEvent(raw.OpMmap, 9, 0x7f0000000000, func(e *bpf.SysEvent) {
				e.Fd, e.Flags, e.Mode = 3, 2, 1
			})),
			want: func() raw.Event {
				e := base(raw.OpMmap)
				e.Ret, e.FD, e.Flags, e.Mode = 0x7f0000000000, 3, 2, 1
				return e
			},
		},
		{
			name: "failed exec carries the unchanged process",
			rec: record(sysEvent(raw.OpExec, 59, -2, func(e *bpf.SysEvent) {
				e.PathLen = uint16(len("/nope") + 1)
			}), cstr("/nope")),
			want: func() raw.Event { e := base(raw.OpExec); e.Ret, e.Path, e.Proc = -2, "/nope", testProc(); return e },
		},
		{
			name: "connect with an IPv4 tuple",
			rec: record(bpf.SockEvent{
				Sys:  sysEvent(raw.OpConnect, 42, -115, func(e *bpf.SysEvent) { e.H.Kind, e.Fd = uint16(bpf.KindSock), 7 }),
				Sock: sock,
			}),
			want: func() raw.Event {
				e := base(raw.OpConnect)
				e.Ret, e.FD = -115, 7
				e.Sock = &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: []byte{127, 0, 0, 1}, LPort: 40000,
					RAddr: []byte{127, 0, 0, 2}, RPort: 8080}
				return e
			},
		},
		{
			name: "accept of an abstract unix socket",
			rec: record(bpf.SockEvent{
				Sys:  sysEvent(raw.OpAccept, 288, 9, func(e *bpf.SysEvent) { e.H.Kind, e.Fd, e.Flags = uint16(bpf.KindSock), 4, 0o2000000 }),
				Sock: unixSock,
			}),
			want: func() raw.Event {
				e := base(raw.OpAccept)
				e.Ret, e.FD, e.Flags = 9, 4, 0o2000000
				e.Sock = &raw.Sock{Family: raw.AFUnix, Path: "@abstract"}
				return e
			},
		},
		{
			name: "socket",
			rec: record(bpf.SockEvent{
				Sys: sysEvent(raw.OpSocket, 41, 3, func(e *bpf.SysEvent) {
					e.H.Kind, e.Mode, e.Flags = uint16(bpf.KindSock), raw.AFInet6, 1
				}),
				Sock: bpf.Sock{Family: raw.AFInet6, Proto: raw.ProtoTCP},
			}),
			want: func() raw.Event {
				e := base(raw.OpSocket)
				e.Ret, e.Mode, e.Flags = 3, raw.AFInet6, 1
				e.Sock = &raw.Sock{Family: raw.AFInet6, Proto: raw.ProtoTCP}
				return e
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestConverter()
			var r bpf.Record
			if err := bpf.Decode(tt.rec, &r); err != nil {
				t.Fatal(err)
			}
			hpid, gotCreateTS, got, err := c.convert(&r)
			if err != nil {
				t.Fatal(err)
			}
			if hpid != testPID || gotCreateTS != createTS {
				t.Errorf("OID (%d, %d), want (%d, %d)", hpid, gotCreateTS, testPID, createTS)
			}
			if want := tt.want(); !reflect.DeepEqual(got, want) {
				t.Errorf("event:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func procRecord(op raw.Op, flags uint16, cloneFlags uint64, filename, exe, args, cwd, cgroup string) []byte {
	p := bpf.ProcEvent{H: header(bpf.KindProc, op, 0, flags), Flags: cloneFlags, Pstart: 5_000_000_000, Ppid: 1,
		Uid: 1000, Gid: 50, Tty: 34816, Vpid: 7}
	for i, c := range "app" {
		p.Comm[i] = int8(c)
	}
	var strs []string
	for _, s := range []struct {
		n *uint16
		v string
	}{{&p.FilenameLen, filename}, {&p.ExeLen, exe}, {&p.ArgsLen, args}, {&p.CwdLen, cwd}, {&p.CgroupLen, cgroup}} {
		if s.v != "" {
			*s.n = uint16(len(s.v) + 1)
			strs = append(strs, cstr(s.v))
		}
	}
	return record(p, strs...)
}

func TestConvertProc(t *testing.T) {
	const id = "347b1411b047a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182930"
	c := newTestConverter()
	c.names = func(int64, *raw.Container) *procfs.Accounts {
		a, _ := procfs.LoadAccounts(t.TempDir()) // empty tables
		return a
	}
	delete(c.table, testPID)

	var r bpf.Record
	rec := procRecord(raw.OpExec, 0, 0, "./app", "/srv/app", "./app\x00-v\x00\x00last", "/srv", "/system.slice/docker-"+id+".scope")
	if err := bpf.Decode(rec, &r); err != nil {
		t.Fatal(err)
	}
	_, _, ev, err := c.convert(&r)
	if err != nil {
		t.Fatal(err)
	}
	want := &raw.Proc{PPID: 1, PCreateTS: testClock.CreateTS(5_000_000_000), Exe: "/srv/app", Args: []string{"-v", "", "last"},
		Comm: "app", Cwd: "/srv", Env: []string{}, UID: 1000, GID: 50, TTY: 34816, VPID: 7,
		Container: &raw.Container{ID: "347b1411b047", Runtime: procfs.RuntimeDocker}}
	if ev.Op != raw.OpExec || ev.Path != "./app" || !reflect.DeepEqual(ev.Proc, want) {
		t.Errorf("exec:\n got %+v proc %+v\nwant proc %+v", ev, ev.Proc, want)
	}
	if e := c.table[testPID]; e == nil || e.info != ev.Proc {
		t.Fatalf("exec did not update the process table: %+v", e)
	}

	// A thread of the same process carries the process's attributes.
	rec = procRecord(raw.OpClone, bpf.FlagThread, 0x3d0f00, "", "", "", "", "")
	if err := bpf.Decode(rec, &r); err != nil {
		t.Fatal(err)
	}
	_, _, ev, err = c.convert(&r)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Op != raw.OpClone || ev.Ret != 0 || ev.Flags != 0x3d0f00 || ev.Proc != want && !reflect.DeepEqual(ev.Proc, want) {
		t.Errorf("thread clone: got %+v proc %+v", ev, ev.Proc)
	}

	// chdir updates the table by copy: the exec event's Proc is not modified.
	rec = record(sysEvent(raw.OpChdir, 80, 0, func(e *bpf.SysEvent) { e.PathLen = 4 }), cstr("sub"))
	if err := bpf.Decode(rec, &r); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err = c.convert(&r); err != nil {
		t.Fatal(err)
	}
	if got := c.table[testPID].info.Cwd; got != "/srv/sub" || want.Cwd != "/srv" {
		t.Errorf("cwd after chdir %q (exec event's %q)", got, want.Cwd)
	}

	// The process's last exit forgets it.
	ex := sysEvent(raw.OpExit, 0, 256, nil)
	ex.H.Flags = bpf.FlagGroupDead
	if err := bpf.Decode(record(ex), &r); err != nil {
		t.Fatal(err)
	}
	if _, _, ev, err = c.convert(&r); err != nil || ev.Ret != 256 {
		t.Fatalf("exit: %+v, %v", ev, err)
	}
	if _, ok := c.table[testPID]; ok {
		t.Error("process still in the table after its group exit")
	}
}

func TestBatcher(t *testing.T) {
	var got []raw.Batch
	b := newBatcher("node", 3, func(b raw.Batch) error { got = append(got, b); return nil })
	ev := func(tid int64) raw.Event { return raw.NewEvent(raw.OpRead, 1, tid) }
	for i := range 4 {
		if err := b.add(10, 100, ev(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.add(11, 200, ev(11)); err != nil {
		t.Fatal(err)
	}
	// pid 10 reused by a new process: the old one's batch goes first.
	if err := b.add(10, 101, ev(99)); err != nil {
		t.Fatal(err)
	}
	if err := b.flushAll(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d batches, want 4: %+v", len(got), got)
	}
	if got[0].HPID != 10 || len(got[0].Events) != 3 || got[1].HPID != 10 || got[1].CreateTS != 100 || len(got[1].Events) != 1 {
		t.Errorf("size flush and OID change: %+v", got[:2])
	}
	for _, bt := range got {
		if bt.Exporter != "node" {
			t.Errorf("exporter %q", bt.Exporter)
		}
		if err := bt.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"defaults", Config{Exporter: "n"}, false},
		{"no exporter", Config{}, true},
		{"ring not a power of two", Config{Exporter: "n", RingBufferBytes: 3 << 20}, true},
		{"negative queue", Config{Exporter: "n", QueueEvents: -1}, true},
		{"comm too long", Config{Exporter: "n", ExcludeComms: []string{"a-very-long-command-name"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
