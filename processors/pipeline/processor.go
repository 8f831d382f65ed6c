package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

// DLQReasonHeader names the Kafka header carrying why a raw record was dead-lettered.
const DLQReasonHeader = "sfstream-dlq-reason"

// DefaultGroup is the consumer group of the processors.
const DefaultGroup = "sfstream-processors"

// Config configures a Processor.
type Config struct {
	// Kafka is how to reach the brokers and name the topics.
	Kafka kafka.Config
	// Group is the consumer group. Default DefaultGroup.
	Group string
	// TransactionalID identifies this instance's transactions; it must be stable across
	// restarts of one instance and unique among instances. Default "sfstream-processor-" +
	// hostname.
	TransactionalID string
	// InstanceID, when set, makes this a static group member (KIP-345): a restart within the
	// session timeout keeps the partitions without a rebalance. For StatefulSets. Default off.
	InstanceID string
	// SessionTimeout is the group session timeout: how long a dead instance keeps its
	// partitions. Default 10s.
	SessionTimeout time.Duration
	// State configures SysFlow building. Default state.DefaultConfig().
	State state.Config
	// MaxPollRecords bounds the raw records of one transaction. Default 5000.
	MaxPollRecords int
	// Workers bounds the owned partitions applied in parallel within a transaction (each
	// partition's state is independent). Default runtime.GOMAXPROCS(0).
	Workers int
	// RestoreIdle is how long a restore waits for more changelog records once the end offset
	// it looked up seems reached (aborted transactions make the visible end earlier).
	// Default 500ms.
	RestoreIdle time.Duration
}

func (c Config) withDefaults() Config {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.TransactionalID == "" {
		host, _ := os.Hostname()
		c.TransactionalID = "sfstream-processor-" + host
	}
	if c.State == (state.Config{}) {
		c.State = state.DefaultConfig()
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = 5000
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.RestoreIdle == 0 {
		c.RestoreIdle = 500 * time.Millisecond
	}
	return c
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.State.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxPollRecords < 1 {
		errs = append(errs, fmt.Errorf("max poll records %d: want >= 1", c.MaxPollRecords))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("workers %d: want >= 1", c.Workers))
	}
	if len(errs) > 0 {
		return fmt.Errorf("processor config: %w", errors.Join(errs...))
	}
	return nil
}

// Processor is one instance of the processor group.
type Processor struct {
	cfg    Config
	topics kafka.Topics
	serde  *codec.Serde
	log    *slog.Logger
	m      *metrics
	kopts  []kafka.Option

	sess *kgo.GroupTransactSession

	gaugesAt time.Time // when the state-size gauges were last refreshed

	mu     sync.Mutex
	parts  map[int32]*partition // owned partitions of sysflow.raw
	ids    struct{ entities, events int }
	ready  bool
	cancel context.CancelCauseFunc
}

// partition is the state of one owned partition and its pending output.
type partition struct {
	id  int32
	st  *state.State
	out *collector
	lag int64

	scratch raw.Batch // the record being applied, reused (one goroutine per partition)
}

// collector is a state.Output that buffers records until the transaction's produce step.
type collector struct {
	entities, events []pending
}

type pending struct {
	key []byte
	rec sysflow.Record
}

func (c *collector) Entity(key []byte, rec sysflow.Record) {
	c.entities = append(c.entities, pending{key, rec})
}
func (c *collector) Event(key []byte, rec sysflow.Record) {
	c.events = append(c.events, pending{key, rec})
}

// Option configures a Processor.
type Option func(*Processor)

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(p *Processor) { p.log = l } }

// WithKafkaOptions passes options to the Kafka client (metrics, logger).
func WithKafkaOptions(o ...kafka.Option) Option {
	return func(p *Processor) { p.kopts = append(p.kopts, o...) }
}

// New returns a Processor; reg receives its metrics (nil: none).
func New(cfg Config, serde *codec.Serde, reg prometheus.Registerer, opts ...Option) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := &Processor{
		cfg:    cfg,
		topics: cfg.Kafka.Topics(),
		serde:  serde,
		log:    slog.New(slog.DiscardHandler),
		m:      newMetrics(),
		parts:  map[int32]*partition{},
	}
	for _, o := range opts {
		o(p)
	}
	if reg != nil {
		if err := p.m.register(reg); err != nil {
			return nil, fmt.Errorf("new processor: register metrics: %w", err)
		}
	}
	return p, nil
}

