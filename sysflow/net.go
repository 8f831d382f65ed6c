package sysflow

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// IPv4ToInt encodes an IPv4 address as SysFlow stores it in sip/dip: the 4 address bytes in
// network order read as a little-endian uint32, as an int32 (127.0.0.1 is 16777343). An
// IPv4-mapped IPv6 address is unmapped first; any other address encodes as 0 (0.0.0.0).
func IPv4ToInt(a netip.Addr) int32 {
	a = a.Unmap()
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return int32(binary.LittleEndian.Uint32(b[:]))
}

// IntToIPv4 decodes a sip/dip value; it is the inverse of IPv4ToInt.
func IntToIPv4(v int32) netip.Addr {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b)
}

// IP protocol numbers as SysFlow records them in the proto field.
const (
	ProtoICMP    int32 = 1
	ProtoTCP     int32 = 6
	ProtoUDP     int32 = 17
	ProtoRaw     int32 = 254
	ProtoUnknown int32 = -1
)

// ProtoName returns "icmp", "tcp", "udp" or "raw" for the protocols SysFlow distinguishes,
// and the decimal number for anything else.
func ProtoName(p int32) string {
	switch p {
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoRaw:
		return "raw"
	}
	return strconv.Itoa(int(p))
}

// Tuple returns the flow's endpoints as sysprint prints them in its res field:
// "<sip>:<sport>-<dip>:<dport>", e.g. "127.0.0.1:40556-127.0.0.1:8080".
func (nf *NetworkFlow) Tuple() string {
	b := make([]byte, 0, 48)
	b = IntToIPv4(nf.SIP).AppendTo(b)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(nf.SPort), 10)
	b = append(b, '-')
	b = IntToIPv4(nf.DIP).AppendTo(b)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(nf.DPort), 10)
	return string(b)
}
