package replay

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// process is what the replayer knows of one process (thread group). Slices and strings are
// never modified in place once set, so raw.Proc values built from them can share them.
type process struct {
	pid       int64
	createTS  int64
	ppid      int64 // host tgid of the parent, 0 if the capture does not describe it
	pcreateTS int64
	exe       string // exepath as SysFlow reports it
	comm      string
	cwd       string
	args      []string
	env       []string
	uid, gid  int32
	tty       int32
	vpid      int64
	container string
	runtime   int32            // container runtime guessed from the cgroups
	fds       map[int32]raw.FD // the fd table, shared with CLONE_FILES children

	pl     int  // position in the process list
	exited bool // the main thread exited
	// attrsPending makes the next event of the process carry its attributes: set for a
	// process first met through an event that has none (sinsp's stand-in) and after a
	// credential change without a raw record of its own (setgid, setresgid).
	attrsPending bool
	threads      []*thread // snapshot threads other than the main one
	snapFDs      []raw.FD  // the fd list block's entries, for the snapshot record
}

type thread struct {
	tid  int64
	vtid int64
	proc *process
	// cloneTS is libsinsp's m_clone_ts of the entry: the ts of the clone exit that created
	// it, 0 for entries of the process list or met first through another event. inverted
	// marks an entry created by the child's own clone exit (PPM_CL_CLONE_INVERTED): the
	// caller's exit, whenever it comes, leaves it alone.
	cloneTS  int64
	inverted bool
}

// table holds threads by host tid and processes by host tgid.
type table struct {
	threads map[int64]*thread
	procs   map[int64]*process
	order   []*process // snapshot processes in process-list order
}

func newTable() *table {
	return &table{threads: map[int64]*thread{}, procs: map[int64]*process{}}
}

// newProcess returns an unknown process: pid as given, no attributes, uid/gid -1.
func newProcess(pid, createTS int64) *process {
	return &process{pid: pid, createTS: createTS, uid: -1, gid: -1, fds: map[int32]raw.FD{}}
}

// thread returns the thread tid, creating it (and its process pid, or tid when pid <= 0)
// with unknown attributes and createTS 0 if the capture never described it.
func (t *table) thread(tid, pid int64) *thread {
	if th := t.threads[tid]; th != nil {
		return th
	}
	if pid <= 0 {
		pid = tid
	}
	p := t.procs[pid]
	if p == nil || p.exited {
		// sinsp's stand-in for a thread it cannot look up (offline, /proc is not the
		// captured machine's): comm and exe "<NA>", uid and gid unknown.
		p = newProcess(pid, 0)
		p.exe, p.comm = "<NA>", "<NA>"
		p.attrsPending = true
		t.procs[pid] = p
	}
	th := &thread{tid: tid, vtid: tid, proc: p}
	t.threads[tid] = th
	return th
}

// loadProcessList replaces the tables with a process list block.
func (t *table) loadProcessList(pl *scap.ProcessList) {
	t.threads = make(map[int64]*thread, len(pl.Threads))
	t.procs = map[int64]*process{}
	t.order = t.order[:0]
	ptids := map[*process]int64{}
	fromMain := map[*process]bool{}
	get := func(pid int64) *process {
		p := t.procs[pid]
		if p == nil {
			p = newProcess(pid, 0) // createTS: the process list stores none (SEMANTICS §2)
			p.pl = len(t.order)
			t.procs[pid] = p
			t.order = append(t.order, p)
		}
		return p
	}
	for i := range pl.Threads {
		e := &pl.Threads[i]
		p := get(e.PID)
		th := &thread{tid: e.TID, vtid: e.VTID, proc: p}
		if e.Has&scap.HasVPID == 0 {
			th.vtid = e.TID
		}
		t.threads[e.TID] = th
		if e.TID == e.PID || !fromMain[p] {
			// The main thread's entry describes the process; a thread's entry stands in
			// until (unless) the main thread's appears.
			fillFromThread(p, e)
			ptids[p] = e.PTID
			fromMain[p] = e.TID == e.PID
		}
		if e.TID != e.PID {
			p.threads = append(p.threads, th)
		}
	}
	// The parent is the process of the parent thread, if the list has it; otherwise none is
	// known (SysFlow writes a null poid then).
	for p, ptid := range ptids {
		if parent := t.threads[ptid]; parent != nil && ptid > 0 {
			p.ppid, p.pcreateTS = parent.proc.pid, parent.proc.createTS
		}
	}
}

