package state

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// A process checkpoint is a proc in a compact binary form, written for every process a
// transaction touched and read back on restore. Integers are varints (signed ones
// zig-zag), strings and lists are a uvarint length then the bytes or items, a FOID is its 20
// bytes. The layout, version 1:
//
//	version    byte (1)
//	flags      uvarint: pf* bits (booleans, optional parts present, values that differ from
//	           the values they usually repeat)
//	exporter   string; key oid: createTS, hpid
//	seq        uvarint
//	entity     state (stateCode; a string follows stOther), [oid], [poid], ts, exe, exeArgs,
//	           uid, userName, gid, groupName, [containerId], cwd, env (count, strings)
//	[container] id, name, image, imageId, runtime, privileged (byte 0 or 1), [podId]
//	cwd, exitTS, lastSeen
//	fds        count, then per fd in increasing fd order: fd, kind, openFlags, proto, path,
//	           tuple (sip, sport, dip, dport)
//	files      count, then per flow in creation (seq) order: ff* flags, key path, key
//	           container, [key tid, key fd], seq, exportTime, lastUpdate, [path], kind, the
//	           FileFlow: [procOID], ts, tid, opFlags, openFlags, endTs, fileOID, fd, numRRecvOps,
//	           numWSendOps, numRRecvBytes, numWSendBytes
//	nets       count, then per flow in creation order: nf* flags, [key tid, key fd], [key
//	           tuple], seq, exportTime, lastUpdate, the NetworkFlow: [procOID], ts, tid,
//	           opFlags, endTs, sip, sport, dip, dport, proto, fd, numRRecvOps, numWSendOps,
//	           numRRecvBytes, numWSendBytes
//	[pflow]    exportTime, lastUpdate, the ProcessFlow: [procOID], ts, numThreadsCloned,
//	           opFlags, endTs, numThreadsExited, numCloneErrors
//
// Bracketed parts are present only when their flag says so. A value that usually repeats
// another one (a flow's procOID and the process oid, a flow key's tid and fd and its record's)
// is written only when it differs, so the common case costs nothing and any state still
// round-trips. The bytes of a proc are deterministic: map entries are written in a fixed
// order, and the flags are a function of the values.

const procFormatV1 = 1

// proc flags.
const (
	pfTouched      = 1 << iota // proc.touched
	pfUncertain                // proc.uncertain
	pfContainer                // proc.container != nil
	pfPFlow                    // proc.pflow != nil
	pfPOID                     // entity.POID != nil
	pfContainerID              // entity.ContainerID != nil
	pfTTY                      // entity.TTY
	pfEntry                    // entity.Entry
	pfEntityOID                // entity.OID != key oid: written
	pfPFlowOID                 // pflow.rec.ProcOID != key oid: written
	pfContainerPod             // container.PodID != "": written (a later bit: older values lack it)
	pfAll          = 1<<iota - 1
)

// file flow flags.
const (
	ffProcOID = 1 << iota // rec.ProcOID != key oid: written
	ffPath                // flow path != key path: written
	ffKeyIDs              // key tid, fd != rec.TID, rec.FD: written
	ffAll     = 1<<iota - 1
)

// network flow flags.
const (
	nfProcOID  = 1 << iota // rec.ProcOID != key oid: written
	nfKeyIDs               // key tid, fd != rec.TID, rec.FD: written
	nfKeyTuple             // key tuple != the record's sip, sport, dip, dport: written
	nfAll      = 1<<iota - 1
)

// Entity states are written as codes; stOther is followed by the state as a string.
const (
	stEmpty = iota
	stCreated
	stModified
	stReup
	stOther
)

const foidLen = len(sysflow.FOID{})

// encodeScratch is the reusable memory of encodeProc: the output is built in buf, then copied
// into a slice of its exact size, and the map entries are ordered in fds, files and nets.
type encodeScratch struct {
	buf   []byte
	fds   []int32
	files []fileEntry
	nets  []netEntry
}

