// Package capture is the producer's live source: it loads the eBPF programs of package bpf,
// snapshots /proc, and turns kernel records into raw batches (internal/raw), one process per
// batch.
//
// Data path and ownership:
//
//	kernel ring buffer ─▶ drainer goroutine ─▶ bounded queue (chunks of records) ─▶ Run's goroutine:
//	   decode, convert, process table, per-process batches ─▶ emit
//
// The drainer never waits for the rest: when the queue is full it drops the chunk and counts
// it, so the kernel is never blocked. Losses (ring buffer reserve failures, per CPU and per
// process, and queue drops) are counted in metrics and announced downstream as raw.OpDrop
// events in the affected processes' batches; losses that cannot be attributed go in a batch of
// the producer's own process.
//
// Invariants:
//   - Run emits the /proc snapshot (raw.OpSnapshot, one event per process and thread, each with
//     the process's Proc; the fd table, which threads share, is on the process's event) before
//     any live event; live events of one process are emitted in kernel order;
//   - a batch holds events of one OID (hpid, createTS); createTS follows the procfs.Clock rule,
//     the same for the snapshot and the eBPF path;
//   - the events of a clone child and of an exec carry the process's attributes (raw.Proc),
//     because the processor that owns the child's partition cannot see its parent's state;
//   - every goroutine Run starts has ended when Run returns.
//
// Container metadata (name, image, ...) comes from the container runtime through a
// containers.Cache that never makes Run wait: a process's container is reported as the cgroup
// path gives it until the runtime has answered, and when an answer changes a container Run
// sends a raw.OpContainer notice (to every partition) and reports the new metadata from then
// on, also for the processes it already knows.
//
// # Filters
//
// Config.Filter (--filter) and Config.ContainersOnly (--containers-only) say which processes
// are captured, in the reference collector's syntax, compiled by package sfql (the project's
// one condition language, with its glob operator): fields container.id, container.name,
// container.image, container.type (docker, cri, containerd, cri-o, ... or host; a process
// outside a container has id, name and type "host" and an empty image, as in sysdig),
// proc.name (the comm), proc.exe, proc.args, proc.pid (host pid), proc.aname (any ancestor's
// name; proc.aname[n] the nth, 0 being the process), user.name and fd.name (which a process
// does not have: it is judged as a missing field); operators =, !=, in, contains,
// startswith, glob, exists (and sfql's others); and, or, not, parentheses.
//
// The filter is judged per process when its identity changes, not per event: at the
// snapshot, at a clone (the child), at an exec, and when the runtime's answer changes the
// container of its processes. A process excluded from its start is described once, by a
// raw.OpSnapshot of its attributes (so that its descendants' ancestry resolves, as the
// reference writes the ancestors of what it captures), and nothing else of it is sent. A
// captured process that is then excluded (an exec into an excluded binary, a container whose
// name becomes known) is sent up to and including that exec, and its last exit, so that
// processors close it; nothing in between. An excluded process that an exec makes included
// is captured again from that exec on. A process known by its OID only (gone before /proc
// could be read) is excluded by any filter: nothing says that it matches. Events of an excluded process are dropped in user
// space until its first one has arrived; from then on the kernel keeps them
// (bpf.Probe.FilterProcess, keyed by tgid and start time), all but its execs and its last
// exit, which the capture needs to judge and forget it. Events kept in the kernel are not
// counted; those dropped in user space are.
//
// Metrics (registered on the Registerer given with WithRegisterer):
//
//	sfstream_producer_ringbuf_lost_total    records lost in the kernel (ring buffer full)
//	sfstream_producer_queue_dropped_total   records dropped because the queue was full
//	sfstream_producer_decode_errors_total   records that could not be decoded
//	sfstream_producer_events_total{op}      raw events produced, by raw.Op name
//	sfstream_producer_filtered_processes_total  processes the filter excluded (each time one is)
//	sfstream_producer_filtered_events_total     events of excluded processes dropped in user space
//
// and those of package containers (sfstream_producer_container_lookups_total{result}, ...).
package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/bpf"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/containers"
	"github.com/sfstream/sfstream/producer/procfs"
)

// Config says what to capture and how to batch it. Zero fields take the documented defaults.
type Config struct {
	// Exporter is the node's exporter id, written in every batch. Required.
	Exporter string
	// RingBufferBytes is the kernel ring buffer size, a power of two. Default 16 MiB.
	RingBufferBytes int
	// QueueEvents bounds the queue between the drainer and the converter, in records (rounded
	// up to whole chunks of ChunkRecords). Default 131072.
	QueueEvents int
	// MaxBatchEvents flushes a process's batch when it holds this many events. Default 512.
	MaxBatchEvents int
	// FlushInterval flushes every pending batch at least this often. Default 50ms.
	FlushInterval time.Duration
	// DropPollInterval is how often losses are read from the kernel and announced. Default 250ms.
	DropPollInterval time.Duration
	// ExcludePIDs and ExcludeComms are not captured (a local broker, say); the producer's own
	// process never is.
	ExcludePIDs  []uint32
	ExcludeComms []string
	// Filter is an expression in the reference collector's (sysdig's) filter syntax over a
	// process's identity (see the package doc): processes it does not match are not captured.
	// Default: none.
	Filter string
	// ContainersOnly captures only processes in a container (the reference's -c).
	ContainersOnly bool
	// ProcRoot is the /proc to snapshot. Default "/proc".
	ProcRoot string
	// CRISocket is the container runtime's unix socket (a docker.sock, containerd.sock or
	// crio.sock: the API is told from the socket). Default: the first of
	// containers.DefaultSockets that answers at start; none means no metadata lookups.
	CRISocket string
	// Containers tunes the metadata cache (workers, TTL, backoff). Zero: its defaults.
	Containers containers.CacheConfig
}

