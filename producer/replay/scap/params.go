package scap

import (
	"encoding/binary"
	"net/netip"
)

// Socket families as PPM_AF_* encodes them (the Linux numbers).
const (
	AFUnix  = 1
	AFInet  = 2
	AFInet6 = 10
)

// SockTuple is a decoded SOCKTUPLE parameter. For IP families Src/SPort and Dst/DPort are the
// two ends in the order the driver wrote them: for inbound calls (accept, recvfrom, recvmsg)
// Src is the remote peer, for outbound ones (connect, sendto, sendmsg) Src is the local end.
// For AF_UNIX, Source and Dest are kernel socket addresses and Path the socket's path.
type SockTuple struct {
	Family       uint8
	Src, Dst     netip.Addr
	SPort, DPort uint16
	Source, Dest uint64
	Path         string
}

// SockTuple decodes parameter i. ok is false when the parameter is absent, empty (the kernel
// had no socket information) or malformed.
func (e *Event) SockTuple(i int) (t SockTuple, ok bool) {
	return DecodeSockTuple(e.Param(i))
}

// DecodeSockTuple decodes a SOCKTUPLE value (SCAP.md section 6).
func DecodeSockTuple(b []byte) (t SockTuple, ok bool) {
	if len(b) == 0 {
		return t, false
	}
	t.Family = b[0]
	b = b[1:]
	switch t.Family {
	case AFInet:
		if len(b) < 12 {
			return t, false
		}
		t.Src = netip.AddrFrom4([4]byte(b[0:4]))
		t.SPort = binary.LittleEndian.Uint16(b[4:])
		t.Dst = netip.AddrFrom4([4]byte(b[6:10]))
		t.DPort = binary.LittleEndian.Uint16(b[10:])
	case AFInet6:
		if len(b) < 36 {
			return t, false
		}
		t.Src = netip.AddrFrom16([16]byte(b[0:16]))
		t.SPort = binary.LittleEndian.Uint16(b[16:])
		t.Dst = netip.AddrFrom16([16]byte(b[18:34]))
		t.DPort = binary.LittleEndian.Uint16(b[34:])
	case AFUnix:
		if len(b) < 16 {
			return t, false
		}
		t.Source = binary.LittleEndian.Uint64(b[0:8])
		t.Dest = binary.LittleEndian.Uint64(b[8:16])
		t.Path = cString(b[16:])
	default:
		return t, false
	}
	return t, true
}

// SockAddr is a decoded SOCKADDR parameter.
type SockAddr struct {
	Family uint8
	Addr   netip.Addr
	Port   uint16
	Path   string // AF_UNIX; abstract names start with '@'
}

// SockAddr decodes parameter i; ok is false when it is absent, empty or malformed.
func (e *Event) SockAddr(i int) (a SockAddr, ok bool) { return DecodeSockAddr(e.Param(i)) }

// DecodeSockAddr decodes a SOCKADDR value.
func DecodeSockAddr(b []byte) (a SockAddr, ok bool) {
	if len(b) == 0 {
		return a, false
	}
	a.Family = b[0]
	b = b[1:]
	switch a.Family {
	case AFInet:
		if len(b) < 6 {
			return a, false
		}
		a.Addr = netip.AddrFrom4([4]byte(b[0:4]))
		a.Port = binary.LittleEndian.Uint16(b[4:])
	case AFInet6:
		if len(b) < 18 {
			return a, false
		}
		a.Addr = netip.AddrFrom16([16]byte(b[0:16]))
		a.Port = binary.LittleEndian.Uint16(b[16:])
	case AFUnix:
		a.Path = cString(b)
	default:
		return a, false
	}
	return a, true
}

// FDListEntry is one element of an FDLIST parameter (poll, epoll).
type FDListEntry struct {
	FD    int64
	Flags int16
}

// DecodeFDList decodes an FDLIST value: a u16 count, then count × (fd i64, flags i16).
func DecodeFDList(b []byte) ([]FDListEntry, bool) {
	if len(b) < 2 {
		return nil, false
	}
	n := int(binary.LittleEndian.Uint16(b))
	b = b[2:]
	if len(b) < n*10 {
		return nil, false
	}
	out := make([]FDListEntry, n)
	for i := range out {
		out[i].FD = int64(binary.LittleEndian.Uint64(b[i*10:]))
		out[i].Flags = int16(binary.LittleEndian.Uint16(b[i*10+8:]))
	}
	return out, true
}
