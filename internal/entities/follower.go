package entities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/sysflow"
)

// Log keys.
const (
	logKeyTopic     = "topic"
	logKeyPartition = "partition"
	logKeyOffset    = "offset"
	logKeyErr       = "err"
	logKeyEntities  = "entities"
	logKeyElapsed   = "elapsed"
)

// Decoder decodes a sysflow.entities record value (codec.Serde in production).
type Decoder interface {
	DecodeSysFlow(ctx context.Context, b []byte) (sysflow.Record, error)
}

// Follower reads sysflow.entities into a Table and tracks how far it has read.
type Follower struct {
	topic string
	dec   Decoder
	table *Table
	log   *slog.Logger
	m     *metrics

	cl  *kgo.Client
	adm *kadm.Client

	mu     sync.Mutex
	pos    map[int32]int64 // next offset to read, per partition
	change chan struct{}   // closed and replaced whenever pos advances

	retention time.Duration // how long deleted entities are kept (Kafka time)
	newest    int64         // the newest Kafka timestamp read (ms)
	prunedAt  int64         // newest when Prune last ran
}

// DefaultDeletedRetention is how long, in Kafka time, the table keeps an entity after its
// tombstone: Kafka's own default delete.retention.ms, after which compaction may drop the
// tombstone and a restarted archiver would not see the entity either.
const DefaultDeletedRetention = 24 * time.Hour

// pruneEvery is how much Kafka time passes between two prunes of deleted entities.
const pruneEvery = 10 * time.Minute

// WithDeletedRetention sets how long deleted entities are kept (0: DefaultDeletedRetention).
func WithDeletedRetention(d time.Duration) FollowerOption {
	return func(f *Follower) {
		if d > 0 {
			f.retention = d
		}
	}
}

// FollowerOption configures a Follower.
type FollowerOption func(*Follower)

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) FollowerOption { return func(f *Follower) { f.log = l } }

// WithMetrics registers the follower's metrics on reg. Default: none.
func WithMetrics(reg prometheus.Registerer) FollowerOption {
	return func(f *Follower) { f.m.reg = reg }
}

// ClientOpts returns the franz-go options a Follower's client needs on top of the
// connection settings: every partition of topic from the start, read_committed, control
// records kept (they advance the position past transaction markers).
func ClientOpts(topic string) []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}
}

// NewFollower returns a Follower that reads topic with cl into table. cl must have been built
// with ClientOpts(topic) and is owned by the caller, who closes it after Run returns.
func NewFollower(cl *kgo.Client, topic string, dec Decoder, table *Table, opts ...FollowerOption) (*Follower, error) {
	f := &Follower{
		topic:  topic,
		dec:    dec,
		table:  table,
		log:    slog.New(slog.DiscardHandler),
		m:      &metrics{},
		cl:     cl,
		adm:    kadm.NewClient(cl),
		pos:    map[int32]int64{},
		change: make(chan struct{}),

		retention: DefaultDeletedRetention,
	}
	for _, o := range opts {
		o(f)
	}
	if err := f.m.register(table); err != nil {
		return nil, fmt.Errorf("new entity follower: %w", err)
	}
	return f, nil
}