type fileEntry struct {
	k fileKey
	f *fileFlow
}

type netEntry struct {
	k netKey
	f *netFlow
}

var encodeScratchPool = sync.Pool{New: func() any { return new(encodeScratch) }}

// maxPooledScratch caps what a pooled scratch keeps, so one huge process does not pin memory.
const maxPooledScratch = 1 << 16

// encodeProc returns the checkpoint form of p in a new slice of exactly its size. It never
// fails; the error is for its callers' sake.
func encodeProc(p *proc) ([]byte, error) {
	sc := encodeScratchPool.Get().(*encodeScratch)
	sc.buf = sc.appendProc(sc.buf[:0], p)
	out := make([]byte, len(sc.buf))
	copy(out, sc.buf)
	if cap(sc.buf) <= maxPooledScratch && cap(sc.files) <= maxPooledScratch/64 && cap(sc.nets) <= maxPooledScratch/64 &&
		cap(sc.fds) <= maxPooledScratch/4 {
		encodeScratchPool.Put(sc)
	}
	return out, nil
}

// appendProc appends the checkpoint form of p to dst.
func appendProc(dst []byte, p *proc) []byte {
	sc := encodeScratchPool.Get().(*encodeScratch)
	dst = sc.appendProc(dst, p)
	encodeScratchPool.Put(sc)
	return dst
}

