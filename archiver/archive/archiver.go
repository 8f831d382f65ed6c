package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sync/errgroup"

	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/archiver/store"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/kafka"
)

// Log keys.
const (
	logKeyGroup     = "group"
	logKeyTopic     = "topic"
	logKeyPartition = "partition"
	logKeyObject    = "object"
	logKeyRecords   = "records"
	logKeyBytes     = "bytes"
	logKeyErr       = "err"
	logKeyTarget    = "target"
	logKeyAttempt   = "attempt"
	logKeyMissing   = "missing"
	logKeyStaged    = "staged_bytes"
	logKeyOffset    = "offset"
	logKeyFiles     = "files"
	logKeyElapsed   = "elapsed"
	logKeyRef       = "ref"
)

// pollWait bounds one poll, so that finished uploads and idle hours are handled promptly.
const pollWait = 200 * time.Millisecond

// headBytes is how much of an object is read to find its metadata: the container header
// (the schema is about 10 KB).
const headBytes = 1 << 20

// Archiver is one instance of the archiver group.
type Archiver struct {
	cfg    Config
	topics kafka.Topics
	serde  entities.Decoder
	store  store.Store
	log    *slog.Logger
	m      *metrics
	reg    prometheus.Registerer
	kopts  []kafka.Option

	table    *entities.Table
	follower *entities.Follower
	cl       *kgo.Client

	mu       sync.Mutex
	parts    map[int32]*partition
	pauseAll bool
	paused   map[int32]bool // partitions paused on the client

	jobs chan *upload
	done chan *upload

	ready      atomic.Bool
	joined     atomic.Bool // partitions were assigned at least once (what Drain waits for)
	waitWarned time.Time

	resolver  *hourly.Resolver        // used by the poll loop only
	givenUp   map[hourly.Ref]struct{} // entities not waited for again (poll loop only)
	refWarned time.Time

	pollMu     sync.Mutex
	pollCancel context.CancelFunc // ends the poll in progress, so that results are handled

	drains []*drainReq // guarded by mu

	parquetSlots chan struct{} // bounds the Parquet conversions running at once
}

// Option configures an Archiver.
type Option func(*Archiver)

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(a *Archiver) { a.log = l } }

// WithKafkaOptions passes options to the Kafka clients (metrics, logger).
func WithKafkaOptions(o ...kafka.Option) Option {
	return func(a *Archiver) { a.kopts = append(a.kopts, o...) }
}

// WithStore stores objects in s instead of the store of Config.Target.
func WithStore(s store.Store) Option { return func(a *Archiver) { a.store = s } }

