package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/producer/synthetic"
)

// bench is one benchmark run's shared parts.
type bench struct {
	cfg   Config
	log   *slog.Logger
	ep    *endpoints
	serde *codec.Serde
	id    string
}

// Report is everything a run measured.
type Report struct {
	Config   Config
	Machine  Machine
	Started  time.Time
	Duration time.Duration
	Profiles []*ProfileReport
	Scaling  []ScalingPoint
	Latency  *latencyResult
	// LatencyErr says why there is no latency result.
	LatencyErr error
	// BrokerMeasured is set when the broker ran in a process of ours (embedded stack), so
	// that its CPU time is known.
	BrokerMeasured bool
}

// ProfileReport is one load profile's results.
type ProfileReport struct {
	Profile  *synthetic.Profile
	State    StateResult
	Produce  produceResult
	Baseline consumeResult
	Process  processResult
	Restore  restoreResult
	Output   outputResult
	// CPUProfile is the processor phase's profile file, and Hotspots its summary.
	CPUProfile string
	Hotspots   *hotspots
}

// ScalingPoint is one instance count of the scaling run.
type ScalingPoint struct {
	Process processResult
}

// Run runs the benchmark: for each profile the State alone, then on Kafka the producer, the
// bare baseline, the processors and the output sizes; then the scaling run and the latency
// run. Progress goes to log.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rep := &Report{Config: cfg, Machine: describeMachine(), Started: time.Now()}
	b := &bench{cfg: cfg, log: log, id: rep.Started.UTC().Format("20060102T150405")}
	var err error
	if b.ep, err = startStack(ctx, cfg); err != nil {
		return nil, err
	}
	defer func() {
		if serr := b.ep.stop(); serr != nil {
			log.Warn("stop stack", "err", serr)
		}
	}()
	if b.serde, err = b.newSerde(); err != nil {
		return nil, err
	}
	rep.BrokerMeasured = b.ep.pid != 0
	log.Info("stack", "mode", cfg.Stack, "brokers", b.ep.brokers, "registry", b.ep.registry)
	if cfg.CPUProfile != "" {
		if err := os.MkdirAll(cfg.CPUProfile, 0o755); err != nil {
			return nil, fmt.Errorf("cpu profile dir: %w", err)
		}
	}
	for _, p := range cfg.Profiles {
		pr, err := b.profile(ctx, p)
		if err != nil {
			return rep, fmt.Errorf("profile %s: %w", p.Name, err)
		}
		rep.Profiles = append(rep.Profiles, pr)
	}
	first := rep.Profiles[0]
	for _, n := range cfg.Scaling {
		pr, err := b.scale(ctx, first.Profile, n)
		if err != nil {
			return rep, fmt.Errorf("scaling %d: %w", n, err)
		}
		rep.Scaling = append(rep.Scaling, ScalingPoint{Process: pr})
	}
	if cfg.Latency > 0 {
		rate := cfg.LatencyRate
		if rate == 0 {
			rate = 0.25 * first.Process.rate()
		}
		log.Info("latency run", "profile", first.Profile.Name, "rate", int64(rate), "duration", cfg.Latency)
		lr, err := b.latency(ctx, first.Profile, rate)
		if err != nil {
			if ctx.Err() != nil {
				return rep, err
			}
			rep.LatencyErr = err
			log.Warn("latency run failed", "err", err)
		} else {
			rep.Latency = &lr
		}
	}
	rep.Duration = time.Since(rep.Started)
	rep.Machine.LoadAfter = loadAverage()
	return rep, nil
}

// profile measures one load profile.
func (b *bench) profile(ctx context.Context, p *synthetic.Profile) (pr *ProfileReport, err error) {
	pr = &ProfileReport{Profile: p}
	gcfg := b.cfg.genConfig(p)
	b.log.Info("state alone", "profile", p.Name, "events", b.cfg.StateEvents)
	if pr.State, err = StateThroughput(gcfg, b.cfg.State, b.cfg.StateEvents/5, b.cfg.StateEvents, b.cfg.PhaseTimeout/3); err != nil {
		return pr, err
	}
	r, err := b.newRun(ctx, p.Name)
	if err != nil {
		return pr, err
	}
	defer func() { err = errors.Join(err, r.close(ctx)) }()
	b.log.Info("produce", "profile", p.Name, "events", b.cfg.Events)
	if pr.Produce, err = b.produce(ctx, r, gcfg, b.cfg.Events); err != nil {
		return pr, err
	}
	b.log.Info("bare baseline", "profile", p.Name, "records", pr.Produce.Batches)
	if pr.Baseline, err = b.baseline(ctx, r, pr.Produce.Batches); err != nil {
		return pr, err
	}
	if b.cfg.CPUProfile != "" {
		pr.CPUProfile = filepath.Join(b.cfg.CPUProfile, "processor-"+p.Name+".pprof")
	}
	b.log.Info("processor", "profile", p.Name, "instances", 1)
	if pr.Process, err = b.process(ctx, r, 1, 0, pr.Produce.Events, pr.CPUProfile); err != nil {
		return pr, err
	}
	if pr.CPUProfile != "" {
		if pr.Hotspots, err = summarizeProfile(pr.CPUProfile); err != nil {
			b.log.Warn("cpu profile summary", "err", err)
			err = nil
		}
	}
	b.log.Info("restore", "profile", p.Name)
	if pr.Restore, err = b.restoreRun(ctx, r); err != nil {
		return pr, err
	}
	b.log.Info("output", "profile", p.Name)
	if pr.Output, err = b.measureOutput(ctx, r, synthetic.DefaultExporter); err != nil {
		return pr, err
	}
	b.log.Info("profile done", "profile", p.Name,
		"state_per_core", int64(pr.State.PerCore), "produce", int64(pr.Produce.rate()),
		"baseline", int64(pr.Baseline.rate()), "processor", int64(pr.Process.rate()),
		"processor_per_core", int64(pr.Process.perCore()), "complete", pr.Process.Complete,
		"reduction", fmt.Sprintf("%.1f", ratio(pr.Process.CommittedBytes, pr.Output.bytes())))
	return pr, nil
}

// scale runs n processors over a fresh copy of the profile's load, ScalingEvents events
// produced beforehand. Instances join one after the other and the first takes every
// partition until the group settles, so the window opens only then (see process).
func (b *bench) scale(ctx context.Context, p *synthetic.Profile, n int) (res processResult, err error) {
	r, err := b.newRun(ctx, fmt.Sprintf("%s-x%d", p.Name, n))
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, r.close(ctx)) }()
	b.log.Info("scaling: produce", "profile", p.Name, "instances", n, "events", b.cfg.ScalingEvents)
	pr, err := b.produce(ctx, r, b.cfg.genConfig(p), b.cfg.ScalingEvents)
	if err != nil {
		return res, err
	}
	b.log.Info("scaling: processors", "profile", p.Name, "instances", n)
	res, err = b.process(ctx, r, n, b.cfg.ScalingWorkers, pr.Events, "")
	b.log.Info("scaling point", "instances", n, "events_per_s", int64(res.rate()), "per_core", int64(res.perCore()),
		"complete", res.Complete, "before_window", res.EventsBefore, "aborted_in_window", res.AbortedInWindow)
	return res, err
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
