package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/sink"
	"github.com/sfstream/sfstream/producer/synthetic"
)

// End-to-end latency: the generator runs paced at a rate the processor sustains, stamping
// events with the wall clock, while a processor runs and a consumer reads sysflow.events
// (read_committed: what downstream consumers see). For each SysFlow record the consumer
// takes the raw event that made it (the ts of an event record, the end of an ended flow)
// and finds the raw batch of that process that carried it; the latency is the time from the
// batch's Kafka record timestamp (taken when the batch was handed to the producer, which is
// when franz-go stamps it) to the moment the record was read. "From event" is the time from
// the raw event itself, which adds the producer's batching (up to the 50 ms flush interval).

// latencyResult is the paced run's outcome.
type latencyResult struct {
	Rate       float64 // target events/s
	Achieved   float64 // events/s sent
	Duration   time.Duration
	Records    int64 // event records timed
	Unmatched  int64 // records whose raw batch was not found (should be 0)
	FromRecord quantiles
	FromEvent  quantiles
	Complete   bool // the processor committed everything sent
}

type quantiles struct{ P50, P90, P99, Max time.Duration }

func quantilesOf(d []time.Duration) quantiles {
	if len(d) == 0 {
		return quantiles{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return quantiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: d[len(d)-1]}
}

// sentIndex remembers, per process key, the last event ts and the send time of every batch.
type sentIndex struct {
	mu sync.Mutex
	by map[string][]sentBatch
}

type sentBatch struct {
	lastTS int64
	at     time.Time
}

func (s *sentIndex) add(key string, lastTS int64, at time.Time) {
	s.mu.Lock()
	s.by[key] = append(s.by[key], sentBatch{lastTS, at})
	s.mu.Unlock()
}

// find returns the send time of the batch of key that holds the event at ts.
func (s *sentIndex) find(key string, ts int64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bs := s.by[key]
	i := sort.Search(len(bs), func(i int) bool { return bs[i].lastTS >= ts })
	if i == len(bs) {
		return time.Time{}, false
	}
	return bs[i].at, true
}

func (b *bench) latency(ctx context.Context, p *synthetic.Profile, rate float64) (res latencyResult, err error) {
	res.Rate = rate
	r, err := b.newRun(ctx, "latency")
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, r.close(ctx)) }()
	f, err := b.startFleet(ctx, r, 1, 0)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, f.stop()) }()
	if err := f.waitReady(ctx, time.Now().Add(b.cfg.PhaseTimeout)); err != nil {
		return res, fmt.Errorf("latency: %w", err)
	}

	sent := &sentIndex{by: map[string][]sentBatch{}}
	var (
		mu                        sync.Mutex
		fromRecord                []time.Duration
		fromEvent                 []time.Duration
		unmatched                 int64
		consumeErr                error
		consumerCtx, stopConsumer = context.WithCancel(ctx)
		consumed                  = make(chan struct{})
	)
	cl, err := kafka.NewClient(r.kcfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(r.topics.Events),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	))
	if err != nil {
		stopConsumer()
		return res, fmt.Errorf("latency: %w", err)
	}
	defer cl.Close()
	go func() {
		defer close(consumed)
		for consumerCtx.Err() == nil {
			fs := cl.PollFetches(consumerCtx)
			now := time.Now()
			fs.EachRecord(func(rec *kgo.Record) {
				if rec.Value == nil {
					return // a count record: capture counts in its headers, no event
				}
				v, err := r.serde.DecodeSysFlow(consumerCtx, rec.Value)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					consumeErr = errors.Join(consumeErr, err)
					return
				}
				ts := eventTime(v)
				at, ok := sent.find(string(rec.Key), ts)
				if !ok {
					unmatched++
					return
				}
				fromRecord = append(fromRecord, now.Sub(at))
				fromEvent = append(fromEvent, now.Sub(time.Unix(0, ts)))
			})
		}
	}()
	defer func() {
		stopConsumer()
		<-consumed
	}()

	gcfg := b.cfg.genConfig(p)
	gcfg.Pace, gcfg.Rate = true, rate
	g, err := synthetic.New(gcfg)
	if err != nil {
		return res, err
	}
	s, err := sink.New(ctx, r.kcfg, r.serde, prometheus.NewRegistry(), quiet(b.log))
	if err != nil {
		return res, err
	}
	var events int64
	t0 := time.Now()
	runCtx, stopRun := context.WithTimeout(ctx, b.cfg.Latency)
	for {
		bt, err := g.Next(runCtx)
		if err != nil {
			break
		}
		if err := send(ctx, s, sent, bt); err != nil {
			stopRun()
			return res, errors.Join(err, s.Close(ctx))
		}
		events += int64(len(bt.Events))
	}
	stopRun()
	for _, bt := range g.Drain() { // what the producer sends when it stops
		if err := send(ctx, s, sent, bt); err != nil {
			return res, errors.Join(err, s.Close(ctx))
		}
		events += int64(len(bt.Events))
	}
	res.Duration = time.Since(t0)
	res.Achieved = perSecond(events, res.Duration)
	if err := s.Close(ctx); err != nil {
		return res, err
	}
	ends, err := r.adm.ListEndOffsets(ctx, r.topics.Raw)
	if err != nil {
		return res, fmt.Errorf("latency: raw end offsets: %w", err)
	}
	r.rawEnds = map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { r.rawEnds[o.Partition] = o.Offset })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if done, _ := r.committedAll(ctx, r.group()); done {
			res.Complete = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // the consumer reads the last committed records
	stopConsumer()
	<-consumed
	mu.Lock()
	defer mu.Unlock()
	res.Records, res.Unmatched = int64(len(fromRecord)), unmatched
	res.FromRecord, res.FromEvent = quantilesOf(fromRecord), quantilesOf(fromEvent)
	return res, consumeErr
}

// send hands a batch to the sink and remembers when.
func send(ctx context.Context, s *sink.Sink, sent *sentIndex, bt *raw.Batch) error {
	sent.add(string(raw.Key(bt.Exporter, bt.HPID, bt.CreateTS)), bt.Events[len(bt.Events)-1].TS, time.Now())
	return s.Send(ctx, bt)
}