// New returns an Archiver; serde decodes record values (codec.Serde); reg receives its
// metrics (nil: none).
func New(cfg Config, serde entities.Decoder, reg prometheus.Registerer, opts ...Option) (*Archiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	a := &Archiver{
		cfg:     cfg,
		topics:  cfg.Kafka.Topics(),
		serde:   serde,
		log:     slog.New(slog.DiscardHandler),
		m:       newMetrics(),
		reg:     reg,
		table:   entities.NewTable(cfg.MaxVersions),
		givenUp: map[hourly.Ref]struct{}{},
		parts:   map[int32]*partition{},
		paused:  map[int32]bool{},
		// Converting to Parquet is CPU-bound and holds a row group in memory (about 150 MiB
		// at 128Ki rows): more conversions at once than cores would gain nothing.
		parquetSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	for _, o := range opts {
		o(a)
	}
	a.resolver = hourly.NewResolver(a.table, 0)
	if a.store == nil {
		s, err := store.Open(cfg.Target, store.WithPartSize(cfg.PartSize))
		if err != nil {
			return nil, fmt.Errorf("new archiver: %w", err)
		}
		a.store = s
	}
	if reg != nil {
		if err := a.m.register(reg); err != nil {
			return nil, fmt.Errorf("new archiver: register metrics: %w", err)
		}
	}
	return a, nil
}

// Ready reports whether the archiver has loaded the entity table and is consuming.
func (a *Archiver) Ready() bool { return a.ready.Load() }

// Run archives until ctx ends or a fatal error. On a clean shutdown it stores the objects of
// closed hours (within Config.ShutdownTimeout), commits, and returns nil; open hours are left
// to the next owner of their partition, which reads them again from Kafka.
func (a *Archiver) Run(ctx context.Context) error {
	if err := a.store.Check(ctx); err != nil {
		if store.IsPermanent(err) {
			return fmt.Errorf("run archiver: %w", err)
		}
		a.log.Warn("archive target unreachable; objects are staged and stored once it answers", logKeyTarget, a.store.String(), logKeyErr, err)
	}
	if err := a.cleanStaging(); err != nil {
		return fmt.Errorf("run archiver: %w", err)
	}
	ecfg := a.cfg.Kafka
	if ecfg.ClientID == "" {
		ecfg.ClientID = kafka.DefaultClientID
	}
	ecfg.ClientID += "-entities"
	ecl, err := kafka.NewClient(ecfg, append(slices.Clone(a.kopts), kafka.WithKgoOpts(entities.ClientOpts(a.topics.Entities)...))...)
	if err != nil {
		return fmt.Errorf("run archiver: %w", err)
	}
	defer ecl.Close()
	fopts := []entities.FollowerOption{entities.WithLogger(a.log)}
	if a.reg != nil {
		fopts = append(fopts, entities.WithMetrics(a.reg))
	}
	a.follower, err = entities.NewFollower(ecl, a.topics.Entities, a.serde, a.table, fopts...)
	if err != nil {
		return fmt.Errorf("run archiver: %w", err)
	}
	defer func() {
		if err := a.store.Close(); err != nil {
			a.log.Warn("closing the archive store", logKeyErr, err)
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.follower.Run(gctx) })
	g.Go(func() error {
		if err := a.follower.Load(gctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("run archiver: %w", err)
		}
		return a.consume(gctx)
	})
	return g.Wait()
}

// cleanStaging empties the partition directories of the staging directory: what they hold
// was not stored, so it is still in Kafka, uncommitted, and is rebuilt from there.
func (a *Archiver) cleanStaging() error {
	if err := os.MkdirAll(a.cfg.StagingDir, 0o755); err != nil {
		return fmt.Errorf("staging dir: %w", err)
	}
	dirs, err := filepath.Glob(filepath.Join(a.cfg.StagingDir, "p[0-9]*"))
	if err != nil {
		return fmt.Errorf("staging dir: %w", err)
	}
	n := 0
	for _, d := range dirs {
		files, err := os.ReadDir(d)
		if err != nil {
			continue // not a directory
		}
		for _, f := range files {
			if name := f.Name(); strings.HasSuffix(name, ".body") || strings.HasSuffix(name, ".sf") {
				if err := os.Remove(filepath.Join(d, name)); err != nil {
					return fmt.Errorf("staging dir: %w", err)
				}
				n++
			}
		}
	}
	if n > 0 {
		a.log.Info("staging directory cleared; its hours are read again from Kafka", logKeyFiles, n)
	}
	return nil
}

// consume runs the group member until ctx ends or a fatal error.
func (a *Archiver) consume(ctx context.Context) error {
	kopts := []kgo.Opt{
		kgo.ConsumerGroup(a.cfg.Group),
		kgo.ConsumeTopics(a.topics.Events),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(a.cfg.SessionTimeout),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.OnPartitionsAssigned(a.assigned),
		kgo.OnPartitionsRevoked(a.revoked),
		kgo.OnPartitionsLost(a.revoked),
	}
	if a.cfg.InstanceID != "" {
		kopts = append(kopts, kgo.InstanceID(a.cfg.InstanceID))
	}
	cl, err := kafka.NewClient(a.cfg.Kafka, append(slices.Clone(a.kopts), kafka.WithKgoOpts(kopts...))...)
	if err != nil {
		return fmt.Errorf("run archiver: %w", err)
	}
	a.cl = cl
	a.jobs = make(chan *upload, a.cfg.UploadWorkers)
	a.done = make(chan *upload, 2*a.cfg.UploadWorkers+1)
	var workers sync.WaitGroup
	for range a.cfg.UploadWorkers {
		workers.Go(a.worker)
	}
	a.ready.Store(true)
	a.log.Info("archiver started", logKeyGroup, a.cfg.Group, logKeyTopic, a.topics.Events, logKeyTarget, a.store.String())
	var runErr error
	for ctx.Err() == nil {
		if runErr = a.step(ctx); runErr != nil {
			break
		}
	}
	a.ready.Store(false)
	a.shutdown()
	a.mu.Lock()
	a.failDrainsLocked(errors.New("drain archiver: the archiver stopped"))
	a.mu.Unlock()
	close(a.jobs)
	stopped := make(chan struct{})
	go func() { workers.Wait(); close(stopped) }()
	for waiting := true; waiting; {
		select {
		case u := <-a.done:
			a.handleResult(u)
		case <-stopped:
			a.drainResults()
			waiting = false
		}
	}
	cl.AllowRebalance()
	cl.Close()
	a.log.Info("archiver stopped", logKeyErr, runErr)
	return runErr
}

// step polls once and handles what came and what is due.
func (a *Archiver) step(ctx context.Context) error {
	a.applyPauses()
	a.cl.AllowRebalance()
	wait := pollWait
	if len(a.done) > 0 {
		wait = 0 // uploads finished: handle them after taking what is buffered
	}
	pctx, cancel := context.WithTimeout(ctx, wait)
	a.pollMu.Lock()
	a.pollCancel = cancel
	a.pollMu.Unlock()
	fetches := a.cl.PollRecords(pctx, a.cfg.MaxPollRecords)
	a.pollMu.Lock()
	a.pollCancel = nil
	a.pollMu.Unlock()
	cancel()
	if fetches.IsClientClosed() {
		return errors.New("run archiver: kafka client closed")
	}
	if ctx.Err() != nil {
		return nil
	}
	fetches.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			a.log.Warn("fetch error", logKeyTopic, t, logKeyPartition, p, logKeyErr, err)
		}
	})
	if fetches.NumRecords() > 0 {
		if err := a.process(ctx, fetches); err != nil {
			return err
		}
	}
	return a.tick(ctx)
}

