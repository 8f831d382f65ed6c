package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// Option configures a Source.
type Option func(*config)

type config struct {
	exporter  string
	pace      bool
	batchSize int
	sleep     func(ctx context.Context, d time.Duration) error // for tests; default sleepCtx
	now       func() time.Time
}

// DefaultBatchSize is the default maximum number of events per batch.
const DefaultBatchSize = 256

// WithExporter sets the exporter id written into every batch. Default: the hostname in the
// capture's machine info block (what the reference collector uses offline), or this host's
// name when the capture has none. The reference outputs were made with "tests".
func WithExporter(id string) Option { return func(c *config) { c.exporter = id } }

// WithPace replays events at the speed they were captured, sleeping for the gaps between
// their timestamps (timestamps of 0 and backward steps are not waited for). Default false:
// as fast as the emit function takes batches.
func WithPace(on bool) Option { return func(c *config) { c.pace = on } }

// WithBatchSize sets the maximum number of events per batch (default DefaultBatchSize).
// Consecutive events of one process share a batch; a batch is emitted when the next event
// belongs to another process, when it is full, before a paced wait and at the end.
func WithBatchSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.batchSize = n
		}
	}
}

// Stats counts what a Run did.
type Stats struct {
	Events    int // event blocks read
	Emitted   int // raw events emitted (snapshots and end notices included)
	Batches   int // batches emitted
	Unpaired  int // exits that needed a parameter of their missing enter event (left unknown)
	Snapshots int // snapshot records emitted
	Invalid   int // events skipped for impossible values (a timestamp beyond int64 ns, a negative pid)
}

// Source replays one .scap capture as raw batches. It is not safe for concurrent use, and
// Run may be called once.
type Source struct {
	cfg    config
	name   string
	closer io.Closer
	rd     *scap.Reader

	tab        *table
	users      *users
	containers map[string]*raw.Container // from container JSON events
	cgroupCtrs map[string]*raw.Container // ids seen only in cgroups
	enters     map[int64]*savedEnter     // last enter event per thread, awaiting its exit
	callers    map[int64]cloneCaller     // clone callers by child tid, until the child's exit
	hostname   string                    // from the machine info block

	out         batcher
	snapPending bool
	firstTS     int64 // first non-zero event ts: snapshot records' ts
	lastTS      int64 // last non-zero event ts: the end notice's ts
	paceBase    int64
	paceStart   time.Time
	stats       Stats
	ran         bool
}

// Open opens a capture file (plain or gzip) and checks its header.
func Open(path string, opts ...Option) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	s, err := newSource(f, path, opts)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	s.closer = f
	return s, nil
}

// NewSource replays a capture read from r (plain or gzip). The caller closes r.
func NewSource(r io.Reader, opts ...Option) (*Source, error) {
	return newSource(r, "capture", opts)
}

func newSource(r io.Reader, name string, opts []Option) (*Source, error) {
	cfg := config{batchSize: DefaultBatchSize, sleep: sleepCtx, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	rd, err := scap.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read capture %s: %w", name, err)
	}
	return &Source{
		cfg: cfg, name: name, rd: rd,
		tab: newTable(), users: newUsers(),
		containers: map[string]*raw.Container{}, cgroupCtrs: map[string]*raw.Container{},
		enters: map[int64]*savedEnter{}, callers: map[int64]cloneCaller{},
	}, nil
}

// Close releases the capture file; Run closes it too.
func (s *Source) Close() error {
	if s.closer == nil {
		return nil
	}
	c := s.closer
	s.closer = nil
	if err := c.Close(); err != nil {
		return fmt.Errorf("close capture: %w", err)
	}
	return nil
}

// Stats returns the counters of the last Run.
func (s *Source) Stats() Stats { return s.stats }

