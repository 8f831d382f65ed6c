package capture

import (
	"path"

	"github.com/sfstream/sfstream/bpf"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/procfs"
)

// procs is the userspace process table: the latest attributes of every process seen, so that a
// thread's clone, a failed exec or a lazily found process can carry them. A *raw.Proc stored
// here is never modified (updates store a new one), so events may share it.
type procs map[int64]*procEntry

type procEntry struct {
	createTS int64
	info     *raw.Proc // nil when the process is known only by its OID
}

// converter turns decoded kernel records into raw events.
type converter struct {
	clock procfs.Clock
	table procs
	// names resolves uids and gids for a process (host or container tables).
	names func(hpid int64, c *raw.Container) *procfs.Accounts
	// lookup finds a process the table does not know; it may emit its snapshot first.
	lookup func(hpid, createTS int64) (*procEntry, error)
	// containers maps the container of a cgroup path to what the runtime says of it
	// (containers.Cache.Get); nil keeps the cgroup path's.
	containers func(c *raw.Container, vpid, createTS int64) *raw.Container
}

// convert returns r as a raw event of process (hpid, createTS).
func (c *converter) convert(r *bpf.Record) (hpid, createTS int64, ev raw.Event, err error) {
	h := r.Header
	hpid, createTS = int64(h.Tgid), c.clock.CreateTS(h.Start)
	ev = raw.NewEvent(raw.Op(h.Op), c.clock.EventTS(h.Ts), int64(h.Tid))
	if bpf.Kind(h.Kind) != bpf.KindProc || h.Flags&bpf.FlagThread != 0 {
		// Anything but a record that describes the process itself: make sure the process is
		// known (a process missed by the snapshot is looked up once, here).
		if _, err = c.entry(hpid, createTS); err != nil {
			return hpid, createTS, ev, err
		}
	}
	switch bpf.Kind(h.Kind) {
	case bpf.KindSys:
		err = c.sys(r, hpid, createTS, &ev)
	case bpf.KindSock:
		c.sock(r, &ev)
	case bpf.KindProc:
		err = c.proc(r, hpid, createTS, &ev)
	}
	return hpid, createTS, ev, err
}

func (c *converter) sys(r *bpf.Record, hpid, createTS int64, ev *raw.Event) error {
	s := r.Sys
	ev.Ret = s.Ret
	switch ev.Op {
	case raw.OpRead, raw.OpWrite, raw.OpClose:
		ev.FD = s.Fd
	case raw.OpDup, raw.OpShutdown, raw.OpSetns:
		ev.FD, ev.Flags = s.Fd, int64(s.Flags)
	case raw.OpMmap:
		ev.FD, ev.Flags, ev.Mode = s.Fd, int64(s.Flags), s.Mode
	case raw.OpClone:
		ev.Flags = int64(s.Flags)
	case raw.OpExit:
		if r.Header.Flags&bpf.FlagGroupDead != 0 {
			delete(c.table, hpid)
		}
	case raw.OpSetuid:
		ev.UID, ev.Flags = s.Uid, int64(s.Flags)
		known := func() *raw.Proc {
			if e, ok := c.table[hpid]; ok && e.createTS == createTS {
				return e.info
			}
			return nil
		}
		if s.Flags == 0 { // setuid: the requested uid's name is the event's argument (raw contract)
			var ctr *raw.Container
			if p := known(); p != nil {
				ctr = p.Container
			}
			if ev.Path = c.names(hpid, ctr).User(s.Uid); ev.Path == "" {
				ev.Path = "<NA>"
			}
		}
		if s.Ret == 0 && s.Flags == 0 {
			c.update(hpid, createTS, func(p *raw.Proc) {
				p.UID = s.Uid
				p.UserName = c.names(hpid, p.Container).User(s.Uid)
			})
		}
		if p := known(); p != nil && s.Flags == 0 {
			cp := *p // attributes after the call, for the processors' MODIFIED process
			ev.Proc = &cp
		}
	case raw.OpPipe:
		ev.Flags = int64(s.Flags)
		if s.Ret == 0 {
			kind := int32(raw.FDPipe)
			if r.Header.Nr == bpf.NrSocketpair {
				kind = raw.FDUnix
			}
			ev.FDs = []raw.FD{{FD: s.Fd, Kind: kind}, {FD: s.Fd2, Kind: kind}}
		}
	case raw.OpChdir:
		ev.FD, ev.Path = s.Fd, string(r.Path)
		if s.Ret == 0 && ev.Path != "" {
			c.update(hpid, createTS, func(p *raw.Proc) { p.Cwd = resolve(p.Cwd, ev.Path) })
		}
	case raw.OpExec: // failed: the process keeps its attributes
		ev.DirFD, ev.Path, ev.Flags = s.Dirfd, string(r.Path), int64(s.Flags)
		e, err := c.entry(hpid, createTS)
		if err != nil {
			return err
		}
		ev.Proc = e.info
	default: // path operations
		ev.DirFD, ev.Path = s.Dirfd, string(r.Path)
		if s.Path2Len > 0 {
			ev.DirFD2, ev.Path2 = s.Fd2, string(r.Path2)
		}
		ev.Flags, ev.Mode = int64(s.Flags), s.Mode
	}
	return nil
}