func (sc *encodeScratch) appendProc(b []byte, p *proc) []byte {
	oid := p.key.oid
	e := &p.entity
	var flags uint64
	setIf := func(c bool, bit uint64) {
		if c {
			flags |= bit
		}
	}
	setIf(p.touched, pfTouched)
	setIf(p.uncertain, pfUncertain)
	setIf(p.container != nil, pfContainer)
	setIf(p.container != nil && p.container.PodID != "", pfContainerPod)
	setIf(p.pflow != nil, pfPFlow)
	setIf(e.POID != nil, pfPOID)
	setIf(e.ContainerID != nil, pfContainerID)
	setIf(e.TTY, pfTTY)
	setIf(e.Entry, pfEntry)
	setIf(e.OID != oid, pfEntityOID)
	setIf(p.pflow != nil && p.pflow.rec.ProcOID != oid, pfPFlowOID)

	b = append(b, procFormatV1)
	b = binary.AppendUvarint(b, flags)
	b = appendString(b, p.key.exporter)
	b = appendOID(b, oid)
	b = binary.AppendUvarint(b, p.seq)

	switch e.State {
	case "":
		b = append(b, stEmpty)
	case sysflow.StateCreated:
		b = append(b, stCreated)
	case sysflow.StateModified:
		b = append(b, stModified)
	case sysflow.StateReup:
		b = append(b, stReup)
	default:
		b = append(b, stOther)
		b = appendString(b, string(e.State))
	}
	if flags&pfEntityOID != 0 {
		b = appendOID(b, e.OID)
	}
	if e.POID != nil {
		b = appendOID(b, *e.POID)
	}
	b = binary.AppendVarint(b, e.TS)
	b = appendString(b, e.Exe)
	b = appendString(b, e.ExeArgs)
	b = binary.AppendVarint(b, int64(e.UID))
	b = appendString(b, e.UserName)
	b = binary.AppendVarint(b, int64(e.GID))
	b = appendString(b, e.GroupName)
	if e.ContainerID != nil {
		b = appendString(b, *e.ContainerID)
	}
	b = appendString(b, e.Cwd)
	b = binary.AppendUvarint(b, uint64(len(e.Env)))
	for _, s := range e.Env {
		b = appendString(b, s)
	}

	if c := p.container; c != nil {
		b = appendString(b, c.ID)
		b = appendString(b, c.Name)
		b = appendString(b, c.Image)
		b = appendString(b, c.ImageID)
		b = binary.AppendVarint(b, int64(c.Runtime))
		b = appendBool(b, c.Privileged)
		if c.PodID != "" {
			b = appendString(b, c.PodID)
		}
	}
	b = appendString(b, p.cwd)
	b = binary.AppendVarint(b, p.exitTS)
	b = binary.AppendVarint(b, p.lastSeen)

	sc.fds = sc.fds[:0]
	for fd := range p.fds {
		sc.fds = append(sc.fds, fd)
	}
	slices.Sort(sc.fds)
	b = binary.AppendUvarint(b, uint64(len(sc.fds)))
	for _, fd := range sc.fds {
		fi := p.fds[fd]
		b = binary.AppendVarint(b, int64(fd))
		b = binary.AppendVarint(b, int64(fi.kind))
		b = binary.AppendVarint(b, int64(fi.openFlags))
		b = binary.AppendVarint(b, int64(fi.proto))
		b = appendString(b, fi.path)
		b = appendTuple(b, fi.tuple)
	}

	sc.files = sc.files[:0]
	for k, f := range p.files {
		sc.files = append(sc.files, fileEntry{k, f})
	}
	slices.SortFunc(sc.files, compareFileEntries)
	b = binary.AppendUvarint(b, uint64(len(sc.files)))
	for i := range sc.files {
		k, f := &sc.files[i].k, sc.files[i].f
		r := &f.rec
		var ff uint64
		if r.ProcOID != oid {
			ff |= ffProcOID
		}
		if f.path != k.path {
			ff |= ffPath
		}
		if k.tid != r.TID || k.fd != r.FD {
			ff |= ffKeyIDs
		}
		b = binary.AppendUvarint(b, ff)
		b = appendString(b, k.path)
		b = appendString(b, k.container)
		if ff&ffKeyIDs != 0 {
			b = binary.AppendVarint(b, k.tid)
			b = binary.AppendVarint(b, int64(k.fd))
		}
		b = binary.AppendUvarint(b, f.seq)
		b = binary.AppendVarint(b, f.exportTime)
		b = binary.AppendVarint(b, f.lastUpdate)
		if ff&ffPath != 0 {
			b = appendString(b, f.path)
		}
		b = binary.AppendVarint(b, int64(f.kind))
		if ff&ffProcOID != 0 {
			b = appendOID(b, r.ProcOID)
		}
		b = binary.AppendVarint(b, r.TS)
		b = binary.AppendVarint(b, r.TID)
		b = binary.AppendVarint(b, int64(r.OpFlags))
		b = binary.AppendVarint(b, int64(r.OpenFlags))
		b = binary.AppendVarint(b, r.EndTS)
		b = append(b, r.FileOID[:]...)
		b = binary.AppendVarint(b, int64(r.FD))
		b = binary.AppendVarint(b, r.NumRRecvOps)
		b = binary.AppendVarint(b, r.NumWSendOps)
		b = binary.AppendVarint(b, r.NumRRecvBytes)
		b = binary.AppendVarint(b, r.NumWSendBytes)
	}

	sc.nets = sc.nets[:0]
	for k, f := range p.nets {
		sc.nets = append(sc.nets, netEntry{k, f})
	}
	slices.SortFunc(sc.nets, compareNetEntries)
	b = binary.AppendUvarint(b, uint64(len(sc.nets)))
	for i := range sc.nets {
		k, f := &sc.nets[i].k, sc.nets[i].f
		r := &f.rec
		var nf uint64
		if r.ProcOID != oid {
			nf |= nfProcOID
		}
		if k.tid != r.TID || k.fd != r.FD {
			nf |= nfKeyIDs
		}
		if k.tup != (tuple{r.SIP, r.SPort, r.DIP, r.DPort}) {
			nf |= nfKeyTuple
		}
		b = binary.AppendUvarint(b, nf)
		if nf&nfKeyIDs != 0 {
			b = binary.AppendVarint(b, k.tid)
			b = binary.AppendVarint(b, int64(k.fd))
		}
		if nf&nfKeyTuple != 0 {
			b = appendTuple(b, k.tup)
		}
		b = binary.AppendUvarint(b, f.seq)
		b = binary.AppendVarint(b, f.exportTime)
		b = binary.AppendVarint(b, f.lastUpdate)
		if nf&nfProcOID != 0 {
			b = appendOID(b, r.ProcOID)
		}
		b = binary.AppendVarint(b, r.TS)
		b = binary.AppendVarint(b, r.TID)
		b = binary.AppendVarint(b, int64(r.OpFlags))
		b = binary.AppendVarint(b, r.EndTS)
		b = appendTuple(b, tuple{r.SIP, r.SPort, r.DIP, r.DPort})
		b = binary.AppendVarint(b, int64(r.Proto))
		b = binary.AppendVarint(b, int64(r.FD))
		b = binary.AppendVarint(b, r.NumRRecvOps)
		b = binary.AppendVarint(b, r.NumWSendOps)
		b = binary.AppendVarint(b, r.NumRRecvBytes)
		b = binary.AppendVarint(b, r.NumWSendBytes)
	}

	if pf := p.pflow; pf != nil {
		r := &pf.rec
		b = binary.AppendVarint(b, pf.exportTime)
		b = binary.AppendVarint(b, pf.lastUpdate)
		if flags&pfPFlowOID != 0 {
			b = appendOID(b, r.ProcOID)
		}
		b = binary.AppendVarint(b, r.TS)
		b = binary.AppendVarint(b, r.NumThreadsCloned)
		b = binary.AppendVarint(b, int64(r.OpFlags))
		b = binary.AppendVarint(b, r.EndTS)
		b = binary.AppendVarint(b, r.NumThreadsExited)
		b = binary.AppendVarint(b, r.NumCloneErrors)
	}
	return b
}