// wake ends the poll in progress, if any.
func (a *Archiver) wake() {
	a.pollMu.Lock()
	defer a.pollMu.Unlock()
	if a.pollCancel != nil {
		a.pollCancel()
	}
}

// assigned sets up newly assigned partitions from their committed offsets and metadata.
func (a *Archiver) assigned(ctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	ps := assigned[a.topics.Events]
	if len(ps) == 0 {
		return
	}
	defer a.joined.Store(true)
	committed, err := a.fetchCommitted(ctx, cl)
	if err != nil {
		a.log.Warn("committed offsets unavailable; every hour is checked against the archive", logKeyErr, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range ps {
		part := newPartition(p, a.cfg.StagingDir)
		o, ok := committed[p]
		switch {
		case err != nil:
			part.storedHour = math.MaxInt64
		case ok && o.At >= 0:
			part.committed, part.next = o.At, o.At
			w, h, ok := parseCommitMetadata(o.Metadata)
			if ok {
				part.watermark, part.storedHour = w, h
			} else {
				part.storedHour = math.MaxInt64 // committed by something else: look everything up
			}
		default:
			// Nothing committed: the partition is read from its start and its archive written
			// afresh, replacing objects of the same names.
			part.storedHour = math.MinInt64
		}
		if old := a.parts[p]; old != nil {
			if err := old.drop(); err != nil {
				a.log.Warn("dropping stale partition state", logKeyPartition, p, logKeyErr, err)
			}
		}
		a.parts[p] = part
	}
	a.log.Info("partitions assigned", logKeyTopic, a.topics.Events, logKeyPartition, ps)
}

// fetchCommitted returns the committed offsets and metadata of the events topic.
func (a *Archiver) fetchCommitted(ctx context.Context, cl *kgo.Client) (map[int32]kadm.OffsetResponse, error) {
	adm := kadm.NewClient(cl)
	var lastErr error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		resp, err := adm.FetchOffsetsForTopics(ctx, a.cfg.Group, a.topics.Events)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			lastErr = err
			continue
		}
		out := map[int32]kadm.OffsetResponse{}
		for p, o := range resp[a.topics.Events] {
			out[p] = o
		}
		return out, nil
	}
	return nil, fmt.Errorf("fetch committed offsets of %s: %w", a.cfg.Group, lastErr)
}

