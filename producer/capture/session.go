package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sfstream/sfstream/bpf"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/containers"
	"github.com/sfstream/sfstream/producer/procfs"
)

// sweepInterval is how often processes whose exit was lost are dropped from the table.
const sweepInterval = 30 * time.Second

// session is the state of one Run, owned by Run's goroutine.
type session struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	clock   procfs.Clock
	probe   *bpf.Probe
	q       *queue
	fs      *procfs.FS
	b       *batcher
	conv    converter
	ctrs    *containers.Cache

	host     *procfs.Accounts
	accounts map[string]*procfs.Accounts // by container id
	excluded map[int64]bool              // pids never snapshotted: self and ExcludePIDs
	self     int64

	filter              *processFilter
	filtered            map[int64]excludedProc // processes the filter excluded, by hpid
	kernelFilterFailed  bool                   // logged once
	userSpaceFilterOnly bool
	rec                 bpf.Record

	lastLost, lastDropped uint64
	// lostAhead is how many ring-buffer losses were announced for processes before the
	// kernel's total counted them: the per-process table is read after the total, so losses
	// between the two reads are in the table now and in the total at the next read.
	lostAhead uint64
}

func newSession(c *Capture, clock procfs.Clock, probe *bpf.Probe, q *queue, ctrs *containers.Cache, emit func(raw.Batch) error) *session {
	s := &session{
		cfg: c.cfg, log: c.log, metrics: c.metrics, clock: clock, probe: probe, q: q, ctrs: ctrs,
		fs:       procfs.New(clock, procfs.WithProcRoot(c.cfg.ProcRoot)),
		b:        newBatcher(c.cfg.Exporter, c.cfg.MaxBatchEvents, emit),
		accounts: map[string]*procfs.Accounts{},
		excluded: map[int64]bool{},
		self:     int64(os.Getpid()),
		filter:   c.filter,
		filtered: map[int64]excludedProc{},
		// Noting a process as in the kernel's filter without putting it there filters in
		// user space only.
		userSpaceFilterOnly: c.userSpaceFilterOnly,
	}
	s.excluded[s.self] = true
	for _, pid := range c.cfg.ExcludePIDs {
		s.excluded[int64(pid)] = true
	}
	s.conv = converter{clock: clock, table: procs{}, names: s.names, lookup: s.lookup, containers: ctrs.Get}
	return s
}

func (s *session) run(ctx context.Context) error {
	var err error
	if s.host, err = procfs.LoadAccounts("/"); err != nil {
		return err
	}
	if err := s.snapshot(); err != nil {
		return err
	}
	flush := time.NewTicker(s.cfg.FlushInterval)
	defer flush.Stop()
	drops := time.NewTicker(s.cfg.DropPollInterval)
	defer drops.Stop()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.finish()
		case <-s.q.done: // the drainer failed; Run reports its error
			return s.finish()
		case c := <-s.q.full:
			err := s.convertChunk(c)
			s.q.recycle(c)
			if err != nil {
				return err
			}
		case a := <-s.ctrs.Answers():
			if err := s.containerAnswer(a); err != nil {
				return err
			}
		case now := <-flush.C:
			s.ctrs.Tick(now)
			s.metrics.publish()
			if err := s.b.flushAll(); err != nil {
				return err
			}
		case <-drops.C:
			if err := s.announceDrops(); err != nil {
				return err
			}
		case <-sweep.C:
			s.sweep()
		}
	}
}

// finish announces the last losses and flushes what is pending.
func (s *session) finish() error {
	err := s.announceDrops()
	if err == nil && s.lostAhead > 0 {
		// Losses were announced ahead of the total: read it once more, it counts them now.
		err = s.announceDrops()
	}
	s.metrics.publish()
	return errors.Join(err, s.b.flushAll())
}