// compareFileEntries orders file flows as sortedFiles does, by creation; the key breaks ties
// (seqs are unique in a live state) so that the bytes never depend on map order.
func compareFileEntries(a, b fileEntry) int {
	if c := cmp.Compare(a.f.seq, b.f.seq); c != 0 {
		return c
	}
	if c := strings.Compare(a.k.path, b.k.path); c != 0 {
		return c
	}
	if c := strings.Compare(a.k.container, b.k.container); c != 0 {
		return c
	}
	if c := cmp.Compare(a.k.tid, b.k.tid); c != 0 {
		return c
	}
	return cmp.Compare(a.k.fd, b.k.fd)
}

// compareNetEntries orders network flows as sortedNets does, the key breaking ties.
func compareNetEntries(a, b netEntry) int {
	if c := cmp.Compare(a.f.seq, b.f.seq); c != 0 {
		return c
	}
	if c := cmp.Compare(a.k.tid, b.k.tid); c != 0 {
		return c
	}
	if c := cmp.Compare(a.k.fd, b.k.fd); c != 0 {
		return c
	}
	ta, tb := a.k.tup, b.k.tup
	if c := cmp.Compare(ta.sip, tb.sip); c != 0 {
		return c
	}
	if c := cmp.Compare(ta.sport, tb.sport); c != 0 {
		return c
	}
	if c := cmp.Compare(ta.dip, tb.dip); c != 0 {
		return c
	}
	return cmp.Compare(ta.dport, tb.dport)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendOID(b []byte, o sysflow.OID) []byte {
	b = binary.AppendVarint(b, o.CreateTS)
	return binary.AppendVarint(b, o.HPID)
}

func appendTuple(b []byte, t tuple) []byte {
	b = binary.AppendVarint(b, int64(t.sip))
	b = binary.AppendVarint(b, int64(t.sport))
	b = binary.AppendVarint(b, int64(t.dip))
	return binary.AppendVarint(b, int64(t.dport))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// procDecoder reads a checkpoint. The first error sticks: later reads return zero values and
// consume nothing, so decodeProc checks once per loop iteration and at the end.
type procDecoder struct {
	b   []byte
	off int
	err error
}

// fail records the first error, at byte offset at, while reading what.
func (d *procDecoder) fail(at int, what, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("decode process checkpoint: %s at byte %d (reading %s)", fmt.Sprintf(format, args...), at, what)
	}
}

func (d *procDecoder) rest() int { return len(d.b) - d.off }

func (d *procDecoder) byte1(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(d.off, what, "truncated input")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *procDecoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if !d.advance(n, what) {
		return 0
	}
	return v
}

func (d *procDecoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if !d.advance(n, what) {
		return 0
	}
	return v
}

// advance moves past a varint of n bytes as encoding/binary reports it (0: truncated, < 0:
// overflow), or fails.
func (d *procDecoder) advance(n int, what string) bool {
	switch {
	case n == 0:
		d.fail(d.off, what, "truncated varint")
	case n < 0:
		d.fail(d.off, what, "varint overflows 64 bits")
	default:
		d.off += n
		return true
	}
	return false
}

func (d *procDecoder) int32(what string) int32 {
	at := d.off
	v := d.varint(what)
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail(at, what, "value %d out of int32 range", v)
		return 0
	}
	return int32(v)
}

