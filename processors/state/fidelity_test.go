package state_test

import (
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

func mapped4(v4 ...byte) []byte { return append([]byte{10: 0xff, 11: 0xff}, v4...) }

// A socket of a snapshot's fd table (the live /proc path reads dual-stack servers' sockets
// from /proc/net/tcp6) whose two ends are IPv4-mapped IPv6 addresses is an IPv4 socket, as
// sinsp makes it: reading it gives a NetworkFlow with the IPv4 tuple.
func TestIPv4MappedSnapshotSocketIsAnIPv4NetworkFlow(t *testing.T) {
	o := &out{}
	s, err := state.New(state.ReferenceTestConfig(), o)
	if err != nil {
		t.Fatal(err)
	}
	sock := &raw.Sock{Family: raw.AFInet6, Proto: raw.ProtoTCP, LAddr: mapped4(10, 0, 0, 1), LPort: 9000, RAddr: mapped4(10, 0, 0, 2), RPort: 44292}
	v6 := &raw.Sock{Family: raw.AFInet6, Proto: raw.ProtoTCP, LAddr: append([]byte{0x20, 1}, make([]byte, 14)...), LPort: 9000, RAddr: mapped4(10, 0, 0, 2), RPort: 1}
	err = s.Apply(batch(snapshot(t0, raw.FD{FD: 5, Kind: raw.FDIPv6, Sock: sock}, raw.FD{FD: 6, Kind: raw.FDIPv6, Sock: v6}),
		ev(raw.OpRead, t0+1, func(e *raw.Event) { e.FD, e.Ret = 5, 10 }),
		ev(raw.OpRead, t0+2, func(e *raw.Event) { e.FD, e.Ret = 6, 10 }),
		ev(raw.OpClose, t0+3, func(e *raw.Event) { e.FD = 5 })))
	if err != nil {
		t.Fatal(err)
	}
	var nfs []*sysflow.NetworkFlow
	for _, r := range o.recs {
		if nf, ok := r.rec.(*sysflow.NetworkFlow); ok {
			nfs = append(nfs, nf)
		}
	}
	if len(nfs) != 1 {
		t.Fatalf("network flows %+v, want one (fd 6 is IPv6)", nfs)
	}
	if nf := nfs[0]; nf.SIP != 0x0100000a || nf.SPort != 9000 || nf.DIP != 0x0200000a || nf.DPort != 44292 || nf.Proto != 6 ||
		nf.OpFlags != int32(sysflow.OpReadRecv|sysflow.OpClose) {
		t.Errorf("network flow %+v", nf)
	}
}

// Attributes carried by an event without a record of its own kind (a credential change the
// producer saw, setgid) update a process the reference has not written yet: its first record
// has them.
func TestAttributesOnAnyEventUpdateAProcessNotYetWritten(t *testing.T) {
	o := &out{}
	s, err := state.New(state.ReferenceTestConfig(), o)
	if err != nil {
		t.Fatal(err)
	}
	after := procAttrs()
	after.GID, after.GroupName = 50, "staff"
	err = s.Apply(batch(snapshot(t0),
		ev(raw.OpChdir, t0+1, func(e *raw.Event) { e.Path, e.Proc = "/tmp", after }),
		ev(raw.OpMkdir, t0+2, func(e *raw.Event) { e.Path = "/tmp/d" })))
	if err != nil {
		t.Fatal(err)
	}
	var last *sysflow.Process
	for _, r := range o.recs {
		if p, ok := r.rec.(*sysflow.Process); ok {
			last = p
		}
	}
	if last == nil || last.TS != t0+2 || last.GID != 50 || last.GroupName != "staff" || last.UID != 1000 {
		t.Errorf("process at its first record %+v", last)
	}
}
