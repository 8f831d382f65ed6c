package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/processors/pipeline"
)

// processResult is one processing phase: n processor instances, each its own
// pipeline.Processor with its own transactional id, codec and Kafka clients, in this
// process, over a raw topic produced beforehand.
//
// The measured window opens when every instance has joined the group and restored its
// (empty) state and, for several instances, the group has settled (Stable, every instance
// owning partitions), and closes when the group has committed the end offset of every raw
// partition. Events is what the instances applied inside the window (their events_in
// counters); CPU is this process's CPU time in it, which is the processors' alone since the
// broker runs elsewhere and the driver only samples metrics meanwhile.
type processResult struct {
	Instances  int
	Events     int64
	RecordsOut int64 // SysFlow records produced (entities and events)
	Wall, CPU  time.Duration
	BrokerCPU  time.Duration
	Startup    time.Duration // Run to all instances ready
	Complete   bool          // every raw record committed within the phase timeout
	Aborted    int64         // aborted transactions (rebalances), the whole phase
	// AbortedInWindow counts aborts inside the window: their events were applied twice, so
	// Events overstates progress by up to a transaction each. 0 in a clean measurement.
	AbortedInWindow int64
	// EventsBefore is what the instances applied before the window (joins and rebalances).
	EventsBefore int64
	// CommittedEvents and CommittedBytes are the raw events and bytes whose offsets were
	// committed at the end: the input of everything the run's outputs hold.
	CommittedEvents, CommittedBytes int64
}

func (p processResult) rate() float64 { return perSecond(p.Events, p.Wall) }

// perCore returns events per CPU-second of the processors.
func (p processResult) perCore() float64 { return perSecond(p.Events, p.CPU) }

func (p processResult) recordsRate() float64 { return perSecond(p.RecordsOut, p.Wall) }

// fleet is n processor instances running in this process.
type fleet struct {
	insts   []instance
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []error
	stopped sync.Once
}

type instance struct {
	p   *pipeline.Processor
	reg *prometheus.Registry
}

// startFleet starts n processors of one group on the run's topics; stop them with stop.
func (b *bench) startFleet(ctx context.Context, r *runEnv, n, workers int) (*fleet, error) {
	ctx, cancel := context.WithCancel(ctx)
	f := &fleet{cancel: cancel}
	for i := 0; i < n; i++ {
		serde, err := b.newSerde()
		if err != nil {
			return nil, errors.Join(err, f.stop())
		}
		kcfg := r.kcfg
		kcfg.ClientID = fmt.Sprintf("%sprocessor-%d", r.kcfg.TopicPrefix, i)
		reg := prometheus.NewRegistry()
		p, err := pipeline.New(pipeline.Config{
			Kafka:           kcfg,
			Group:           r.group(),
			TransactionalID: fmt.Sprintf("%sprocessor-%d", r.kcfg.TopicPrefix, i),
			State:           b.cfg.State,
			Workers:         workers,
		}, serde, reg, pipeline.WithLogger(quiet(b.log)), pipeline.WithKafkaOptions(kafka.WithLogger(quiet(b.log))))
		if err != nil {
			return nil, errors.Join(err, f.stop())
		}
		f.insts = append(f.insts, instance{p, reg})
		f.wg.Go(func() {
			if err := p.Run(ctx); err != nil {
				f.mu.Lock()
				f.errs = append(f.errs, fmt.Errorf("processor %d: %w", i, err))
				f.mu.Unlock()
				cancel()
			}
		})
	}
	return f, nil
}

// group is the consumer group of the run's processors.
func (r *runEnv) group() string { return r.kcfg.TopicPrefix + "processors" }

// err returns the errors of the instances that failed so far.
func (f *fleet) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.errs...)
}

// stop stops every instance and returns their errors; later calls return nil.
func (f *fleet) stop() error {
	var err error
	f.stopped.Do(func() {
		f.cancel()
		f.wg.Wait()
		err = f.err()
	})
	return err
}

// sum adds metric name over the instances.
func (f *fleet) sum(name string, match map[string]string) int64 {
	var s float64
	for _, in := range f.insts {
		s += gatherSum(in.reg, name, match)
	}
	return int64(s)
}

