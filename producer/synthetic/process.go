package synthetic

import (
	"github.com/sfstream/sfstream/internal/raw"
)

// Linux values the scripts put in raw events (raw events carry Linux flags, not PPM).
const (
	oRDONLY    = 0
	oWRONLY    = 0o1
	oCREAT     = 0o100
	oTRUNC     = 0o1000
	oAPPEND    = 0o2000
	oNONBLOCK  = 0o4000
	oCLOEXEC   = 0o2000000
	oDIRECTORY = 0o200000

	enoent      = -2
	eexist      = -17
	einprogress = -115

	sockStream = 1
	shutWR     = 1

	mapPrivate   = 0x02
	mapDenywrite = 0x800
	protRead     = 0x1
	protExec     = 0x4

	cloneChild = 0x01200011 // CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, as fork(3) does
)

// Addresses in the generated records come from the documentation ranges of RFC 5737: they
// are data, never contacted.
var (
	serverIP    = []byte{198, 51, 100, 10} // the web server's address
	upstreamNet = [3]byte{198, 51, 100}    // hosts the clients of the conns profile reach
	clientNet   = [3]byte{203, 0, 113}     // hosts that connect to the web server
	localIP     = []byte{192, 0, 2, 20}    // the node's own address, for outgoing connections
	anyIP       = []byte{0, 0, 0, 0}       // a listening socket's wildcard address
	loaderPaths = []string{"/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libc.so.6"}
)

// simProc is one simulated process: its identity, fd table and pending batch.
type simProc struct {
	hpid, cts int64
	proc      *raw.Proc
	fds       fdTable
	batch     *raw.Batch
}

// newProc makes a process known from the start of the capture and emits its snapshot
// record with its fd table.
func (g *Generator) newProc(attrs *raw.Proc, fds []raw.FD) *simProc {
	p := &simProc{hpid: g.newPID(), cts: g.bootTime(), proc: attrs}
	if attrs.VPID == 0 {
		attrs.VPID = p.hpid
	}
	for _, f := range fds {
		p.fds.take(f.FD)
	}
	e := raw.NewEvent(raw.OpSnapshot, 0, p.hpid)
	e.Proc = attrs
	e.FDs = fds
	g.emit(p, e)
	return p
}

// fdTable allocates descriptors as the kernel does: the lowest free number.
type fdTable struct{ used []bool }

func (t *fdTable) alloc() int32 {
	for i, u := range t.used {
		if !u {
			t.used[i] = true
			return int32(i)
		}
	}
	t.used = append(t.used, true)
	return int32(len(t.used) - 1)
}

func (t *fdTable) take(fd int32) {
	for int(fd) >= len(t.used) {
		t.used = append(t.used, false)
	}
	t.used[fd] = true
}

func (t *fdTable) free(fd int32) {
	if int(fd) < len(t.used) {
		t.used[fd] = false
	}
}

// Event builders: each returns an event whose other fields keep their defaults.

func evOpen(path string, flags int64, ret int64) raw.Event {
	e := raw.NewEvent(raw.OpOpen, 0, 0)
	e.Path, e.Flags, e.Ret = path, flags, ret
	if flags&oCREAT != 0 {
		e.Mode = 0o644
	}
	return e
}

func evFD(op raw.Op, fd int32, ret int64) raw.Event {
	e := raw.NewEvent(op, 0, 0)
	e.FD, e.Ret = fd, ret
	return e
}

func evPath(op raw.Op, path string, ret int64) raw.Event {
	e := raw.NewEvent(op, 0, 0)
	e.Path, e.Ret = path, ret
	return e
}

func evPath2(op raw.Op, path, path2 string, ret int64) raw.Event {
	e := evPath(op, path, ret)
	e.Path2 = path2
	return e
}

func tcpSock(laddr []byte, lport int32, raddr []byte, rport int32) *raw.Sock {
	return &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: laddr, LPort: lport, RAddr: raddr, RPort: rport}
}

func fdEntry(fd int32, kind int32, path string, flags int64) raw.FD {
	return raw.FD{FD: fd, Kind: kind, Path: path, Flags: flags}
}

// stdFDs are the descriptors of a daemon: stdin and stdout on /dev/null, stderr on log.
func stdFDs(log string) []raw.FD {
	return []raw.FD{
		fdEntry(0, raw.FDFile, "/dev/null", oRDONLY),
		fdEntry(1, raw.FDFile, "/dev/null", oWRONLY),
		fdEntry(2, raw.FDFile, log, oWRONLY|oAPPEND|oCREAT),
	}
}
