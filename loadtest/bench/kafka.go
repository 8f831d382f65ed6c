package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/sink"
	"github.com/sfstream/sfstream/producer/synthetic"
)

// runEnv is one run's topics: every run has its own prefix, so that its processors start
// from empty changelogs and its outputs hold only its records.
type runEnv struct {
	kcfg    kafka.Config
	topics  kafka.Topics
	serde   *codec.Serde
	adm     *kadm.Client
	admCl   *kgo.Client
	rawEnds map[int32]int64 // end offsets of the raw topic once produced
	// rawIndex holds, per raw partition and in offset order, the running totals of events
	// and bytes through each record, as the baseline read them: what a committed offset
	// stands for.
	rawIndex map[int32][]rawMark
}

// rawMark is the running total of a raw partition through the record at offset.
type rawMark struct {
	offset        int64
	events, bytes int64
}

// upTo returns the events and bytes of the raw records before the committed offsets.
func (r *runEnv) upTo(committed map[int32]int64) (events, bytes int64) {
	for p, marks := range r.rawIndex {
		end := committed[p]
		i := sort.Search(len(marks), func(i int) bool { return marks[i].offset >= end }) // records before end
		if i > 0 {
			events += marks[i-1].events
			bytes += marks[i-1].bytes
		}
	}
	return events, bytes
}

func (b *bench) newRun(ctx context.Context, name string) (*runEnv, error) {
	kcfg := b.cfg.Kafka
	kcfg.Brokers = b.ep.brokers
	kcfg.TopicPrefix = fmt.Sprintf("%ssfbench-%s-%s.", b.cfg.Kafka.TopicPrefix, b.id, name)
	kcfg.Partitions = b.cfg.Partitions
	if kcfg.ClientID == "" {
		kcfg.ClientID = "sfbench"
	}
	cl, err := kafka.Dial(ctx, kcfg)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	r := &runEnv{kcfg: kcfg, topics: kcfg.Topics(), serde: b.serde, adm: kadm.NewClient(cl), admCl: cl}
	if err := kafka.EnsureTopics(ctx, r.adm, quiet(b.log), kcfg.TopicSpecs()...); err != nil {
		cl.Close()
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	return r, nil
}

// close deletes the run's topics (a real cluster keeps no benchmark data) and its client.
func (r *runEnv) close(ctx context.Context) error {
	defer r.admCl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := r.adm.DeleteTopics(ctx, r.topics.All()...)
	if err != nil {
		return fmt.Errorf("delete run topics: %w", err)
	}
	return resp.Error()
}

// produceResult is the raw side of a run: the generator through producer/sink.
type produceResult struct {
	Events, Batches int64
	Bytes           int64 // encoded raw record values (wire format, before Kafka compression)
	Wall, CPU       time.Duration
	BrokerCPU       time.Duration
}

func (p produceResult) rate() float64 { return perSecond(p.Events, p.Wall) }

// produce generates events raw events (rounded up to whole batches) and sends them with
// producer/sink, exactly as sf-producer does: same keys, partitioner, batching, lz4.
func (b *bench) produce(ctx context.Context, r *runEnv, gcfg synthetic.Config, events int64) (produceResult, error) {
	reg := prometheus.NewRegistry()
	s, err := sink.New(ctx, r.kcfg, r.serde, reg, quiet(b.log))
	if err != nil {
		return produceResult{}, err
	}
	g, err := synthetic.New(gcfg)
	if err != nil {
		return produceResult{}, errors.Join(err, s.Close(ctx))
	}
	var res produceResult
	c0, bc0, t0 := cpuNow(), b.ep.brokerCPU(), time.Now()
	for res.Events < events {
		bt, err := g.Next(ctx)
		if err == nil {
			err = s.Send(ctx, bt)
		}
		if err != nil {
			return res, errors.Join(fmt.Errorf("produce raw: %w", err), s.Close(ctx))
		}
		res.Events += int64(len(bt.Events))
		res.Batches++
	}
	if err := s.Flush(ctx); err != nil {
		return res, errors.Join(err, s.Close(ctx))
	}
	res.Wall, res.CPU, res.BrokerCPU = time.Since(t0), cpuNow()-c0, b.ep.brokerCPU()-bc0
	res.Bytes = int64(gatherSum(reg, "sfstream_producer_bytes_total", nil))
	if err := s.Close(ctx); err != nil {
		return res, err
	}
	ends, err := r.adm.ListEndOffsets(ctx, r.topics.Raw)
	if err != nil {
		return res, fmt.Errorf("raw end offsets: %w", err)
	}
	r.rawEnds = map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { r.rawEnds[o.Partition] = o.Offset })
	return res, nil
}