// Ready reports whether the processor has joined its group and restored its state.
func (p *Processor) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// Run processes until ctx ends or a fatal error. It returns nil on a clean shutdown.
func (p *Processor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p.cancel = cancel
	var err error
	if p.ids.entities, err = p.serde.RegisterSysFlow(ctx, p.topics.Entities); err != nil {
		return fmt.Errorf("run processor: %w", err)
	}
	if p.ids.events, err = p.serde.RegisterSysFlow(ctx, p.topics.Events); err != nil {
		return fmt.Errorf("run processor: %w", err)
	}
	base, err := kafka.NewClient(p.cfg.Kafka, p.kopts...)
	if err != nil {
		return fmt.Errorf("run processor: %w", err)
	}
	kopts := base.Opts()
	base.Close()
	if p.cfg.InstanceID != "" {
		// Static membership: a restarted instance takes its partitions back at once instead of
		// waiting for its old session to time out; it does not leave the group on shutdown.
		kopts = append(kopts, kgo.InstanceID(p.cfg.InstanceID))
	}
	p.sess, err = kgo.NewGroupTransactSession(append(kopts,
		kgo.TransactionalID(p.cfg.TransactionalID),
		kgo.TransactionTimeout(60*time.Second),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumerGroup(p.cfg.Group),
		kgo.SessionTimeout(p.cfg.SessionTimeout),
		kgo.ConsumeTopics(p.topics.Raw),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(partitioner{state: p.topics.State}),
		kgo.OnPartitionsAssigned(p.assigned),
		kgo.OnPartitionsRevoked(p.dropped),
		kgo.OnPartitionsLost(p.dropped),
	)...)
	if err != nil {
		return fmt.Errorf("run processor: new transact session: %w", err)
	}
	defer p.sess.Close()
	p.log.Info("processor started", "group", p.cfg.Group, "transactional_id", p.cfg.TransactionalID, "topic", p.topics.Raw)
	for {
		fetches := p.sess.PollRecords(ctx, p.cfg.MaxPollRecords)
		if ctx.Err() != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				return cause
			}
			p.log.Info("processor stopping")
			return nil
		}
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(t string, part int32, err error) {
			p.log.Warn("fetch error", "topic", t, "partition", part, "err", err)
		})
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := p.transact(ctx, fetches); err != nil {
			return err
		}
	}
}

// transact processes one poll's records in one transaction. The partitions of the poll are
// independent (each has its own state), so they are applied in parallel, one goroutine per
// partition, at most Config.Workers at a time; each produces its outputs in its own record order,
// so the records of one key keep their order.
func (p *Processor) transact(ctx context.Context, fetches kgo.Fetches) error {
	start := time.Now()
	if err := p.sess.Begin(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	var (
		produceMu  sync.Mutex
		produceErr error
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			produceMu.Lock()
			produceErr = errors.Join(produceErr, err)
			produceMu.Unlock()
		}
	}
	produce := func(r *kgo.Record) { p.sess.Produce(ctx, r, promise) }

	p.mu.Lock()
	var work []*partWork
	byID := map[int32]*partWork{}
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		part, ok := p.parts[fp.Partition]
		if !ok || len(fp.Records) == 0 {
			return // revoked meanwhile; the abort re-delivers to the new owner
		}
		w := byID[part.id]
		if w == nil {
			w = &partWork{part: part}
			byID[part.id] = w
			work = append(work, w)
		}
		w.records = append(w.records, fp.Records...)
		last := fp.Records[len(fp.Records)-1].Offset
		part.lag = max(fp.HighWatermark-last-1, 0)
	})
	err := p.runWork(ctx, work, produce)
	if err == nil {
		p.updateGauges(start)
	}
	p.mu.Unlock()
	if err != nil {
		return err
	}
	for _, w := range work {
		p.m.recordsIn.Add(float64(len(w.records)))
		p.m.eventsIn.Add(float64(w.events))
		for k, n := range w.out {
			if n > 0 {
				p.m.recordsOutByKind[k].Add(float64(n))
			}
		}
		p.m.evicted.Add(float64(w.evicted))
		p.m.tombstones.Add(float64(w.tombstones))
		p.m.lostEvents.Add(float64(w.lost))
	}

	committed, err := p.sess.End(ctx, kgo.TryCommit)
	if err == nil && produceErr != nil {
		err = produceErr
	}
	if err != nil {
		p.m.txns.WithLabelValues("failed").Inc()
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("end transaction: %w", err)
	}
	if !committed {
		// A rebalance or commit failure aborted everything since Begin: the records will be
		// consumed again from the committed offsets, so the state must go back there too.
		p.m.txns.WithLabelValues("aborted").Inc()
		p.log.Warn("transaction aborted; restoring state of owned partitions")
		return p.restoreOwned(ctx)
	}
	p.m.txns.WithLabelValues("committed").Inc()
	p.m.txnSeconds.Observe(time.Since(start).Seconds())
	return nil
}

