package sysflow_test

import (
	"net/netip"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

func TestIPv4Encoding(t *testing.T) {
	tests := []struct {
		addr string
		v    int32
	}{
		{"127.0.0.1", 16777343}, // SEMANTICS.md §4 and the client-server baseline
		{"0.0.0.0", 0},
		{"1.2.3.4", 0x04030201},
		{"10.0.0.255", -16777206}, // high byte set: negative int32
		{"255.255.255.255", -1},
		{"192.168.1.1", 0x0101a8c0},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			if got := sysflow.IPv4ToInt(a); got != tt.v {
				t.Errorf("IPv4ToInt(%s) = %d, want %d", a, got, tt.v)
			}
			if got := sysflow.IntToIPv4(tt.v); got != a {
				t.Errorf("IntToIPv4(%d) = %s, want %s", tt.v, got, a)
			}
		})
	}
	if got := sysflow.IPv4ToInt(netip.MustParseAddr("::ffff:127.0.0.1")); got != 16777343 {
		t.Errorf("IPv4-mapped 127.0.0.1 = %d, want 16777343", got)
	}
	if got := sysflow.IPv4ToInt(netip.MustParseAddr("::1")); got != 0 {
		t.Errorf("IPv6 ::1 = %d, want 0", got)
	}
	if got := sysflow.IPv4ToInt(netip.Addr{}); got != 0 {
		t.Errorf("zero Addr = %d, want 0", got)
	}
}

func TestProtoName(t *testing.T) {
	tests := []struct {
		p    int32
		want string
	}{
		{6, "tcp"}, {17, "udp"}, {1, "icmp"}, {254, "raw"}, {-1, "-1"}, {132, "132"},
	}
	for _, tt := range tests {
		if got := sysflow.ProtoName(tt.p); got != tt.want {
			t.Errorf("ProtoName(%d) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestNetworkFlowTuple(t *testing.T) {
	nf := &sysflow.NetworkFlow{SIP: 16777343, SPort: 40556, DIP: 16777343, DPort: 8080, Proto: 6}
	if got, want := nf.Tuple(), "127.0.0.1:40556-127.0.0.1:8080"; got != want {
		t.Errorf("Tuple() = %q, want %q", got, want)
	}
	zero := &sysflow.NetworkFlow{}
	if got, want := zero.Tuple(), "0.0.0.0:0-0.0.0.0:0"; got != want {
		t.Errorf("Tuple() = %q, want %q", got, want)
	}
}