// consumeResult is the bare baseline: consume and decode the raw records, nothing else.
type consumeResult struct {
	Events, Records int64
	Wall, CPU       time.Duration
	BrokerCPU       time.Duration
	TimedOut        bool
}

func (c consumeResult) rate() float64 { return perSecond(c.Events, c.Wall) }

// baseline consumes the run's raw topic from the start (read_committed, as the processors)
// and decodes every record with the processors' codec, until it has read records records. It
// is shaped like the processor: the partitions of a poll are decoded in parallel, one
// goroutine per partition, so that the ratio compares work and not parallelism.
func (b *bench) baseline(ctx context.Context, r *runEnv, records int64) (res consumeResult, err error) {
	cl, err := kafka.NewClient(r.kcfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(r.topics.Raw),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	))
	if err != nil {
		return consumeResult{}, fmt.Errorf("baseline: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, b.cfg.PhaseTimeout)
	defer cancel()
	type part struct {
		batch   raw.Batch
		marks   []rawMark
		records []*kgo.Record
		events  int64
		err     error
	}
	var (
		parts = map[int32]*part{}
		sem   = make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
	)
	decode := func(p *part) {
		for _, rec := range p.records {
			if err := r.serde.DecodeRaw(ctx, rec.Value, &p.batch); err != nil {
				p.err = err
				return
			}
			p.events += int64(len(p.batch.Events))
			m := rawMark{offset: rec.Offset, events: int64(len(p.batch.Events)), bytes: int64(len(rec.Value))}
			if n := len(p.marks); n > 0 {
				m.events += p.marks[n-1].events
				m.bytes += p.marks[n-1].bytes
			}
			p.marks = append(p.marks, m)
		}
	}
	defer func() {
		index := map[int32][]rawMark{}
		for id, p := range parts {
			index[id] = p.marks
		}
		r.rawIndex = index
	}()
	c0, bc0, t0 := cpuNow(), b.ep.brokerCPU(), time.Now()
	defer func() { res.Wall, res.CPU, res.BrokerCPU = time.Since(t0), cpuNow()-c0, b.ep.brokerCPU()-bc0 }()
	for res.Records < records {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			res.TimedOut = true
			break
		}
		if err := fs.Err0(); err != nil {
			return res, fmt.Errorf("baseline: fetch: %w", err)
		}
		var todo []*part
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			if len(fp.Records) == 0 {
				return
			}
			p := parts[fp.Partition]
			if p == nil {
				p = &part{}
				parts[fp.Partition] = p
			}
			p.records = fp.Records
			p.events = 0
			todo = append(todo, p)
			res.Records += int64(len(fp.Records))
		})
		var wg sync.WaitGroup
		for _, p := range todo {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				decode(p)
			})
		}
		wg.Wait()
		for _, p := range todo {
			if p.err != nil {
				return res, fmt.Errorf("baseline: %w", p.err)
			}
			res.Events += p.events
			p.records = nil
		}
	}
	return res, nil
}

// committedAll reports whether group has committed the end offset of every raw partition.
func (r *runEnv) committedAll(ctx context.Context, group string) (bool, error) {
	committed, err := r.committed(ctx, group)
	if err != nil {
		return false, err
	}
	for p, end := range r.rawEnds {
		if end > 0 && committed[p] < end {
			return false, nil
		}
	}
	return true, nil
}

// committed returns the group's committed offsets of the raw partitions.
func (r *runEnv) committed(ctx context.Context, group string) (map[int32]int64, error) {
	resp, err := r.adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == r.topics.Raw && o.Err == nil {
			out[o.Partition] = o.At
		}
	})
	return out, nil
}

// newSerde returns a codec on the run's registry, as each service instance builds its own.
func (b *bench) newSerde() (*codec.Serde, error) {
	c := srclient.CreateSchemaRegistryClient(b.ep.registry)
	c.SetTimeout(10 * time.Second)
	return codec.New(c, codec.WithLogger(quiet(b.log)))
}

// gatherSum returns the sum of the samples of metric name in reg whose labels include
// every pair of match.
func gatherSum(reg prometheus.Gatherer, name string, match map[string]string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for k, v := range match {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return sum
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// quiet returns a logger that keeps only warnings and errors of l's handler.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{h: l.Handler(), min: slog.LevelWarn})
}

type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }
func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h: f.h.WithAttrs(a), min: f.min}
}
func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h: f.h.WithGroup(n), min: f.min}
}