// waitStable waits until the run's group is Stable with every instance a member owning at
// least one raw partition: the end of the joins' rebalances.
func (b *bench) waitStable(ctx context.Context, r *runEnv, n int, deadline time.Time) error {
	for {
		gs, err := r.adm.DescribeGroups(ctx, r.group())
		if err == nil {
			g := gs[r.group()]
			owners := 0
			for _, m := range g.Members {
				if c, ok := m.Assigned.AsConsumer(); ok {
					for _, t := range c.Topics {
						if t.Topic == r.topics.Raw && len(t.Partitions) > 0 {
							owners++
						}
					}
				}
			}
			if g.Err == nil && g.State == "Stable" && len(g.Members) == n && owners == n {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("group %s not stable with %d members in time (last error %v)", r.group(), n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitReady waits until every instance has joined, been assigned and restored its state.
func (f *fleet) waitReady(ctx context.Context, deadline time.Time) error {
	for {
		ready := 0
		for _, in := range f.insts {
			if in.p.Ready() {
				ready++
			}
		}
		if ready == len(f.insts) {
			return nil
		}
		if err := f.err(); err != nil {
			return err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%d of %d processors ready in time", ready, len(f.insts))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// process runs n processor instances over the run's raw topic until everything is committed
// or the phase timeout, and stops them. With profile set, a CPU profile of the window is
// written there.
func (b *bench) process(ctx context.Context, r *runEnv, n, workers int, total int64, profile string) (res processResult, err error) {
	res.Instances = n
	deadline := time.Now().Add(b.cfg.PhaseTimeout)
	start := time.Now()
	f, err := b.startFleet(ctx, r, n, workers)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, f.stop()) }()
	if err := f.waitReady(ctx, deadline); err != nil {
		return res, fmt.Errorf("process: %w", err)
	}
	if n > 1 {
		// Instances join one after the other and the first takes every partition meanwhile:
		// the window opens once the group has settled.
		if err := b.waitStable(ctx, r, n, deadline); err != nil {
			return res, fmt.Errorf("process: %w", err)
		}
	}
	res.Startup = time.Since(start)
	if profile != "" {
		pf, err := os.Create(profile)
		if err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return res, errors.Join(fmt.Errorf("cpu profile: %w", err), pf.Close())
		}
		defer func() {
			pprof.StopCPUProfile()
			if cerr := pf.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("cpu profile: %w", cerr))
			}
		}()
	}
	ev0, out0 := f.sum("sfstream_processor_events_in_total", nil), f.sum("sfstream_processor_records_out_total", nil)
	ab0 := f.sum("sfstream_processor_transactions_total", map[string]string{"result": "aborted"})
	res.EventsBefore = ev0
	c0, bc0, t0 := cpuNow(), b.ep.brokerCPU(), time.Now()
	for {
		if err := f.err(); err != nil {
			return res, err
		}
		done, err := r.committedAll(ctx, r.group())
		if err != nil && ctx.Err() == nil {
			return res, fmt.Errorf("process: committed offsets: %w", err)
		}
		if done {
			res.Complete = true
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.Wall, res.CPU, res.BrokerCPU = time.Since(t0), cpuNow()-c0, b.ep.brokerCPU()-bc0
	res.Events = f.sum("sfstream_processor_events_in_total", nil) - ev0
	res.RecordsOut = f.sum("sfstream_processor_records_out_total", nil) - out0
	res.Aborted = f.sum("sfstream_processor_transactions_total", map[string]string{"result": "aborted"})
	res.AbortedInWindow = res.Aborted - ab0
	if err := f.stop(); err != nil {
		return res, err
	}
	committed, err := r.committed(ctx, r.group())
	if err != nil {
		return res, fmt.Errorf("process: committed offsets: %w", err)
	}
	res.CommittedEvents, res.CommittedBytes = r.upTo(committed)
	return res, nil
}

// restoreResult is a fresh instance taking over every partition of a run whose processing
// phase has ended: it joins the group and restores the state the first instance checkpointed.
type restoreResult struct {
	Changelog int64         // offsets in the changelog (records, tombstones and markers)
	Ready     time.Duration // Run to ready: join, assignment and restore
	Restore   time.Duration // the restore alone (sfstream_processor_restore_seconds)
}

// restoreRun measures restoreResult on run r.
func (b *bench) restoreRun(ctx context.Context, r *runEnv) (res restoreResult, err error) {
	ends, err := r.adm.ListEndOffsets(ctx, r.topics.State)
	if err != nil {
		return res, fmt.Errorf("restore: changelog end offsets: %w", err)
	}
	ends.Each(func(o kadm.ListedOffset) { res.Changelog += o.Offset })
	start := time.Now()
	f, err := b.startFleet(ctx, r, 1, 0)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, f.stop()) }()
	if err := f.waitReady(ctx, start.Add(b.cfg.PhaseTimeout)); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	res.Ready = time.Since(start)
	res.Restore = time.Duration(gatherSum(f.insts[0].reg, "sfstream_processor_restore_seconds", nil) * float64(time.Second))
	return res, nil
}
