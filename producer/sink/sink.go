// Package sink sends raw batches to sysflow.raw: the producer's Kafka side.
//
// Batches are keyed by their process key, so one process lives in one partition; the
// partition is murmur2(key) as Kafka's default partitioner computes it, so other producers
// of the same topic agree. Drop and end notices (raw.OpDrop, raw.OpEnd) concern every
// process of the exporter: they are sent, unkeyed, to every partition.
//
// Produce blocks when the client's buffer is full (back-pressure to the source, whose own
// bounded queue then drops and counts); a produce that fails after the client's retries is
// counted, reported and makes Run return an error: nothing is dropped silently.
//
// Metrics:
//
//	sfstream_producer_batches_total        raw batches sent
//	sfstream_producer_events_sent_total    raw events sent
//	sfstream_producer_bytes_total          encoded raw bytes sent
//	sfstream_producer_produce_errors_total produces that failed
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
)

// Sink produces raw batches. Send is safe for use by one goroutine at a time.
type Sink struct {
	cl    *kgo.Client
	serde *codec.Serde
	topic string
	id    int
	parts int32
	log   *slog.Logger
	buf   []byte

	mu  sync.Mutex
	err error

	delay *delayed // nil unless DelayPartition was called

	batches, events, bytes, failed prometheus.Counter
}