func (d *procDecoder) bool(what string) bool {
	at := d.off
	switch c := d.byte1(what); c {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail(at, what, "bad boolean %d", c)
		return false
	}
}

// count reads a length or item count and checks that the rest of the input can hold that
// many items of at least minSize bytes each, so a corrupt count cannot make a huge allocation.
func (d *procDecoder) count(what string, minSize int) int {
	at := d.off
	n := d.uvarint(what)
	if d.err != nil {
		return 0
	}
	if n > uint64(d.rest()/minSize) {
		d.fail(at, what, "length %d exceeds the %d bytes left", n, d.rest())
		return 0
	}
	return int(n)
}

// string reads a string into new memory: the input is not retained.
func (d *procDecoder) string(what string) string {
	n := d.count(what, 1)
	if n == 0 {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}

func (d *procDecoder) oid(what string) sysflow.OID {
	return sysflow.OID{CreateTS: d.varint(what), HPID: d.varint(what)}
}

func (d *procDecoder) tuple(what string) tuple {
	return tuple{sip: d.int32(what), sport: d.int32(what), dip: d.int32(what), dport: d.int32(what)}
}

func (d *procDecoder) flags(what string, all uint64) uint64 {
	at := d.off
	f := d.uvarint(what)
	if f&^all != 0 {
		d.fail(at, what, "unknown flags %#x", f&^all)
		return 0
	}
	return f
}

// decodeProc rebuilds a proc from its checkpoint form. It fails, with the byte offset and the
// field, on any input encodeProc cannot have written; it does not keep references to data.
func decodeProc(data []byte) (*proc, error) {
	d := &procDecoder{b: data}
	if v := d.byte1("version"); d.err == nil && v != procFormatV1 {
		return nil, fmt.Errorf("decode process checkpoint: unknown format version %d at byte 0 (want %d)", v, procFormatV1)
	}
	flags := d.flags("flags", pfAll)
	if flags&pfPFlowOID != 0 && flags&pfPFlow == 0 {
		d.fail(1, "flags", "pflow procOID flag without a pflow")
	}
	p := &proc{
		touched:   flags&pfTouched != 0,
		uncertain: flags&pfUncertain != 0,
	}
	p.key.exporter = d.string("exporter")
	p.key.oid = d.oid("oid")
	oid := p.key.oid
	p.seq = d.uvarint("seq")

	e := &p.entity
	at := d.off
	switch st := d.byte1("entity state"); st {
	case stEmpty:
	case stCreated:
		e.State = sysflow.StateCreated
	case stModified:
		e.State = sysflow.StateModified
	case stReup:
		e.State = sysflow.StateReup
	case stOther:
		e.State = sysflow.ObjectState(d.string("entity state"))
	default:
		d.fail(at, "entity state", "unknown state code %d", st)
	}
	e.OID = oid
	if flags&pfEntityOID != 0 {
		e.OID = d.oid("entity oid")
	}
	if flags&pfPOID != 0 {
		poid := d.oid("entity poid")
		e.POID = &poid
	}
	e.TS = d.varint("entity ts")
	e.Exe = d.string("entity exe")
	e.ExeArgs = d.string("entity exeArgs")
	e.UID = d.int32("entity uid")
	e.UserName = d.string("entity userName")
	e.GID = d.int32("entity gid")
	e.GroupName = d.string("entity groupName")
	e.TTY = flags&pfTTY != 0
	if flags&pfContainerID != 0 {
		id := d.string("entity containerId")
		e.ContainerID = &id
	}
	e.Entry = flags&pfEntry != 0
	e.Cwd = d.string("entity cwd")
	e.Env = make([]string, d.count("entity env count", 1))
	for i := 0; i < len(e.Env) && d.err == nil; i++ {
		e.Env[i] = d.string("entity env")
	}

	if flags&pfContainer != 0 {
		p.container = &raw.Container{
			ID:      d.string("container id"),
			Name:    d.string("container name"),
			Image:   d.string("container image"),
			ImageID: d.string("container imageId"),
			Runtime: d.int32("container runtime"),
		}
		p.container.Privileged = d.bool("container privileged")
		if flags&pfContainerPod != 0 {
			p.container.PodID = d.string("container podId")
		}
	} else if flags&pfContainerPod != 0 {
		d.fail(1, "flags", "container pod flag without a container")
	}
	p.cwd = d.string("cwd")
	p.exitTS = d.varint("exitTS")
	p.lastSeen = d.varint("lastSeen")

	// An fd is at least 9 bytes: 4 varints, an empty path and a 4-varint tuple.
	n := d.count("fd count", 9)
	p.fds = make(map[int32]*fdInfo, n)
	prev := int64(math.MinInt64)
	for range n {
		if d.err != nil {
			break
		}
		at := d.off
		fd := d.int32("fd")
		if d.err == nil && int64(fd) <= prev {
			d.fail(at, "fd", "fd %d not above the previous one", fd)
		}
		prev = int64(fd)
		fi := &fdInfo{kind: d.int32("fd kind"), openFlags: d.int32("fd openFlags"), proto: d.int32("fd proto")}
		fi.path = d.string("fd path")
		fi.tuple = d.tuple("fd tuple")
		p.fds[fd] = fi
	}

	// A file flow is at least 37 bytes: its 20-byte FOID and 17 one-byte varints, lengths or
	// flags.
	n = d.count("file flow count", 37)
	p.files = make(map[fileKey]*fileFlow, n)
	for range n {
		if d.err != nil {
			break
		}
		at := d.off
		ff := d.flags("file flow flags", ffAll)
		f := &fileFlow{}
		r := &f.rec
		var k fileKey
		k.path = d.string("file flow key path")
		k.container = d.string("file flow key container")
		if ff&ffKeyIDs != 0 {
			k.tid = d.varint("file flow key tid")
			k.fd = d.int32("file flow key fd")
		}
		f.seq = d.uvarint("file flow seq")
		f.exportTime = d.varint("file flow exportTime")
		f.lastUpdate = d.varint("file flow lastUpdate")
		f.path = k.path
		if ff&ffPath != 0 {
			f.path = d.string("file flow path")
		}
		f.kind = d.int32("file flow kind")
		r.ProcOID = oid
		if ff&ffProcOID != 0 {
			r.ProcOID = d.oid("file flow procOID")
		}
		r.TS = d.varint("file flow ts")
		r.TID = d.varint("file flow tid")
		r.OpFlags = d.int32("file flow opFlags")
		r.OpenFlags = d.int32("file flow openFlags")
		r.EndTS = d.varint("file flow endTs")
		if d.err == nil {
			if d.rest() < foidLen {
				d.fail(d.off, "file flow fileOID", "truncated input")
			} else {
				copy(r.FileOID[:], d.b[d.off:])
				d.off += foidLen
			}
		}
		r.FD = d.int32("file flow fd")
		r.NumRRecvOps = d.varint("file flow numRRecvOps")
		r.NumWSendOps = d.varint("file flow numWSendOps")
		r.NumRRecvBytes = d.varint("file flow numRRecvBytes")
		r.NumWSendBytes = d.varint("file flow numWSendBytes")
		if ff&ffKeyIDs == 0 {
			k.tid, k.fd = r.TID, r.FD
		}
		if d.err != nil {
			break
		}
		if _, dup := p.files[k]; dup {
			d.fail(at, "file flow", "duplicate flow key")
			break
		}
		p.files[k] = f
	}

	// A network flow is at least 18 bytes: 18 one-byte varints or flags.
	n = d.count("network flow count", 18)
	p.nets = make(map[netKey]*netFlow, n)
	for range n {
		if d.err != nil {
			break
		}
		at := d.off
		nf := d.flags("network flow flags", nfAll)
		f := &netFlow{}
		r := &f.rec
		var k netKey
		if nf&nfKeyIDs != 0 {
			k.tid = d.varint("network flow key tid")
			k.fd = d.int32("network flow key fd")
		}
		if nf&nfKeyTuple != 0 {
			k.tup = d.tuple("network flow key tuple")
		}
		f.seq = d.uvarint("network flow seq")
		f.exportTime = d.varint("network flow exportTime")
		f.lastUpdate = d.varint("network flow lastUpdate")
		r.ProcOID = oid
		if nf&nfProcOID != 0 {
			r.ProcOID = d.oid("network flow procOID")
		}
		r.TS = d.varint("network flow ts")
		r.TID = d.varint("network flow tid")
		r.OpFlags = d.int32("network flow opFlags")
		r.EndTS = d.varint("network flow endTs")
		t := d.tuple("network flow tuple")
		r.SIP, r.SPort, r.DIP, r.DPort = t.sip, t.sport, t.dip, t.dport
		r.Proto = d.int32("network flow proto")
		r.FD = d.int32("network flow fd")
		r.NumRRecvOps = d.varint("network flow numRRecvOps")
		r.NumWSendOps = d.varint("network flow numWSendOps")
		r.NumRRecvBytes = d.varint("network flow numRRecvBytes")
		r.NumWSendBytes = d.varint("network flow numWSendBytes")
		if nf&nfKeyIDs == 0 {
			k.tid, k.fd = r.TID, r.FD
		}
		if nf&nfKeyTuple == 0 {
			k.tup = t
		}
		if d.err != nil {
			break
		}
		if _, dup := p.nets[k]; dup {
			d.fail(at, "network flow", "duplicate flow key")
			break
		}
		p.nets[k] = f
	}

	if flags&pfPFlow != 0 {
		pf := &procFlow{exportTime: d.varint("pflow exportTime"), lastUpdate: d.varint("pflow lastUpdate")}
		r := &pf.rec
		r.ProcOID = oid
		if flags&pfPFlowOID != 0 {
			r.ProcOID = d.oid("pflow procOID")
		}
		r.TS = d.varint("pflow ts")
		r.NumThreadsCloned = d.varint("pflow numThreadsCloned")
		r.OpFlags = d.int32("pflow opFlags")
		r.EndTS = d.varint("pflow endTs")
		r.NumThreadsExited = d.varint("pflow numThreadsExited")
		r.NumCloneErrors = d.varint("pflow numCloneErrors")
		p.pflow = pf
	}

	if d.err == nil && d.rest() != 0 {
		d.fail(d.off, "end", "%d trailing bytes", d.rest())
	}
	if d.err != nil {
		return nil, d.err
	}
	return p, nil
}