// Run reads the whole capture and hands its raw batches to emit, in order: first one
// OpSnapshot record per thread of the capture's process list, then the syscall events, then
// one OpEnd notice (in a batch of its own, hpid 0). emit owns the batches it is given. Run
// stops at the first error of emit, of the capture (a *scap.FormatError, after emitting
// everything decoded before it) or of ctx.
func (s *Source) Run(ctx context.Context, emit func(raw.Batch) error) (err error) {
	if s.ran {
		return errors.New("replay: Run called twice")
	}
	s.ran = true
	defer func() { err = errors.Join(err, s.Close()) }()
	s.out = batcher{size: s.cfg.batchSize, emit: emit, stats: &s.stats}
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return errors.Join(ctx.Err(), s.flushAll())
		}
		b, err := s.rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errors.Join(fmt.Errorf("replay %s: %w", s.name, err), s.flushAll())
		}
		if err := s.block(ctx, b); err != nil {
			return err
		}
	}
	if err := s.emitSnapshots(); err != nil {
		return err
	}
	// The end notice concerns the whole exporter: a batch of its own with hpid 0, which sinks
	// send to every partition.
	if err := s.emitEvent(ctx, nil, raw.NewEvent(raw.OpEnd, s.lastTS, 0)); err != nil {
		return err
	}
	return s.out.flush()
}

func (s *Source) flushAll() error {
	if err := s.emitSnapshots(); err != nil {
		return err
	}
	return s.out.flush()
}

func (s *Source) block(ctx context.Context, b scap.Block) error {
	switch b := b.(type) {
	case *scap.Event:
		s.stats.Events++
		if int64(b.TS) < 0 { // beyond the year 2262: a damaged event
			s.stats.Invalid++
			return nil
		}
		if b.TS != 0 {
			ts := int64(b.TS)
			if s.firstTS == 0 {
				s.firstTS = ts
			}
			s.lastTS = ts
		}
		return s.event(ctx, b)
	case *scap.MachineInfo:
		s.hostname = b.Hostname
	case *scap.UserList:
		s.users.load(b)
	case *scap.ProcessList:
		s.tab.loadProcessList(b)
		s.snapPending = true
	case *scap.FDList:
		s.tab.loadFDList(b)
	}
	return nil
}