// Run reads the topic until ctx ends. It returns nil when ctx ends and an error only when the
// client fails for good.
func (f *Follower) Run(ctx context.Context) error {
	for {
		fetches := f.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if fetches.IsClientClosed() {
			return errors.New("follow entities: client closed")
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				f.log.Warn("entities fetch error", logKeyTopic, t, logKeyPartition, p, logKeyErr, err)
			}
		})
		var err error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if err != nil || len(fp.Records) == 0 {
				return
			}
			for _, r := range fp.Records {
				if err = f.apply(ctx, r); err != nil {
					return
				}
			}
			f.advance(fp.Partition, fp.Records[len(fp.Records)-1].Offset+1)
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// apply adds one record to the table. Only a registry that stays unreachable until ctx ends
// is an error; bad records are counted and logged.
func (f *Follower) apply(ctx context.Context, r *kgo.Record) error {
	if r.Attrs.IsControl() {
		return nil
	}
	kts := r.Timestamp.UnixMilli()
	if kts > f.newest {
		f.newest = kts
		if f.newest-f.prunedAt >= pruneEvery.Milliseconds() {
			f.prunedAt = f.newest
			if n := f.table.Prune(f.newest - f.retention.Milliseconds()); n > 0 {
				f.log.Debug("deleted entities dropped", logKeyEntities, n)
			}
		}
	}
	if r.Value == nil {
		f.table.Remove(string(r.Key), kts)
		f.m.count(resultTombstone)
		return nil
	}
	rec, err := DecodeRetrying(ctx, f.dec, r.Value)
	if err != nil {
		if !codec.IsBadRecord(err) {
			return fmt.Errorf("follow entities: %w", err)
		}
		f.m.count(resultUndecodable)
		f.log.Warn("undecodable entity record skipped", logKeyPartition, r.Partition, logKeyOffset, r.Offset, logKeyErr, err)
		return nil
	}
	if err := f.table.Add(string(r.Key), rec, kts); err != nil {
		f.m.count(resultBadKey)
		f.log.Warn("entity record with a bad key skipped", logKeyPartition, r.Partition, logKeyOffset, r.Offset, logKeyErr, err)
		return nil
	}
	f.m.count(resultOK)
	return nil
}

// DecodeRetrying decodes b, retrying with backoff while the registry is unreachable (errors
// that are not about the record itself) until ctx ends.
func DecodeRetrying(ctx context.Context, dec Decoder, b []byte) (sysflow.Record, error) {
	delay := 100 * time.Millisecond
	for {
		rec, err := dec.DecodeSysFlow(ctx, b)
		if err == nil || codec.IsBadRecord(err) {
			return rec, err
		}
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errors.Join(err, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (f *Follower) advance(p int32, next int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if next > f.pos[p] {
		f.pos[p] = next
		close(f.change)
		f.change = make(chan struct{})
	}
}

// EndOffsets returns the last stable offsets of the topic's partitions: what a read_committed
// reader can reach now.
func (f *Follower) EndOffsets(ctx context.Context) (map[int32]int64, error) {
	listed, err := f.adm.ListCommittedOffsets(ctx, f.topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", f.topic, err)
	}
	if err := listed.Error(); err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", f.topic, err)
	}
	out := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if o.Topic == f.topic && o.Partition >= 0 {
			out[o.Partition] = o.Offset
		}
	})
	return out, nil
}

// CaughtUp reports whether the follower has read every partition up to targets.
func (f *Follower) CaughtUp(targets map[int32]int64) bool {
	ok, _ := f.caughtUp(targets)
	return ok
}

func (f *Follower) caughtUp(targets map[int32]int64) (bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, end := range targets {
		if f.pos[p] < end {
			return false, f.change
		}
	}
	return true, f.change
}

// Wait blocks until the follower has read every partition up to targets or ctx ends.
func (f *Follower) Wait(ctx context.Context, targets map[int32]int64) error {
	for {
		ok, change := f.caughtUp(targets)
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for entities: %w", context.Cause(ctx))
		case <-change:
		}
	}
}

// Load waits until the follower has read the whole topic as it is now (its end offsets at the
// time of the call), retrying the offset lookup while the cluster is unreachable, and logs
// how long it took.
func (f *Follower) Load(ctx context.Context) error {
	start := time.Now()
	var targets map[int32]int64
	delay := 100 * time.Millisecond
	for {
		var err error
		if targets, err = f.EndOffsets(ctx); err == nil {
			break
		}
		f.log.Warn("entities end offsets unavailable, retrying", logKeyErr, err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("load entities: %w", errors.Join(err, ctx.Err()))
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
	if err := f.Wait(ctx, targets); err != nil {
		return fmt.Errorf("load entities: %w", err)
	}
	f.log.Info("entity table loaded", logKeyTopic, f.topic, logKeyEntities, f.table.Len(), logKeyElapsed, time.Since(start).Round(time.Millisecond))
	return nil
}
