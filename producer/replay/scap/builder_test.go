package scap

import (
	"bytes"
	"encoding/binary"
)

// This file builds synthetic captures for tests: block framing and the few encodings the
// reference captures do not exercise (v1 events, flags, large payloads, old list variants).

const refDir = "../../../testdata/reference"

type buf struct{ bytes.Buffer }

func (b *buf) u8(v uint8)   { b.WriteByte(v) }
func (b *buf) u16(v uint16) { b.Write(binary.LittleEndian.AppendUint16(nil, v)) }
func (b *buf) u32(v uint32) { b.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func (b *buf) u64(v uint64) { b.Write(binary.LittleEndian.AppendUint64(nil, v)) }
func (b *buf) str(s string) { b.u16(uint16(len(s))); b.WriteString(s) }

// block frames body as a block of type typ: header, body, zero padding, trailer.
func block(typ uint32, body []byte) []byte {
	total := 8 + len(body) + 4
	pad := (4 - total%4) % 4
	total += pad
	var b buf
	b.u32(typ)
	b.u32(uint32(total))
	b.Write(body)
	b.Write(make([]byte, pad))
	b.u32(uint32(total))
	return b.Bytes()
}

func shbBlock(major, minor uint16, options []byte) []byte {
	var b buf
	b.u32(sectionMagic)
	b.u16(major)
	b.u16(minor)
	b.u64(^uint64(0))
	b.Write(options)
	return block(uint32(BlockSection), b.Bytes())
}

// eventBody encodes an event block body. v2 selects the 26-byte header with nparams; large
// the 32-bit parameter lengths; flags, when non-nil, the EVF prefix; trailer is appended
// after the event (pcapng options).
func eventBody(v2, large bool, flags *uint32, ts uint64, tid int64, typ EventType, params [][]byte, trailer []byte) []byte {
	var b buf
	b.u16(3) // cpu
	if flags != nil {
		b.u32(*flags)
	}
	hl := eventHeaderV1
	if v2 {
		hl = eventHeaderV2
	}
	width := 2
	if large {
		width = 4
	}
	n := hl + width*len(params)
	for _, p := range params {
		n += len(p)
	}
	b.u64(ts)
	b.u64(uint64(tid))
	b.u32(uint32(n))
	b.u16(uint16(typ))
	if v2 {
		b.u32(uint32(len(params)))
	}
	for _, p := range params {
		if large {
			b.u32(uint32(len(p)))
		} else {
			b.u16(uint16(len(p)))
		}
	}
	for _, p := range params {
		b.Write(p)
	}
	if len(trailer) > 0 {
		for b.Len()%4 != 0 {
			b.u8(0)
		}
		b.Write(trailer)
	}
	return b.Bytes()
}

func le64(v int64) []byte  { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func cstr(s string) []byte { return append([]byte(s), 0) }

// evV2 is an EV_V2 block.
func evV2(ts uint64, tid int64, typ EventType, params ...[]byte) []byte {
	return block(uint32(BlockEventV2), eventBody(true, false, nil, ts, tid, typ, params, nil))
}

// capture joins blocks after a 1.2 section header.
func capture(blocks ...[]byte) []byte {
	out := shbBlock(1, 2, nil)
	for _, b := range blocks {
		out = append(out, b...)
	}
	return out
}

// threadEntry encodes a process list entry of variant v (without the V9 length prefix).
func threadEntry(v int, tid, pid, ptid int64, comm, exe, exepath string, args, cwd string, tail []byte) []byte {
	var b buf
	b.u64(uint64(tid))
	b.u64(uint64(pid))
	b.u64(uint64(ptid))
	if v >= 6 {
		b.u64(7) // sid
	}
	if v >= 8 {
		b.u64(8) // vpgid
	}
	b.str(comm)
	b.str(exe)
	if v >= 7 {
		b.str(exepath)
	}
	b.str(args)
	b.str(cwd)
	b.u64(1024)   // fdlimit
	b.u32(0x2000) // flags
	b.u32(1000)   // uid
	b.u32(1001)   // gid
	if v >= 2 {
		b.u32(1)
		b.u32(2)
		b.u32(3)
		b.u64(4)
		b.u64(5)
	}
	if v >= 3 {
		b.str("A=1\x00B=2\x00")
	}
	if v >= 4 {
		b.u64(uint64(tid) - 100) // vtid
		b.u64(uint64(pid) - 100) // vpid
		b.str("cpuset=/docker/" + hex64 + "\x00")
	}
	if v >= 5 {
		b.str("/")
	}
	b.Write(tail)
	return b.Bytes()
}

const hex64 = "347b1411b047aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