// runWork applies each partition's records and checkpoints its state, the partitions in
// parallel.
func (p *Processor) runWork(ctx context.Context, work []*partWork, produce func(*kgo.Record)) error {
	run := func(w *partWork) error {
		s0 := w.part.st.Stats()
		for _, r := range w.records {
			p.applyRecord(ctx, w, r, produce)
		}
		s1 := w.part.st.Stats()
		w.evicted, w.tombstones = s1.Evicted-s0.Evicted, s1.Tombstones-s0.Tombstones
		w.lost = s1.LostEvents - s0.LostEvents
		p.produceCounts(w, produce)
		return p.checkpoint(w.part, produce)
	}
	if len(work) == 1 || p.cfg.Workers == 1 {
		var errs []error
		for _, w := range work {
			if err := run(w); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	sem := make(chan struct{}, p.cfg.Workers)
	errs := make([]error, len(work))
	var wg sync.WaitGroup
	for i, w := range work {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = run(w)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// updateGauges refreshes the state-size gauges, at most once a second: counting flows walks
// every process.
func (p *Processor) updateGauges(now time.Time) {
	var lag int64
	for _, part := range p.parts {
		lag += part.lag
	}
	p.m.lag.Set(float64(lag))
	if now.Sub(p.gaugesAt) < time.Second {
		return
	}
	p.gaugesAt = now
	procs, flows := 0, 0
	for _, part := range p.parts {
		procs += part.st.Processes()
		flows += part.st.Flows()
	}
	p.m.processes.Set(float64(procs))
	p.m.flows.Set(float64(flows))
}

// partWork is one partition's share of a transaction and what it counted.
type partWork struct {
	part                *partition
	records             []*kgo.Record
	events              int
	out                 [sysflow.NumKinds]int
	evicted, tombstones int64             // processes evicted by the cap, entities deleted
	lost                int64             // events lost upstream, as drop notices count them
	procKeys            map[string][]byte // a process key of the partition per exporter: where count records go
	slab                []kgo.Record      // output records, allocated in blocks
	buf                 []byte            // encoded values, allocated in blocks
}

// record returns a fresh output record from w's current block.
func (w *partWork) record() *kgo.Record {
	if len(w.slab) == cap(w.slab) {
		w.slab = make([]kgo.Record, 0, 256)
	}
	w.slab = w.slab[:len(w.slab)+1]
	return &w.slab[len(w.slab)-1]
}

// valueBlock is the size of the blocks output values are encoded into.
const valueBlock = 64 << 10

// applyRecord decodes one raw record and applies it, dead-lettering what cannot be applied.
func (p *Processor) applyRecord(ctx context.Context, w *partWork, r *kgo.Record, produce func(*kgo.Record)) {
	part := w.part
	b := &part.scratch
	if err := p.serde.DecodeRaw(ctx, r.Value, b); err != nil {
		p.deadLetter(r, "decode", err, produce)
		return
	}
	if len(b.Events) > 0 && part.st.CountsBefore(b.Events[0].TS) {
		p.produceCounts(w, produce) // before the events of a later hour
	}
	apply := part.st.Apply
	if len(r.Key) == 0 && part.id != 0 {
		// An unkeyed record is a notice batch the producer sent to every partition:
		// partition 0 counts its losses.
		apply = part.st.ApplyCopy
	}
	if err := apply(b); err != nil {
		p.deadLetter(r, "invalid", err, produce)
		return
	}
	w.events += len(b.Events)
	if b.HPID != 0 {
		if w.procKeys == nil {
			w.procKeys = map[string][]byte{}
		}
		w.procKeys[b.Exporter] = r.Key
	}
	p.flush(w, produce)
}

// produceCounts produces the capture counts of the partition's records of this transaction
// (at its end, and before a record of a later hour than counts pending) to sysflow.events: one count record (no value, the counts in raw.Count* headers) per
// exporter and hour, keyed by a process key of the exporter in this partition so that it
// lands in the events partition of the partition's processes, after their events.
func (p *Processor) produceCounts(w *partWork, produce func(*kgo.Record)) {
	for _, c := range w.part.st.TakeCounts() {
		if c.IsZero() {
			continue
		}
		key := w.procKeys[c.Exporter]
		if key == nil { // notices only: any key of the exporter will do
			key = fmt.Appendf(nil, "%s/P/0/%d", c.Exporter, w.part.id)
		}
		pairs := c.Pairs(true)
		hdrs := make([]kgo.RecordHeader, len(pairs))
		for i, kv := range pairs {
			hdrs[i] = kgo.RecordHeader{Key: kv[0], Value: []byte(kv[1])}
		}
		r := w.record()
		r.Topic, r.Key, r.Value, r.Headers = p.topics.Events, key, nil, hdrs
		produce(r)
		p.m.countRecords.Inc()
	}
}

// flush encodes the partition's pending output and produces it. Values are encoded into
// shared blocks, each value capped to its own bytes; a block is never written again once
// full, so values stay valid until the client is done with them.
func (p *Processor) flush(w *partWork, produce func(*kgo.Record)) {
	part := w.part
	send := func(topic string, id int, recs []pending) {
		for _, pr := range recs {
			if pr.rec == nil { // an entity tombstone
				r := w.record()
				r.Topic, r.Key, r.Value = topic, pr.key, nil
				produce(r)
				continue
			}
			if cap(w.buf)-len(w.buf) < 1024 {
				w.buf = make([]byte, 0, valueBlock)
			}
			start := len(w.buf)
			out, err := p.serde.AppendSysFlow(w.buf, id, pr.rec)
			if err != nil {
				// Our own records always encode; an error here is a bug worth stopping for.
				p.cancel(fmt.Errorf("encode %s for %s: %w", pr.rec.Kind(), topic, err))
				return
			}
			w.buf = out
			if k := pr.rec.Kind(); int(k) < len(w.out) {
				w.out[k]++
			}
			r := w.record()
			r.Topic, r.Key, r.Value = topic, pr.key, out[start:len(out):len(out)]
			produce(r)
		}
	}
	send(p.topics.Entities, p.ids.entities, part.out.entities)
	send(p.topics.Events, p.ids.events, part.out.events)
	clear(part.out.entities)
	clear(part.out.events)
	part.out.entities = part.out.entities[:0]
	part.out.events = part.out.events[:0]
}

func (p *Processor) deadLetter(r *kgo.Record, reason string, err error, produce func(*kgo.Record)) {
	p.m.dlq.WithLabelValues(reason).Inc()
	p.log.Warn("raw record dead-lettered", "partition", r.Partition, "offset", r.Offset, "reason", reason, "err", err)
	produce(&kgo.Record{
		Topic: p.topics.RawDLQ, Key: r.Key, Value: r.Value,
		Headers: append(append([]kgo.RecordHeader(nil), r.Headers...),
			kgo.RecordHeader{Key: DLQReasonHeader, Value: []byte(reason + ": " + err.Error())},
			kgo.RecordHeader{Key: "sfstream-dlq-source", Value: fmt.Appendf(nil, "%s/%d/%d", r.Topic, r.Partition, r.Offset)}),
	})
}

// partitioner sends changelog records to the partition they name and hashes the key of
// everything else, as Kafka's default partitioner does.
type partitioner struct{ state string }

func (pt partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == pt.state {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return kgo.StickyKeyPartitioner(nil).ForTopic(topic)
}
