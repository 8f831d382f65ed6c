package state

import (
	"sort"
	"strings"

	"github.com/sfstream/sfstream/sysflow"
)

// fileFlow is an open FileFlow with its bookkeeping.
type fileFlow struct {
	rec        sysflow.FileFlow
	seq        uint64
	exportTime int64 // seconds of event time
	lastUpdate int64 // seconds of event time
	path       string
	kind       int32
}

// netFlow is an open NetworkFlow with its bookkeeping.
type netFlow struct {
	rec        sysflow.NetworkFlow
	seq        uint64
	exportTime int64
	lastUpdate int64
}

// procFlow is a process's ProcessFlow with its bookkeeping.
type procFlow struct {
	rec        sysflow.ProcessFlow
	exportTime int64
	lastUpdate int64
}

// readOnlyPrefixes are the paths whose read-only flows read mode 2 drops.
var readOnlyPrefixes = []string{"/proc/", "/dev/", "/sys/", "//sys/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"}

// filteredByReadMode reports whether the read-mode filter drops a file flow.
func (s *State) filteredByReadMode(f *fileFlow) bool {
	if s.cfg.ReadMode == 0 {
		return false
	}
	readOnly := f.rec.OpenFlags&openRdonly != 0 ||
		(f.rec.OpFlags&opReadRecv != 0 && f.rec.OpFlags&(opWriteSend|opMmap) == 0)
	if !readOnly {
		return false
	}
	if s.cfg.ReadMode == 1 {
		return true
	}
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(f.path, p) {
			return true
		}
	}
	return false
}

// writable reports whether the reference writer would write a flow with these op flags: it
// drops flows whose flags are 0 or exactly TRUNCATE.
func writable(opFlags int32) bool { return opFlags != 0 && opFlags != opTruncate }

// emitFileFlow writes a file flow unless a filter drops it.
func (s *State) emitFileFlow(p *proc, f *fileFlow, applyReadMode bool) {
	if !writable(f.rec.OpFlags) {
		return
	}
	if applyReadMode && s.filteredByReadMode(f) {
		s.stats.Filtered++
		return
	}
	rec := f.rec
	s.event(p, &rec)
}

func (s *State) emitNetFlow(p *proc, f *netFlow) {
	if !writable(f.rec.OpFlags) {
		return
	}
	rec := f.rec
	s.event(p, &rec)
}

// sortedFiles returns p's file flows in creation order.
func sortedFiles(p *proc) []fileKey {
	keys := make([]fileKey, 0, len(p.files))
	for k := range p.files {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return p.files[keys[i]].seq < p.files[keys[j]].seq })
	return keys
}

// sortedNets returns p's network flows in creation order.
func sortedNets(p *proc) []netKey {
	keys := make([]netKey, 0, len(p.nets))
	for k := range p.nets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return p.nets[keys[i]].seq < p.nets[keys[j]].seq })
	return keys
}

// truncateThread flushes, with TRUNCATE and endTs = ts, the flows of thread tid (all flows
// when tid is 0): file flows first, then network flows, as the reference's exit handler.
func (s *State) truncateThread(p *proc, tid int64, ts int64, applyReadMode bool) {
	for _, k := range sortedFiles(p) {
		if tid != 0 && k.tid != tid {
			continue
		}
		f := p.files[k]
		f.rec.OpFlags |= opTruncate
		f.rec.EndTS = ts
		s.emitFileFlow(p, f, applyReadMode)
		delete(p.files, k)
	}
	for _, k := range sortedNets(p) {
		if tid != 0 && k.tid != tid {
			continue
		}
		f := p.nets[k]
		f.rec.OpFlags |= opTruncate
		f.rec.EndTS = ts
		s.emitNetFlow(p, f)
		delete(p.nets, k)
	}
}

// flushRelatedFiles flushes, with TRUNCATE, the flows of other threads on the same file and
// fd: those that contain OPEN first, then the rest, each group in creation order.
func (s *State) flushRelatedFiles(p *proc, k fileKey, ts int64) {
	if !hasRelatedFile(p, k) {
		return
	}
	var first, rest []fileKey
	for _, o := range sortedFiles(p) {
		if o.tid == k.tid || o.fd != k.fd || o.path != k.path || o.container != k.container {
			continue
		}
		if p.files[o].rec.OpFlags&opOpen != 0 {
			first = append(first, o)
		} else {
			rest = append(rest, o)
		}
	}
	for _, o := range append(first, rest...) {
		f := p.files[o]
		f.rec.OpFlags |= opTruncate
		f.rec.EndTS = ts
		s.emitFileFlow(p, f, true)
		delete(p.files, o)
	}
}

