// Package pipeline is the producer stage: it runs a Source (live eBPF capture, a replayed
// capture, the synthetic generator) and sends its raw batches to sysflow.raw through a
// producer/sink.Sink, with the same shape as the processor and archiver stages (Config, New
// with options, Run, Drain).
//
// Shutdown. When Run's context ends, or Drain is called, the source is stopped, what it
// emitted is sent, and, with Config.EndOnShutdown, an end notice follows: processors then
// truncate the exporter's open flows, as the reference does when its capture ends. A source
// that finishes by itself (the end of a replay) has sent its own end notice. The flush at
// shutdown is bounded by Config.FlushTimeout; what is not acknowledged by then is reported.
//
// Metrics: those of producer/sink (sfstream_producer_batches_total, ...), registered on the
// registerer given with WithRegisterer.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/sink"
)

// DefaultFlushTimeout bounds the flush at shutdown when Config.FlushTimeout is 0.
const DefaultFlushTimeout = 30 * time.Second

// Source is where raw batches come from. Run emits batches until ctx ends (nil) or the source
// is exhausted (nil) or fails; emit's error stops it.
type Source interface {
	Run(ctx context.Context, emit func(raw.Batch) error) error
}

// Config configures a Producer. The zero value is valid once Kafka is set.
type Config struct {
	// Kafka is how to reach the brokers and name the topics.
	Kafka kafka.Config
	// Exporter names the node in the end notice. Required with EndOnShutdown.
	Exporter string
	// EndOnShutdown makes a shutdown (Run's context ending, or Drain) tell the processors the
	// capture ended for good, which truncates the exporter's open flows. Off, a restarted
	// producer continues the same flows. Default false.
	EndOnShutdown bool
	// FlushTimeout bounds the flush at shutdown. Default DefaultFlushTimeout.
	FlushTimeout time.Duration
	// DelayBy, when positive, holds the records of raw partition DelayPartition back by that
	// long (a testing aid: see sink.DelayPartition). Default off.
	DelayBy        time.Duration
	DelayPartition int32
}

func (c Config) withDefaults() Config {
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	return c
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.EndOnShutdown && c.Exporter == "" {
		errs = append(errs, errors.New("end on shutdown: the exporter id is empty"))
	}
	if c.FlushTimeout < 0 {
		errs = append(errs, fmt.Errorf("flush timeout %v: negative", c.FlushTimeout))
	}
	if c.DelayBy < 0 || c.DelayPartition < 0 {
		errs = append(errs, fmt.Errorf("delay partition %d by %v: negative", c.DelayPartition, c.DelayBy))
	}
	if len(errs) > 0 {
		return fmt.Errorf("producer config: %w", errors.Join(errs...))
	}
	return nil
}

// Producer is one producer stage.
type Producer struct {
	cfg   Config
	src   Source
	serde *codec.Serde
	log   *slog.Logger
	reg   prometheus.Registerer
	kopts []kafka.Option

	mu      sync.Mutex
	stop    context.CancelFunc // stops the source; nil before Run
	ready   bool
	stopped chan struct{} // closed when Run has flushed
	lastTS  int64         // the latest event ts emitted (ns)
}

// Option configures a Producer.
type Option func(*Producer)

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(p *Producer) { p.log = l } }

// WithRegisterer registers the metrics on reg. Default: none.
func WithRegisterer(reg prometheus.Registerer) Option { return func(p *Producer) { p.reg = reg } }

// WithKafkaOptions passes options to the Kafka client (metrics, logger).
func WithKafkaOptions(o ...kafka.Option) Option {
	return func(p *Producer) { p.kopts = append(p.kopts, o...) }
}

// New returns a Producer sending the batches of src; serde encodes them (codec.Serde).
func New(cfg Config, src Source, serde *codec.Serde, opts ...Option) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || serde == nil {
		return nil, errors.New("new producer: no source or no serde")
	}
	p := &Producer{cfg: cfg.withDefaults(), src: src, serde: serde, log: slog.New(slog.DiscardHandler), stopped: make(chan struct{})}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Ready reports whether the producer is connected and sending.
func (p *Producer) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// Run connects (retrying until ctx ends), then sends the source's batches until the source
// ends, ctx ends or Drain is called; then it sends the end notice (Config.EndOnShutdown) and
// flushes. It returns nil on a clean end, or the error of the source or of Kafka.
func (p *Producer) Run(ctx context.Context) error {
	srcCtx, stop := context.WithCancel(ctx)
	defer stop()
	p.mu.Lock()
	p.stop = stop
	p.mu.Unlock()
	defer close(p.stopped)
	out, err := sink.New(ctx, p.cfg.Kafka, p.serde, p.reg, p.log, p.kopts...)
	if err != nil {
		return fmt.Errorf("run producer: %w", err)
	}
	if p.cfg.DelayBy > 0 {
		out.DelayPartition(p.cfg.DelayPartition, p.cfg.DelayBy)
	}
	p.mu.Lock()
	p.ready = true
	p.mu.Unlock()
	// Sends outlive srcCtx: a record handed over before the stop is still sent.
	sendCtx := context.WithoutCancel(ctx)
	err = p.src.Run(srcCtx, func(b raw.Batch) error {
		if n := len(b.Events); n > 0 {
			p.mu.Lock()
			p.lastTS = max(p.lastTS, b.Events[n-1].TS)
			p.mu.Unlock()
		}
		return out.Send(sendCtx, &b)
	})
	stopped := srcCtx.Err() != nil
	if err != nil && stopped {
		err = nil // a source interrupted by the stop
	}
	if err == nil && stopped && p.cfg.EndOnShutdown {
		p.mu.Lock()
		ts := max(p.lastTS, time.Now().UnixNano())
		p.mu.Unlock()
		end := raw.Batch{Exporter: p.cfg.Exporter, Events: []raw.Event{raw.NewEvent(raw.OpEnd, ts, 0)}}
		err = out.Send(sendCtx, &end)
	}
	fctx, cancel := context.WithTimeout(sendCtx, p.cfg.FlushTimeout)
	defer cancel()
	if cerr := out.Close(fctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("run producer: records not acknowledged at shutdown: %w", cerr))
	}
	return err
}

// Drain stops the source and waits until Run has sent what it emitted (and the end notice,
// with Config.EndOnShutdown) and flushed, or ctx ends. A producer whose Run has not started
// is drained at once.
func (p *Producer) Drain(ctx context.Context) error {
	p.mu.Lock()
	stop := p.stop
	p.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	select {
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain producer: %w", ctx.Err())
	}
}

// LastTS returns the ts of the latest event sent (ns), 0 before any.
func (p *Producer) LastTS() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastTS
}
