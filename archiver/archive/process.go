package archive

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// Log keys of capture counts.
const (
	logKeyLost     = "lost"
	logKeyCaptured = "captured"
)

// item is one fetched record of sysflow.events.
type item struct {
	r      *kgo.Record
	rec    sysflow.Record // nil: undecodable, or a count record
	counts *raw.Counts    // a count record's capture counts
	ts     int64
	key    hourKey
}

// routed reports whether the item goes to an object: a SysFlow record or a count record.
func (it *item) routed() bool { return it.rec != nil || it.counts != nil }

// countsOf returns the capture counts of a count record (no value, raw.Count* headers), or
// nil for any other record.
func countsOf(r *kgo.Record) (*raw.Counts, error) {
	if r.Value != nil {
		return nil, nil
	}
	get := func(name string) (string, bool) {
		for _, h := range r.Headers {
			if h.Key == name {
				return string(h.Value), true
			}
		}
		return "", false
	}
	c, ok, err := raw.ParseCounts(get, true)
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}

// batch is the fetched records of one partition.
type batch struct {
	id    int32
	items []item
	lag   int64
}

// process archives one poll's records: decode, wait for the entity table, route each record
// to its hour's object. Partitions are independent: each is decoded and routed on a goroutine
// of its own; what they share (the entity table, the store, metrics, the client) is safe for
// concurrent use.
func (a *Archiver) process(ctx context.Context, fetches kgo.Fetches) error {
	var batches []*batch
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if fp.Topic != a.topics.Events || len(fp.Records) == 0 {
			return
		}
		batches = append(batches, &batch{
			id:    fp.Partition,
			items: make([]item, len(fp.Records)),
			lag:   max(fp.HighWatermark-fp.Records[len(fp.Records)-1].Offset-1, 0),
		})
		b := batches[len(batches)-1]
		for i, r := range fp.Records {
			b.items[i].r = r
		}
	})
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, b := range batches {
		g.Go(func() error { return a.decode(ctx, b) })
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("archive: %w", err)
	}
	a.waitEntities(ctx)
	a.waitReferences(ctx, batches)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range batches {
		part := a.parts[b.id]
		if part == nil {
			continue // revoked meanwhile; its next owner reads these records
		}
		part.lag = b.lag
		g.Go(func() error { return a.routeBatch(ctx, part, b) })
	}
	return g.Wait()
}

// decode decodes a batch's records.
func (a *Archiver) decode(ctx context.Context, b *batch) error {
	for i := range b.items {
		it := &b.items[i]
		if c, err := countsOf(it.r); err != nil || c != nil {
			if err != nil {
				a.log.Warn("bad count record skipped", logKeyPartition, it.r.Partition, logKeyOffset, it.r.Offset, logKeyErr, err)
				continue
			}
			it.counts, it.ts = c, c.Hour*1e9
			it.key = hourKey{exporter: exporterOf(it.r.Key), hour: c.Hour}
			continue
		}
		rec, err := entities.DecodeRetrying(ctx, a.serde, it.r.Value)
		switch {
		case err == nil:
			it.rec, it.ts = rec, recordTS(rec)
			it.key = hourKey{exporter: exporterOf(it.r.Key), hour: hourly.HourOf(it.ts)}
		case codec.IsBadRecord(err):
			a.log.Warn("undecodable event record skipped", logKeyPartition, it.r.Partition, logKeyOffset, it.r.Offset, logKeyErr, err)
		default:
			return err
		}
	}
	return nil
}

// routeBatch routes a batch's records to the partition's objects. It touches only part.
func (a *Archiver) routeBatch(ctx context.Context, part *partition, b *batch) error {
	failed := a.lookupNew(ctx, part, b.items)
	for _, it := range b.items {
		if it.routed() && failed[it.key] {
			// The archive could not tell whether this hour has objects already: read the
			// partition again from here once the lookup may succeed.
			a.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{a.topics.Events: {part.id: {Epoch: it.r.LeaderEpoch, Offset: it.r.Offset}}})
			return nil
		}
		if err := a.route(part, it); err != nil {
			return err
		}
	}
	return nil
}

