package state

import (
	"container/heap"
	"fmt"
	"sort"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// Output receives what a State emits. Keys are Kafka keys (DESIGN.md): entities by entity
// key, events and flows by their process key. Records are owned by the receiver. An entity
// with a nil record is a tombstone: the entity of that key is deleted.
type Output interface {
	Entity(key []byte, rec sysflow.Record)
	Event(key []byte, rec sysflow.Record)
}

// Stats counts what a State did; the pipeline exports them as metrics.
type Stats struct {
	Events       int64 // raw events applied
	Dropped      int64 // raw events that produce nothing (unknown fd, IPv6, failed open, ...)
	Filtered     int64 // flows dropped by the read-mode or file-only filters
	Expired      int64 // flows dropped idle
	Evicted      int64 // processes evicted by the MaxProcesses cap
	Removed      int64 // processes removed after exit
	LostNotices  int64 // drop notices received
	LostEvents   int64 // events lost upstream, as the notices count them (not those of ApplyCopy)
	Entities     int64
	EventRecords int64
	Tombstones   int64 // process entities deleted, EntityTombstoneAfter after their exit
	// TombstonesForgotten counts pending tombstones given up because MaxEntities of them were
	// pending: those entities stay in sysflow.entities (an archive is never missing one).
	TombstonesForgotten int64
}

// State is the SysFlow state of one partition. It is not safe for concurrent use.
type State struct {
	cfg        Config
	out        Output
	procs      map[procKey]*proc
	last       *proc // the process last looked up: a batch's events are all of one process
	marks      marks // File and Container entities emitted
	seq        uint64
	now        int64                // ns, the last event's ts
	lastExpire int64                // s
	exited     exitQueue            // exited processes, earliest exit first
	tombs      exitQueue            // removed processes' entity tombstones, earliest due first
	tombAt     map[procKey]tombDue  // each pending tombstone
	dirty      map[procKey]struct{} // changed since the last Changes
	stats      Stats

	counts       map[countKey]*raw.Counts // capture counts since the last TakeCounts
	lastCount    *raw.Counts              // counts[lastCountKey]: a batch is of one exporter
	lastCountKey countKey
	countsFrom   int64 // the earliest hour in counts
	copyOfShared bool  // applying a notice batch another partition counts (ApplyCopy)
}

// New returns an empty State.
func New(cfg Config, out Output) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &State{
		cfg:    cfg,
		out:    out,
		procs:  map[procKey]*proc{},
		marks:  newMarks(cfg.MaxEntities),
		dirty:  map[procKey]struct{}{},
		tombAt: map[procKey]tombDue{},
	}, nil
}

// touch marks a process changed for the next checkpoint.
func (s *State) touch(k procKey) { s.dirty[k] = struct{}{} }

// dirtyKeys returns the changed processes' keys in a stable order.
func (s *State) dirtyKeys() []procKey {
	keys := make([]procKey, 0, len(s.dirty))
	for k := range s.dirty {
		keys = append(keys, k)
	}
	sortKeys(keys, func(a, b procKey) bool {
		if a.exporter != b.exporter {
			return a.exporter < b.exporter
		}
		if a.oid.HPID != b.oid.HPID {
			return a.oid.HPID < b.oid.HPID
		}
		return a.oid.CreateTS < b.oid.CreateTS
	})
	return keys
}

func sortKeys(keys []procKey, less func(a, b procKey) bool) {
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
}

// Stats returns the counters so far.
func (s *State) Stats() Stats { return s.stats }

// Processes returns the number of processes held.
func (s *State) Processes() int { return len(s.procs) }

// Flows returns the number of open file, network and process flows.
func (s *State) Flows() int {
	n := 0
	for _, p := range s.procs {
		n += len(p.files) + len(p.nets)
		if p.pflow != nil {
			n++
		}
	}
	return n
}

func (s *State) nextSeq() uint64 { s.seq++; return s.seq }

func (s *State) event(p *proc, rec sysflow.Record) {
	s.stats.EventRecords++
	s.out.Event(p.kafkaKey(), rec)
}

func (s *State) emitProcess(p *proc, state sysflow.ObjectState) {
	if p.container != nil {
		s.emitContainer(p.key.exporter, p.container)
	}
	e := p.entity
	e.State = state
	if e.POID != nil {
		poid := *e.POID
		e.POID = &poid
	}
	e.ContainerID = p.containerPtr()
	e.Env = append([]string{}, p.entity.Env...)
	s.stats.Entities++
	s.out.Entity(p.kafkaKey(), &e)
}

