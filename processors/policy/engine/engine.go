package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/processors/policy/rules"
	"github.com/sfstream/sfstream/sysflow"
)

// DefaultGroup is the consumer group of the policy engines.
const DefaultGroup = "sfstream-policy"

// Log keys.
const (
	logKeyGroup  = "group"
	logKeyTxnID  = "transactional_id"
	logKeyTopic  = "topic"
	logKeyPart   = "partition"
	logKeyOffset = "offset"
	logKeyRules  = "rules"
	logKeyErr    = "err"
)

// Config configures an Engine.
type Config struct {
	// Kafka is how to reach the brokers and name the topics.
	Kafka kafka.Config
	// Rules are the rule files, compiled in order by New. Default: the default rule set
	// (rules.DefaultFile).
	Rules []rules.File
	// Group is the consumer group. Default DefaultGroup.
	Group string
	// TransactionalID identifies this instance's transactions: stable across restarts of one
	// instance, unique among instances. Default "sfstream-policy-" + hostname.
	TransactionalID string
	// InstanceID, when set, makes this a static group member. Default dynamic membership.
	InstanceID string
	// SessionTimeout is the group session timeout. Default 10s.
	SessionTimeout time.Duration
	// MaxPollRecords bounds the records of one transaction. Default 5000.
	MaxPollRecords int
	// TransactionTimeout is how long the brokers keep a transaction of a dead instance open
	// (holding back read_committed readers of sysflow.alerts) before aborting it. Default 60s.
	TransactionTimeout time.Duration
	// MaxVersions bounds the versions kept per entity in the entity table. Default 64.
	MaxVersions int
}

func (c Config) withDefaults() Config {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.TransactionalID == "" {
		host, _ := os.Hostname()
		c.TransactionalID = "sfstream-policy-" + host
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = 5000
	}
	if c.MaxVersions == 0 {
		c.MaxVersions = 64
	}
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = 60 * time.Second
	}
	if len(c.Rules) == 0 {
		c.Rules = []rules.File{rules.DefaultFile()}
	}
	return c
}

// Validate reports every problem with c, the rule files' included.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxPollRecords < 1 {
		errs = append(errs, fmt.Errorf("max poll records %d: want >= 1", c.MaxPollRecords))
	}
	if c.MaxVersions < 1 {
		errs = append(errs, fmt.Errorf("max versions %d: want >= 1", c.MaxVersions))
	}
	if _, err := rules.Compile(sysprint.QueryFields, c.Rules...); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("policy config: %w", errors.Join(errs...))
	}
	return nil
}

// Engine is one instance of the policy engine group.
type Engine struct {
	cfg    Config
	topics kafka.Topics
	set    *rules.Set
	serde  *codec.Serde
	log    *slog.Logger
	kopts  []kafka.Option
	m      *metrics

	alertID int
	table   *entities.Table
	follow  *entities.Follower
	ready   atomic.Bool
	started chan struct{} // closed when sess is set
	sess    *kgo.GroupTransactSession

	mu    sync.Mutex
	owned map[int32]bool
	// fetched and done are, per partition, the offset after the last record polled and after
	// the last record whose transaction committed; last is when a record was last polled.
	fetched, done map[int32]int64
	last          time.Time
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithKafkaOptions adds options to the Kafka clients (logging, metrics). Default none.
func WithKafkaOptions(o ...kafka.Option) Option {
	return func(e *Engine) { e.kopts = append(e.kopts, o...) }
}

// New compiles the rules and returns an Engine; reg (nil: none) receives its metrics.
func New(cfg Config, serde *codec.Serde, reg prometheus.Registerer, opts ...Option) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new policy engine: %w", err)
	}
	cfg = cfg.withDefaults()
	set, err := rules.Compile(sysprint.QueryFields, cfg.Rules...)
	if err != nil {
		return nil, fmt.Errorf("new policy engine: %w", err)
	}
	e := &Engine{
		cfg: cfg, topics: cfg.Kafka.Topics(), set: set, serde: serde,
		log: slog.New(slog.DiscardHandler), m: newMetrics(),
		table: entities.NewTable(cfg.MaxVersions), started: make(chan struct{}), owned: map[int32]bool{},
		fetched: map[int32]int64{}, done: map[int32]int64{},
	}
	for _, o := range opts {
		o(e)
	}
	if err := e.m.register(reg); err != nil {
		return nil, fmt.Errorf("new policy engine: register metrics: %w", err)
	}
	return e, nil
}

// Rules returns the compiled rule set.
func (e *Engine) Rules() *rules.Set { return e.set }

// Ready reports whether the engine has loaded the entity table and joined its group.
func (e *Engine) Ready() bool { return e.ready.Load() }

