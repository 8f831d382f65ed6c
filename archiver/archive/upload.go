package archive

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sfstream/sfstream/archiver/store"
)

// upload is one object handed to a worker.
type upload struct {
	part *partition
	c    *closedFile
	ctx  context.Context
	err  error
}

// dispatchLocked hands closed objects to the workers, as long as they take more: the
// oldest first, and an object only when no earlier object of its hour (exporter, hour and
// partition) waits, so that the stored objects of an hour are always the first ones closed.
func (a *Archiver) dispatchLocked() {
	for _, p := range a.sortedParts() {
		waiting := map[*hourState]bool{}
		for _, c := range p.queue {
			if c.inFlight || waiting[c.hs] {
				waiting[c.hs] = true
				continue
			}
			waiting[c.hs] = true
			select {
			case a.jobs <- &upload{part: p, c: c, ctx: p.ctx}:
				c.inFlight = true
			default:
				return
			}
		}
	}
}

// worker stores the objects it is handed.
func (a *Archiver) worker() {
	for u := range a.jobs {
		u.err = a.put(u)
		a.done <- u
		a.wake()
	}
}

// put stores an object, retrying with backoff until it is stored or its partition is given up.
func (a *Archiver) put(u *upload) error {
	obj := u.c.obj
	start := time.Now()
	delay := 500 * time.Millisecond
	var lastLog time.Time
	for attempt := 1; ; attempt++ {
		err := a.store.Put(u.ctx, obj.Name, obj.Path, obj.Size)
		if err == nil {
			a.m.uploadSeconds.Observe(time.Since(start).Seconds())
			if attempt > 1 {
				a.log.Info("object stored after retries", logKeyObject, obj.Name, logKeyAttempt, attempt)
			}
			return nil
		}
		if u.ctx.Err() != nil {
			return err
		}
		reason := store.Reason(err)
		a.m.uploadFailures.WithLabelValues(reason).Inc()
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			level := slog.LevelWarn
			if store.IsPermanent(err) {
				level = slog.LevelError
			}
			a.log.Log(u.ctx, level, "storing object failed; retrying (the object stays staged)",
				logKeyObject, obj.Name, logKeyAttempt, attempt, "reason", reason, logKeyErr, err)
		}
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-u.ctx.Done():
			t.Stop()
			return u.ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, a.cfg.UploadRetryMax)
	}
}

// drainResults handles every finished upload.
func (a *Archiver) drainResults() {
	for {
		select {
		case u := <-a.done:
			a.handleResult(u)
		default:
			return
		}
	}
}

// handleResult records a finished upload: the staged object goes and, when stored, the
// partition's commit point may advance.
func (a *Archiver) handleResult(u *upload) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := u.part
	owned := a.parts[p.id] == p
	u.c.inFlight = false
	if u.err != nil {
		if !owned {
			if err := removeFile(u.c.obj.Path); err != nil {
				a.log.Warn("removing staged object", logKeyObject, u.c.obj.Name, logKeyErr, err)
			}
		}
		return // given up on shutdown or revocation; the next owner rebuilds it
	}
	obj := u.c.obj
	if err := removeFile(obj.Path); err != nil {
		a.log.Warn("removing stored object from staging", logKeyObject, obj.Name, logKeyErr, err)
	}
	kind := kindHour
	if obj.Key.Variant > 0 {
		kind = kindLate
	}
	a.m.files.WithLabelValues(kind).Inc()
	a.m.bytes.Add(float64(obj.Size))
	a.m.records.Add(float64(obj.Events))
	a.m.entityRecords.Add(float64(obj.Entities))
	a.log.Info("object stored", logKeyObject, obj.Name, logKeyRecords, obj.Events, logKeyBytes, obj.Size)
	if !owned {
		return
	}
	p.queue = slices.DeleteFunc(p.queue, func(c *closedFile) bool { return c == u.c })
	u.c.hs.pending--
	p.storedHour = max(p.storedHour, obj.Key.Hour)
	p.storedSinceCommit = true
}
