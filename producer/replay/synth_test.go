package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// A minimal capture writer for scenarios the reference captures lack.

type capBuilder struct{ bytes.Buffer }

func (c *capBuilder) block(typ uint32, body []byte) {
	total := 12 + len(body)
	pad := (4 - total%4) % 4
	total += pad
	c.Write(binary.LittleEndian.AppendUint32(nil, typ))
	c.Write(binary.LittleEndian.AppendUint32(nil, uint32(total)))
	c.Write(body)
	c.Write(make([]byte, pad))
	c.Write(binary.LittleEndian.AppendUint32(nil, uint32(total)))
}

func newCapture() *capBuilder {
	c := &capBuilder{}
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 0x1A2B3C4D)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
	c.block(uint32(scap.BlockSection), b)
	return c
}

// ev appends an EV_V2 block.
func (c *capBuilder) ev(ts uint64, tid int64, typ scap.EventType, params ...[]byte) *capBuilder {
	n := 26 + 2*len(params)
	for _, p := range params {
		n += len(p)
	}
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, ts)
	b = binary.LittleEndian.AppendUint64(b, uint64(tid))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint16(b, uint16(typ))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(params)))
	for _, p := range params {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(p)))
	}
	for _, p := range params {
		b = append(b, p...)
	}
	c.block(uint32(scap.BlockEventV2), b)
	return c
}

// proc appends a PL_V9 block with one entry per (tid, pid, ptid, cwd).
func (c *capBuilder) procs(entries ...[4]any) *capBuilder {
	var body []byte
	for _, e := range entries {
		var b []byte
		str := func(s string) {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
			b = append(b, s...)
		}
		tid, pid := e[0].(int64), e[1].(int64)
		for _, v := range []int64{tid, pid, e[2].(int64), 0, 0} { // tid pid ptid sid vpgid
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		str("prog")
		str("prog")
		str("/usr/bin/prog")
		str("arg\x00")
		str(e[3].(string))
		b = binary.LittleEndian.AppendUint64(b, 1024)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, 1000) // uid
		b = binary.LittleEndian.AppendUint32(b, 1000) // gid
		b = append(b, make([]byte, 12+16)...)         // vm, pf
		str("HOME=/\x00")
		b = binary.LittleEndian.AppendUint64(b, uint64(tid)) // vtid
		b = binary.LittleEndian.AppendUint64(b, uint64(pid)) // vpid
		str("cpuset=/\x00")
		str("/")
		b = binary.LittleEndian.AppendUint32(b, 1000) // loginuid
		body = binary.LittleEndian.AppendUint32(body, uint32(len(b)+4))
		body = append(body, b...)
	}
	c.block(uint32(scap.BlockProcListV9), body)
	return c
}

