package replay

import (
	"context"
	"maps"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// cloneStaleTime is libsinsp's CLONE_STALE_TIME_NS: a thread entry created by a clone exit
// more than this long before the child's own exit is taken for a stale entry of a thread
// whose exit was lost, and replaced.
const cloneStaleTime = int64(2e9)

// clone handles both exits of clone/fork/vfork/clone3: the caller's (res = the child's tid
// as the caller sees it, or a negative error) and the child's (res = 0, with the child's
// tid/pid/ptid).
//
// The child's createTS is libsinsp's m_clone_ts, the ts of the exit that created the child's
// thread entry, whichever of the two comes first in the capture:
//   - the caller's exit creates it when the caller is in the host pid namespace (its vtid is
//     its tid: res is then the host tid) and none of CLONE_NEWPID, CLONE_CHILD_IN_PIDNS and
//     CLONE_PARENT is set, unless the child's own exit created it already (an "inverted"
//     clone, kept however late the caller returns); an older entry for that tid is stale;
//   - otherwise the child's own exit creates it, unless an entry created by a clone exit
//     less than cloneStaleTime earlier is there (the caller's).
func (s *Source) clone(ctx context.Context, c *call) error {
	x, ts := c.x, c.ts()
	res := c.intOr("res", 0)
	flags := c.uint("flags")
	if res != 0 {
		caller := s.tab.thread(x.TID, c.intOr("pid", 0))
		if res > 0 && s.callerInHostNS(c, caller) {
			s.callers[res] = cloneCaller{caller, ts} // the child copies its caller, whatever its ptid
			if s.callerCreatesChild(flags, res) {
				s.childFromCaller(c, caller, res, flags, ts)
			}
		}
		ev := raw.NewEvent(raw.OpClone, ts, x.TID)
		ev.Ret, ev.Flags = res, linuxCloneFlags(flags)
		return s.emitEvent(ctx, caller.proc, ev)
	}

	tid := x.TID
	pid := c.intOr("pid", tid)
	if pid <= 0 {
		pid = tid
	}
	ptid := c.intOr("ptid", 0)
	isThread := flags&ppmCLThread != 0 || pid != tid
	th := s.tab.threads[tid]
	if th == nil || th.cloneTS == 0 || ts-th.cloneTS >= cloneStaleTime {
		parent := s.tab.threads[ptid]
		if cc, ok := s.callers[tid]; ok && ts-cc.ts < cloneStaleTime {
			parent = cc.th
		}
		var p *process
		if isThread {
			p = s.tab.procs[pid]
			if p == nil || p.exited {
				// A thread of a process the capture never described: the process predates
				// the event, its start is unknown (0, like any pre-capture process).
				p = s.newChild(pid, 0, parent, flags)
			}
		} else {
			p = s.newChild(pid, ts, parent, flags)
		}
		th = &thread{tid: tid, vtid: c.intOr("vtid", tid), proc: p, cloneTS: ts, inverted: true}
		s.tab.threads[tid] = th
	}
	delete(s.callers, tid)
	p := th.proc
	ev := raw.NewEvent(raw.OpClone, ts, tid)
	if !isThread {
		s.childAttributes(p, c)
		ev.FDs = p.fdTable() // the child's partition cannot see its parent's table
	}
	ev.Flags, ev.Proc = linuxCloneFlags(flags), s.proc(p)
	return s.emitEvent(ctx, p, ev)
}

// cloneCaller remembers the caller of a clone until the child's exit.
type cloneCaller struct {
	th *thread
	ts int64
}

// callerInHostNS reports whether a clone's caller is in the host pid namespace, where the
// child id it gets back is the host tid.
func (s *Source) callerInHostNS(c *call, caller *thread) bool {
	if tid, ok := c.int("tid"); ok {
		if vtid, ok := c.int("vtid"); ok {
			return vtid == tid
		}
		return true
	}
	return caller.vtid == caller.tid
}

// callerCreatesChild reports whether the caller's exit creates the child's entry (see
// clone); the caller is in the host pid namespace.
func (s *Source) callerCreatesChild(flags uint64, child int64) bool {
	if flags&(ppmCLChildInPidNS|ppmCLNewPID|ppmCLParent) != 0 {
		return false
	}
	th := s.tab.threads[child]
	return th == nil || !th.inverted
}

// childFromCaller creates the child's entry from the caller's exit: the child takes the
// caller's state and the credentials, names and arguments the caller's exit carries.
func (s *Source) childFromCaller(c *call, caller *thread, child int64, flags uint64, ts int64) {
	p := caller.proc
	if flags&ppmCLThread == 0 {
		p = s.newChild(child, ts, caller, flags)
		if v, ok := c.int("uid"); ok {
			p.uid = int32(v)
		}
		if v, ok := c.int("gid"); ok {
			p.gid = int32(v)
		}
	}
	s.tab.threads[child] = &thread{tid: child, vtid: child, proc: p, cloneTS: ts}
}

// newChild creates process pid born at ts, inheriting from its parent thread (if known).
func (s *Source) newChild(pid, ts int64, parent *thread, flags uint64) *process {
	p := newProcess(pid, ts)
	if parent != nil {
		pp := parent.proc
		p.ppid, p.pcreateTS = pp.pid, pp.createTS
		p.exe, p.comm, p.cwd, p.args, p.env = pp.exe, pp.comm, pp.cwd, pp.args, pp.env
		p.uid, p.gid, p.tty, p.vpid = pp.uid, pp.gid, pp.tty, pp.vpid
		p.container, p.runtime = pp.container, pp.runtime
		if flags&ppmCLFiles != 0 { // one fd table
			p.fds = pp.fds
		} else {
			p.fds = maps.Clone(pp.fds)
		}
	}
	s.tab.procs[pid] = p
	return p
}

// childAttributes refreshes a new process from its own clone exit.
func (s *Source) childAttributes(p *process, c *call) {
	x := c.x
	if ptid, ok := c.int("ptid"); ok && ptid > 0 {
		if parent := s.tab.threads[ptid]; parent != nil {
			p.ppid, p.pcreateTS = parent.proc.pid, parent.proc.createTS
		}
	}
	if i := x.Index("args"); i >= 0 {
		p.args = scap.SplitNul(x.Param(i))
	}
	if comm := c.str("comm"); comm != "" {
		p.comm = comm
	}
	if p.exe == "" {
		p.exe = c.str("exe")
	}
	if cwd := c.str("cwd"); cwd != "" {
		p.cwd = cwd
	}
	if v, ok := c.int("uid"); ok {
		p.uid = int32(v)
	}
	if v, ok := c.int("gid"); ok {
		p.gid = int32(v)
	}
	if v, ok := c.int("vpid"); ok {
		p.vpid = v
	}
	if i := x.Index("cgroups"); i >= 0 {
		p.container, p.runtime = containerFromCgroups(scap.SplitNul(x.Param(i)))
	}
}

// exec handles execve/execveat exits: on success the process takes the new image's
// attributes; the event always carries the process's attributes after the call.
func (s *Source) exec(ctx context.Context, c *call) error {
	x, ts := c.x, c.ts()
	th := s.tab.thread(x.TID, c.intOr("pid", 0))
	p := th.proc
	ev := raw.NewEvent(raw.OpExec, ts, x.TID)
	ev.Ret = c.intOr("res", 0)
	ev.Path = c.str("filename")
	if x.Type == scap.ExecveAtX {
		ev.Path = c.str("pathname")
		if c.e != nil {
			if v, ok := c.e.IntNamed("dirfd"); ok {
				ev.DirFD = int32(v)
			}
		}
	}
	if ev.Ret == 0 {
		s.execAttributes(p, c, ev.Path)
		p.closeOnExec()
	}
	ev.Proc = s.proc(p)
	return s.emitEvent(ctx, p, ev)
}

func (s *Source) execAttributes(p *process, c *call, filename string) {
	x := c.x
	switch {
	case c.str("trusted_exepath") != "":
		p.exe = c.str("trusted_exepath")
	case filename != "":
		p.exe = filename
	default:
		p.exe = c.str("exe")
	}
	p.args = scap.SplitNul(x.Param(x.Index("args")))
	if comm := c.str("comm"); comm != "" {
		p.comm = comm
	}
	if i := x.Index("env"); i >= 0 {
		p.env = scap.SplitNul(x.Param(i))
	}
	if cwd := c.str("cwd"); cwd != "" {
		p.cwd = cwd
	}
	if v, ok := x.IntNamed("tty"); ok {
		p.tty = int32(v)
	}
	if v, ok := x.IntNamed("uid"); ok {
		p.uid = int32(v)
	}
	if v, ok := x.IntNamed("gid"); ok {
		p.gid = int32(v)
	}
	if i := x.Index("cgroups"); i >= 0 {
		p.container, p.runtime = containerFromCgroups(scap.SplitNul(x.Param(i)))
	}
	if p.ppid == 0 {
		if ptid, ok := x.IntNamed("ptid"); ok && ptid > 0 {
			if parent := s.tab.threads[ptid]; parent != nil {
				p.ppid, p.pcreateTS = parent.proc.pid, parent.proc.createTS
			}
		}
	}
}

// exit handles PROCEXIT: the thread is gone; a main thread's exit ends its process.
func (s *Source) exit(ctx context.Context, ev *scap.Event) error {
	th := s.tab.thread(ev.TID, 0)
	p := th.proc
	out := raw.NewEvent(raw.OpExit, int64(ev.TS), ev.TID)
	out.Ret, _ = ev.IntNamed("status")
	delete(s.tab.threads, ev.TID)
	delete(s.enters, ev.TID)
	if ev.TID == p.pid {
		p.exited = true
		if s.tab.procs[p.pid] == p {
			delete(s.tab.procs, p.pid)
		}
	}
	return s.emitEvent(ctx, p, out)
}

// setuid handles setuid/setresuid. uid is the requested uid (the real uid for setresuid,
// with flags 1) and path its user name, which SysFlow reports ("" for setresuid, whose
// parameters have no "uid" for sinsp to resolve); proc has the attributes after the call.
func (s *Source) setuid(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	p := th.proc
	ev := raw.NewEvent(raw.OpSetuid, c.ts(), c.x.TID)
	ev.Ret = c.intOr("res", 0)
	if c.x.Type == scap.SetresuidX {
		ev.Flags = 1
		ev.UID = int32(c.intOr("ruid", -1))
		if euid := int32(c.intOr("euid", -1)); ev.Ret >= 0 && euid != -1 {
			p.uid = euid
		}
	} else {
		ev.UID = int32(c.intOr("uid", -1))
		ev.Path = s.users.userName(p.container, ev.UID)
		if ev.Ret >= 0 && ev.UID != -1 {
			p.uid = ev.UID
		}
	}
	ev.Proc = s.proc(p)
	return s.emitEvent(ctx, p, ev)
}

// setgid handles setgid/setresgid: on success the process takes the new (effective) gid, as
// sinsp's thread table does. SysFlow has no record for them: the change shows in the
// process's later records, so the next event of the process carries its attributes.
func (s *Source) setgid(_ context.Context, c *call) error {
	p := s.tab.thread(c.x.TID, 0).proc
	if c.intOr("res", 0) < 0 {
		return nil
	}
	name := "gid"
	if c.x.Type == scap.SetresgidX {
		name = "egid"
	}
	if gid := int32(c.intOr(name, -1)); gid != -1 && gid != p.gid {
		p.gid = gid
		p.attrsPending = true
	}
	return nil
}

// setns handles setns: fd is the namespace fd, flags its type (CLONE_NEW*).
func (s *Source) setns(ctx context.Context, c *call) error {
	th := s.tab.thread(c.x.TID, 0)
	ev := raw.NewEvent(raw.OpSetns, c.ts(), c.x.TID)
	ev.Ret = c.intOr("res", 0)
	ev.FD = int32(c.intOr("fd", raw.NoFD))
	ev.Flags = linuxCloneFlags(c.uint("nstype"))
	return s.emitEvent(ctx, th.proc, ev)
}
