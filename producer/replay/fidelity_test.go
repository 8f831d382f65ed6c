package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/replay/scap"
	"github.com/sfstream/sfstream/sysflow"
)

// The tests of this file state one rule of the reference collector each (SEMANTICS.md, the
// libsinsp state engine it runs on) and check it end to end: a capture written here is
// replayed and its raw batches are applied to one processor state with the reference test
// configuration, as `sfstream conform` does on one partition.

// sysflowOf replays a capture and returns the SysFlow records one State makes of it, in order.
func sysflowOf(t *testing.T, data []byte) []sysflow.Record {
	t.Helper()
	var o recordsOut
	st, err := state.New(state.ReferenceTestConfig(), &o)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(bytes.NewReader(data), WithExporter("tests"))
	if err != nil {
		t.Fatal(err)
	}
	err = src.Run(context.Background(), func(b raw.Batch) error { return st.Apply(&b) })
	if err != nil {
		t.Fatal(err)
	}
	return o.recs
}

type recordsOut struct{ recs []sysflow.Record }

func (o *recordsOut) Entity(_ []byte, r sysflow.Record) {
	if r != nil {
		o.recs = append(o.recs, r)
	}
}
func (o *recordsOut) Event(_ []byte, r sysflow.Record) { o.recs = append(o.recs, r) }

// processes returns the Process records of pid, in order.
func processes(recs []sysflow.Record, pid int64) []*sysflow.Process {
	var out []*sysflow.Process
	for _, r := range recs {
		if p, ok := r.(*sysflow.Process); ok && p.OID.HPID == pid {
			out = append(out, p)
		}
	}
	return out
}

// events returns the ProcessEvents of pid with flag.
func events(recs []sysflow.Record, pid int64, flag int32) []*sysflow.ProcessEvent {
	var out []*sysflow.ProcessEvent
	for _, r := range recs {
		if e, ok := r.(*sysflow.ProcessEvent); ok && e.ProcOID.HPID == pid && e.OpFlags == flag {
			out = append(out, e)
		}
	}
	return out
}

func recordsOf[T sysflow.Record](recs []sysflow.Record) []T {
	var out []T
	for _, r := range recs {
		if x, ok := r.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// plEntry is one process list entry.
type plEntry struct {
	tid, pid, ptid     int64
	comm, exe, exepath string
	args               string // NUL-separated
	cwd                string
	uid, gid           uint32
	vtid, vpid         int64 // 0: the host ids
	cgroups            string
}

// procList appends a PL_V9 block.
func (c *capBuilder) procList(entries ...plEntry) *capBuilder {
	var body []byte
	for _, e := range entries {
		var b []byte
		str := func(s string) {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
			b = append(b, s...)
		}
		u64 := func(v int64) { b = binary.LittleEndian.AppendUint64(b, uint64(v)) }
		u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
		u64(e.tid)
		u64(e.pid)
		u64(e.ptid)
		u64(0) // sid
		u64(0) // vpgid
		str(e.comm)
		str(e.exe)
		str(e.exepath)
		str(e.args)
		str(e.cwd)
		u64(1024) // fdlimit
		flags := uint32(0)
		if e.tid != e.pid {
			flags = ppmCLThread
		}
		u32(flags)
		u32(e.uid)
		u32(e.gid)
		b = append(b, make([]byte, 12+16)...) // vm, pf
		str("HOME=/\x00")
		vtid, vpid := e.vtid, e.vpid
		if vtid == 0 {
			vtid, vpid = e.tid, e.pid
		}
		u64(vtid)
		u64(vpid)
		if e.cgroups == "" {
			e.cgroups = "cpuset=/\x00"
		}
		str(e.cgroups)
		str("/")
		u32(0xFFFFFFFF) // loginuid
		body = binary.LittleEndian.AppendUint32(body, uint32(len(b)+4))
		body = append(body, b...)
	}
	c.block(uint32(scap.BlockProcListV9), body)
	return c
}

// userList appends a UL block with users and groups (id, name).
func (c *capBuilder) userList(users, groups map[uint32]string) *capBuilder {
	var b []byte
	str := func(s string) {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	for id, name := range users {
		b = append(b, 0)
		b = binary.LittleEndian.AppendUint32(b, id)
		b = binary.LittleEndian.AppendUint32(b, id)
		str(name)
		str("/home/" + name)
		str("/bin/sh")
	}
	for id, name := range groups {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint32(b, id)
		str(name)
	}
	c.block(uint32(scap.BlockUserList), b)
	return c
}

// fdEntry is one fd list entry of a socket, a pipe or a file.
type fdEntry struct {
	fd       int64
	typ      scap.FDType
	name     string
	src, dst []byte // 4 or 16 address bytes
	sport    uint16
	dport    uint16
	l4       uint8
}

// fdList appends an FDL block for tid.
func (c *capBuilder) fdList(tid int64, entries ...fdEntry) *capBuilder {
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(tid))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint64(b, uint64(e.fd))
		b = binary.LittleEndian.AppendUint64(b, 0) // ino
		b = append(b, byte(e.typ))
		switch e.typ {
		case scap.FDIPv4Sock, scap.FDIPv6Sock:
			b = append(b, e.src...)
			b = append(b, e.dst...)
			b = binary.LittleEndian.AppendUint16(b, e.sport)
			b = binary.LittleEndian.AppendUint16(b, e.dport)
			b = append(b, e.l4)
		case scap.FDUnixSock:
			b = binary.LittleEndian.AppendUint64(b, 0xaa)
			b = binary.LittleEndian.AppendUint64(b, 0xbb)
			b = binary.LittleEndian.AppendUint16(b, uint16(len(e.name)))
			b = append(b, e.name...)
		default:
			b = binary.LittleEndian.AppendUint16(b, uint16(len(e.name)))
			b = append(b, e.name...)
		}
	}
	c.block(uint32(scap.BlockFDList), b)
	return c
}

// cloneX builds the CLONE_20_X parameters of one side of a clone: res is the child's id for
// the caller and 0 for the child; tid/pid/ptid/vtid/vpid are the returning task's.
func cloneX(res, tid, pid, ptid int64, flags uint32, uid, gid uint32, vtid, vpid int64) [][]byte {
	return [][]byte{i64(res), str("server"), str("-k\x00"), i64(tid), i64(pid), i64(ptid), {}, i64(1024),
		i64(0), i64(0), u32(0), u32(0), u32(0), str("server"), str("cpuset=/\x00"),
		u32(flags), u32(uid), u32(gid), i64(vtid), i64(vpid)}
}

// server is a host process in the process list that forks workers.
var server = plEntry{tid: 500, pid: 500, ptid: 1, comm: "server", exe: "server", exepath: "/usr/sbin/server",
	args: "-k\x00", cwd: "/srv", uid: 0, gid: 0}

func serverCapture() *capBuilder {
	return newCapture().procList(plEntry{tid: 1, pid: 1, comm: "init", exe: "/sbin/init", exepath: "/sbin/init", cwd: "/"}, server)
}

// childOID returns the OID that the SysFlow records of child carry, failing unless all agree.
func childOID(t *testing.T, recs []sysflow.Record, child int64) sysflow.OID {
	t.Helper()
	ps := processes(recs, child)
	if len(ps) == 0 {
		t.Fatalf("no Process record of %d in %d records", child, len(recs))
	}
	oid := ps[0].OID
	for _, e := range recordsOf[*sysflow.ProcessEvent](recs) {
		if e.ProcOID.HPID == child && e.ProcOID != oid {
			t.Errorf("event %+v of %d has OID %+v, its Process %+v", e, child, e.ProcOID, oid)
		}
	}
	return oid
}