func (s *State) emitContainer(exporter string, c *raw.Container) {
	if c.ID == "" {
		return
	}
	key := sysflow.ContainerKey(exporter, c.ID)
	if e := s.marks.containerOfProcess(key, c); e != nil {
		s.stats.Entities++
		s.out.Entity([]byte(key), containerEntity(e))
	}
}

// containerNotice applies a producer's container notice: the partition reports the new
// metadata from now on, and emits it as a new version of the entity if it had emitted one.
func (s *State) containerNotice(exporter string, e *raw.Event) {
	if e.Proc == nil || e.Proc.Container == nil || e.Proc.Container.ID == "" {
		s.stats.Dropped++
		return
	}
	c := e.Proc.Container
	key := sysflow.ContainerKey(exporter, c.ID)
	if v := s.marks.containerNotice(key, c); v != nil {
		s.stats.Entities++
		s.out.Entity([]byte(key), containerEntity(v))
	}
}

// emitFile emits the File entity of path in p's container once per partition and returns
// its FOID.
func (s *State) emitFile(p *proc, path string, restype int32, state sysflow.ObjectState, ts int64) sysflow.FOID {
	foid := foidOf(p.containerID(), path)
	if p.expID == 0 {
		p.expID = s.marks.exporterID(p.key.exporter)
	}
	if !s.marks.markFile(fileMark{exp: p.expID, foid: foid}) {
		return foid
	}
	s.stats.Entities++
	s.out.Entity(foid.AppendKey(make([]byte, 0, len(p.key.exporter)+43), p.key.exporter), &sysflow.File{
		State: state, OID: foid, TS: ts, ResType: restype, Path: path, ContainerID: p.containerPtr(),
	})
	return foid
}

// Apply feeds one raw batch. It returns an error only for a batch that breaks the raw
// contract; such a batch changes nothing.
func (s *State) Apply(b *raw.Batch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	key := procKey{exporter: b.Exporter, oid: sysflow.OID{CreateTS: b.CreateTS, HPID: b.HPID}}
	if key.oid.HPID != 0 && len(b.Events) > 0 {
		s.touch(key)
	}
	for i := range b.Events {
		e := &b.Events[i]
		if e.TS > s.now {
			s.now = e.TS
		}
		s.expire(s.now)
		s.removeExited()
		if len(s.tombs) > 0 && s.tombs[0].at <= s.now {
			s.emitTombstones()
		}
		s.stats.Events++
		s.count(b.Exporter, e)
		if err := s.apply(key, e); err != nil {
			return fmt.Errorf("apply %s event %d: %w", e.Op, i, err)
		}
	}
	return nil
}

// lookup returns the process of key, creating it from attrs when it is unknown; a process
// created here with a state st != "" is touched (its entity emitted in state st at ts).
func (s *State) lookup(key procKey, ts int64, attrs *raw.Proc, st sysflow.ObjectState) *proc {
	if p := s.last; p != nil && p.key == key {
		p.lastSeen = s.now
		return p
	}
	if p, ok := s.procs[key]; ok {
		p.lastSeen = s.now
		s.last = p
		return p
	}
	if len(s.procs) >= s.cfg.MaxProcesses {
		s.evictOldest()
	}
	delete(s.tombAt, key) // back after its removal (a late event): no tombstone
	p := &proc{
		key:      key,
		seq:      s.nextSeq(),
		entity:   newProcEntity(key.oid, ts, attrs),
		fds:      map[int32]*fdInfo{},
		files:    map[fileKey]*fileFlow{},
		nets:     map[netKey]*netFlow{},
		lastSeen: s.now,
	}
	if attrs != nil {
		p.cwd = trimSlash(attrs.Cwd)
		if attrs.Container != nil && attrs.Container.ID != "" {
			c := *attrs.Container
			p.container = &c
		}
	} else {
		p.uncertain = true
	}
	s.procs[key] = p
	s.last = p
	if st != "" {
		s.admit(p, ts, st)
	}
	return p
}

// admit makes p part of the reference collector's process cache: the first event of a process
// that leads to a record emits its entity in state st with that event's ts (a process known
// only from a snapshot was emitted at the snapshot, as REUP, so that its descendants can
// reference it; this version carries the time the reference gives it).
func (s *State) admit(p *proc, ts int64, st sysflow.ObjectState) {
	if p.touched {
		return
	}
	p.touched = true
	p.entity.TS = ts
	s.emitProcess(p, st)
}

func trimSlash(d string) string {
	for len(d) > 1 && d[len(d)-1] == '/' {
		d = d[:len(d)-1]
	}
	return d
}