func (s *session) convertChunk(c *chunk) error {
	for i := range c.records() {
		if err := bpf.Decode(c.record(i), &s.rec); err != nil {
			s.metrics.decodeErrors.Inc()
			continue
		}
		hpid, createTS, ev, err := s.conv.convert(&s.rec)
		if err != nil {
			return err
		}
		if s.filter.active() && !s.filterEvent(&s.rec, hpid, createTS, &ev) {
			continue
		}
		s.metrics.count(ev.Op)
		if err := s.b.add(hpid, createTS, ev); err != nil {
			return err
		}
	}
	return nil
}

// snapshot emits every process in /proc, then fills the process table with them.
func (s *session) snapshot() error {
	now := time.Now().UnixNano()
	n := 0
	err := s.fs.Walk(func(p *procfs.Process) error {
		if s.excluded[p.PID] || s.excludedComm(p.Proc.Comm) {
			return nil
		}
		n++
		return s.addSnapshot(p, now)
	})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := s.b.flushAll(); err != nil {
		return err
	}
	s.log.Info("snapshot emitted", keyProcs, n)
	return nil
}

func (s *session) excludedComm(comm string) bool {
	for _, c := range s.cfg.ExcludeComms {
		if c == comm {
			return true
		}
	}
	return false
}

// addSnapshot queues a process's snapshot events (the process, then each thread) and records
// the process in the table.
func (s *session) addSnapshot(p *procfs.Process, ts int64) error {
	info := p.Proc
	info.Container = s.ctrs.Get(info.Container, info.VPID, p.CreateTS)
	s.conv.table[p.PID] = &procEntry{createTS: p.CreateTS, info: &info}
	if info.Container != nil {
		if _, ok := s.accounts[info.Container.ID]; !ok {
			s.accounts[info.Container.ID] = s.fs.AccountsOf(p.PID)
		}
	}
	ev := raw.NewEvent(raw.OpSnapshot, ts, p.PID)
	ev.Proc, ev.FDs = &info, p.FDs
	excluded := s.filter.active() && s.judge(p.PID, p.CreateTS, &info, false)
	if excluded {
		ev.FDs = nil // described for its descendants' ancestry, nothing more
	}
	s.metrics.count(raw.OpSnapshot)
	if err := s.b.add(p.PID, p.CreateTS, ev); err != nil {
		return err
	}
	if excluded {
		return nil
	}
	for _, tid := range p.Threads {
		ev := raw.NewEvent(raw.OpSnapshot, ts, tid)
		ev.Proc = &info
		s.metrics.count(raw.OpSnapshot)
		if err := s.b.add(p.PID, p.CreateTS, ev); err != nil {
			return err
		}
	}
	return nil
}

// lookup is the converter's fallback for a process the table does not know (its clone was
// lost, or it started between attach and the snapshot and exited): read it from /proc once and
// emit its snapshot; a process that is gone is remembered by OID only.
func (s *session) lookup(hpid, createTS int64) (*procEntry, error) {
	p, err := s.fs.Process(hpid)
	if err != nil || p.CreateTS != createTS {
		return &procEntry{createTS: createTS}, nil
	}
	if err := s.addSnapshot(p, time.Now().UnixNano()); err != nil {
		return nil, err
	}
	return s.conv.table[hpid], nil
}

// containerAnswer applies a metadata lookup's outcome. When it changes a container, the
// processes of the table that are in it carry the new metadata from now on, and a container
// notice tells every partition (the processors emit a new version of the Container entity).
func (s *session) containerAnswer(a containers.Answer) error {
	c, changed := s.ctrs.Apply(a)
	if !changed {
		return nil
	}
	for pid, e := range s.conv.table {
		if e.info != nil && e.info.Container != nil && e.info.Container.ID == c.ID && e.info.Container != c {
			p := *e.info
			p.Container = c
			s.conv.table[pid] = &procEntry{createTS: e.createTS, info: &p}
			if s.filter.active() {
				_, was := s.excludedProc(pid, e.createTS)
				s.judge(pid, e.createTS, &p, !was)
			}
		}
	}
	// Every batch captured before the answer goes first, so that in each partition the events
	// that carried the old metadata precede the notice, and the notice goes at once.
	if err := s.b.flushAll(); err != nil {
		return err
	}
	ev := raw.NewEvent(raw.OpContainer, time.Now().UnixNano(), 0)
	ev.Proc = &raw.Proc{Args: []string{}, Env: []string{}, Container: c}
	s.metrics.count(raw.OpContainer)
	if err := s.b.add(0, 0, ev); err != nil {
		return err
	}
	return s.b.flushAll()
}

