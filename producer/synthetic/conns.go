package synthetic

import (
	"fmt"

	"github.com/sfstream/sfstream/internal/raw"
)

// connWorker is a long-lived daemon that runs one short client process at a time.
type connWorker struct {
	parent *simProc
	child  *simProc
	conns  int // connections the child has still to make
	target []byte
}

func newConnWorker(g *Generator, slot int) worker {
	attrs := &raw.Proc{
		PPID: 1, Exe: "/usr/sbin/healthd", Args: []string{"--interval", "1s", "--shard", fmt.Sprint(slot)},
		Comm: "healthd", Cwd: "/",
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"},
		UID: 0, GID: 0, UserName: "root", GroupName: "root",
	}
	return &connWorker{
		parent: g.newProc(attrs, stdFDs("/var/log/healthd.log")),
		target: []byte{upstreamNet[0], upstreamNet[1], upstreamNet[2], byte(10 + slot%200)},
	}
}

func (w *connWorker) step(g *Generator) {
	switch {
	case w.child == nil:
		w.spawn(g)
	case w.conns > 0:
		w.connect(g)
		w.conns--
	default:
		e := raw.NewEvent(raw.OpExit, 0, w.child.hpid)
		g.emit(w.child, e)
		w.child = nil
	}
}

// spawn forks and execs a client: the clone seen from both sides, the exec, and the dynamic
// loader opening, reading and mapping its cache and libc.
func (w *connWorker) spawn(g *Generator) {
	par := w.parent
	pid := g.newPID()
	e := raw.NewEvent(raw.OpClone, 0, 0)
	e.Flags, e.Ret = cloneChild, pid
	g.emit(par, e)
	c := &simProc{hpid: pid, cts: g.now} // createTS: the ts of the caller's clone exit
	inherited := *par.proc
	inherited.PPID, inherited.PCreateTS, inherited.VPID = par.hpid, par.cts, pid
	c.proc = &inherited
	std := stdFDs("/var/log/healthd.log")
	for _, f := range std {
		c.fds.take(f.FD)
	}
	e = raw.NewEvent(raw.OpClone, 0, 0)
	e.Flags, e.Proc, e.FDs = cloneChild, c.proc, std
	g.emit(c, e)

	url := fmt.Sprintf("http://%d.%d.%d.%d/healthz", w.target[0], w.target[1], w.target[2], w.target[3])
	exec := inherited
	exec.Exe, exec.Args, exec.Comm = "/usr/bin/curl", []string{"-fsS", "--max-time", "2", url}, "curl"
	c.proc = &exec
	e = evPath(raw.OpExec, "/usr/bin/curl", 0)
	e.Proc = c.proc
	g.emit(c, e)

	for i, path := range loaderPaths {
		fd := c.fds.alloc()
		g.emit(c, evOpen(path, oRDONLY|oCLOEXEC, int64(fd)))
		maps := 1
		if i == 1 {
			g.emit(c, evFD(raw.OpRead, fd, 832)) // the ELF header
			maps = 2
		}
		for m := range maps {
			e := evFD(raw.OpMmap, fd, 0x7f00_0000_0000+int64(g.rng.IntN(1<<20))<<12)
			e.Flags, e.Mode = mapPrivate|mapDenywrite, protRead
			if m == 1 {
				e.Mode = protRead | protExec
			}
			g.emit(c, e)
		}
		g.emit(c, evFD(raw.OpClose, fd, 0))
		c.fds.free(fd)
	}
	w.child = c
	w.conns = g.intIn(1, 2)
}

// connect makes one request on a fresh TCP connection (non-blocking connect, as curl does).
func (w *connWorker) connect(g *Generator) {
	c := w.child
	fd := c.fds.alloc()
	e := raw.NewEvent(raw.OpSocket, 0, 0)
	e.Mode, e.Flags, e.Ret = raw.AFInet, sockStream|oNONBLOCK|oCLOEXEC, int64(fd)
	e.Sock = &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP}
	g.emit(c, e)
	e = evFD(raw.OpConnect, fd, einprogress)
	e.Sock = tcpSock(localIP, int32(g.intIn(32768, 60999)), w.target, 80)
	g.emit(c, e)
	for range g.intIn(3, 5) {
		g.emit(c, evFD(raw.OpWrite, fd, int64(g.intIn(60, 400))))
	}
	for range g.intIn(1, 3) {
		g.emit(c, evFD(raw.OpRead, fd, int64(g.intIn(100, 4000))))
	}
	g.emit(c, evFD(raw.OpClose, fd, 0))
	c.fds.free(fd)
}