// evictOldest drops the least recently seen process: the cap protects against processes
// whose exit was lost.
func (s *State) evictOldest() {
	var victim *proc
	for _, p := range s.procs {
		if victim == nil || p.lastSeen < victim.lastSeen || (p.lastSeen == victim.lastSeen && p.seq < victim.seq) {
			victim = p
		}
	}
	if victim != nil {
		s.forget(victim.key)
		s.touch(victim.key)
		s.stats.Evicted++
	}
}

// forget removes the process of key.
func (s *State) forget(key procKey) {
	delete(s.procs, key)
	if s.last != nil && s.last.key == key {
		s.last = nil
	}
}

// removeExited drops processes whose exit is older than the grace period. The queue is
// ordered by exit time, so only due entries are looked at.
func (s *State) removeExited() {
	grace := s.cfg.ExitGrace.Nanoseconds()
	for len(s.exited) > 0 && s.now-s.exited[0].at >= grace {
		x := heap.Pop(&s.exited).(exitEntry)
		p, ok := s.procs[x.key]
		if !ok || p.exitTS != x.at { // gone, recreated, or exited again (a later entry)
			continue
		}
		s.forget(x.key)
		s.touch(x.key)
		s.stats.Removed++
		if ttl := s.cfg.EntityTombstoneAfter.Nanoseconds(); ttl > 0 {
			s.scheduleTombstone(x.key, x.at+ttl, p.seq)
		}
	}
}

// tombDue is when a pending tombstone is due (ns) and its process's creation seq.
type tombDue struct {
	at  int64
	seq uint64
}

// scheduleTombstone makes the entity of a removed process due for deletion at (ns).
func (s *State) scheduleTombstone(key procKey, at int64, seq uint64) {
	for len(s.tombAt) >= s.cfg.MaxEntities && len(s.tombs) > 0 {
		x := heap.Pop(&s.tombs).(exitEntry)
		if t, ok := s.tombAt[x.key]; ok && t.at == x.at {
			delete(s.tombAt, x.key)
			s.touch(x.key) // its changelog key goes
			s.stats.TombstonesForgotten++
		}
	}
	s.tombAt[key] = tombDue{at, seq}
	heap.Push(&s.tombs, exitEntry{at: at, seq: seq, key: key})
}

// emitTombstones deletes the entities of removed processes whose tombstone is due.
func (s *State) emitTombstones() {
	for len(s.tombs) > 0 && s.tombs[0].at <= s.now {
		x := heap.Pop(&s.tombs).(exitEntry)
		if t, ok := s.tombAt[x.key]; !ok || t.at != x.at {
			continue // the process came back, or this entry is stale
		}
		delete(s.tombAt, x.key)
		s.touch(x.key)
		s.stats.Tombstones++
		s.out.Entity(x.key.kafkaKey(), nil)
	}
}

// exitEntry is a process's exit in the removal queue.
type exitEntry struct {
	at  int64 // exit ts
	seq uint64
	key procKey
}

// exitQueue is a min-heap of exits by time, then process creation order.
type exitQueue []exitEntry

func (q exitQueue) Len() int { return len(q) }
func (q exitQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q exitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *exitQueue) Push(x any)   { *q = append(*q, x.(exitEntry)) }
func (q *exitQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// sortedProcs returns the processes in creation order.
func (s *State) sortedProcs() []*proc {
	ps := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].seq < ps[j].seq })
	return ps
}

// End truncates every open flow of exporter's processes at ts, as the reference does when its
// capture ends: for each process, network flows, then file flows, then the process flow. The
// read-mode filter is not applied here, as in the reference.
func (s *State) End(exporter string, ts int64) {
	for _, p := range s.sortedProcs() {
		if p.key.exporter != exporter {
			continue
		}
		s.touch(p.key)
		if len(p.files) > 0 || len(p.nets) > 0 || p.pflow != nil {
			s.admit(p, ts, sysflow.StateReup)
		}
		for _, k := range sortedNets(p) {
			f := p.nets[k]
			f.rec.OpFlags |= opTruncate
			f.rec.EndTS = ts
			s.emitNetFlow(p, f)
		}
		for _, k := range sortedFiles(p) {
			f := p.files[k]
			f.rec.OpFlags |= opTruncate
			f.rec.EndTS = ts
			s.emitFileFlow(p, f, false)
		}
		if pf := p.pflow; pf != nil {
			pf.rec.OpFlags |= opTruncate
			pf.rec.EndTS = ts
			if writable(pf.rec.OpFlags) {
				rec := pf.rec
				s.event(p, &rec)
			}
		}
		p.files = map[fileKey]*fileFlow{}
		p.nets = map[netKey]*netFlow{}
		p.pflow = nil
	}
}
