package raw

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"unsafe"
)

// This file is a hand-written decoder for the Avro binary encoding of exactly the current
// schemas/raw.avsc: what hamba/avro's reflection-driven decoder does for a writer schema whose
// canonical form is ours, several times faster. Any other writer schema must be resolved
// (hamba/avro does that in internal/codec). It follows hamba/avro's reading of the encoding
// to the letter, so that both accept the same inputs and give the same values:
//
//   - int and long are zigzag varints of at most 5 and 10 bytes; like hamba/avro (and the
//     Java implementation) the bits of the last byte that do not fit are dropped, a
//     continuation bit on it is an overflow;
//   - string and bytes are a long length and that many bytes; a negative length, one past
//     the end of the input or above DecodeLimits.MaxFieldBytes is an error;
//   - arrays are blocks, each a long item count and the items, ended by a count of 0; a
//     negative count -n means n items preceded by the block's size in bytes, which is read
//     and not used (hamba/avro and Java ignore it too);
//   - a ["null", X] union is an int branch index, 0 null, 1 X, anything else an error;
//   - a boolean is one byte, 0 or 1.
//
// One exception: a block count of -2^63 (which cannot be negated) is an error here, where
// hamba/avro v2.31 makes a slice of negative length of it, and writes out of bounds if more
// blocks follow.
//
// Empty arrays and bytes decode to non-nil empty slices, as hamba/avro gives them. Strings
// and bytes are copied out of the input (the caller reuses its buffers) into shared blocks of
// at most slabSize bytes, the way hamba/avro's slab does, so a value that is kept keeps at
// most one such block alive, never the input.

// DecodeLimits bounds what one decode allocates. Zero or negative fields set no limit beyond
// the input itself: every item and byte must be present in the input, so without limits a
// decode allocates a bounded multiple of the input's size (at worst some 30 times: an empty
// string in an array is 1 byte in, a 16-byte string header out, in a slice that may have
// grown twice as large).
type DecodeLimits struct {
	MaxFieldBytes int // longest string or bytes value
	MaxItems      int // most items in any one array, over all its blocks
}

// DecodeError is the error of a decode that failed: where and why.
type DecodeError struct {
	Offset int    // byte offset in the input at which the offending value starts
	Field  string // path of the offending value, e.g. "events[3].sock.laddr"; "" for the whole batch
	Reason string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "raw batch at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason
	}
	return "raw batch at byte " + strconv.Itoa(e.Offset) + ", " + e.Field + ": " + e.Reason
}

// The fewest bytes one item of each array takes in the encoding: every int, long, string
// length, union index and array end takes at least one. Block counts claiming more items
// than the rest of the input can hold are rejected before anything is allocated.
const (
	minEventBytes  = 15 // 14 scalar, string and union fields and the fds array's end
	minFDBytes     = 5
	minStringBytes = 1

	maxIntBytes  = 5
	maxLongBytes = 10

	slabSize   = 1024         // strings and bytes are copied into blocks of this size...
	maxSlabbed = slabSize / 4 // ...unless longer than this: those get their own allocation
)

// DecodeBatch decodes the Avro binary encoding of a raw batch written with the current raw
// schema into dst, overwriting it, with no limits beyond the input. See DecodeBatchLimits.
func DecodeBatch(b []byte, dst *Batch) error {
	return DecodeBatchLimits(b, dst, DecodeLimits{})
}

// DecodeBatchLimits decodes the Avro binary encoding of a raw batch written with the current
// raw schema (Schema) into dst, overwriting it. The whole of b must be the batch: trailing
// bytes are an error. It reuses the backing array of dst.Events, clearing what it does not
// overwrite, and nothing else of dst: pointers and slices of the previous events are dropped,
// never written into. Decoded strings and bytes do not alias b. Malformed input gives a
// *DecodeError, never a panic; dst then holds an empty batch. It does not Validate the batch.
func DecodeBatchLimits(b []byte, dst *Batch, lim DecodeLimits) error {
	slab := slabs.Get().(*[]byte)
	d := decoder{b: b, lim: lim, slab: *slab}
	d.batch(dst)
	*slab = d.slab[len(d.slab):] // only the part never handed out
	slabs.Put(slab)
	if d.err == nil && d.off != len(d.b) {
		d.fail(d.off, "", strconv.Itoa(len(d.b)-d.off)+" trailing bytes after the batch")
	}
	if d.err != nil {
		evs := dst.Events[:cap(dst.Events)]
		clear(evs)
		*dst = Batch{Events: evs[:0]}
		return d.err
	}
	return nil
}