// revoked forgets revoked or lost partitions.
func (a *Archiver) revoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	ps := revoked[a.topics.Events]
	if len(ps) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range ps {
		part := a.parts[p]
		if part == nil {
			continue
		}
		delete(a.parts, p)
		if err := part.drop(); err != nil {
			a.log.Warn("dropping partition state", logKeyPartition, p, logKeyErr, err)
		}
	}
	a.log.Info("partitions revoked", logKeyTopic, a.topics.Events, logKeyPartition, ps)
}

// applyPauses pauses fetching of every owned partition while the staging directory is over
// its bound, and of partitions whose archive lookups fail, and resumes the others.
func (a *Archiver) applyPauses() {
	a.mu.Lock()
	now := time.Now()
	want := map[int32]bool{}
	for id, p := range a.parts {
		if a.pauseAll || now.Before(p.blockedUntil) {
			want[id] = true
		}
	}
	var pause, resume []int32
	for id := range want {
		if !a.paused[id] {
			pause = append(pause, id)
		}
	}
	for id := range a.paused {
		if !want[id] {
			resume = append(resume, id)
		}
	}
	a.paused = want
	a.mu.Unlock()
	if len(pause) > 0 {
		a.cl.PauseFetchPartitions(map[string][]int32{a.topics.Events: pause})
	}
	if len(resume) > 0 {
		a.cl.ResumeFetchPartitions(map[string][]int32{a.topics.Events: resume})
	}
}

// tick handles finished uploads, idle hours, the staging bound, uploads to start and commits.
func (a *Archiver) tick(ctx context.Context) error {
	a.drainResults()
	a.mu.Lock()
	now := time.Now()
	var err error
	for _, p := range a.sortedParts() {
		if now.Sub(p.lastRecord) >= a.cfg.IdleTimeout {
			for _, of := range p.due(now.UnixNano()) {
				if err = a.close(p, of); err != nil {
					break
				}
			}
		}
		a.evictHours(p)
	}
	if err != nil {
		a.mu.Unlock()
		return err
	}
	staged, open, pending := a.stagingLocked()
	if staged >= a.cfg.StagingMaxBytes {
		if pending == 0 && open > 0 {
			if err := a.forceCloseLargest(); err != nil {
				a.mu.Unlock()
				return err
			}
		}
		if !a.pauseAll {
			a.pauseAll = true
			a.m.paused.Set(1)
			a.log.Warn("staging directory full; fetching paused until objects are stored", logKeyStaged, staged)
		}
	} else if a.pauseAll && staged < a.cfg.StagingMaxBytes/10*9 {
		a.pauseAll = false
		a.m.paused.Set(0)
		a.log.Info("fetching resumed", logKeyStaged, staged)
	}
	if err := a.drainLocked(now); err != nil {
		a.mu.Unlock()
		return err
	}
	a.dispatchLocked()
	commits := a.commitsDueLocked(now)
	var lag int64
	for _, p := range a.parts {
		lag += p.lag
	}
	a.m.lag.Set(float64(lag))
	a.mu.Unlock()
	a.commit(ctx, commits)
	a.mu.Lock()
	a.answerDrainsLocked()
	a.mu.Unlock()
	return nil
}

// sortedParts returns the owned partitions by id.
func (a *Archiver) sortedParts() []*partition {
	ps := make([]*partition, 0, len(a.parts))
	for _, p := range a.parts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(x, y *partition) int { return int(x.id - y.id) })
	return ps
}

// stagingLocked sums the staged bytes, open objects and objects waiting to be stored, and
// updates the gauges.
func (a *Archiver) stagingLocked() (staged int64, open, pending int) {
	for _, p := range a.parts {
		staged += p.staged()
		open += len(p.open)
		pending += len(p.queue)
	}
	a.m.stagingBytes.Set(float64(staged))
	a.m.openHours.Set(float64(open))
	a.m.pendingUploads.Set(float64(pending))
	return staged, open, pending
}

// forceCloseLargest closes the largest open object: the staging directory is full and
// nothing else would free it.
func (a *Archiver) forceCloseLargest() error {
	var (
		best *openFile
		bp   *partition
	)
	for _, p := range a.sortedParts() {
		for _, of := range p.open {
			if best == nil || of.f.Staged() > best.f.Staged() {
				best, bp = of, p
			}
		}
	}
	if best == nil {
		return nil
	}
	a.m.forcedCloses.Inc()
	a.log.Warn("staging directory full: closing the largest open object early; later records of its hour go to a late object",
		logKeyObject, best.f.Name(), logKeyStaged, best.f.Staged())
	return a.close(bp, best)
}