// recordTS returns a record's ts (ns).
func recordTS(rec sysflow.Record) int64 {
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		return r.TS
	case *sysflow.NetworkFlow:
		return r.TS
	case *sysflow.FileFlow:
		return r.TS
	case *sysflow.FileEvent:
		return r.TS
	case *sysflow.NetworkEvent:
		return r.TS
	case *sysflow.ProcessFlow:
		return r.TS
	case *sysflow.Process:
		return r.TS
	case *sysflow.File:
		return r.TS
	case *sysflow.Pod:
		return r.TS
	case *sysflow.K8sEvent:
		return r.TS
	}
	return 0
}

// exporterOf returns the exporter of a process key <exporter>/P/<hpid>/<createTS>.
func exporterOf(key []byte) string {
	s := string(key)
	if i := strings.LastIndex(s, "/P/"); i >= 0 {
		return s[:i]
	}
	if s == "" {
		return "unknown"
	}
	return s
}

// waitEntities waits, at most Config.EntityWait, until the entity table has read
// sysflow.entities up to where it ends now: every entity produced with the events just
// fetched is then in the table.
func (a *Archiver) waitEntities(ctx context.Context) {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, a.cfg.EntityWait)
	defer cancel()
	targets, err := a.follower.EndOffsets(wctx)
	if err == nil {
		err = a.follower.Wait(wctx, targets)
	}
	a.m.entityWait.Observe(time.Since(start).Seconds())
	if err != nil && ctx.Err() == nil {
		a.m.entityTimeouts.Inc()
		if time.Since(a.waitWarned) >= time.Minute {
			a.waitWarned = time.Now()
			a.log.Warn("entity table behind sysflow.entities; writing events with the entities known", logKeyErr, err)
		}
	}
}

// maxGivenUp bounds the entities remembered as given up; beyond it they are forgotten (and
// may be waited for once more).
const maxGivenUp = 1 << 16

// refPoll is how often a waiting batch looks at the entity table again.
const refPoll = 10 * time.Millisecond

// waitReferences waits, at most Config.ReferenceWait, until the entity table holds every
// entity that the records of batches reference, ancestors included, and that it has never
// seen: an ancestor's or a file's entity comes from the partition of the process that
// emitted it, whose processor may be behind. Entities still missing after the wait are
// given up (the records are written with placeholders for them, counted in
// missing_references_total) and never waited for again.
func (a *Archiver) waitReferences(ctx context.Context, batches []*batch) {
	type waiting struct {
		it  *item
		kts int64
	}
	var (
		pending []waiting
		refs    []hourly.Ref
	)
	unresolved := func(w waiting) bool {
		refs = a.resolver.Unresolved(refs[:0], w.it.key.exporter, w.it.rec, w.kts)
		for _, r := range refs {
			if _, ok := a.givenUp[r]; !ok {
				return true
			}
		}
		return false
	}
	for _, b := range batches {
		for i := range b.items {
			it := &b.items[i]
			if it.rec == nil {
				continue
			}
			if w := (waiting{it, it.r.Timestamp.UnixMilli()}); unresolved(w) {
				pending = append(pending, w)
			}
		}
	}
	if len(pending) == 0 {
		return
	}
	start := time.Now()
	deadline := start.Add(a.cfg.ReferenceWait)
	t := time.NewTicker(refPoll)
	defer t.Stop()
	for len(pending) > 0 {
		if !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pending = slices.DeleteFunc(pending, func(w waiting) bool { return !unresolved(w) })
	}
	a.m.refWait.Observe(time.Since(start).Seconds())
	if len(pending) == 0 {
		a.m.refWaits.WithLabelValues(resultResolved).Inc()
		return
	}
	a.m.refWaits.WithLabelValues(resultTimeout).Inc()
	if len(a.givenUp) >= maxGivenUp {
		clear(a.givenUp)
	}
	var given []hourly.Ref
	for _, w := range pending {
		refs = a.resolver.Unresolved(refs[:0], w.it.key.exporter, w.it.rec, w.kts)
		for _, r := range refs {
			if _, ok := a.givenUp[r]; !ok {
				a.givenUp[r] = struct{}{}
				given = append(given, r)
			}
		}
	}
	if len(given) > 0 && time.Since(a.refWarned) >= time.Minute {
		a.refWarned = time.Now()
		a.log.Warn("entities referenced by events did not arrive within the reference wait; written as unknown",
			logKeyMissing, len(given), logKeyRef, given[0].String(), logKeyElapsed, time.Since(start))
	}
}

