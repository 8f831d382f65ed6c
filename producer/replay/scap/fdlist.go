package scap

import (
	"fmt"
	"net/netip"
)

// FDList is the fd table of one thread at the start of the capture. Threads other than a
// process's main thread get empty lists: the table belongs to the process.
type FDList struct {
	Offset int64
	Type   BlockType
	TID    int64
	FDs    []FDEntry
}

func (b *FDList) BlockOffset() int64 { return b.Offset }
func (*FDList) isBlock()             {}

// FDType is a SCAP_FD_* fd type.
type FDType uint8

// FD types (SCAP.md 4.2).
const (
	FDUnknown     FDType = 0
	FDFile        FDType = 1
	FDDirectory   FDType = 2
	FDIPv4Sock    FDType = 3
	FDIPv6Sock    FDType = 4
	FDIPv4Server  FDType = 5
	FDIPv6Server  FDType = 6
	FDFifo        FDType = 7
	FDUnixSock    FDType = 8
	FDEvent       FDType = 9
	FDUnsupported FDType = 10
	FDSignalFD    FDType = 11
	FDEventPoll   FDType = 12
	FDInotify     FDType = 13
	FDTimerFD     FDType = 14
	FDNetlink     FDType = 15
	FDFileV2      FDType = 16
	FDBPF         FDType = 17
	FDUserfaultFD FDType = 18
	FDIOUring     FDType = 19
	FDMemFD       FDType = 20
	FDPidFD       FDType = 21
)

// FDEntry is one open fd. Which fields are set depends on Type: sockets fill the address
// fields (for IPv4/IPv6 sockets Src is the local end and Dst the remote one; server sockets
// fill only Src), unix sockets Source/Dest (kernel socket addresses) and Name, file-like
// types Name (and OpenFlags/Dev for FILE_V2).
type FDEntry struct {
	FD        int64
	Ino       uint64
	Type      FDType
	Name      string
	OpenFlags uint32 // PPM_O_* (FILE_V2)
	Dev       uint32 // FILE_V2 in newer writers
	Src, Dst  netip.Addr
	SPort     uint16
	DPort     uint16
	L4Proto   uint8 // 0 unknown, 1 n/a, 2 TCP, 3 UDP, 4 ICMP, 5 raw
	Source    uint64
	Dest      uint64
}

func parseFDList(body []byte, off int64, v2 bool) (*FDList, error) {
	c := cursor{b: body}
	fl := &FDList{Offset: off, Type: BlockFDList, TID: c.i64()}
	if v2 {
		fl.Type = BlockFDListV2
	}
	if c.err != nil {
		return nil, c.err
	}
	for i := 0; c.left() >= 4; i++ {
		var e FDEntry
		if v2 {
			entryLen := int(c.u32())
			if entryLen < 4 || entryLen-4 > c.left() {
				return nil, fmt.Errorf("%w: fd entry %d declares %d bytes, %d left", ErrBadLength, i, entryLen, c.left()+4)
			}
			ec := cursor{b: c.take(entryLen - 4)}
			if err := decodeFD(&ec, &e, true); err != nil {
				return nil, fmt.Errorf("fd entry %d: %w", i, err)
			}
		} else if err := decodeFD(&c, &e, false); err != nil {
			return nil, fmt.Errorf("fd entry %d: %w", i, err)
		}
		fl.FDs = append(fl.FDs, e)
	}
	return fl, nil
}

func addr4(c *cursor) netip.Addr {
	if b := c.take(4); b != nil {
		return netip.AddrFrom4([4]byte(b))
	}
	return netip.Addr{}
}

func addr16(c *cursor) netip.Addr {
	if b := c.take(16); b != nil {
		return netip.AddrFrom16([16]byte(b))
	}
	return netip.Addr{}
}

// decodeFD reads one entry. With v2 the cursor is bounded to the entry, so unread trailing
// bytes and unknown types are harmless; without it an unknown type ends the block.
func decodeFD(c *cursor, e *FDEntry, v2 bool) error {
	e.FD = c.i64()
	e.Ino = c.u64()
	e.Type = FDType(c.u8())
	switch e.Type {
	case FDIPv4Sock:
		e.Src, e.Dst = addr4(c), addr4(c)
		e.SPort, e.DPort = c.u16(), c.u16()
		e.L4Proto = c.u8()
	case FDIPv6Sock:
		e.Src, e.Dst = addr16(c), addr16(c)
		e.SPort, e.DPort = c.u16(), c.u16()
		e.L4Proto = c.u8()
	case FDIPv4Server:
		e.Src = addr4(c)
		e.SPort = c.u16()
		e.L4Proto = c.u8()
	case FDIPv6Server:
		e.Src = addr16(c)
		e.SPort = c.u16()
		e.L4Proto = c.u8()
	case FDUnixSock:
		e.Source, e.Dest = c.u64(), c.u64()
		e.Name = c.str16()
	case FDFileV2:
		e.OpenFlags = c.u32()
		e.Name = c.str16()
		if v2 && c.left() >= 4 {
			e.Dev = c.u32()
		}
	case FDFile, FDDirectory, FDFifo, FDEvent, FDUnsupported, FDSignalFD, FDEventPoll,
		FDInotify, FDTimerFD, FDNetlink, FDBPF, FDUserfaultFD, FDIOUring, FDMemFD, FDPidFD:
		e.Name = c.str16()
	default:
		if !v2 && c.err == nil {
			return fmt.Errorf("%w: fd %d has unknown type %d", ErrMalformed, e.FD, e.Type)
		}
	}
	return c.err
}