// evictHours forgets closed hours well behind the watermark whose objects are all stored: a
// late record for one of them finds its objects by a lookup.
func (a *Archiver) evictHours(p *partition) {
	keep := max(2*time.Hour, 4*a.cfg.Grace).Nanoseconds()
	for k, hs := range p.hours {
		if hs.file == nil && hs.pending == 0 && k.hour <= p.storedHour && (k.hour+3600)*1e9+keep < p.watermark {
			delete(p.hours, k)
		}
	}
}

// commitReq is one partition's offset to commit.
type commitReq struct {
	part   *partition
	offset int64
	meta   string
}

// commitsDueLocked returns the partitions whose commit point advanced: at once after an
// object was stored, else at most once a second.
func (a *Archiver) commitsDueLocked(now time.Time) []commitReq {
	var out []commitReq
	for _, p := range a.sortedParts() {
		off, wm := p.commitPoint()
		if off < 0 || off <= p.committed {
			continue
		}
		if !p.storedSinceCommit && now.Sub(p.lastCommitTry) < time.Second {
			continue
		}
		p.lastCommitTry = now
		out = append(out, commitReq{part: p, offset: off, meta: commitMetadata(wm, p.storedHour)})
	}
	return out
}

// commit commits reqs with their metadata. It must not hold the mutex: a rebalance callback
// may be waiting for it while the commit waits for the rebalance.
func (a *Archiver) commit(ctx context.Context, reqs []commitReq) {
	if len(reqs) == 0 {
		return
	}
	offsets := map[int32]kgo.EpochOffset{}
	metas := map[int32]string{}
	for _, r := range reqs {
		offsets[r.part.id] = kgo.EpochOffset{Epoch: -1, Offset: r.offset}
		metas[r.part.id] = r.meta
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cctx = kgo.PreCommitFnContext(cctx, func(req *kmsg.OffsetCommitRequest) error {
		for i := range req.Topics {
			for j := range req.Topics[i].Partitions {
				pp := &req.Topics[i].Partitions[j]
				if m, ok := metas[pp.Partition]; ok {
					pp.Metadata = &m
				}
			}
		}
		return nil
	})
	failed := map[int32]error{}
	var reqErr error
	a.cl.CommitOffsetsSync(cctx, map[string]map[int32]kgo.EpochOffset{a.topics.Events: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				reqErr = err
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
						failed[p.Partition] = err
					}
				}
			}
		})
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range reqs {
		err := reqErr
		if err == nil {
			err = failed[r.part.id]
		}
		if err != nil {
			a.m.commits.WithLabelValues(resultError).Inc()
			if ctx.Err() == nil {
				a.log.Warn("commit failed; retried", logKeyPartition, r.part.id, logKeyOffset, r.offset, logKeyErr, err)
			}
			continue
		}
		a.m.commits.WithLabelValues(resultOK).Inc()
		if a.parts[r.part.id] == r.part {
			r.part.committed = max(r.part.committed, r.offset)
			r.part.storedSinceCommit = false
		}
	}
}

// shutdown stores what is closed, within the shutdown timeout, and commits.
func (a *Archiver) shutdown() {
	deadline := time.Now().Add(a.cfg.ShutdownTimeout)
	start := time.Now()
	for {
		a.drainResults()
		a.mu.Lock()
		_, _, pending := a.stagingLocked()
		if pending > 0 {
			a.dispatchLocked()
		}
		a.mu.Unlock()
		if pending == 0 || time.Now().After(deadline) {
			if pending > 0 {
				a.log.Warn("shutdown timeout: objects of closed hours not stored; the next owner rebuilds them", logKeyFiles, pending)
			}
			break
		}
		select {
		case res := <-a.done:
			a.handleResult(res)
		case <-time.After(50 * time.Millisecond):
		}
	}
	a.mu.Lock()
	commits := a.commitsDueLocked(time.Now().Add(time.Hour))
	for _, p := range a.parts {
		p.cancel() // uploads still running give up
	}
	a.mu.Unlock()
	a.commit(context.Background(), commits)
	if len(commits) > 0 {
		a.log.Info("final commit", logKeyElapsed, time.Since(start).Round(time.Millisecond))
	}
}