// lookupNew looks in the archive for objects of the hours of items that the partition does
// not know yet and that could have objects (up to its stored hour), and returns the hours
// whose lookup failed.
func (a *Archiver) lookupNew(ctx context.Context, part *partition, items []item) map[hourKey]bool {
	var need []hourKey
	seen := map[hourKey]bool{}
	for _, it := range items {
		k := it.key
		if !it.routed() || seen[k] || part.hours[k] != nil || k.hour > part.storedHour {
			continue
		}
		seen[k] = true
		need = append(need, k)
	}
	if len(need) == 0 {
		return nil
	}
	found := make([]*hourState, len(need))
	errs := make([]error, len(need))
	var g errgroup.Group
	g.SetLimit(8)
	for i, k := range need {
		g.Go(func() error {
			found[i], errs[i] = a.lookup(ctx, part.id, k)
			return nil
		})
	}
	_ = g.Wait()
	var failed map[hourKey]bool
	for i, k := range need {
		if errs[i] != nil {
			if failed == nil {
				failed = map[hourKey]bool{}
			}
			failed[k] = true
			a.m.lookups.WithLabelValues(resultError).Inc()
			a.log.Warn("archive lookup failed; the partition waits", logKeyPartition, part.id, logKeyObject, hourly.Key{Exporter: k.exporter, Hour: k.hour, Partition: part.id}.Stem(a.cfg.Target.Prefix), logKeyErr, errs[i])
			continue
		}
		a.m.lookups.WithLabelValues(resultOK).Inc()
		part.hours[k] = found[i]
	}
	if failed != nil {
		part.lookupFailures++
		part.blockedUntil = time.Now().Add(min(500*time.Millisecond<<min(part.lookupFailures, 6), 30*time.Second))
	} else {
		part.lookupFailures = 0
	}
	return failed
}

// lookup reads which objects of an hour the archive holds and which offsets they cover.
func (a *Archiver) lookup(ctx context.Context, partition int32, k hourKey) (*hourState, error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stem := hourly.Key{Exporter: k.exporter, Hour: k.hour, Partition: partition}.Stem(a.cfg.Target.Prefix)
	names, err := a.store.List(lctx, stem)
	if err != nil {
		return nil, err
	}
	hs := &hourState{key: k}
	for _, name := range names {
		v, ok := hourly.ParseVariant(stem, name)
		if !ok {
			continue
		}
		hs.closed = true
		hs.next = max(hs.next, v+1)
		rc, err := a.store.Head(lctx, name, headBytes)
		if err != nil {
			return nil, err
		}
		meta, err := hourly.ReadMetadata(rc)
		_ = rc.Close() // read-only, and only its first bytes were wanted
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		first, last, err := hourly.ParseOffsets(meta[hourly.MetaOffsets])
		if err != nil || meta[hourly.MetaTopic] != a.topics.Events || meta[hourly.MetaPartition] != fmt.Sprint(partition) {
			a.log.Warn("archived object without our offsets: its records are not skipped", logKeyObject, name)
			continue
		}
		hs.stored = append(hs.stored, offsetRange{first, last})
	}
	if len(names) > 0 {
		a.log.Info("hour found in the archive", logKeyObject, stem, logKeyFiles, len(hs.stored))
	}
	return hs, nil
}