// ChunkRecords is the most records the drainer hands over at once.
const ChunkRecords = 512

func (c Config) withDefaults() Config {
	if c.RingBufferBytes == 0 {
		c.RingBufferBytes = bpf.DefaultRingBufferBytes
	}
	if c.QueueEvents == 0 {
		c.QueueEvents = 128 << 10
	}
	if c.MaxBatchEvents == 0 {
		c.MaxBatchEvents = 512
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 50 * time.Millisecond
	}
	if c.DropPollInterval == 0 {
		c.DropPollInterval = 250 * time.Millisecond
	}
	if c.ProcRoot == "" {
		c.ProcRoot = "/proc"
	}
	return c
}

// Validate reports a configuration Run cannot use.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Exporter == "" {
		errs = append(errs, errors.New("exporter id is empty"))
	}
	if c.QueueEvents < 0 || c.MaxBatchEvents < 0 || c.FlushInterval < 0 || c.DropPollInterval < 0 {
		errs = append(errs, errors.New("queue size, batch size and intervals must not be negative"))
	}
	if err := c.probeConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := newProcessFilter(c.Filter, c.ContainersOnly); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("capture config: %w", err)
	}
	return nil
}

func (c Config) probeConfig() bpf.Config {
	return bpf.Config{
		RingBufferBytes: c.RingBufferBytes,
		SelfTGID:        uint32(os.Getpid()),
		ExcludePIDs:     c.ExcludePIDs,
		ExcludeComms:    c.ExcludeComms,
		FilterProcesses: c.Filter != "" || c.ContainersOnly,
	}
}

// Option configures a Capture.
type Option func(*Capture)

// WithLogger sets the logger for startup, shutdown and data loss. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *Capture) { c.log = l } }

// WithRegisterer registers the capture's metrics on r. Default: not registered.
func WithRegisterer(r prometheus.Registerer) Option { return func(c *Capture) { c.reg = r } }

// Capture is the live eBPF source. Run it once.
type Capture struct {
	cfg        Config
	log        *slog.Logger
	reg        prometheus.Registerer
	metrics    *metrics
	ctrMetrics *containers.Metrics
	filter     *processFilter
	// userSpaceFilterOnly keeps excluded processes out of the kernel's filter (benchmarks
	// compare both ways).
	userSpaceFilterOnly bool
}

// Log keys.
const (
	keyCount        = "count"
	keyProcs        = "processes"
	keyRingBuf      = "ringbuf_bytes"
	keyRingLost     = "ringbuf_lost"
	keyQueueDropped = "queue_dropped"
)

// New validates cfg and registers the metrics.
func New(cfg Config, opts ...Option) (*Capture, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Capture{cfg: cfg.withDefaults(), log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	var err error
	if c.filter, err = newProcessFilter(c.cfg.Filter, c.cfg.ContainersOnly); err != nil {
		return nil, err
	}
	if c.metrics, err = newMetrics(c.reg); err != nil {
		return nil, err
	}
	if c.ctrMetrics, err = containers.NewMetrics(c.reg); err != nil {
		return nil, err
	}
	return c, nil
}

// Run loads and attaches the programs, emits the /proc snapshot, then live events until ctx is
// done; it flushes pending batches before it returns. emit is called from Run's goroutine only
// and may keep the batch. Run returns nil when ctx ends it, or the first error of emit, the
// kernel side or the snapshot.
func (c *Capture) Run(ctx context.Context, emit func(raw.Batch) error) (err error) {
	clock, err := procfs.NewClock(c.cfg.ProcRoot)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	probe, err := bpf.Open(c.cfg.probeConfig())
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	c.log.Info("capture attached", keyRingBuf, probe.RingBufferBytes())

	q := newQueue(c.cfg.QueueEvents)
	d := &drainer{probe: probe, q: q}
	drained := make(chan error, 1)
	go func() { drained <- d.run() }()

	// Container metadata lookups run beside the session, which owns the cache.
	ctrs := containers.NewCache(containers.Open(ctx, c.cfg.CRISocket, c.log), c.cfg.Containers,
		containers.WithCacheLogger(c.log), containers.WithMetrics(c.ctrMetrics))
	lookupCtx, stopLookups := context.WithCancel(ctx)
	looked := make(chan error, 1)
	go func() { looked <- ctrs.Run(lookupCtx) }()

	s := newSession(c, clock, probe, q, ctrs, emit)
	if s.filter.active() {
		s.conv.lookup = s.lookupJudged
	}
	err = s.run(ctx)

	// Closing the probe ends the drainer's blocked read; wait for it before returning.
	closeErr := probe.Close()
	drainErr := <-drained
	stopLookups()
	lookupErr := <-looked
	if err = errors.Join(err, closeErr, drainErr, lookupErr); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	c.log.Info("capture stopped")
	return nil
}
