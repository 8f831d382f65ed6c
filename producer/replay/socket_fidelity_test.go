package replay

import (
	"testing"

	"github.com/sfstream/sfstream/producer/replay/scap"
	"github.com/sfstream/sfstream/sysflow"
)

// Sockets open when the capture starts (the capture's fd table) are in sinsp's fd table with
// the tuple the table records (sip/sport the local end, dip/dport the remote one, as read from
// /proc/net at capture start): reads and writes on them make NetworkFlows with that tuple. A
// socket of a dual-stack (AF_INET6) server whose two ends are IPv4-mapped addresses is an
// IPv4 socket to sinsp, in the fd table and in accept/connect tuples alike.

var (
	srvIP  = []byte{10, 0, 0, 1}
	cliIP  = []byte{10, 0, 0, 2}
	mapped = func(v4 []byte) []byte { return append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, v4...) }
)

// rw appends a read (or write) of n bytes on fd with its enter event.
func rw(c *capBuilder, ts uint64, tid int64, write bool, fd int64, n int64) {
	e, x := scap.ReadE, scap.ReadX
	if write {
		e, x = scap.WriteE, scap.WriteX
	}
	c.ev(ts, tid, e, i64(fd), u32(uint32(n))).ev(ts+1, tid, x, i64(n), make([]byte, n))
}

func netFlows(recs []sysflow.Record) []*sysflow.NetworkFlow {
	return recordsOf[*sysflow.NetworkFlow](recs)
}

func TestSocketInCaptureFDTableGivesNetworkFlowWithItsTuple(t *testing.T) {
	c := serverCapture().fdList(server.tid,
		fdEntry{fd: 4, typ: scap.FDIPv4Sock, src: srvIP, dst: cliIP, sport: 80, dport: 5555, l4: 2})
	rw(c, 1e9, server.tid, false, 4, 100)
	rw(c, 1e9+10, server.tid, true, 4, 30)
	c.ev(1e9+20, server.tid, scap.CloseE, i64(4)).ev(1e9+21, server.tid, scap.CloseX, i64(0))
	nfs := netFlows(sysflowOf(t, c.Bytes()))
	if len(nfs) != 1 {
		t.Fatalf("network flows %+v, want 1", nfs)
	}
	nf := nfs[0]
	want := sysflow.NetworkFlow{ProcOID: sysflow.OID{HPID: server.pid}, TS: 1e9 + 1, TID: server.tid,
		OpFlags: int32(sysflow.OpReadRecv | sysflow.OpWriteSend | sysflow.OpClose), EndTS: 1e9 + 21,
		SIP: 0x0100000a, SPort: 80, DIP: 0x0200000a, DPort: 5555, Proto: 6, FD: 4,
		NumRRecvOps: 1, NumWSendOps: 1, NumRRecvBytes: 100, NumWSendBytes: 30}
	if *nf != want {
		t.Errorf("network flow\n got %+v\nwant %+v", *nf, want)
	}
}

func TestIPv4MappedSocketInCaptureFDTableIsAnIPv4NetworkFlow(t *testing.T) {
	c := serverCapture().fdList(server.tid,
		fdEntry{fd: 6, typ: scap.FDIPv6Sock, src: mapped(srvIP), dst: mapped(cliIP), sport: 9000, dport: 44292, l4: 2},
		fdEntry{fd: 7, typ: scap.FDIPv6Sock, src: []byte{0x20, 1, 0xd, 0xb8, 15: 1}, dst: []byte{0x20, 1, 0xd, 0xb8, 15: 2}, sport: 9000, dport: 40000, l4: 2})
	rw(c, 1e9, server.tid, true, 6, 10)
	rw(c, 1e9+10, server.tid, true, 7, 10) // true IPv6: no SysFlow record
	nfs := netFlows(sysflowOf(t, c.Bytes()))
	if len(nfs) != 1 {
		t.Fatalf("network flows %+v, want the IPv4-mapped one", nfs)
	}
	if nf := nfs[0]; nf.SIP != 0x0100000a || nf.DIP != 0x0200000a || nf.SPort != 9000 || nf.DPort != 44292 || nf.Proto != 6 || nf.FD != 6 {
		t.Errorf("network flow %+v", nf)
	}
}

func TestIPv4MappedAcceptIsAnIPv4NetworkFlow(t *testing.T) {
	c := serverCapture()
	// ACCEPT4_5_X: fd, tuple (PPM_AF_INET6, client then server), queuepct, queuelen, queuemax.
	tuple := []byte{10}
	tuple = append(tuple, mapped(cliIP)...)
	tuple = append(tuple, 0x04, 0xad) // 44292
	tuple = append(tuple, mapped(srvIP)...)
	tuple = append(tuple, 0x28, 0x23) // 9000
	c.ev(1e9, server.tid, scap.Accept45X, i64(8), tuple, []byte{0}, u32(0), u32(5))
	rw(c, 1e9+10, server.tid, false, 8, 5)
	nfs := netFlows(sysflowOf(t, c.Bytes()))
	if len(nfs) != 1 {
		t.Fatalf("network flows %+v, want 1", nfs)
	}
	// client -> server, as sinsp orders every IPv4 tuple.
	if nf := nfs[0]; nf.SIP != 0x0200000a || nf.SPort != 44292 || nf.DIP != 0x0100000a || nf.DPort != 9000 ||
		nf.OpFlags != int32(sysflow.OpAccept|sysflow.OpReadRecv|sysflow.OpTruncate) || nf.NumRRecvBytes != 5 {
		t.Errorf("network flow %+v", nf)
	}
}

func TestUnixSocketInCaptureFDTableGivesFileFlow(t *testing.T) {
	c := serverCapture().fdList(server.tid, fdEntry{fd: 3, typ: scap.FDUnixSock, name: "/run/server.sock"})
	rw(c, 1e9, server.tid, true, 3, 8)
	recs := sysflowOf(t, c.Bytes())
	files := recordsOf[*sysflow.File](recs)
	ffs := recordsOf[*sysflow.FileFlow](recs)
	if len(files) != 1 || files[0].Path != "/run/server.sock" || files[0].ResType != 'u' {
		t.Fatalf("files %+v", files)
	}
	if len(ffs) != 1 || ffs[0].FileOID != files[0].OID || ffs[0].NumWSendBytes != 8 || ffs[0].FD != 3 {
		t.Errorf("file flows %+v", ffs)
	}
}