// route writes one record to its hour's object, or skips it.
func (a *Archiver) route(part *partition, it item) error {
	part.next = it.r.Offset + 1
	part.lastRecord = time.Now()
	if !it.routed() {
		a.m.skipped.WithLabelValues(skipUndecodable).Inc()
		return nil
	}
	hs := part.hours[it.key]
	if hs == nil {
		hs = &hourState{key: it.key}
		part.hours[it.key] = hs
	}
	if hs.holds(it.r.Offset) {
		a.m.skipped.WithLabelValues(skipStored).Inc()
		if it.counts != nil {
			return nil
		}
		return a.advance(part, it.ts)
	}
	kts := it.r.Timestamp.UnixMilli()
	of := hs.file
	if of == nil {
		var err error
		if of, err = a.open(part, hs, kts); err != nil {
			return err
		}
	}
	if it.counts != nil {
		// Counts go into the metadata of the object of their hour and do not move the
		// watermark: their time is the hour's start.
		of.f.AddCounts(*it.counts, it.r.Offset)
		return nil
	}
	if err := of.f.Append(it.rec, kts, it.r.Offset); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if of.f.Key().Variant > 0 {
		a.m.late.Inc()
	}
	return a.advance(part, it.ts)
}

// advance moves the partition's watermark to ts and closes the objects it passes.
func (a *Archiver) advance(part *partition, ts int64) error {
	part.watermark = max(part.watermark, ts)
	if part.watermark < part.nextCloseAt {
		return nil
	}
	for _, of := range part.due(part.watermark) {
		if err := a.close(part, of); err != nil {
			return err
		}
	}
	return nil
}

// open starts the next object of an hour.
func (a *Archiver) open(part *partition, hs *hourState, kts int64) (*openFile, error) {
	key := hourly.Key{Exporter: hs.key.exporter, Hour: hs.key.hour, Partition: part.id, Variant: hs.next}
	name := key.Name(a.cfg.Target.Prefix)
	ip := a.cfg.ExporterIP
	if h, ok := a.table.Header(key.Exporter, kts); ok && h.IP != "" {
		ip = h.IP
	}
	opts := []hourly.Option{hourly.WithIP(ip)}
	if a.cfg.BlockSize > 0 {
		opts = append(opts, hourly.WithBlockSize(a.cfg.BlockSize))
	}
	f, err := hourly.Create(part.dir, key, name, a.table, opts...)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	hs.next++
	// An hour closes when the watermark passes its end plus the grace; an object opened
	// later than that (a late object, or a straggling exporter) gets a grace of its own.
	closeAt := addSat(max((hs.key.hour+3600)*1e9, part.watermark), a.cfg.Grace.Nanoseconds())
	of := &openFile{f: f, hs: hs, closeAt: closeAt, wmBefore: part.watermark}
	hs.file = of
	part.open = append(part.open, of)
	part.nextCloseAt = min(part.nextCloseAt, closeAt)
	return of, nil
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// close finishes an open object and queues it to be stored.
func (a *Archiver) close(part *partition, of *openFile) error {
	part.open = slices.DeleteFunc(part.open, func(x *openFile) bool { return x == of })
	part.recomputeNextClose()
	of.hs.file = nil
	of.hs.closed = true
	obj, err := of.f.Finish(a.topics.Events)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	of.hs.pending++
	part.queue = append(part.queue, &closedFile{obj: obj, hs: of.hs, wmBefore: of.wmBefore})
	mi := obj.Missing
	a.m.missing.WithLabelValues(refProcess).Add(float64(mi.Processes))
	a.m.missing.WithLabelValues(refParent).Add(float64(mi.Parents))
	a.m.missing.WithLabelValues(refFile).Add(float64(mi.Files))
	a.m.missing.WithLabelValues(refContainer).Add(float64(mi.Containers))
	if obj.Counts.Lost() > 0 {
		a.log.Warn("object of an hour with capture losses", logKeyObject, obj.Name, logKeyLost, obj.Counts.Lost(), logKeyCaptured, obj.Counts.Captured)
	}
	if n := mi.Processes + mi.Files + mi.Containers; n > 0 {
		a.log.Warn("object written with references to unknown entities", logKeyObject, obj.Name, logKeyMissing, n)
	}
	return nil
}
