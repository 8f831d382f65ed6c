package capture

import (
	"github.com/sfstream/sfstream/bpf"
	"github.com/sfstream/sfstream/internal/raw"
)

// excludedProc is what the session remembers of a process the filter excluded.
type excludedProc struct {
	createTS int64
	// captured: the process was captured before it was excluded, so its last exit is sent.
	captured bool
	// inKernel: the kernel keeps its events (bpf.Probe.FilterProcess).
	inKernel bool
}

// keyFilter logs the filter.
const keyFilter = "filter"

// judge records whether process hpid, whose attributes are p, is excluded, after its identity
// changed (snapshot, exec, container metadata); captured says whether it was captured until
// now. It reports whether the process is excluded.
func (s *session) judge(hpid, createTS int64, p *raw.Proc, captured bool) bool {
	include := s.filter.include(hpid, p, s.conv.table)
	x, was := s.excludedProc(hpid, createTS)
	switch {
	case include && was:
		s.readmit(hpid, x)
	case !include && !was:
		s.metrics.filteredProcs.Inc()
		s.filtered[hpid] = excludedProc{createTS: createTS, captured: captured}
	}
	return !include
}

// excludedProc returns the exclusion of process (hpid, createTS), forgetting one of an earlier
// process of the same pid.
func (s *session) excludedProc(hpid, createTS int64) (excludedProc, bool) {
	x, ok := s.filtered[hpid]
	if ok && x.createTS != createTS {
		s.readmit(hpid, x)
		return excludedProc{}, false
	}
	return x, ok
}

// readmit forgets an exclusion, in the kernel too.
func (s *session) readmit(hpid int64, x excludedProc) {
	delete(s.filtered, hpid)
	if x.inKernel {
		if err := s.probe.UnfilterProcess(uint32(hpid)); err != nil {
			s.kernelFilterError(err)
		}
	}
}

func (s *session) kernelFilterError(err error) {
	if !s.kernelFilterFailed {
		s.kernelFilterFailed = true
		s.log.Warn("kernel filter failed: excluded events are dropped in user space", keyFilter, err)
	}
}

// lookupJudged is the session's lookup with a filter: a process found by its OID only (gone
// before /proc could be read) is excluded, nothing saying that it matches.
func (s *session) lookupJudged(hpid, createTS int64) (*procEntry, error) {
	e, err := s.lookup(hpid, createTS)
	if err == nil && e.info == nil {
		s.judge(hpid, createTS, nil, false)
	}
	return e, err
}

// filterEvent applies the filter to a converted event of process (hpid, createTS): it reports
// whether the event is sent, and may rewrite it (the first description of an excluded
// process becomes a snapshot record). rec is the kernel record it came from.
func (s *session) filterEvent(rec *bpf.Record, hpid, createTS int64, ev *raw.Event) bool {
	h := rec.Header
	if bpf.Kind(h.Kind) == bpf.KindProc && h.Flags&bpf.FlagThread == 0 {
		// A new identity: a clone's child or an exec.
		_, was := s.excludedProc(hpid, createTS)
		e := s.conv.table[hpid]
		if e == nil || !s.judge(hpid, createTS, e.info, !was && ev.Op == raw.OpExec) {
			return true
		}
		switch {
		case was:
			// Excluded, and still: nothing to say.
		case ev.Op == raw.OpExec:
			// Captured until now: its exec says what it became; then its last exit only.
			return true
		default:
			// A new process, excluded from its start: described, never captured.
			snap := raw.NewEvent(raw.OpSnapshot, ev.TS, ev.TID)
			snap.Proc = ev.Proc
			*ev = snap
			return true
		}
	}
	x, ok := s.excludedProc(hpid, createTS)
	if !ok {
		return true
	}
	if ev.Op == raw.OpExit && h.Flags&bpf.FlagGroupDead != 0 {
		s.readmit(hpid, x)
		if x.captured {
			return true
		}
	} else if !x.inKernel {
		// The first event since the exclusion: the kernel keeps the rest.
		x.inKernel = true
		s.filtered[hpid] = x
		if !s.userSpaceFilterOnly { // (benchmarks compare with dropping here only)
			if err := s.probe.FilterProcess(h.Tgid, h.Start); err != nil {
				s.kernelFilterError(err)
			}
		}
	}
	s.metrics.pendingFiltered++
	return false
}