// slabs passes the unused end of a call's last slab block on to the next call, as hamba/avro's
// pooled readers keep theirs: the values of different calls share a block but never bytes.
var slabs = sync.Pool{New: func() any { return new([]byte) }}

// decoder reads one batch. Its error is sticky: the first failure is kept and cuts the input
// at the failing value, so that every later read fails too (quietly) and returns zero values.
// Every read that succeeds therefore happened before any failure: a caller that sees d.err
// set after decoding a nested value knows the failure was inside it.
type decoder struct {
	b    []byte
	off  int
	err  *DecodeError
	lim  DecodeLimits
	slab []byte // the current block strings and bytes are copied into
}

// fail records the first failure and ends the input.
func (d *decoder) fail(off int, field, reason string) {
	if d.err == nil {
		d.err = &DecodeError{Offset: off, Field: field, Reason: reason}
	}
	d.b = d.b[:d.off]
}

// nest prefixes the field path of the failure with parent.
func (d *decoder) nest(parent string) {
	if d.err.Field == "" {
		d.err.Field = parent
	} else {
		d.err.Field = parent + "." + d.err.Field
	}
}

func index(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

// varint reads an unsigned varint of at most maxBytes bytes.
func (d *decoder) varint(field string, maxBytes int) uint64 {
	start := d.off
	var v uint64
	for i := range maxBytes {
		if start+i >= len(d.b) {
			d.fail(start, field, "unexpected end of input")
			return 0
		}
		c := d.b[start+i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.off = start + i + 1
			return v
		}
	}
	d.fail(start, field, "varint overflow: longer than "+strconv.Itoa(maxBytes)+" bytes")
	return 0
}

// long reads a zigzag long.
func (d *decoder) long(field string) int64 {
	b, i := d.b, d.off
	if i < len(b) && b[i] < 0x80 { // one byte, the most common
		d.off = i + 1
		return int64(b[i]>>1) ^ -int64(b[i]&1)
	}
	if len(b)-i < maxLongBytes {
		v := d.varint(field, maxLongBytes) // near the end of the input
		return int64(v>>1) ^ -int64(v&1)
	}
	p := b[i : i+maxLongBytes]
	x := binary.LittleEndian.Uint64(p)
	var v uint64
	if stop := ^x & 0x8080808080808080; stop != 0 { // ends within 8 bytes
		n := bits.TrailingZeros64(stop) + 1 // bits up to the end of the last byte
		v = compact(x & (^uint64(0) >> (64 - n)))
		d.off = i + n/8
	} else {
		v = compact(x) | uint64(p[8]&0x7f)<<56
		switch {
		case p[8] < 0x80:
			d.off = i + 9
		case p[9] < 0x80:
			v |= uint64(p[9]) << 63 // like hamba/avro and Java, drop the bits that do not fit
			d.off = i + 10
		default:
			d.fail(i, field, "varint overflow: longer than 10 bytes")
			return 0
		}
	}
	return int64(v>>1) ^ -int64(v&1)
}

// int reads a zigzag int. Like hamba/avro it drops the bits of a 5-byte varint that do not
// fit in 32.
func (d *decoder) int(field string) int32 {
	b, i := d.b, d.off
	if i < len(b) && b[i] < 0x80 {
		d.off = i + 1
		return int32(b[i]>>1) ^ -int32(b[i]&1)
	}
	if i+1 < len(b) && b[i+1] < 0x80 { // two bytes, as AT_FDCWD
		v := uint32(b[i]&0x7f) | uint32(b[i+1])<<7
		d.off = i + 2
		return int32(v>>1) ^ -int32(v&1)
	}
	if len(b)-i < 8 {
		v := uint32(d.varint(field, maxIntBytes)) // near the end of the input
		return int32(v>>1) ^ -int32(v&1)
	}
	x := binary.LittleEndian.Uint64(b[i : i+8])
	n := bits.TrailingZeros64(^x&0x8080808080808080) + 1 // 65 if no byte ends it
	if n > 8*maxIntBytes {
		d.fail(i, field, "varint overflow: longer than 5 bytes")
		return 0
	}
	v := uint32(compact(x & (^uint64(0) >> (64 - n))))
	d.off = i + n/8
	return int32(v>>1) ^ -int32(v&1)
}

// compact packs the low 7 bits of each byte of x, the first byte lowest, into 56 bits.
func compact(x uint64) uint64 {
	x = x&0x007f007f007f007f | x&0x7f007f007f007f00>>1
	x = x&0x00003fff00003fff | x&0x3fff00003fff0000>>2
	return x&0x000000000fffffff | x&0x0fffffff00000000>>4
}

func (d *decoder) bool(field string) bool {
	if d.off >= len(d.b) {
		d.fail(d.off, field, "unexpected end of input")
		return false
	}
	c := d.b[d.off]
	if c > 1 {
		d.fail(d.off, field, fmt.Sprintf("bad boolean byte 0x%02x", c))
		return false
	}
	d.off++
	return c == 1
}

// union reads the branch index of a ["null", X] union: whether X follows.
func (d *decoder) union(field string) bool {
	if d.off < len(d.b) && d.b[d.off]|2 == 2 { // one byte: 0 → 0, 2 → 1
		d.off++
		return d.b[d.off-1] == 2
	}
	return d.unionSlow(field)
}

func (d *decoder) unionSlow(field string) bool {
	start := d.off
	switch i := d.int(field); {
	case d.err != nil:
		return false
	case i == 0 || i == 1: // a non-minimal encoding
		return i == 1
	default:
		d.fail(start, field, "bad union index "+strconv.Itoa(int(i))+" (0 null, 1 value)")
		return false
	}
}

// length reads the length of a string or bytes value and checks that the value is there.
func (d *decoder) length(field string) int {
	start := d.off
	n := d.long(field)
	switch {
	case d.err != nil:
		return 0
	case n < 0:
		d.fail(start, field, "negative length "+strconv.FormatInt(n, 10))
		return 0
	case d.lim.MaxFieldBytes > 0 && n > int64(d.lim.MaxFieldBytes):
		d.fail(start, field, fmt.Sprintf("length %d above the limit of %d bytes", n, d.lim.MaxFieldBytes))
		return 0
	case n > int64(len(d.b)-d.off):
		d.fail(start, field, fmt.Sprintf("length %d beyond the %d remaining bytes", n, len(d.b)-d.off))
		return 0
	}
	return int(n)
}

// take copies the next n bytes of the input (n > 0, all present) to memory of its own, with
// no spare capacity.
func (d *decoder) take(n int) []byte {
	src := d.b[d.off : d.off+n]
	d.off += n
	if n > maxSlabbed {
		return append([]byte(nil), src...)[:n:n]
	}
	if cap(d.slab)-len(d.slab) < n {
		// No block needs to hold more than what is left of the input.
		d.slab = make([]byte, 0, min(slabSize, n+len(d.b)-d.off))
	}
	i := len(d.slab)
	d.slab = append(d.slab, src...)
	return d.slab[i : i+n : i+n]
}

// str reads a string. The empty string, the most common, is read at once.
func (d *decoder) str(field string) string {
	if d.off < len(d.b) && d.b[d.off] == 0 {
		d.off++
		return ""
	}
	return d.strSlow(field)
}

func (d *decoder) strSlow(field string) string {
	n := d.length(field)
	if n == 0 {
		return ""
	}
	p := d.take(n)
	return unsafe.String(&p[0], n) // p is never written again
}

func (d *decoder) bytes(field string) []byte {
	n := d.length(field)
	if n == 0 {
		if d.err != nil {
			return nil
		}
		return []byte{}
	}
	return d.take(n)
}

// block reads an array block's header and returns its item count, 0 at the end of the array
// or on failure. have is the items of the array read so far, minItem the fewest bytes one item
// takes.
func (d *decoder) block(field string, have, minItem int) int {
	start := d.off
	n := d.long(field)
	if n < 0 {
		if n == math.MinInt64 {
			d.fail(start, field, "block count overflow")
			return 0
		}
		n = -n
		d.long(field) // the block's size in bytes
	}
	switch {
	case d.err != nil || n == 0:
		return 0
	case d.lim.MaxItems > 0 && n > int64(d.lim.MaxItems-have):
		d.fail(start, field, fmt.Sprintf("%d items above the limit of %d", int64(have)+n, d.lim.MaxItems))
		return 0
	case n > int64((len(d.b)-d.off)/minItem):
		d.fail(start, field, fmt.Sprintf("block of %d items beyond the %d remaining bytes", n, len(d.b)-d.off))
		return 0
	}
	return int(n)
}

func (d *decoder) batch(dst *Batch) {
	dst.Exporter = d.str("exporter")
	dst.HPID = d.long("hpid")
	dst.CreateTS = d.long("createTS")
	evs := dst.Events[:0]
	if evs == nil {
		evs = []Event{}
	}
	for {
		n := d.block("events", len(evs), minEventBytes)
		if n == 0 {
			break
		}
		evs = slices.Grow(evs, n) // a new array only when dst's is too small
		for range n {
			evs = evs[:len(evs)+1]
			d.event(&evs[len(evs)-1])
			if d.err != nil {
				d.nest(index("events", len(evs)-1))
				dst.Events = evs
				return
			}
		}
	}
	clear(evs[len(evs):cap(evs)]) // what the previous batch left beyond this one
	dst.Events = evs
}

// event decodes into e, setting every field: e may hold a previous batch's event.
func (d *decoder) event(e *Event) {
	e.Op = Op(d.int("op"))
	e.TS = d.long("ts")
	e.TID = d.long("tid")
	e.Ret = d.long("ret")
	e.FD = d.int("fd")
	e.DirFD = d.int("dirfd")
	e.Path = d.str("path")
	e.DirFD2 = d.int("dirfd2")
	e.Path2 = d.str("path2")
	e.Flags = d.long("flags")
	e.Mode = d.int("mode")
	e.UID = d.int("uid")
	e.Sock, e.Proc = nil, nil
	if d.union("sock") {
		if e.Sock = d.sock(); d.err != nil {
			d.nest("sock")
			return
		}
	}
	if d.union("proc") {
		if e.Proc = d.proc(); d.err != nil {
			d.nest("proc")
			return
		}
	}
	e.FDs = d.fds()
}

func (d *decoder) sock() *Sock {
	s := new(Sock)
	s.Family = d.int("family")
	s.Proto = d.int("proto")
	s.LAddr = d.bytes("laddr")
	s.LPort = d.int("lport")
	s.RAddr = d.bytes("raddr")
	s.RPort = d.int("rport")
	s.Path = d.str("path")
	return s
}

func (d *decoder) proc() *Proc {
	p := new(Proc)
	p.PPID = d.long("ppid")
	p.PCreateTS = d.long("pcreateTS")
	p.Exe = d.str("exe")
	p.Args = d.strings("args")
	p.Comm = d.str("comm")
	p.Cwd = d.str("cwd")
	p.Env = d.strings("env")
	p.UID = d.int("uid")
	p.GID = d.int("gid")
	p.UserName = d.str("userName")
	p.GroupName = d.str("groupName")
	p.TTY = d.int("tty")
	p.VPID = d.long("vpid")
	if d.union("container") {
		if p.Container = d.container(); d.err != nil {
			d.nest("container")
		}
	}
	return p
}

func (d *decoder) container() *Container {
	c := new(Container)
	c.ID = d.str("id")
	c.Name = d.str("name")
	c.Image = d.str("image")
	c.ImageID = d.str("imageid")
	c.Runtime = d.int("runtime")
	c.Privileged = d.bool("privileged")
	c.PodID = d.str("podId")
	return c
}

// strings decodes an array of strings into a new slice.
func (d *decoder) strings(field string) []string {
	out := []string{}
	for {
		n := d.block(field, len(out), minStringBytes)
		if n == 0 {
			return out
		}
		out = slices.Grow(out, n)
		for range n {
			s := d.str("")
			if d.err != nil {
				d.nest(index(field, len(out)))
				return out
			}
			out = append(out, s)
		}
	}
}

// fds decodes an array of FD records into a new slice.
func (d *decoder) fds() []FD {
	if d.off < len(d.b) && d.b[d.off] == 0 { // no fds, the common case
		d.off++
		return []FD{}
	}
	out := []FD{}
	for {
		n := d.block("fds", len(out), minFDBytes)
		if n == 0 {
			return out
		}
		out = slices.Grow(out, n)
		for range n {
			out = out[:len(out)+1]
			if d.fd(&out[len(out)-1]); d.err != nil {
				d.nest(index("fds", len(out)-1))
				return out
			}
		}
	}
}

func (d *decoder) fd(f *FD) {
	f.FD = d.int("fd")
	f.Kind = d.int("kind")
	f.Path = d.str("path")
	f.Flags = d.long("flags")
	f.Sock = nil
	if d.union("sock") {
		if f.Sock = d.sock(); d.err != nil {
			d.nest("sock")
		}
	}
}