// Run evaluates the rules until ctx ends (nil) or Kafka fails for good.
func (e *Engine) Run(ctx context.Context) error {
	var err error
	if e.alertID, err = e.serde.RegisterAlert(ctx, e.topics.Alerts); err != nil {
		return fmt.Errorf("run policy engine: %w", err)
	}
	base, err := kafka.NewClient(e.cfg.Kafka, e.kopts...)
	if err != nil {
		return fmt.Errorf("run policy engine: %w", err)
	}
	kopts := base.Opts()
	base.Close()

	fcl, err := kgo.NewClient(append(append([]kgo.Opt(nil), kopts...), entities.ClientOpts(e.topics.Entities)...)...)
	if err != nil {
		return fmt.Errorf("run policy engine: entities client: %w", err)
	}
	defer fcl.Close()
	if e.follow, err = entities.NewFollower(fcl, e.topics.Entities, e.serde, e.table, entities.WithLogger(e.log)); err != nil {
		return fmt.Errorf("run policy engine: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return e.follow.Run(gctx) })
	g.Go(func() error {
		if err := e.follow.Load(gctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		return e.consume(gctx, kopts)
	})
	return g.Wait()
}

func (e *Engine) consume(ctx context.Context, kopts []kgo.Opt) error {
	if e.cfg.InstanceID != "" {
		kopts = append(kopts, kgo.InstanceID(e.cfg.InstanceID))
	}
	var err error
	e.sess, err = kgo.NewGroupTransactSession(append(kopts,
		kgo.TransactionalID(e.cfg.TransactionalID),
		kgo.TransactionTimeout(e.cfg.TransactionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumerGroup(e.cfg.Group),
		kgo.SessionTimeout(e.cfg.SessionTimeout),
		kgo.ConsumeTopics(e.topics.Events),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(e.assigned),
		kgo.OnPartitionsRevoked(e.dropped),
		kgo.OnPartitionsLost(e.dropped),
	)...)
	if err != nil {
		return fmt.Errorf("run policy engine: new transact session: %w", err)
	}
	close(e.started)
	defer e.sess.Close()
	e.log.Info("policy engine started", logKeyGroup, e.cfg.Group, logKeyTxnID, e.cfg.TransactionalID, logKeyTopic, e.topics.Events, logKeyRules, len(e.set.Rules()))
	ev := NewEvaluator(e.set)
	for {
		fetches := e.sess.PollRecords(ctx, e.cfg.MaxPollRecords)
		if ctx.Err() != nil {
			e.log.Info("policy engine stopping")
			return nil
		}
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			e.log.Warn("fetch error", logKeyTopic, t, logKeyPart, p, logKeyErr, err)
		})
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := e.transact(ctx, fetches, ev); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

func (e *Engine) assigned(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range parts[e.topics.Events] {
		e.owned[p] = true
	}
	e.ready.Store(true)
}

func (e *Engine) dropped(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range parts[e.topics.Events] {
		delete(e.owned, p)
		delete(e.fetched, p)
		delete(e.done, p)
	}
}

// transact evaluates one poll's records and produces their alerts in one transaction.
func (e *Engine) transact(ctx context.Context, fetches kgo.Fetches, ev *Evaluator) error {
	// Every entity the processors committed with (or before) these records is in the topic
	// now: read up to its end offsets before joining.
	targets, err := e.follow.EndOffsets(ctx)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if err := e.follow.Wait(ctx, targets); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if err := e.sess.Begin(); err != nil {
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
	var alerts []codec.Alert
	n := 0
	next := map[int32]int64{}
	e.mu.Lock()
	e.last = time.Now()
	fetches.EachRecord(func(r *kgo.Record) {
		next[r.Partition] = r.Offset + 1
		e.fetched[r.Partition] = max(e.fetched[r.Partition], r.Offset+1)
	})
	e.mu.Unlock()
	produced := map[string]int{} // alerts by priority, counted once committed
	var stopErr error            // ends the transaction without committing
	for _, r := range fetches.Records() {
		n++
		if r.Value == nil {
			continue // a count record (captured and lost events: headers only), no SysFlow
		}
		// A registry that is down is waited for: a record is never skipped for it.
		rec, err := entities.DecodeRetrying(ctx, e.serde, r.Value)
		if err != nil && !codec.IsBadRecord(err) {
			stopErr = fmt.Errorf("evaluate: %w", err)
			break
		}
		if err != nil {
			e.m.bad.Inc()
			e.log.Warn("undecodable record skipped", logKeyPart, r.Partition, logKeyOffset, r.Offset, logKeyErr, err)
			continue
		}
		exporter, ok := exporterOf(string(r.Key))
		if !ok {
			e.m.bad.Inc()
			e.log.Warn("record without a process key skipped", logKeyPart, r.Partition, logKeyOffset, r.Offset)
			continue
		}
		flat := Join(e.table, exporter, rec, r.Timestamp.UnixMilli())
		if alerts, err = ev.Eval(alerts[:0], flat, exporter); err != nil {
			e.m.bad.Inc()
			e.log.Warn("record not evaluated", logKeyPart, r.Partition, logKeyOffset, r.Offset, logKeyErr, err)
			continue
		}
		for i := range alerts {
			b, err := e.serde.AppendAlert(nil, e.alertID, &alerts[i])
			if err != nil {
				produceMu.Lock()
				produceErr = errors.Join(produceErr, err)
				produceMu.Unlock()
				continue
			}
			e.sess.Produce(ctx, &kgo.Record{Topic: e.topics.Alerts, Key: r.Key, Value: b}, promise)
			produced[alerts[i].Priority]++
		}
	}
	if stopErr != nil {
		_, err := e.sess.End(context.WithoutCancel(ctx), kgo.TryAbort)
		e.m.txns.WithLabelValues("aborted").Inc()
		return errors.Join(stopErr, err)
	}
	committed, err := e.sess.End(ctx, kgo.TryCommit)
	if err == nil && produceErr != nil {
		err = produceErr
	}
	if err != nil {
		e.m.txns.WithLabelValues("failed").Inc()
		return fmt.Errorf("end transaction: %w", err)
	}
	if !committed {
		e.m.txns.WithLabelValues("aborted").Inc()
		e.log.Warn("transaction aborted; the records will be evaluated again")
		return nil
	}
	e.m.records.Add(float64(n))
	for p, k := range produced {
		e.m.alerts.WithLabelValues(p).Add(float64(k))
	}
	e.m.txns.WithLabelValues("committed").Inc()
	e.mu.Lock()
	for p, o := range next {
		e.done[p] = max(e.done[p], o)
	}
	e.mu.Unlock()
	return nil
}

// exporterOf returns the exporter of a process key "<exporter>/P/<hpid>/<createTS>".
func exporterOf(key string) (string, bool) {
	i := strings.LastIndex(key, "/P/")
	if i < 0 {
		return "", false
	}
	return key[:i], true
}

// drainPoll is how often Drain looks at the committed offsets.
const drainPoll = 50 * time.Millisecond

// drainQuiet is how long no record must have come for Drain to take a partition whose
// committed position is below the end offset as read to its end: transaction markers take
// offsets, so the position after the last record can stay below the end.
const drainQuiet = 2 * time.Second

// Drain is for a stream that has ended (sfstream run, tests): once the engine has joined
// its group, it waits until every partition of sysflow.events it owns is evaluated and
// committed up to the end offset the partition has now. The engine keeps running.
func (e *Engine) Drain(ctx context.Context) error {
	for !e.Ready() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain policy engine: %w", ctx.Err())
		case <-time.After(drainPoll):
		}
	}
	<-e.started
	cl := e.sess.Client()
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, e.topics.Events)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return fmt.Errorf("drain policy engine: end offsets of %s: %w", e.topics.Events, err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	since := time.Now()
	for {
		committed := cl.CommittedOffsets()[e.topics.Events]
		var behind int64
		now := time.Now()
		e.mu.Lock()
		quiet := now.Sub(e.last) >= drainQuiet && now.Sub(since) >= drainQuiet
		for p := range e.owned {
			at := int64(0)
			if c, ok := committed[p]; ok && c.Offset > 0 {
				at = c.Offset
			}
			at = max(at, e.done[p])
			if at >= ends[p] || (quiet && e.done[p] == e.fetched[p]) {
				continue
			}
			behind += ends[p] - at
		}
		e.mu.Unlock()
		if behind == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain policy engine: %d records of %s not evaluated: %w", behind, e.topics.Events, ctx.Err())
		case <-t.C:
		}
	}
}

// Join flattens an event or flow of exporter written to Kafka at kts (ms) with the versions
// of the entities it refers to in table, as the archiver picks them for the archive.
func Join(table *entities.Table, exporter string, rec sysflow.Record, kts int64) sysflow.Flat {
	flat := sysflow.Flat{Kind: rec.Kind(), Rec: rec}
	if h, ok := table.Header(exporter, kts); ok {
		flat.Header = h
	}
	oid, ts := keyFields(rec)
	if v, ok := table.Process(exporter, oid, ts, kts); ok {
		p := v.Rec.(*sysflow.Process)
		flat.Process = p
		if p.POID != nil {
			if pv, ok := table.Process(exporter, *p.POID, ts, kts); ok {
				flat.Parent = pv.Rec.(*sysflow.Process)
			}
		}
		if p.ContainerID != nil {
			if cv, ok := table.Container(exporter, *p.ContainerID, kts); ok {
				flat.Container = cv.Rec.(*sysflow.Container)
			}
		}
	}
	file := func(foid sysflow.FOID) *sysflow.File {
		if v, ok := table.File(exporter, foid, ts, kts); ok {
			return v.Rec.(*sysflow.File)
		}
		return nil
	}
	switch r := rec.(type) {
	case *sysflow.FileFlow:
		flat.File = file(r.FileOID)
	case *sysflow.FileEvent:
		flat.File = file(r.FileOID)
		if r.NewFileOID != nil {
			flat.NewFile = file(*r.NewFileOID)
		}
	}
	return flat
}