// exporter resolves the exporter id at the first batch.
func (s *Source) exporter() string {
	switch {
	case s.cfg.exporter != "":
		return s.cfg.exporter
	case s.hostname != "":
		return s.hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// emitEvent queues one live event of process p (nil for an exporter-wide notice), after the
// pending snapshot records and, when pacing, after the capture's time gap.
func (s *Source) emitEvent(ctx context.Context, p *process, ev raw.Event) error {
	if s.snapPending {
		if err := s.emitSnapshots(); err != nil {
			return err
		}
	}
	if s.cfg.pace && ev.TS > 0 {
		if err := s.pace(ctx, ev.TS); err != nil {
			return err
		}
	}
	if s.out.exporter == "" {
		s.out.exporter = s.exporter()
	}
	if p == nil { // a notice
		return s.out.add(0, 0, ev)
	}
	if p.attrsPending {
		p.attrsPending = false
		if ev.Proc == nil {
			ev.Proc = s.proc(p)
		}
	}
	return s.out.add(p.pid, p.createTS, ev)
}

func (s *Source) pace(ctx context.Context, ts int64) error {
	if s.paceBase == 0 || ts < s.paceBase {
		s.paceBase, s.paceStart = ts, s.cfg.now()
		return nil
	}
	wait := s.paceStart.Add(time.Duration(ts - s.paceBase)).Sub(s.cfg.now())
	if wait <= time.Millisecond {
		return nil
	}
	if err := s.out.flush(); err != nil {
		return err
	}
	return s.cfg.sleep(ctx, wait)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// emitSnapshots emits the process list as OpSnapshot records: per process, its main
// thread (with the fd table) and then its other threads.
func (s *Source) emitSnapshots() error {
	if !s.snapPending {
		return nil
	}
	s.snapPending = false
	if s.out.exporter == "" {
		s.out.exporter = s.exporter()
	}
	for _, p := range s.tab.order {
		ev := raw.NewEvent(raw.OpSnapshot, s.firstTS, p.pid)
		ev.Proc, ev.FDs = s.listProc(p), p.snapFDs
		if err := s.out.add(p.pid, p.createTS, ev); err != nil {
			return err
		}
		for _, th := range p.threads {
			ev := raw.NewEvent(raw.OpSnapshot, s.firstTS, th.tid)
			ev.Proc = s.listProc(p)
			if err := s.out.add(p.pid, p.createTS, ev); err != nil {
				return err
			}
		}
		s.stats.Snapshots += 1 + len(p.threads)
	}
	return nil
}

// listProc returns the attributes of a process of the capture's process list. Offline, the
// reference collector names only root among them ("root"), every other user and group "<NA>"
// (observed in every reference capture with a non-root process list entry: tcp-client-server,
// files, filesat); processes created or changed during the capture get their names from the
// user list as usual.
func (s *Source) listProc(p *process) *raw.Proc {
	pr := s.proc(p)
	pr.UserName, pr.GroupName = listName(pr.UID), listName(pr.GID)
	return pr
}

func listName(id int32) string {
	if id == 0 {
		return "root"
	}
	return "<NA>"
}

// proc returns p's attributes as a raw.Proc.
func (s *Source) proc(p *process) *raw.Proc {
	user, group := s.users.names(p.container, p.uid, p.gid)
	return &raw.Proc{
		PPID: p.ppid, PCreateTS: p.pcreateTS, Exe: p.exe, Args: p.args, Comm: p.comm,
		Cwd: p.cwd, Env: p.env, UID: p.uid, GID: p.gid, UserName: user, GroupName: group,
		TTY: p.tty, VPID: p.vpid, Container: s.container(p),
	}
}

func (s *Source) container(p *process) *raw.Container {
	if p.container == "" {
		return nil
	}
	if c := s.containers[p.container]; c != nil {
		return c
	}
	c := s.cgroupCtrs[p.container]
	if c == nil {
		c = &raw.Container{ID: p.container, Runtime: p.runtime}
		s.cgroupCtrs[p.container] = c
	}
	return c
}

// batcher groups consecutive events of one process.
type batcher struct {
	exporter string
	size     int
	cur      raw.Batch
	emit     func(raw.Batch) error
	stats    *Stats
}

func (b *batcher) add(hpid, createTS int64, ev raw.Event) error {
	if !plausible(hpid, createTS, &ev) {
		// A corrupt capture can carry ids or times no kernel gives (negative pids, times past
		// 2262): such events are dropped and counted, never sent.
		b.stats.Invalid++
		return nil
	}
	if n := len(b.cur.Events); n > 0 && (n >= b.size || b.cur.HPID != hpid || b.cur.CreateTS != createTS) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if len(b.cur.Events) == 0 {
		b.cur = raw.Batch{Exporter: b.exporter, HPID: hpid, CreateTS: createTS, Events: make([]raw.Event, 0, min(b.size, 8))}
	}
	b.cur.Events = append(b.cur.Events, ev)
	return nil
}

// plausible reports whether an event can be a raw record: non-negative ids and times, and a
// process unless it is a drop or end notice.
func plausible(hpid, createTS int64, ev *raw.Event) bool {
	if hpid < 0 || createTS < 0 || ev.TS < 0 || ev.TID < 0 {
		return false
	}
	return hpid > 0 || ev.Op == raw.OpDrop || ev.Op == raw.OpEnd
}

func (b *batcher) flush() error {
	if len(b.cur.Events) == 0 {
		return nil
	}
	batch := b.cur
	b.cur = raw.Batch{}
	b.stats.Batches++
	b.stats.Emitted += len(batch.Events)
	if err := b.emit(batch); err != nil {
		return fmt.Errorf("emit batch: %w", err)
	}
	return nil
}