func (c *converter) sock(r *bpf.Record, ev *raw.Event) {
	s, k := r.Sys, r.Sock
	ev.Ret, ev.FD, ev.Flags, ev.Mode = s.Ret, s.Fd, int64(s.Flags), s.Mode
	if ev.Op == raw.OpSocket {
		ev.Sock = &raw.Sock{Family: s.Mode, Proto: int32(k.Proto)}
		return
	}
	if k.Family == 0 {
		return // not a socket (any more): no tuple
	}
	sock := &raw.Sock{Family: int32(k.Family), Proto: int32(k.Proto), LPort: int32(k.Lport), RPort: int32(k.Rport)}
	switch k.Family {
	case raw.AFInet:
		sock.LAddr, sock.RAddr = clone(k.Laddr[:4]), clone(k.Raddr[:4])
	case raw.AFInet6:
		sock.LAddr, sock.RAddr = clone(k.Laddr[:]), clone(k.Raddr[:])
	case raw.AFUnix:
		sock.Path = bpf.SockPath(k)
	}
	ev.Sock = sock
}

func (c *converter) proc(r *bpf.Record, hpid, createTS int64, ev *raw.Event) error {
	p := r.Proc
	ev.Ret = p.Ret
	if ev.Op == raw.OpClone {
		ev.Flags = int64(p.Flags)
	}
	if r.Header.Flags&bpf.FlagThread != 0 {
		// A new thread of a process: the process's attributes are unchanged.
		e, err := c.entry(hpid, createTS)
		if err != nil {
			return err
		}
		ev.Proc = e.info
		return nil
	}
	info := &raw.Proc{
		PPID:      int64(p.Ppid),
		PCreateTS: c.clock.CreateTS(p.Pstart),
		Exe:       string(r.Exe),
		Args:      []string{},
		Comm:      bpf.Comm(&p.Comm),
		Cwd:       string(r.Cwd),
		Env:       []string{},
		UID:       int32(p.Uid),
		GID:       int32(p.Gid),
		TTY:       int32(p.Tty),
		VPID:      int64(p.Vpid),
	}
	if info.Container = procfs.ContainerFromCgroupPath(string(r.Cgroup)); info.Container != nil && c.containers != nil {
		info.Container = c.containers(info.Container, info.VPID, createTS)
	}
	if p.Ppid == 0 {
		info.PCreateTS = 0
	}
	if argv := bpf.SplitArgs(r.Args); len(argv) > 1 {
		info.Args = argv[1:]
	}
	acc := c.names(hpid, info.Container)
	info.UserName, info.GroupName = acc.User(info.UID), acc.Group(info.GID)
	if ev.Op == raw.OpExec {
		ev.Path = string(r.Filename)
	}
	c.table[hpid] = &procEntry{createTS: createTS, info: info}
	ev.Proc = info
	return nil
}

// entry returns the table entry of a process, looking it up if the table does not know it.
func (c *converter) entry(hpid, createTS int64) (*procEntry, error) {
	if e, ok := c.table[hpid]; ok && e.createTS == createTS {
		return e, nil
	}
	e, err := c.lookup(hpid, createTS)
	if err != nil {
		return nil, err
	}
	c.table[hpid] = e
	return e, nil
}

// update replaces a known process's attributes with a modified copy.
func (c *converter) update(hpid, createTS int64, f func(*raw.Proc)) {
	e, ok := c.table[hpid]
	if !ok || e.createTS != createTS || e.info == nil {
		return
	}
	p := *e.info
	f(&p)
	c.table[hpid] = &procEntry{createTS: createTS, info: &p}
}

// resolve returns the directory chdir(p) leads to from cwd ("" if cwd is unknown and p is
// relative).
func resolve(cwd, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	if cwd == "" {
		return ""
	}
	return path.Join(cwd, p)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