func i64(v int64) []byte  { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func str(s string) []byte { return append([]byte(s), 0) }

// clone20X builds CLONE_20_X parameters.
func clone20X(res, tid, pid, ptid int64, flags uint32, vtid, vpid int64) [][]byte {
	return [][]byte{i64(res), str("prog"), {}, i64(tid), i64(pid), i64(ptid), {}, i64(1024),
		i64(0), i64(0), u32(0), u32(0), u32(0), str("prog"), str("cpuset=/docker/" + dockerID + "\x00"),
		u32(flags), u32(0), u32(0), i64(vtid), i64(vpid)}
}

const dockerID = "347b1411b047aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func runCapture(t *testing.T, data []byte, opts ...Option) recorded {
	t.Helper()
	s, err := NewSource(bytes.NewReader(data), append([]Option{WithExporter("tests")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorded
	err = s.Run(context.Background(), func(b raw.Batch) error {
		rec.batches = append(rec.batches, b)
		for _, e := range b.Events {
			rec.events = append(rec.events, keyed{b.HPID, b.CreateTS, e})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.stats = s.Stats()
	return rec
}

func TestCloneVariants(t *testing.T) {
	const parent = 100
	tests := []struct {
		name         string
		build        func(c *capBuilder)
		child        int64
		wantHPID     int64
		wantCreateTS int64
	}{
		{"host fork: the caller's exit creates the child", func(c *capBuilder) {
			c.ev(1000, parent, scap.Clone20X, clone20X(200, parent, parent, 1, 0, parent, parent)...)
			c.ev(1100, 200, scap.Clone20X, clone20X(0, 200, 200, parent, 0, 200, 200)...)
		}, 200, 200, 1000},
		{"child's exit first", func(c *capBuilder) {
			c.ev(1000, 200, scap.Clone20X, clone20X(0, 200, 200, parent, 0, 200, 200)...)
			c.ev(1100, parent, scap.Clone20X, clone20X(200, parent, parent, 1, 0, parent, parent)...)
		}, 200, 200, 1000},
		{"CLONE_NEWPID: the child's own exit", func(c *capBuilder) {
			c.ev(1000, parent, scap.Clone20X, clone20X(1, parent, parent, 1, ppmCLNewPID, parent, parent)...)
			c.ev(1100, 200, scap.Clone20X, clone20X(0, 200, 200, parent, ppmCLNewPID, 1, 1)...)
		}, 200, 200, 1100},
		{"CLONE_PARENT: the child's own exit", func(c *capBuilder) {
			c.ev(1000, parent, scap.Clone20X, clone20X(200, parent, parent, 1, ppmCLParent, parent, parent)...)
			c.ev(1100, 200, scap.Clone20X, clone20X(0, 200, 200, 1, ppmCLParent, 200, 200)...)
		}, 200, 200, 1100},
		{"caller inside a pid namespace", func(c *capBuilder) {
			c.ev(1000, parent, scap.Clone20X, clone20X(7, parent, parent, 1, 0, 3, 3)...)
			c.ev(1100, 200, scap.Clone20X, clone20X(0, 200, 200, parent, ppmCLChildInPidNS, 7, 7)...)
		}, 200, 200, 1100},
		{"thread: the process's OID", func(c *capBuilder) {
			c.ev(1000, parent, scap.Clone20X, clone20X(201, parent, parent, 1, ppmCLThread, parent, parent)...)
			c.ev(1100, 201, scap.Clone20X, clone20X(0, 201, parent, parent, ppmCLThread, 201, parent)...)
		}, 201, parent, 0},
		{"only the child's exit", func(c *capBuilder) {
			c.ev(1100, 200, scap.Clone20X, clone20X(0, 200, 200, parent, 0, 200, 200)...)
		}, 200, 200, 1100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture().procs([4]any{int64(parent), int64(parent), int64(1), "/home"})
			tt.build(c)
			c.ev(2000, tt.child, scap.CloseE, i64(5)).ev(2001, tt.child, scap.CloseX, i64(0))
			rec := runCapture(t, c.Bytes())
			kids := rec.find(raw.OpClone, func(e keyed) bool { return e.TID == tt.child })
			if len(kids) != 1 {
				t.Fatalf("child clone events: %+v", kids)
			}
			k := kids[0]
			if k.hpid != tt.wantHPID || k.createTS != tt.wantCreateTS || k.Proc == nil {
				t.Errorf("child OID (%d, %d), want (%d, %d)", k.hpid, k.createTS, tt.wantHPID, tt.wantCreateTS)
			}
			if k.Proc.PPID != parent && tt.wantHPID != parent && tt.name != "CLONE_PARENT: the child's own exit" {
				t.Errorf("ppid %d", k.Proc.PPID)
			}
			if k.Proc.Cwd != "/home" {
				t.Errorf("inherited cwd %q", k.Proc.Cwd)
			}
			if isThread := tt.wantHPID == parent; isThread != (k.Proc.Container == nil) || !isThread && k.Proc.Container.ID != dockerID[:12] {
				t.Errorf("container %+v (a thread has its process's, a child its own cgroups')", k.Proc.Container)
			}
			closes := rec.find(raw.OpClose, nil)
			if len(closes) != 1 || closes[0].hpid != tt.wantHPID || closes[0].createTS != tt.wantCreateTS || closes[0].FD != 5 {
				t.Errorf("the child's close: %+v", closes)
			}
		})
	}
}

func TestSyscallNormalisation(t *testing.T) {
	const tid = 100
	c := newCapture().procs([4]any{int64(tid), int64(tid), int64(1), "/home/u"})
	// Old tables: the fd of read lives only in the enter event.
	c.ev(10, tid, scap.ReadE, i64(7), u32(64)).ev(11, tid, scap.ReadX, i64(5), []byte("hello"))
	// A read whose enter was lost cannot be attributed: dropped.
	c.ev(12, tid, scap.ReadX, i64(5), []byte("hello"))
	// An unrelated enter in between invalidates a pending one.
	c.ev(13, tid, scap.WriteE, i64(8), u32(3)).ev(14, tid, scap.GenericE, []byte{1, 0}, []byte{1, 0}).ev(15, tid, scap.WriteX, i64(3), []byte("abc"))
	// Newer tables: the exit carries everything.
	c.ev(16, tid, scap.WriteX, i64(3), []byte("abc"), i64(9), u32(3))
	// mmap: file-backed ones keep the enter's ts; anonymous ones are dropped.
	c.ev(20, tid, scap.MmapE, i64(0), i64(4096), u32(1), u32(2), i64(7), i64(0)).ev(21, tid, scap.MmapX, i64(0x7000), u32(0), u32(0), u32(0))
	c.ev(22, tid, scap.MmapE, i64(0), i64(4096), u32(3), u32(0xa), i64(-1), i64(0)).ev(23, tid, scap.MmapX, i64(0x8000), u32(0), u32(0), u32(0))
	// fcntl: F_SETFD is dropped, F_DUPFD becomes a dup.
	c.ev(30, tid, scap.FcntlE, i64(7), []byte{3}).ev(31, tid, scap.FcntlX, i64(0))
	c.ev(32, tid, scap.FcntlE, i64(7), []byte{ppmFcntlDupFD}).ev(33, tid, scap.FcntlX, i64(10))
	// pipe, chdir, fchdir and the cwd an exec reports.
	c.ev(40, tid, scap.PipeX, i64(0), i64(3), i64(4), i64(99))
	c.ev(41, tid, scap.ChdirX, i64(0), str("sub"))
	c.ev(42, tid, scap.OpenAt2X, i64(5), i64(-100), str("/var/lib"), u32(0x401), u32(0))
	c.ev(43, tid, scap.FchdirE, i64(5)).ev(44, tid, scap.FchdirX, i64(0))
	c.ev(45, tid, scap.Execve19E, str("/bin/true")).ev(46, tid, scap.Execve19X, i64(0), str("true"), []byte("-v\x00"), i64(tid), i64(tid), i64(1))
	// setresuid, setns, socketpair, a failed open keeps its ret.
	c.ev(50, tid, scap.SetresuidE, u32(0xFFFFFFFF), u32(0), u32(0xFFFFFFFF)).ev(51, tid, scap.SetresuidX, i64(0))
	c.ev(52, tid, scap.SetnsE, i64(6), u32(ppmCLNewPID)).ev(53, tid, scap.SetnsX, i64(0))
	c.ev(54, tid, scap.SocketPairX, i64(0), i64(8), i64(9), i64(0xaa), i64(0xbb))
	c.ev(55, tid, scap.OpenX, i64(-2), str("/nope"), u32(1), u32(0))
	rec := runCapture(t, c.Bytes())

	var live []keyed
	for _, e := range rec.events {
		if e.Op != raw.OpSnapshot && e.Op != raw.OpEnd {
			live = append(live, e)
		}
	}
	type want struct {
		op  raw.Op
		ts  int64
		fd  int32
		ret int64
	}
	wants := []want{
		{raw.OpRead, 11, 7, 5}, {raw.OpWrite, 16, 9, 3},
		{raw.OpMmap, 20, 7, 0x7000}, {raw.OpDup, 33, 7, 10}, {raw.OpPipe, 40, raw.NoFD, 0},
		{raw.OpChdir, 41, raw.NoFD, 0}, {raw.OpOpen, 42, raw.NoFD, 5}, {raw.OpChdir, 44, 5, 0},
		{raw.OpExec, 46, raw.NoFD, 0}, {raw.OpSetuid, 51, raw.NoFD, 0}, {raw.OpSetns, 53, 6, 0},
		{raw.OpPipe, 54, raw.NoFD, 0}, {raw.OpOpen, 55, raw.NoFD, -2},
	}
	if len(live) != len(wants) {
		t.Fatalf("got %d live events, want %d: %+v", len(live), len(wants), live)
	}
	for i, w := range wants {
		e := live[i]
		if e.Op != w.op || e.TS != w.ts || e.FD != w.fd || e.Ret != w.ret {
			t.Errorf("event %d = %s ts %d fd %d ret %d, want %+v", i, e.Op, e.TS, e.FD, e.Ret, w)
		}
	}
	if m := live[2]; m.Flags != 0x2 || m.Mode != 0x1 {
		t.Errorf("mmap flags %#x prot %#x", m.Flags, m.Mode)
	}
	if p := live[4]; len(p.FDs) != 2 || p.FDs[0].Path != "" /* sinsp names no pipe made in the capture */ || p.FDs[1].Flags != oWRONLY || p.FDs[0].Kind != raw.FDPipe {
		t.Errorf("pipe fds %+v", p.FDs)
	}
	if ex := live[8]; ex.Path != "/bin/true" || ex.Proc.Exe != "/bin/true" || ex.Proc.Cwd != "/var/lib" || !slices.Equal(ex.Proc.Args, []string{"-v"}) || ex.Proc.Comm != "prog" {
		t.Errorf("exec %+v proc %+v", ex.Event, ex.Proc)
	}
	if s := live[9]; s.Flags != 1 || s.UID != -1 || s.Proc.UID != 0 {
		t.Errorf("setresuid %+v proc uid %d", s.Event, s.Proc.UID)
	}
	if s := live[10]; s.Flags != 0x20000000 {
		t.Errorf("setns nstype %#x, want CLONE_NEWPID", s.Flags)
	}
	if p := live[11]; len(p.FDs) != 2 || p.FDs[0].Kind != raw.FDUnix || p.FDs[1].FD != 9 {
		t.Errorf("socketpair fds %+v", p.FDs)
	}
	// The lone read, the write after GENERIC_E, socketpair's type (only in its enter event).
	if rec.stats.Unpaired != 3 {
		t.Errorf("unpaired exits %d, want 3", rec.stats.Unpaired)
	}
}

func TestFDInheritance(t *testing.T) {
	c := newCapture().procs([4]any{int64(100), int64(100), int64(1), "/srv"})
	c.ev(1, 100, scap.OpenX, i64(3), str("data/a"), u32(ppmORDWR), u32(0))
	c.ev(2, 100, scap.OpenX, i64(4), str("/etc/b"), u32(ppmORDONLY|ppmOCLOEXEC), u32(0))
	c.ev(3, 100, scap.SocketE, u32(2), u32(1), u32(0)).ev(4, 100, scap.SocketX, i64(5))
	tuple := append([]byte{2, 10, 0, 0, 1}, 0x10, 0x27, 10, 0, 0, 2, 0x50, 0)
	c.ev(5, 100, scap.ConnectE, i64(5)).ev(6, 100, scap.ConnectX, i64(0), tuple)
	c.ev(7, 100, scap.Clone20X, clone20X(200, 100, 100, 1, 0, 100, 100)...)
	c.ev(8, 200, scap.Clone20X, clone20X(0, 200, 200, 100, 0, 200, 200)...)
	c.ev(9, 200, scap.Execve19E, str("/bin/x")).ev(10, 200, scap.Execve19X, i64(0), str("x"), []byte{}, i64(200), i64(200), i64(100))
	c.ev(11, 200, scap.Clone20X, clone20X(300, 200, 200, 100, 0, 200, 200)...)
	c.ev(12, 300, scap.Clone20X, clone20X(0, 300, 300, 200, 0, 300, 300)...)
	rec := runCapture(t, c.Bytes())
	fdsOf := func(child int64) []string {
		kids := rec.find(raw.OpClone, func(e keyed) bool { return e.hpid == child && e.Ret == 0 })
		if len(kids) != 1 {
			t.Fatalf("child %d: %+v", child, kids)
		}
		var out []string
		for _, fd := range kids[0].FDs {
			s := fmt.Sprintf("%d %d %s", fd.FD, fd.Kind, fd.Path)
			if fd.Sock != nil {
				s += fmt.Sprintf(" %d->%d/%d", fd.Sock.LPort, fd.Sock.RPort, fd.Sock.Proto)
			}
			out = append(out, s)
		}
		return out
	}
	want := []string{"3 1 /srv/data/a", "4 1 /etc/b", "5 3  10000->80/6"}
	if got := fdsOf(200); !slices.Equal(got, want) {
		t.Errorf("child fds %q, want %q", got, want)
	}
	want = []string{"3 1 /srv/data/a", "5 3  10000->80/6"} // /etc/b was close-on-exec
	if got := fdsOf(300); !slices.Equal(got, want) {
		t.Errorf("grandchild fds %q, want %q", got, want)
	}
}

func TestImpossibleValues(t *testing.T) {
	c := newCapture()
	c.ev(1<<63, 100, scap.CloseE, i64(3)).ev(1<<63+1, 100, scap.CloseX, i64(0))
	c.ev(5, 200, scap.Clone20X, clone20X(0, 200, -5, 100, 0, 200, 200)...) // child with a negative pid
	rec := runCapture(t, c.Bytes())
	if rec.stats.Invalid != 2 {
		t.Errorf("invalid events %d, want 2", rec.stats.Invalid)
	}
	for _, b := range rec.batches {
		if err := b.Validate(); err != nil {
			t.Errorf("batch %+v: %v", b, err)
		}
	}
	if kids := rec.find(raw.OpClone, nil); len(kids) != 1 || kids[0].hpid != 200 {
		t.Errorf("clone %+v", kids)
	}
}
