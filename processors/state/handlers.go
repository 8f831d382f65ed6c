package state

import (
	"container/heap"
	"encoding/binary"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// Linux clone flags the handlers look at.
const (
	cloneThread = 0x00010000
)

// Resource type characters of File entities.
const (
	resFile    int32 = 'f'
	resDir     int32 = 'd'
	resUnix    int32 = 'u'
	resPipe    int32 = 'p'
	resUnknown int32 = '?'
)

func foidOf(container, path string) sysflow.FOID { return sysflow.NewFOID(container, path) }

func (s *State) apply(key procKey, e *raw.Event) error {
	switch e.Op {
	case raw.OpDrop:
		s.stats.LostNotices++
		if !s.copyOfShared {
			s.stats.LostEvents += e.Ret
		}
		for _, p := range s.procs {
			if p.key.exporter == key.exporter && !p.uncertain {
				p.uncertain = true
				s.touch(p.key)
			}
		}
		return nil
	case raw.OpEnd:
		s.End(key.exporter, e.TS)
		return nil
	case raw.OpContainer:
		s.containerNotice(key.exporter, e)
		return nil
	case raw.OpSnapshot:
		s.snapshot(key, e)
		return nil
	}
	if e.Proc != nil && e.Op != raw.OpClone && e.Op != raw.OpExec && e.Op != raw.OpSetuid {
		s.credentials(key, e)
	}
	switch e.Op {
	case raw.OpClone:
		s.clone(key, e)
	case raw.OpExec:
		s.exec(key, e)
	case raw.OpExit:
		s.exit(key, e)
	case raw.OpSetuid:
		s.setuid(key, e)
	case raw.OpChdir:
		p := s.lookup(key, e.TS, nil, "")
		if e.Ret == 0 {
			if e.Path != "" {
				p.cwd = resolve(p, raw.AtFDCWD, e.Path)
			} else if fi, ok := p.fds[e.FD]; ok {
				p.cwd = fi.path
			}
		}
	case raw.OpOpen, raw.OpSocket, raw.OpDup, raw.OpPipe, raw.OpAccept, raw.OpConnect:
		s.fdCreate(key, e)
	case raw.OpRead, raw.OpWrite, raw.OpClose, raw.OpShutdown, raw.OpMmap, raw.OpSetns:
		s.fdUse(key, e)
	case raw.OpMkdir, raw.OpRmdir, raw.OpUnlink, raw.OpLink, raw.OpSymlink, raw.OpRename:
		s.fileEvent(key, e)
	default:
		s.stats.Dropped++
	}
	return nil
}

func (s *State) snapshot(key procKey, e *raw.Event) {
	if e.Proc == nil {
		s.stats.Dropped++
		return
	}
	p, known := s.procs[key]
	if !known {
		// Entities are emitted eagerly so that every process has an entity record its
		// descendants' files can reference, even one that never makes a syscall we see. It
		// is not touched: its first event emits it again with that event's time.
		p = s.lookup(key, e.TS, e.Proc, "")
		s.emitProcess(p, sysflow.StateReup)
	}
	for i := range e.FDs {
		setFD(p, &e.FDs[i])
	}
}

// setFD records an fd table entry from a raw FD description.
func setFD(p *proc, f *raw.FD) {
	fi := &fdInfo{kind: f.Kind, path: f.Path, openFlags: sysflow.OpenFlagsFromLinux(int(f.Flags)), proto: -1}
	if f.Kind == raw.FDIPv6 && f.Sock != nil && sockKind(f.Sock) == raw.FDIPv4 {
		fi.kind = raw.FDIPv4 // both ends IPv4-mapped: sinsp makes it an IPv4 socket
	}
	if f.Sock != nil {
		fi.proto, fi.tuple = sockTuple(f.Sock, false)
		if f.Kind == raw.FDUnix && fi.path == "" {
			fi.path = f.Sock.Path
		}
	}
	p.fds[f.FD] = fi
}

// credentials takes the attributes an event other than clone, exec and setuid carries: a
// process the state does not know yet is created from them (a producer's first event of a
// process it never described), and one not yet in the reference's cache takes their uid, gid
// and names (after a credential change without a record of its own, setgid or setresgid):
// the reference reads them when it first writes the process. A process already written keeps
// its record until the next exec or setuid rewrites it, as there.
func (s *State) credentials(key procKey, e *raw.Event) {
	_, known := s.procs[key]
	p := s.lookup(key, e.TS, e.Proc, "")
	if known && !p.touched {
		p.entity.UID, p.entity.GID = e.Proc.UID, e.Proc.GID
		p.entity.UserName, p.entity.GroupName = e.Proc.UserName, e.Proc.GroupName
	}
}

func (s *State) processEvent(p *proc, e *raw.Event, flag int32, args []string) {
	if args == nil {
		args = []string{}
	}
	s.event(p, &sysflow.ProcessEvent{ProcOID: p.key.oid, TS: e.TS, TID: e.TID, OpFlags: flag, Args: args, Ret: int32(e.Ret)})
}

func (s *State) clone(key procKey, e *raw.Event) {
	thread := e.Flags&cloneThread != 0
	childSide := e.Ret == 0
	// A process first met through a clone, on either side, is CREATED.
	p, known := s.procs[key]
	if !known {
		p = s.lookup(key, e.TS, e.Proc, "")
		if childSide {
			for i := range e.FDs {
				setFD(p, &e.FDs[i])
			}
		}
	}
	s.admit(p, e.TS, sysflow.StateCreated)
	p.lastSeen = s.now
	if childSide {
		if thread && s.cfg.ProcFlow {
			s.procFlow(p, e, opClone).rec.NumThreadsCloned++
			return
		}
		s.processEvent(p, e, opClone, nil)
		return
	}
	if s.cfg.ProcFlow && (thread || e.Ret < 0) {
		pf := s.procFlow(p, e, opClone)
		if e.Ret == -1 {
			pf.rec.NumCloneErrors++
		}
		return
	}
	s.processEvent(p, e, opClone, nil)
}

// procFlow returns p's ProcessFlow, starting it at e, with flag set.
func (s *State) procFlow(p *proc, e *raw.Event, flag int32) *procFlow {
	if p.pflow == nil {
		p.pflow = &procFlow{rec: sysflow.ProcessFlow{ProcOID: p.key.oid, TS: e.TS}, exportTime: s.now / 1e9}
	}
	p.pflow.rec.OpFlags |= flag
	p.pflow.lastUpdate = s.now / 1e9
	return p.pflow
}

func (s *State) exec(key procKey, e *raw.Event) {
	p := s.lookup(key, e.TS, e.Proc, "")
	s.refresh(p, e, sysflow.StateCreated)
	if e.Proc != nil && e.Proc.Cwd != "" {
		p.cwd = trimSlash(e.Proc.Cwd)
	}
	s.processEvent(p, e, opExec, nil)
}

func (s *State) setuid(key procKey, e *raw.Event) {
	p := s.lookup(key, e.TS, e.Proc, "")
	s.refresh(p, e, sysflow.StateReup)
	s.processEvent(p, e, opSetuid, []string{e.Path})
}

// refresh applies an exec's or setuid's attributes: a process not yet touched is emitted in
// state first (CREATED for exec, REUP for setuid), a touched one as MODIFIED, every time.
func (s *State) refresh(p *proc, e *raw.Event, first sysflow.ObjectState) {
	p.lastSeen = s.now
	if e.Proc != nil {
		applyAttrs(&p.entity, e.Proc)
	}
	if !p.touched {
		s.admit(p, e.TS, first)
		return
	}
	p.entity.TS = e.TS
	s.emitProcess(p, sysflow.StateModified)
}

func (s *State) exit(key procKey, e *raw.Event) {
	p := s.lookup(key, e.TS, nil, "")
	s.admit(p, e.TS, sysflow.StateReup)
	main := e.TID == key.oid.HPID
	if !main && s.cfg.ProcFlow {
		s.procFlow(p, e, opExit).rec.NumThreadsExited++
		return
	}
	if main {
		s.truncateThread(p, 0, e.TS, true)
		if pf := p.pflow; pf != nil {
			pf.rec.EndTS = e.TS
			if writable(pf.rec.OpFlags) {
				rec := pf.rec
				s.event(p, &rec)
			}
			p.pflow = nil
		}
	} else {
		s.truncateThread(p, e.TID, e.TS, true)
	}
	s.processEvent(p, e, opExit, nil)
	if main {
		p.exitTS = e.TS
		heap.Push(&s.exited, exitEntry{at: e.TS, seq: p.seq, key: key})
	}
}

// fdCreate handles the calls that create or describe descriptors.
func (s *State) fdCreate(key procKey, e *raw.Event) {
	p := s.lookup(key, e.TS, nil, "")
	switch e.Op {
	case raw.OpOpen:
		if e.Ret < 0 {
			s.stats.Dropped++
			return
		}
		fi := &fdInfo{kind: raw.FDFile, path: resolveOpen(p, e.DirFD, e.Path), openFlags: sysflow.OpenFlagsFromLinux(int(e.Flags)), proto: -1}
		if fi.openFlags&openDirectory != 0 {
			fi.kind = raw.FDDir
		}
		p.fds[int32(e.Ret)] = fi
		s.fileFlowOp(p, e, int32(e.Ret), fi, opOpen)
	case raw.OpSocket:
		if e.Ret < 0 {
			return
		}
		kind := int32(raw.FDOther)
		switch e.Mode {
		case raw.AFInet:
			kind = raw.FDIPv4
		case raw.AFInet6:
			kind = raw.FDIPv6
		case raw.AFUnix:
			kind = raw.FDUnix
		}
		fi := &fdInfo{kind: kind, proto: -1}
		if e.Sock != nil {
			fi.proto = protoOf(e.Sock.Proto)
		}
		p.fds[int32(e.Ret)] = fi
	case raw.OpDup:
		if e.Ret < 0 {
			return
		}
		if fi, ok := p.fds[e.FD]; ok {
			c := *fi
			p.fds[int32(e.Ret)] = &c
		}
	case raw.OpPipe:
		if e.Ret < 0 {
			return
		}
		for i := range e.FDs {
			setFD(p, &e.FDs[i])
		}
	case raw.OpAccept:
		if e.Ret < 0 {
			s.stats.Dropped++
			return
		}
		fi := &fdInfo{kind: raw.FDIPv4, proto: -1}
		if lfi, ok := p.fds[e.FD]; ok {
			fi.kind, fi.proto, fi.path = lfi.kind, lfi.proto, lfi.path
		}
		if e.Sock != nil {
			fi.kind = sockKind(e.Sock)
			fi.proto, fi.tuple = sockTuple(e.Sock, true)
			if e.Sock.Path != "" {
				fi.path = e.Sock.Path
			}
		}
		p.fds[int32(e.Ret)] = fi
		s.useFD(p, e, int32(e.Ret), fi, opAccept)
	case raw.OpConnect:
		fi, ok := p.fds[e.FD]
		if !ok {
			fi = &fdInfo{kind: raw.FDUnknown, proto: -1}
			if e.Sock == nil {
				s.stats.Dropped++
				return
			}
			p.fds[e.FD] = fi
		}
		if e.Sock != nil {
			fi.kind = sockKind(e.Sock)
			fi.proto, fi.tuple = sockTuple(e.Sock, false)
			if e.Sock.Path != "" {
				fi.path = e.Sock.Path
			}
		}
		s.useFD(p, e, e.FD, fi, opConnect)
	}
}

// sockKind returns the fd kind of a socket. An IPv6 socket whose two ends are IPv4-mapped
// addresses (::ffff:a.b.c.d, a dual-stack server's IPv4 peers) is an IPv4 socket, as sinsp
// makes it (fd tables and tuples alike), so that SysFlow reports it as a NetworkFlow.
func sockKind(sk *raw.Sock) int32 {
	switch sk.Family {
	case raw.AFInet:
		return raw.FDIPv4
	case raw.AFInet6:
		if v4mapped(sk.LAddr) && v4mapped(sk.RAddr) {
			return raw.FDIPv4
		}
		return raw.FDIPv6
	case raw.AFUnix:
		return raw.FDUnix
	}
	return raw.FDOther
}

func protoOf(p int32) int32 {
	switch p {
	case raw.ProtoTCP, raw.ProtoUDP, raw.ProtoICMP, 254:
		return p
	}
	return -1
}

// sockTuple returns the proto and client->server tuple of a socket. remoteIsClient is true
// for accepted sockets; for others the local side is the client.
func sockTuple(sk *raw.Sock, remoteIsClient bool) (int32, tuple) {
	l := tuple{sip: ipv4(sk.LAddr), sport: sk.LPort, dip: ipv4(sk.RAddr), dport: sk.RPort}
	if remoteIsClient {
		l = tuple{sip: ipv4(sk.RAddr), sport: sk.RPort, dip: ipv4(sk.LAddr), dport: sk.LPort}
	}
	return protoOf(sk.Proto), l
}

// ipv4 encodes 4 network-order address bytes as SysFlow does: read as a little-endian
// uint32. An IPv4-mapped IPv6 address gives its IPv4 part.
func ipv4(b []byte) int32 {
	if v4mapped(b) {
		b = b[12:]
	}
	if len(b) != 4 {
		return 0
	}
	return int32(binary.LittleEndian.Uint32(b))
}

// v4mapped reports whether b is an IPv4-mapped IPv6 address: 10 zero bytes, 0xff 0xff, and
// the IPv4 address.
func v4mapped(b []byte) bool {
	if len(b) != 16 || b[10] != 0xff || b[11] != 0xff {
		return false
	}
	for _, x := range b[:10] {
		if x != 0 {
			return false
		}
	}
	return true
}

// fdUse handles the calls that act on an existing descriptor.
func (s *State) fdUse(key procKey, e *raw.Event) {
	p := s.lookup(key, e.TS, nil, "")
	fi, ok := p.fds[e.FD]
	if !ok {
		s.stats.Dropped++ // no fdinfo: the reference drops these too
		return
	}
	var flag int32
	switch e.Op {
	case raw.OpRead:
		flag = opReadRecv
	case raw.OpWrite:
		flag = opWriteSend
	case raw.OpClose:
		flag = opClose
	case raw.OpShutdown:
		flag = opShutdown
	case raw.OpMmap:
		flag = opMmap
	case raw.OpSetns:
		flag = opSetns
	}
	if e.Sock != nil && (e.Op == raw.OpRead || e.Op == raw.OpWrite) && (fi.kind == raw.FDIPv4 || fi.kind == raw.FDIPv6) &&
		sockKind(e.Sock) == raw.FDIPv4 {
		// sendto/recvfrom on an unconnected socket: the tuple is the call's.
		fi.kind = raw.FDIPv4
		proto := fi.proto
		fi.proto, fi.tuple = sockTuple(e.Sock, false)
		if fi.proto == -1 {
			fi.proto = proto
		}
	}
	s.useFD(p, e, e.FD, fi, flag)
	if e.Op == raw.OpClose {
		delete(p.fds, e.FD)
	}
}

// useFD routes an fd operation to a network or file flow.
func (s *State) useFD(p *proc, e *raw.Event, fd int32, fi *fdInfo, flag int32) {
	switch fi.kind {
	case raw.FDIPv4:
		s.netFlowOp(p, e, fd, fi, flag)
	case raw.FDFile, raw.FDDir, raw.FDUnix, raw.FDPipe:
		s.fileFlowOp(p, e, fd, fi, flag)
	default:
		s.stats.Dropped++ // IPv6, eventfd, epoll, timerfd, ...: not SysFlow
	}
}

func restypeOf(kind int32) int32 {
	switch kind {
	case raw.FDFile:
		return resFile
	case raw.FDDir:
		return resDir
	case raw.FDUnix:
		return resUnix
	case raw.FDPipe:
		return resPipe
	}
	return resUnknown
}

func (s *State) fileFlowOp(p *proc, e *raw.Event, fd int32, fi *fdInfo, flag int32) {
	if s.cfg.FileOnly && fi.kind != raw.FDFile {
		s.stats.Filtered++
		return
	}
	s.admit(p, e.TS, sysflow.StateReup)
	k := fileKey{path: fi.path, container: p.containerID(), tid: e.TID, fd: fd}
	f, ok := p.files[k]
	if !ok {
		foid := s.emitFile(p, fi.path, restypeOf(fi.kind), sysflow.StateReup, e.TS)
		f = &fileFlow{
			rec:        sysflow.FileFlow{ProcOID: p.key.oid, TS: e.TS, TID: e.TID, FileOID: foid, FD: fd},
			seq:        s.nextSeq(),
			exportTime: s.now / 1e9,
			path:       fi.path,
			kind:       fi.kind,
		}
	}
	f.lastUpdate = s.now / 1e9
	f.rec.OpFlags |= flag
	switch flag {
	case opOpen:
		f.rec.OpenFlags = fi.openFlags
	case opReadRecv:
		f.rec.NumRRecvOps++
		if e.Ret > 0 {
			f.rec.NumRRecvBytes += int64(int32(e.Ret))
		}
	case opWriteSend:
		f.rec.NumWSendOps++
		if e.Ret > 0 {
			f.rec.NumWSendBytes += int64(int32(e.Ret))
		}
	case opClose:
		f.rec.EndTS = e.TS
		s.flushRelatedFiles(p, k, e.TS)
		s.emitFileFlow(p, f, true)
		delete(p.files, k)
		return
	}
	p.files[k] = f
}

func (s *State) netFlowOp(p *proc, e *raw.Event, fd int32, fi *fdInfo, flag int32) {
	s.admit(p, e.TS, sysflow.StateReup)
	k := netKey{tid: e.TID, tup: fi.tuple, fd: fd}
	f, ok := p.nets[k]
	if !ok {
		t := fi.tuple
		f = &netFlow{
			rec: sysflow.NetworkFlow{ProcOID: p.key.oid, TS: e.TS, TID: e.TID, FD: fd, Proto: fi.proto,
				SIP: t.sip, SPort: t.sport, DIP: t.dip, DPort: t.dport},
			seq:        s.nextSeq(),
			exportTime: s.now / 1e9,
		}
	}
	f.lastUpdate = s.now / 1e9
	f.rec.OpFlags |= flag
	switch flag {
	case opReadRecv:
		f.rec.NumRRecvOps++
		if e.Ret > 0 {
			f.rec.NumRRecvBytes += int64(int32(e.Ret))
		}
	case opWriteSend:
		f.rec.NumWSendOps++
		if e.Ret > 0 {
			f.rec.NumWSendBytes += int64(int32(e.Ret))
		}
	case opClose:
		f.rec.EndTS = e.TS
		s.flushRelatedNets(p, k, e.TS)
		s.emitNetFlow(p, f)
		delete(p.nets, k)
		return
	}
	p.nets[k] = f
}

// fileEvent handles path operations: mkdir, rmdir, unlink, link, symlink, rename.
func (s *State) fileEvent(key procKey, e *raw.Event) {
	p := s.lookup(key, e.TS, nil, "")
	s.admit(p, e.TS, sysflow.StateReup)
	var flag int32
	restype := resUnknown
	firstState := sysflow.StateCreated
	two := false
	switch e.Op {
	case raw.OpMkdir:
		flag, restype = opMkdir, resDir
	case raw.OpRmdir:
		flag, restype = opRmdir, resDir
	case raw.OpUnlink:
		flag = opUnlink
	case raw.OpLink:
		flag, firstState, two = opLink, sysflow.StateReup, true
	case raw.OpSymlink:
		flag, firstState, two = opSymlink, sysflow.StateReup, true
	case raw.OpRename:
		flag, firstState, two = opRename, sysflow.StateReup, true
	}
	first := e.Path
	if e.Op != raw.OpSymlink { // a symlink's target is kept verbatim
		first = resolve(p, e.DirFD, e.Path)
	}
	fe := &sysflow.FileEvent{ProcOID: p.key.oid, TS: e.TS, TID: e.TID, OpFlags: flag, Ret: int32(e.Ret)}
	fe.FileOID = s.emitFile(p, first, restype, firstState, e.TS)
	if two {
		nf := s.emitFile(p, resolve(p, e.DirFD2, e.Path2), restype, sysflow.StateCreated, e.TS)
		fe.NewFileOID = &nf
	}
	s.event(p, fe)
}