// New connects to Kafka (retrying until ctx ends), registers the raw schema and returns a
// Sink for the raw topic of cfg. reg receives the metrics (nil: none).
func New(ctx context.Context, cfg kafka.Config, serde *codec.Serde, reg prometheus.Registerer, log *slog.Logger, opts ...kafka.Option) (*Sink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	topic := cfg.Topics().Raw
	id, err := serde.RegisterRaw(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("new raw sink: %w", err)
	}
	opts = append(opts, kafka.WithKgoOpts(
		kgo.RecordPartitioner(kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
			return partition
		})),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.MaxBufferedRecords(100_000),
	))
	cl, err := kafka.Dial(ctx, cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("new raw sink: %w", err)
	}
	s := &Sink{cl: cl, serde: serde, topic: topic, id: id, log: log}
	if err := s.refreshPartitions(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	s.batches = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sfstream", Subsystem: "producer", Name: "batches_total", Help: "Raw batches sent to Kafka."})
	s.events = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sfstream", Subsystem: "producer", Name: "events_sent_total", Help: "Raw events sent to Kafka."})
	s.bytes = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sfstream", Subsystem: "producer", Name: "bytes_total", Help: "Encoded raw bytes sent to Kafka."})
	s.failed = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sfstream", Subsystem: "producer", Name: "produce_errors_total", Help: "Raw records whose produce failed."})
	if reg != nil {
		for _, c := range []prometheus.Collector{s.batches, s.events, s.bytes, s.failed} {
			if err := reg.Register(c); err != nil {
				cl.Close()
				return nil, fmt.Errorf("new raw sink: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

func (s *Sink) refreshPartitions(ctx context.Context) error {
	md, err := kadm.NewClient(s.cl).Metadata(ctx, s.topic)
	if err != nil {
		return fmt.Errorf("raw sink: metadata of %s: %w", s.topic, err)
	}
	t, ok := md.Topics[s.topic]
	if !ok || t.Err != nil || len(t.Partitions) == 0 {
		return fmt.Errorf("raw sink: topic %s is missing (create it with the processors' EnsureTopics or sfstream run): %v", s.topic, t.Err)
	}
	s.parts = int32(len(t.Partitions))
	return nil
}

// partition places keyed records by murmur2 of the key and unkeyed records (notices) on the
// partition they name.
func partition(r *kgo.Record, n int) int {
	if r.Key == nil {
		return int(r.Partition)
	}
	return int(murmur2(r.Key)&0x7fffffff) % n
}

// Send encodes b and produces it asynchronously. It returns the first produce error seen so
// far, if any; once an error was returned the sink is unusable.
func (s *Sink) Send(ctx context.Context, b *raw.Batch) error {
	if err := s.Err(); err != nil {
		return err
	}
	var err error
	s.buf, err = s.serde.AppendRaw(s.buf[:0], s.id, b)
	if err != nil {
		return fmt.Errorf("send raw batch: %w", err)
	}
	value := append([]byte(nil), s.buf...)
	n := float64(len(b.Events))
	if b.Notices() { // drop and end notices: to every partition
		for p := int32(0); p < s.parts; p++ {
			s.send(ctx, &kgo.Record{Topic: s.topic, Partition: p, Value: value}, n)
		}
		return nil
	}
	r := &kgo.Record{Topic: s.topic, Key: raw.Key(b.Exporter, b.HPID, b.CreateTS), Value: value}
	r.Partition = int32(partition(r, int(s.parts)))
	s.send(ctx, r, n)
	return nil
}

// send produces r now, or after the partition's delay.
func (s *Sink) send(ctx context.Context, r *kgo.Record, events float64) {
	if d := s.delay; d != nil && r.Partition == d.partition {
		d.add(ctx, r, events)
		return
	}
	s.produce(ctx, r, events)
}

// DelayPartition holds every record of partition p back by d before producing it, in order.
// It is a testing aid (sfstream run --debug-delay-partition): the partition then lags the
// others as one does on a busy node, where a parent's entity can reach sysflow.entities
// after its children's records. Call it before the first Send; Flush and Close wait for the
// held records.
func (s *Sink) DelayPartition(p int32, d time.Duration) {
	s.delay = &delayed{partition: p, by: d, s: s, queue: make(chan heldRecord, 100_000)}
	go s.delay.run()
}

type heldRecord struct {
	ctx    context.Context
	r      *kgo.Record
	events float64
	due    time.Time
}

// delayed produces the records of one partition after a delay, in the order sent.
type delayed struct {
	partition int32
	by        time.Duration
	s         *Sink
	queue     chan heldRecord
	pending   sync.WaitGroup
}

func (d *delayed) add(ctx context.Context, r *kgo.Record, events float64) {
	d.pending.Add(1)
	d.queue <- heldRecord{ctx: ctx, r: r, events: events, due: time.Now().Add(d.by)}
}

func (d *delayed) run() {
	for h := range d.queue {
		time.Sleep(time.Until(h.due))
		d.s.produce(h.ctx, h.r, h.events)
		d.pending.Done()
	}
}

// wait blocks until every held record has been handed to the client, or ctx ends.
func (d *delayed) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { d.pending.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("records of partition %d held back: %w", d.partition, ctx.Err())
	}
}

func (s *Sink) produce(ctx context.Context, r *kgo.Record, events float64) {
	size := float64(len(r.Value))
	// A record is failed if its context ends before it is sent: a shutdown must not fail
	// what was already handed over, so only the caller's values are kept. Flush and Close
	// bound the wait.
	s.cl.Produce(context.WithoutCancel(ctx), r, func(_ *kgo.Record, err error) {
		if err != nil {
			s.failed.Inc()
			s.mu.Lock()
			if s.err == nil {
				s.err = fmt.Errorf("produce raw batch: %w", err)
				if !errors.Is(err, context.Canceled) {
					s.log.Error("produce to sysflow.raw failed", "err", err)
				}
			}
			s.mu.Unlock()
			return
		}
		s.batches.Inc()
		s.events.Add(events)
		s.bytes.Add(size)
	})
}

// Err returns the first produce error.
func (s *Sink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Flush waits until everything sent is acknowledged and returns the first produce error.
func (s *Sink) Flush(ctx context.Context) error {
	if s.delay != nil {
		if err := s.delay.wait(ctx); err != nil {
			return fmt.Errorf("flush raw sink: %w", err)
		}
	}
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush raw sink: %w", err)
	}
	return s.Err()
}

// Close flushes (bounded by ctx) and closes the client.
func (s *Sink) Close(ctx context.Context) error {
	err := s.Flush(ctx)
	if s.delay != nil && err == nil {
		close(s.delay.queue) // nothing is held any more
	}
	s.cl.Close()
	return err
}

// murmur2 is Kafka's default partitioner hash (the Java client's Utils.murmur2).
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(data))
	n := len(data) / 4
	for i := 0; i < n; i++ {
		k := uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[4*n:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