// names returns the user tables for a process: the host's, or its container's (read through
// /proc/<pid>/root the first time the container is seen).
func (s *session) names(hpid int64, c *raw.Container) *procfs.Accounts {
	if c == nil {
		return s.host
	}
	if a, ok := s.accounts[c.ID]; ok {
		return a
	}
	a := s.fs.AccountsOf(hpid)
	s.accounts[c.ID] = a
	return a
}

// announceDrops reads the kernel's and the queue's losses, counts them and tells each affected
// process's consumers with an OpDrop event; losses not attributed to a process are announced
// in the producer's own batch.
func (s *session) announceDrops() error {
	perCPU, err := s.probe.Lost()
	if err != nil {
		return err
	}
	var total uint64
	for _, n := range perCPU {
		total += n
	}
	ringDelta := total - s.lastLost
	s.lastLost = total
	type loss struct {
		key lostKey
		n   uint64
	}
	var losses []loss
	if ringDelta > 0 {
		s.metrics.ringLost.Add(float64(ringDelta))
		var attributed uint64
		err := s.probe.DrainLostByProcess(func(tgid uint32, start, n uint64) {
			attributed += n
			losses = append(losses, loss{lostKey{tgid, start}, n})
		})
		if err != nil {
			return err
		}
		// Announce exactly what the total counts, over time: the remainder unattributed,
		// less what was announced ahead of it.
		if covered := attributed + s.lostAhead; ringDelta > covered {
			losses = append(losses, loss{lostKey{}, ringDelta - covered})
			s.lostAhead = 0
		} else {
			s.lostAhead = covered - ringDelta
		}
	}
	dropped := s.q.dropped.Load()
	queueDelta := dropped - s.lastDropped
	s.lastDropped = dropped
	if queueDelta > 0 {
		s.metrics.queueDropped.Add(float64(queueDelta))
		for k, n := range s.q.takeDrops() {
			losses = append(losses, loss{k, n})
		}
	}
	if len(losses) == 0 {
		return nil
	}
	s.log.Warn("capture lost events", keyRingLost, ringDelta, keyQueueDropped, queueDelta, keyProcs, len(losses))
	now := time.Now().UnixNano()
	for _, l := range losses {
		hpid, createTS := int64(l.key.tgid), s.clock.CreateTS(l.key.start)
		if l.key.tgid == 0 {
			if hpid, createTS, err = s.selfOID(); err != nil {
				return err
			}
		}
		ev := raw.NewEvent(raw.OpDrop, now, hpid)
		ev.Ret = int64(l.n)
		s.metrics.count(raw.OpDrop)
		if err := s.b.add(hpid, createTS, ev); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) selfOID() (int64, int64, error) {
	ts, err := s.fs.CreateTS(s.self)
	if err != nil {
		return 0, 0, fmt.Errorf("announce losses: %w", err)
	}
	return s.self, ts, nil
}

// sweep forgets processes that no longer exist (their exit record was lost).
func (s *session) sweep() {
	before := len(s.conv.table)
	for pid := range s.conv.table {
		if _, err := os.Stat(filepath.Join(s.cfg.ProcRoot, strconv.FormatInt(pid, 10))); errors.Is(err, os.ErrNotExist) {
			delete(s.conv.table, pid)
		}
	}
	for pid, x := range s.filtered {
		if _, ok := s.conv.table[pid]; !ok {
			s.readmit(pid, x)
		}
	}
	if n := before - len(s.conv.table); n > 0 {
		s.log.Debug("process table swept", keyCount, n)
	}
}
