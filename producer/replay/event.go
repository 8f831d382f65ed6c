package replay

import (
	"context"

	"github.com/sfstream/sfstream/producer/replay/scap"
)

// call is one syscall as the capture recorded it: the exit event and, when the capture has
// it, the matching enter event. Old event tables carry some arguments (fd, size, paths) only
// in the enter event, newer ones copy them into the exit event: lookups by parameter name
// try the exit first, then the enter, which normalises every version to one view.
type call struct {
	x *scap.Event
	e *scap.Event // nil when the enter event is missing
	// lost is set when a lookup wanted a parameter that only the missing enter event has.
	lost bool
}

// fromEnter returns the enter event for a lookup the exit could not answer, noting when the
// enter event that would have answered it is missing.
func (c *call) fromEnter(name string) *scap.Event {
	if c.e == nil && (c.x.Type-1).Info().ParamIndex(name) >= 0 {
		c.lost = true
	}
	return c.e
}

func (c *call) int(name string) (int64, bool) {
	if v, ok := c.x.IntNamed(name); ok {
		return v, true
	}
	if e := c.fromEnter(name); e != nil {
		return e.IntNamed(name)
	}
	return 0, false
}

// intOr returns the named integer or def.
func (c *call) intOr(name string, def int64) int64 {
	if v, ok := c.int(name); ok {
		return v
	}
	return def
}

func (c *call) uint(name string) uint64 {
	if v, ok := c.x.UintNamed(name); ok {
		return v
	}
	if e := c.fromEnter(name); e != nil {
		v, _ := e.UintNamed(name)
		return v
	}
	return 0
}

// str returns the named string, preferring a non-empty exit copy ("<NA>" counts as empty).
func (c *call) str(name string) string {
	if s := c.x.StringNamed(name); s != "" && s != "<NA>" {
		return s
	}
	if e := c.fromEnter(name); e != nil {
		if s := e.StringNamed(name); s != "<NA>" {
			return s
		}
	}
	return ""
}

func (c *call) bytes(name string) []byte {
	if b := c.x.Param(c.x.Index(name)); len(b) > 0 {
		return b
	}
	if e := c.fromEnter(name); e != nil {
		return e.Param(e.Index(name))
	}
	return nil
}

func (c *call) tuple() (scap.SockTuple, bool) {
	if t, ok := c.x.SockTuple(c.x.Index("tuple")); ok {
		return t, true
	}
	if e := c.fromEnter("tuple"); e != nil {
		return e.SockTuple(e.Index("tuple"))
	}
	return scap.SockTuple{}, false
}

// ts is the call's timestamp: the exit's.
func (c *call) ts() int64 { return int64(c.x.TS) }

// event handles one event block.
func (s *Source) event(ctx context.Context, ev *scap.Event) error {
	switch ev.Type {
	case scap.ContainerJSONE, scap.ContainerJSON2E:
		if c, ok := parseContainerJSON(ev); ok {
			s.containers[c.ID] = c
		}
		return nil
	case scap.UserAddedE, scap.GroupAddedE:
		s.users.event(ev)
		return nil
	case scap.ProcExitE, scap.ProcExit1E:
		if ev.TID <= 0 {
			return nil
		}
		return s.exit(ctx, ev)
	}
	if ev.TID <= 0 || ev.Type.Info() == nil || ev.Type.Info().Meta {
		return nil
	}
	if ev.Type.IsEnter() {
		s.saveEnter(ev)
		return nil
	}
	h := exitHandler(ev.Type)
	if h == nil {
		return nil
	}
	c := call{x: ev, e: s.takeEnter(ev)}
	err := h(s, ctx, &c)
	if c.lost {
		s.stats.Unpaired++
	}
	return err
}

// savedEnter is a thread's last enter event, kept (copied) until its exit.
type savedEnter struct {
	ev    scap.Event
	valid bool
}

// saveEnter keeps the enter event of a handled syscall until its exit; any other enter event
// of the thread discards it (the exit it was waiting for was lost).
func (s *Source) saveEnter(ev *scap.Event) {
	saved := s.enters[ev.TID]
	if exitHandler(ev.Type+1) == nil || ev.NumParams() == 0 {
		if saved != nil {
			saved.valid = false
		}
		return
	}
	if saved == nil {
		saved = new(savedEnter)
		s.enters[ev.TID] = saved
	}
	ev.CopyTo(&saved.ev)
	saved.valid = true
}

// takeEnter returns the saved enter event matching exit ev, if any, and consumes it.
func (s *Source) takeEnter(ev *scap.Event) *scap.Event {
	saved := s.enters[ev.TID]
	if saved == nil || !saved.valid || saved.ev.Type != ev.Type-1 {
		return nil
	}
	saved.valid = false
	return &saved.ev
}

type handler func(s *Source, ctx context.Context, c *call) error

// exitHandler returns the converter of an exit event type, nil for types not replayed.
func exitHandler(t scap.EventType) handler {
	switch t {
	case scap.Clone11X, scap.Clone16X, scap.Clone17X, scap.Clone20X, scap.Clone3X,
		scap.ForkX, scap.Fork17X, scap.Fork20X, scap.VforkX, scap.Vfork17X, scap.Vfork20X:
		return (*Source).clone
	case scap.Execve8X, scap.Execve13X, scap.Execve14X, scap.Execve15X, scap.Execve16X,
		scap.Execve17X, scap.Execve18X, scap.Execve19X, scap.ExecveAtX:
		return (*Source).exec
	case scap.SetuidX, scap.SetresuidX:
		return (*Source).setuid
	case scap.SetgidX, scap.SetresgidX:
		return (*Source).setgid
	case scap.SetnsX:
		return (*Source).setns
	case scap.OpenX, scap.OpenAtX, scap.OpenAt2X, scap.OpenAt2NewX, scap.CreatX:
		return (*Source).open
	case scap.CloseX:
		return (*Source).close
	case scap.ReadX, scap.PreadX, scap.ReadvX, scap.PreadvX, scap.RecvX, scap.RecvFromX,
		scap.RecvMsgX, scap.RecvMMsgX:
		return (*Source).readWrite
	case scap.WriteX, scap.PwriteX, scap.WritevX, scap.PwritevX, scap.SendX, scap.SendToX,
		scap.SendMsgX, scap.SendMMsgX:
		return (*Source).readWrite
	case scap.SocketX:
		return (*Source).socket
	case scap.ConnectX:
		return (*Source).connect
	case scap.AcceptX, scap.Accept4X, scap.Accept5X, scap.Accept45X, scap.Accept46X:
		return (*Source).accept
	case scap.ShutdownX:
		return (*Source).shutdown
	case scap.MmapX, scap.Mmap2X:
		return (*Source).mmap
	case scap.DupX, scap.Dup1X, scap.Dup2X, scap.Dup3X, scap.FcntlX:
		return (*Source).dup
	case scap.PipeX, scap.Pipe2X, scap.SocketPairX:
		return (*Source).pipe
	case scap.ChdirX, scap.FchdirX:
		return (*Source).chdir
	case scap.MkdirX, scap.Mkdir2X, scap.MkdirAtX, scap.RmdirX, scap.Rmdir2X,
		scap.UnlinkX, scap.Unlink2X, scap.UnlinkAtX, scap.UnlinkAt2X,
		scap.LinkX, scap.Link2X, scap.LinkAtX, scap.LinkAt2X, scap.SymlinkX, scap.SymlinkAtX,
		scap.RenameX, scap.RenameAtX, scap.RenameAt2X:
		return (*Source).pathOp
	}
	return nil
}