// hasRelatedFile reports whether another thread has a flow on k's file and fd: the common
// case, none, needs no sorting.
func hasRelatedFile(p *proc, k fileKey) bool {
	for o := range p.files {
		if o.tid != k.tid && o.fd == k.fd && o.path == k.path && o.container == k.container {
			return true
		}
	}
	return false
}

// hasRelatedNet is hasRelatedFile for network flows.
func hasRelatedNet(p *proc, k netKey) bool {
	for o := range p.nets {
		if o.tid != k.tid && o.fd == k.fd && o.tup == k.tup {
			return true
		}
	}
	return false
}

// flushRelatedNets is flushRelatedFiles for network flows; ACCEPT or CONNECT flows go first.
func (s *State) flushRelatedNets(p *proc, k netKey, ts int64) {
	if !hasRelatedNet(p, k) {
		return
	}
	var first, rest []netKey
	for _, o := range sortedNets(p) {
		if o.tid == k.tid || o.fd != k.fd || o.tup != k.tup {
			continue
		}
		if p.nets[o].rec.OpFlags&(opAccept|opConnect) != 0 {
			first = append(first, o)
		} else {
			rest = append(rest, o)
		}
	}
	for _, o := range append(first, rest...) {
		f := p.nets[o]
		f.rec.OpFlags |= opTruncate
		f.rec.EndTS = ts
		s.emitNetFlow(p, f)
		delete(p.nets, o)
	}
}

// expire runs the periodic export: flows whose export interval passed are written and reset,
// flows idle past the expire interval are dropped unwritten. nowNs is event time.
func (s *State) expire(nowNs int64) {
	now := nowNs / 1e9
	if now <= s.lastExpire {
		return
	}
	s.lastExpire = now
	exp := int64(s.cfg.ExportInterval.Seconds())
	idle := int64(s.cfg.ExpireInterval.Seconds())
	for _, p := range s.sortedProcs() {
		for _, k := range sortedFiles(p) {
			f := p.files[k]
			if now-f.exportTime < exp {
				continue
			}
			s.touch(p.key)
			if now-f.lastUpdate >= idle {
				delete(p.files, k)
				s.stats.Expired++
				continue
			}
			f.rec.EndTS = nowNs
			s.emitFileFlow(p, f, true)
			f.rec.TS, f.rec.EndTS, f.rec.OpFlags = nowNs, 0, 0
			f.rec.NumRRecvOps, f.rec.NumWSendOps, f.rec.NumRRecvBytes, f.rec.NumWSendBytes = 0, 0, 0, 0
			f.exportTime = now
		}
		for _, k := range sortedNets(p) {
			f := p.nets[k]
			if now-f.exportTime < exp {
				continue
			}
			s.touch(p.key)
			if now-f.lastUpdate >= idle {
				delete(p.nets, k)
				s.stats.Expired++
				continue
			}
			f.rec.EndTS = nowNs
			s.emitNetFlow(p, f)
			f.rec.TS, f.rec.EndTS, f.rec.OpFlags = nowNs, 0, 0
			f.rec.NumRRecvOps, f.rec.NumWSendOps, f.rec.NumRRecvBytes, f.rec.NumWSendBytes = 0, 0, 0, 0
			f.exportTime = now
		}
		if pf := p.pflow; pf != nil && now-pf.exportTime >= exp {
			s.touch(p.key)
			if now-pf.lastUpdate >= idle {
				p.pflow = nil
				s.stats.Expired++
			} else {
				pf.rec.EndTS = nowNs
				if writable(pf.rec.OpFlags) {
					rec := pf.rec
					s.event(p, &rec)
				}
				pf.rec.TS, pf.rec.EndTS, pf.rec.OpFlags = nowNs, 0, 0
				pf.rec.NumThreadsCloned, pf.rec.NumThreadsExited, pf.rec.NumCloneErrors = 0, 0, 0
				pf.exportTime = now
			}
		}
	}
}