func fillFromThread(p *process, e *scap.Thread) {
	// SysFlow's exe: sinsp's exepath, or its exe (argv[0]) when the exepath is empty or
	// "<NA>" (older list variants have none; a failed readlink gives "<NA>").
	p.exe = e.ExePath
	if p.exe == "" || p.exe == "<NA>" {
		p.exe = e.Exe
	}
	p.comm, p.cwd, p.args, p.env = e.Comm, e.Cwd, e.Args, e.Env
	p.uid, p.gid = int32(e.UID), int32(e.GID)
	p.tty = int32(e.TTY)
	p.vpid = e.VPID
	if e.Has&scap.HasVPID == 0 {
		p.vpid = 0
	}
	p.container, p.runtime = containerFromCgroups(e.Cgroups)
}

// loadFDList attaches an fd list block to its thread's process.
func (t *table) loadFDList(fl *scap.FDList) {
	th := t.threads[fl.TID]
	if th == nil || len(fl.FDs) == 0 {
		return // threads' lists are empty: the table belongs to the process
	}
	fds := snapshotFDs(fl)
	th.proc.snapFDs = append(th.proc.snapFDs, fds...)
	for _, fd := range fds {
		th.proc.fds[fd.FD] = fd
	}
}

// snapshotFDs converts a process's fd list block entries to raw fds.
func snapshotFDs(fl *scap.FDList) []raw.FD {
	out := make([]raw.FD, 0, len(fl.FDs))
	for i := range fl.FDs {
		e := &fl.FDs[i]
		fd := raw.FD{FD: int32(e.FD), Path: e.Name}
		switch e.Type {
		case scap.FDFile, scap.FDFileV2:
			fd.Kind = raw.FDFile
			fd.Flags = linuxOpenFlags(uint64(e.OpenFlags))
		case scap.FDDirectory:
			fd.Kind = raw.FDDir
		case scap.FDIPv4Sock, scap.FDIPv4Server, scap.FDIPv6Sock, scap.FDIPv6Server:
			fd.Kind = raw.FDIPv4
			fam := int32(raw.AFInet)
			if e.Type == scap.FDIPv6Sock || e.Type == scap.FDIPv6Server {
				fd.Kind, fam = raw.FDIPv6, raw.AFInet6
			}
			s := &raw.Sock{Family: fam, Proto: ipProto(e.L4Proto), LAddr: e.Src.AsSlice(), LPort: int32(e.SPort)}
			if e.Dst.IsValid() {
				s.RAddr, s.RPort = e.Dst.AsSlice(), int32(e.DPort)
			}
			fd.Sock = s
		case scap.FDUnixSock:
			fd.Kind = raw.FDUnix
			fd.Path = strings.TrimRight(e.Name, "\n")
			fd.Sock = &raw.Sock{Family: raw.AFUnix, Path: fd.Path}
		case scap.FDFifo:
			fd.Kind = raw.FDPipe
		default:
			fd.Kind = raw.FDOther
		}
		out = append(out, fd)
	}
	return out
}

// resolve joins a path argument with the directory it is relative to, as far as the
// replayer knows it; it returns "" when the directory is unknown.
func (p *process) resolve(dirfd int64, name string) string {
	if name == "" {
		return ""
	}
	if strings.HasPrefix(name, "/") {
		return path.Clean(name)
	}
	dir := p.cwd
	if dirfd != raw.AtFDCWD {
		dir = p.dir(int32(dirfd))
	}
	if dir == "" {
		return ""
	}
	return path.Join(dir, name)
}

// dir returns the path of fd when it names a directory (or a file) the replayer knows.
func (p *process) dir(fd int32) string {
	if f, ok := p.fds[fd]; ok && (f.Kind == raw.FDDir || f.Kind == raw.FDFile) {
		return f.Path
	}
	return ""
}

// proto returns the protocol of socket fd, 0 if unknown.
func (p *process) proto(fd int32) int32 {
	if s := p.fds[fd].Sock; s != nil {
		return s.Proto
	}
	return 0
}

// fdTable returns p's fd table ordered by fd (the inherited table of a clone child).
func (p *process) fdTable() []raw.FD {
	if len(p.fds) == 0 {
		return nil
	}
	out := make([]raw.FD, 0, len(p.fds))
	for _, fd := range p.fds {
		out = append(out, fd)
	}
	slices.SortFunc(out, func(a, b raw.FD) int { return cmp.Compare(a.FD, b.FD) })
	return out
}

// closeOnExec drops the fds a successful exec closes.
func (p *process) closeOnExec() {
	for n, fd := range p.fds {
		if fd.Flags&oCLOEXEC != 0 {
			delete(p.fds, n)
		}
	}
}
