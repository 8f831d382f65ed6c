package synthetic

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
)

// Defaults of Config fields left at their zero value.
const (
	DefaultExporter      = "bench-node"
	DefaultSeed          = 1
	DefaultBatchSize     = 512                   // producer/capture's MaxBatchEvents
	DefaultFlushInterval = 50 * time.Millisecond // producer/capture's FlushInterval
	DefaultRate          = 500_000               // events per second of event time
	// DefaultStart is the first event's time: 2025-01-01T00:00:00Z, the start of an hour so
	// that a run of less than an hour of event time stays in one archive hour.
	DefaultStart = int64(1_735_689_600) * int64(time.Second)
)

// Config configures a Generator. The zero value of every field but Profile means its
// documented default.
type Config struct {
	// Profile is the workload. Required.
	Profile *Profile
	// Exporter is the node id written in every batch. Default DefaultExporter.
	Exporter string
	// Processes is the number of simulated processes. Default Profile.Processes.
	Processes int
	// Seed makes the output: the same Config gives the same batches. Default 1.
	Seed uint64
	// BatchSize is the most events of one batch (the producer's MaxBatchEvents). Default 512.
	BatchSize int
	// FlushInterval flushes every pending batch at least this often, in event time, as the
	// producer does in wall time. Default 50ms.
	FlushInterval time.Duration
	// Rate is the event rate in events per second. It spaces the timestamps of the virtual
	// clock and, with Pace, is the wall-clock rate Next keeps to. Default 500000.
	Rate float64
	// Pace makes Next wait so that events are generated at Rate in wall time, and stamps
	// them with Clock instead of the virtual clock. Default off: as fast as possible.
	Pace bool
	// Clock returns the time in ns since the epoch, for paced runs. Default time.Now.
	Clock func() int64
	// Start is the timestamp of the first event of an unpaced run. Default DefaultStart.
	Start int64
}

func (c Config) withDefaults() Config {
	if c.Exporter == "" {
		c.Exporter = DefaultExporter
	}
	if c.Processes == 0 && c.Profile != nil {
		c.Processes = c.Profile.Processes
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Clock == nil {
		c.Clock = func() int64 { return time.Now().UnixNano() }
	}
	if c.Start == 0 {
		c.Start = DefaultStart
	}
	return c
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Profile == nil {
		errs = append(errs, errors.New("no profile"))
	}
	if c.Processes < 1 {
		errs = append(errs, fmt.Errorf("processes %d: want >= 1", c.Processes))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("batch size %d: want >= 1", c.BatchSize))
	}
	if c.FlushInterval < 0 {
		errs = append(errs, fmt.Errorf("flush interval %s: want >= 0", c.FlushInterval))
	}
	if c.Rate <= 0 {
		errs = append(errs, fmt.Errorf("rate %g: want > 0", c.Rate))
	}
	if len(errs) > 0 {
		return fmt.Errorf("generator config: %w", errors.Join(errs...))
	}
	return nil
}

// Generator produces an endless stream of raw batches for a profile, batched as the producer
// batches: per process, flushed at BatchSize events, and every pending batch flushed each
// FlushInterval of event time (in process order, where the producer's order is a map's).
// Processes that exit are replaced, so the stream never ends. Unpaced, the output is a pure
// function of the Config. A Generator is not safe for concurrent use.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	workers []worker
	site    *site // the httpd profile's content, shared by its workers

	now       int64 // ts of the last event
	step      float64
	virtual   float64 // virtual clock, ns, fractional
	nextFlush int64
	nextPID   int64

	pending []*simProc // processes with a pending batch, in the order their batch started
	ready   []*raw.Batch

	started time.Time // wall time of the first paced step
	events  int64     // events generated (pending or returned)
	batches int64
}

// New returns a generator. The /proc-snapshot records of the initial processes come first.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Generator{
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5f5f_a11c_e5_5eed)),
		step:    1e9 / cfg.Rate,
		nextPID: 20_000,
	}
	start := cfg.Start
	if cfg.Pace {
		start = cfg.Clock()
	}
	g.virtual = float64(start)
	g.now = start - 1
	g.nextFlush = start + cfg.FlushInterval.Nanoseconds()
	for i := 0; i < cfg.Processes; i++ {
		g.workers = append(g.workers, cfg.Profile.newWorker(g, i))
	}
	g.flushAll() // the snapshot records, one batch per process, as the producer sends them
	return g, nil
}

