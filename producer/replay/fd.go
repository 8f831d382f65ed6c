package replay

import (
	"context"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// open handles open/openat/openat2/creat: dirfd and path as passed, Linux open flags, mode,
// ret = the new fd.
func (s *Source) open(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	ev := raw.NewEvent(raw.OpOpen, c.ts(), c.x.TID)
	ev.Ret = c.intOr("fd", 0)
	ev.DirFD = int32(c.intOr("dirfd", raw.AtFDCWD))
	ev.Path = c.str("name")
	ev.Mode = int32(c.intOr("mode", 0))
	if c.x.Type == scap.CreatX {
		ev.Flags = oCREAT | oWRONLY | oTRUNC
	} else {
		ev.Flags = linuxOpenFlags(c.uint("flags"))
	}
	if ev.Ret >= 0 {
		fd := raw.FD{FD: int32(ev.Ret), Kind: raw.FDFile, Flags: ev.Flags, Path: th.proc.resolve(int64(ev.DirFD), ev.Path)}
		if fd.Path == "" {
			fd.Path = ev.Path // relative to a directory the replayer does not know
		}
		if ev.Flags&oDIRECTORY != 0 {
			fd.Kind = raw.FDDir
		}
		th.proc.fds[fd.FD] = fd
	}
	return s.emitEvent(ctx, th.proc, ev)
}

func (s *Source) close(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	ev := raw.NewEvent(raw.OpClose, c.ts(), c.x.TID)
	ev.Ret = c.intOr("res", 0)
	ev.FD = int32(c.intOr("fd", raw.NoFD))
	if ev.Ret >= 0 {
		delete(th.proc.fds, ev.FD)
	}
	return s.emitEvent(ctx, th.proc, ev)
}

// readWrite handles the read, write, send and recv families. Calls whose fd the capture
// lost (no enter event in old tables) are dropped: nothing downstream can attribute them.
// Socket calls that carry a tuple (sendto, recvfrom, ...) attach it.
func (s *Source) readWrite(ctx context.Context, c *call) error {
	fd, ok := c.int("fd")
	if !ok {
		return nil
	}
	th := s.tab.thread(c.x.TID, 0)
	op, inbound := raw.OpWrite, false
	switch c.x.Type {
	case scap.ReadX, scap.PreadX, scap.ReadvX, scap.PreadvX, scap.RecvX, scap.RecvFromX,
		scap.RecvMsgX, scap.RecvMMsgX:
		op, inbound = raw.OpRead, true
	}
	ev := raw.NewEvent(op, c.ts(), c.x.TID)
	ev.FD = int32(fd)
	ev.Ret = c.intOr("res", 0)
	if t, ok := c.tuple(); ok {
		ev.Sock = sockFromTuple(t, inbound, th.proc.proto(ev.FD))
	}
	return s.emitEvent(ctx, th.proc, ev)
}

// sockFromTuple turns a SOCKTUPLE into local/remote ends. For IP sockets the driver writes
// the peer first on inbound calls (accept, recv*) and the local end first on outbound ones
// (connect, send*). Unix sockets keep their path only, as the live producer reports them
// (their tuple's kernel socket addresses have no place in raw.Sock).
func sockFromTuple(t scap.SockTuple, inbound bool, proto int32) *raw.Sock {
	s := &raw.Sock{Family: int32(t.Family), Proto: proto}
	switch t.Family {
	case scap.AFUnix:
		s.Path, s.Proto = t.Path, 0
	default:
		la, lp, ra, rp := t.Src, t.SPort, t.Dst, t.DPort
		if inbound {
			la, lp, ra, rp = ra, rp, la, lp
		}
		s.LAddr, s.LPort, s.RAddr, s.RPort = la.AsSlice(), int32(lp), ra.AsSlice(), int32(rp)
	}
	return s
}

func sockKind(family int32) int32 {
	switch family {
	case raw.AFInet:
		return raw.FDIPv4
	case raw.AFInet6:
		return raw.FDIPv6
	case raw.AFUnix:
		return raw.FDUnix
	}
	return raw.FDOther
}

// socket handles socket(2): mode = domain, flags = type, sock carries family and protocol.
func (s *Source) socket(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	domain, typ, proto := c.intOr("domain", 0), c.intOr("type", 0), c.intOr("proto", 0)
	ev := raw.NewEvent(raw.OpSocket, c.ts(), c.x.TID)
	ev.Ret = c.intOr("fd", 0)
	ev.Mode, ev.Flags = int32(domain), typ
	ev.Sock = &raw.Sock{Family: int32(domain), Proto: protoForSocket(domain, typ, proto)}
	if ev.Ret >= 0 {
		th.proc.fds[int32(ev.Ret)] = raw.FD{FD: int32(ev.Ret), Kind: sockKind(int32(domain)), Sock: ev.Sock}
	}
	return s.emitEvent(ctx, th.proc, ev)
}

// connect handles connect(2): the tuple after the call (also for failures, which SysFlow
// still reports), or the destination address when the kernel had no tuple.
func (s *Source) connect(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	ev := raw.NewEvent(raw.OpConnect, c.ts(), c.x.TID)
	ev.Ret = c.intOr("res", 0)
	ev.FD = int32(c.intOr("fd", raw.NoFD))
	proto := th.proc.proto(ev.FD)
	if t, ok := c.tuple(); ok {
		ev.Sock = sockFromTuple(t, false, proto)
	} else if a, ok := scap.DecodeSockAddr(c.bytes("addr")); ok {
		ev.Sock = &raw.Sock{Family: int32(a.Family), Proto: proto, Path: a.Path}
		if a.Addr.IsValid() {
			ev.Sock.RAddr, ev.Sock.RPort = a.Addr.AsSlice(), int32(a.Port)
		}
	}
	if fd, ok := th.proc.fds[ev.FD]; ok && ev.Sock != nil {
		fd.Sock = ev.Sock
		fd.Kind = sockKind(ev.Sock.Family)
		th.proc.fds[ev.FD] = fd
	}
	return s.emitEvent(ctx, th.proc, ev)
}

// accept handles accept/accept4: ret = the new fd, sock = its tuple. These event versions
// do not record the listening fd, so fd stays -1. accept only works on connection-oriented
// sockets: IP tuples are TCP.
func (s *Source) accept(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	ev := raw.NewEvent(raw.OpAccept, c.ts(), c.x.TID)
	ev.Ret = c.intOr("fd", 0)
	if t, ok := c.tuple(); ok {
		ev.Sock = sockFromTuple(t, true, raw.ProtoTCP)
	}
	if ev.Ret >= 0 {
		fd := raw.FD{FD: int32(ev.Ret), Kind: raw.FDIPv4, Sock: ev.Sock}
		if ev.Sock != nil {
			fd.Kind = sockKind(ev.Sock.Family)
		}
		th.proc.fds[fd.FD] = fd
	}
	return s.emitEvent(ctx, th.proc, ev)
}

func (s *Source) shutdown(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	ev := raw.NewEvent(raw.OpShutdown, c.ts(), c.x.TID)
	ev.Ret = c.intOr("res", 0)
	ev.FD = int32(c.intOr("fd", raw.NoFD))
	ev.Flags = c.intOr("how", 0)
	return s.emitEvent(ctx, th.proc, ev)
}

// mmap handles file-backed mmap/mmap2 (anonymous maps are dropped). Its ts is the enter
// event's when the capture has it: SysFlow takes mmaps from enter events.
func (s *Source) mmap(ctx context.Context, c *call) error {
	fd, ok := c.int("fd")
	flags := c.uint("flags")
	if !ok || fd < 0 || flags&ppmMapAnonymous != 0 {
		return nil
	}
	th := s.tab.thread(c.x.TID, 0)
	ts := c.ts()
	if c.e != nil && c.e.TS != 0 {
		ts = int64(c.e.TS)
	}
	ev := raw.NewEvent(raw.OpMmap, ts, c.x.TID)
	ev.FD = int32(fd)
	ev.Ret = c.intOr("res", 0)
	ev.Flags = linuxMapFlags(flags)
	ev.Mode = linuxProt(c.uint("prot"))
	return s.emitEvent(ctx, th.proc, ev)
}

// dup handles dup/dup2/dup3 and fcntl(F_DUPFD, F_DUPFD_CLOEXEC): fd = the old fd, ret = the
// new one. For fcntl, flags is the Linux command; other fcntl commands are dropped.
func (s *Source) dup(ctx context.Context, c *call) error {
	ev := raw.NewEvent(raw.OpDup, c.ts(), c.x.TID)
	switch c.x.Type {
	case scap.FcntlX:
		switch c.intOr("cmd", 0) {
		case ppmFcntlDupFD:
			ev.Flags = linuxFDupFD
		case ppmFcntlDupFDCloexec:
			ev.Flags = linuxFDupFDCloexec
		default:
			return nil
		}
	case scap.Dup3X:
		if c.uint("flags")&ppmOCLOEXEC != 0 {
			ev.Flags = oCLOEXEC
		}
	}
	th := s.tab.thread(c.x.TID, 0)
	old, ok := c.int("oldfd")
	if !ok {
		old = c.intOr("fd", raw.NoFD)
	}
	ev.FD = int32(old)
	ev.Ret = c.intOr("res", 0)
	if old, ok := th.proc.fds[ev.FD]; ok && ev.Ret >= 0 {
		old.FD = int32(ev.Ret)
		old.Flags &^= oCLOEXEC // the new fd does not inherit FD_CLOEXEC...
		if ev.Flags == linuxFDupFDCloexec || ev.Flags&oCLOEXEC != 0 && c.x.Type == scap.Dup3X {
			old.Flags |= oCLOEXEC // ...unless asked for
		}
		th.proc.fds[old.FD] = old
	}
	return s.emitEvent(ctx, th.proc, ev)
}

// pipe handles pipe/pipe2 (fds: read end, write end) and socketpair (fds: two unix sockets).
func (s *Source) pipe(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	ev := raw.NewEvent(raw.OpPipe, c.ts(), c.x.TID)
	ev.Ret = c.intOr("res", 0)
	fd1, ok1 := c.int("fd1")
	fd2, ok2 := c.int("fd2")
	if ev.Ret >= 0 && ok1 && ok2 {
		if c.x.Type == scap.SocketPairX {
			ev.Flags = c.intOr("type", 0)
			ev.FDs = []raw.FD{
				{FD: int32(fd1), Kind: raw.FDUnix, Flags: oRDWR, Sock: &raw.Sock{Family: raw.AFUnix}},
				{FD: int32(fd2), Kind: raw.FDUnix, Flags: oRDWR, Sock: &raw.Sock{Family: raw.AFUnix}},
			}
		} else {
			// sinsp gives a pipe made during the capture no name (only pipes of the capture's
			// fd table, read from /proc, are "pipe:[ino]"): its File is SysFlow's nameless
			// one, FOID SHA-1 of the container id alone.
			flags := linuxOpenFlags(c.uint("flags")) &^ (oWRONLY | oRDWR)
			ev.Flags = flags
			ev.FDs = []raw.FD{
				{FD: int32(fd1), Kind: raw.FDPipe, Flags: flags},
				{FD: int32(fd2), Kind: raw.FDPipe, Flags: flags | oWRONLY},
			}
		}
		th.proc.fds[ev.FDs[0].FD] = ev.FDs[0]
		th.proc.fds[ev.FDs[1].FD] = ev.FDs[1]
	}
	return s.emitEvent(ctx, th.proc, ev)
}

// chdir handles chdir (path) and fchdir (fd), following the working directory.
func (s *Source) chdir(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	p := th.proc
	ev := raw.NewEvent(raw.OpChdir, c.ts(), c.x.TID)
	ev.Ret = c.intOr("res", 0)
	if c.x.Type == scap.FchdirX {
		ev.FD = int32(c.intOr("fd", raw.NoFD))
		if ev.Ret == 0 {
			if dir := p.dir(ev.FD); dir != "" {
				p.cwd = dir
			}
		}
	} else {
		ev.Path = c.str("path")
		if ev.Ret == 0 {
			if dir := p.resolve(raw.AtFDCWD, ev.Path); dir != "" {
				p.cwd = dir
			}
		}
	}
	return s.emitEvent(ctx, p, ev)
}

// pathOp handles the path operations SysFlow reports as FileEvents: mkdir(at), rmdir,
// unlink(at), link(at), symlink(at), rename(at)(2). Paths are passed as given, each with the
// dirfd it is relative to.
func (s *Source) pathOp(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	var ev raw.Event
	ts, tid := c.ts(), c.x.TID
	switch c.x.Type {
	case scap.MkdirX, scap.Mkdir2X, scap.MkdirAtX:
		ev = raw.NewEvent(raw.OpMkdir, ts, tid)
		ev.DirFD = int32(c.intOr("dirfd", raw.AtFDCWD))
		ev.Path = c.str("path")
		ev.Mode = int32(c.intOr("mode", 0))
	case scap.RmdirX, scap.Rmdir2X:
		ev = raw.NewEvent(raw.OpRmdir, ts, tid)
		ev.Path = c.str("path")
	case scap.UnlinkX, scap.Unlink2X:
		ev = raw.NewEvent(raw.OpUnlink, ts, tid)
		ev.Path = c.str("path")
	case scap.UnlinkAtX, scap.UnlinkAt2X:
		ev = raw.NewEvent(raw.OpUnlink, ts, tid)
		ev.DirFD = int32(c.intOr("dirfd", raw.AtFDCWD))
		ev.Path = c.str("name")
		ev.Flags = c.intOr("flags", 0) // PPM_AT_REMOVEDIR is Linux's AT_REMOVEDIR (0x200)
	case scap.LinkX, scap.Link2X, scap.LinkAtX, scap.LinkAt2X:
		ev = raw.NewEvent(raw.OpLink, ts, tid)
		ev.DirFD = int32(c.intOr("olddir", raw.AtFDCWD))
		ev.Path = c.str("oldpath")
		ev.DirFD2 = int32(c.intOr("newdir", raw.AtFDCWD))
		ev.Path2 = c.str("newpath")
	case scap.SymlinkX, scap.SymlinkAtX:
		ev = raw.NewEvent(raw.OpSymlink, ts, tid)
		ev.Path = c.str("target")
		ev.DirFD2 = int32(c.intOr("linkdirfd", raw.AtFDCWD))
		ev.Path2 = c.str("linkpath")
	default: // rename, renameat, renameat2
		ev = raw.NewEvent(raw.OpRename, ts, tid)
		ev.DirFD = int32(c.intOr("olddirfd", raw.AtFDCWD))
		ev.Path = c.str("oldpath")
		ev.DirFD2 = int32(c.intOr("newdirfd", raw.AtFDCWD))
		ev.Path2 = c.str("newpath")
		ev.Flags = c.intOr("flags", 0) // RENAME_NOREPLACE/EXCHANGE/WHITEOUT: same values
	}
	ev.Ret = c.intOr("res", 0)
	return s.emitEvent(ctx, th.proc, ev)
}