// Config returns the generator's configuration with defaults applied.
func (g *Generator) Config() Config { return g.cfg }

// Events returns the number of events generated so far (returned or pending).
func (g *Generator) Events() int64 { return g.events }

// Next returns the next batch. Paced, it waits until the schedule allows the next events,
// and returns ctx's error if ctx ends first; unpaced it never fails.
func (g *Generator) Next(ctx context.Context) (*raw.Batch, error) {
	for len(g.ready) == 0 {
		if g.cfg.Pace {
			if err := g.wait(ctx); err != nil {
				return nil, err
			}
		}
		g.workers[g.rng.IntN(len(g.workers))].step(g)
		if g.now >= g.nextFlush {
			g.flushAll()
			g.nextFlush = g.now + g.cfg.FlushInterval.Nanoseconds()
		}
	}
	b := g.ready[0]
	g.ready[0] = nil
	g.ready = g.ready[1:]
	g.batches++
	return b, nil
}

// Drain returns every batch generated but not yet returned, the pending ones included, as
// a producer flushes when it stops. It generates nothing new.
func (g *Generator) Drain() []*raw.Batch {
	g.flushAll()
	out := g.ready
	g.ready = nil
	g.batches += int64(len(out))
	return out
}

// Batches returns at least n events' worth of batches from an unpaced generator: a
// convenience for tests and in-memory benchmarks.
func (g *Generator) Batches(n int64) []*raw.Batch {
	var out []*raw.Batch
	var got int64
	for got < n {
		b, _ := g.Next(context.Background())
		out = append(out, b)
		got += int64(len(b.Events))
	}
	return out
}

// wait sleeps until the wall clock reaches the time at which the events generated so far
// are due at Rate. Sleeps shorter than a millisecond are skipped (the next step catches up).
func (g *Generator) wait(ctx context.Context) error {
	if g.started.IsZero() {
		g.started = time.Now()
	}
	due := g.started.Add(time.Duration(float64(g.events) * g.step))
	d := time.Until(due)
	if d < time.Millisecond {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tick returns the timestamp of the next event: the virtual clock, or the paced clock, never
// going backwards.
func (g *Generator) tick() int64 {
	var ts int64
	if g.cfg.Pace {
		ts = g.cfg.Clock()
	} else {
		g.virtual += g.step
		ts = int64(g.virtual)
	}
	if ts <= g.now {
		ts = g.now + 1
	}
	g.now = ts
	return ts
}

// emit stamps e with the next timestamp and appends it to p's pending batch.
func (g *Generator) emit(p *simProc, e raw.Event) {
	e.TS = g.tick()
	if e.TID == 0 {
		e.TID = p.hpid
	}
	if p.batch == nil {
		p.batch = &raw.Batch{Exporter: g.cfg.Exporter, HPID: p.hpid, CreateTS: p.cts, Events: make([]raw.Event, 0, 16)}
		g.pending = append(g.pending, p)
	}
	p.batch.Events = append(p.batch.Events, e)
	g.events++
	if len(p.batch.Events) >= g.cfg.BatchSize {
		g.flush(p)
	}
}

func (g *Generator) flush(p *simProc) {
	if p.batch == nil {
		return
	}
	g.ready = append(g.ready, p.batch)
	p.batch = nil
	for i, q := range g.pending {
		if q == p {
			g.pending = append(g.pending[:i], g.pending[i+1:]...)
			break
		}
	}
}

func (g *Generator) flushAll() {
	for _, p := range g.pending {
		g.ready = append(g.ready, p.batch)
		p.batch = nil
	}
	g.pending = g.pending[:0]
}

// newPID returns a fresh host pid, wrapping at the kernel's default pid_max.
func (g *Generator) newPID() int64 {
	pid := g.nextPID
	g.nextPID++
	if g.nextPID >= 4_194_304 {
		g.nextPID = 300
	}
	return pid
}

// bootTime returns a createTS for a process started before the capture: up to a day before
// the first event, in the 10 ms ticks of /proc.
func (g *Generator) bootTime() int64 {
	const tick = int64(10 * time.Millisecond)
	back := g.rng.Int64N(int64(24*time.Hour)/tick) * tick
	return (g.now+1)/tick*tick - back
}

// intIn returns a uniform integer in [lo, hi].
func (g *Generator) intIn(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// chance reports true with probability p.
func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }
