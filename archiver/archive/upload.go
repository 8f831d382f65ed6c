package archive

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sfstream/sfstream/archiver/parquetfile"
	"github.com/sfstream/sfstream/archiver/store"
)

// upload is one object handed to a worker.
type upload struct {
	part *partition
	c    *closedFile
	ctx  context.Context
	err  error
	pq   parquetResult // with Config.Parquet: the Parquet file stored before the object
}

// parquetResult is what was stored of an object's Parquet file.
type parquetResult struct {
	name string
	size int64
	rows int64
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
// With Config.Parquet it first builds and stores the object's Parquet file: an object in the
// archive always has its Parquet file, since a restart skips the records of stored objects.
func (a *Archiver) put(u *upload) error {
	obj := u.c.obj
	start := time.Now()
	if a.cfg.Parquet {
		if err := a.putParquet(u); err != nil {
			return err
		}
	}
	if err := a.retry(u, obj.Name, func() error { return a.store.Put(u.ctx, obj.Name, obj.Path, obj.Size) }); err != nil {
		return err
	}
	a.m.uploadSeconds.Observe(time.Since(start).Seconds())
	return nil
}

// putParquet builds the Parquet file of u's object in the staging directory, beside the
// object, stores it and removes it from staging. Its bytes are a function of the object's.
func (a *Archiver) putParquet(u *upload) error {
	obj := u.c.obj
	name := obj.Key.ParquetName(a.cfg.Target.Prefix)
	path := strings.TrimSuffix(obj.Path, ".sf") + ".parquet"
	defer func() {
		if err := removeFile(path); err != nil {
			a.log.Warn("removing staged parquet file", logKeyObject, name, logKeyErr, err)
		}
	}()
	var opts []parquetfile.Option
	if a.cfg.ParquetRowGroupRows > 0 {
		opts = append(opts, parquetfile.WithRowGroupRows(a.cfg.ParquetRowGroupRows))
	}
	select {
	case a.parquetSlots <- struct{}{}:
	case <-u.ctx.Done():
		return u.ctx.Err()
	}
	err := a.retry(u, name, func() error {
		st, size, err := buildParquet(path, obj.Path, opts)
		u.pq = parquetResult{name: name, size: size, rows: st.Rows}
		return err
	})
	<-a.parquetSlots
	if err != nil {
		return err
	}
	return a.retry(u, name, func() error { return a.store.Put(u.ctx, name, path, u.pq.size) })
}

// buildParquet writes the Parquet form of the SysFlow object at src to the file dst.
func buildParquet(dst, src string, opts []parquetfile.Option) (parquetfile.Stats, int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return parquetfile.Stats{}, 0, fmt.Errorf("build parquet file: %w", err)
	}
	defer func() { _ = in.Close() }() // read-only
	out, err := os.Create(dst)
	if err != nil {
		return parquetfile.Stats{}, 0, fmt.Errorf("build parquet file: %w", err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	st, err := parquetfile.Convert(bw, bufio.NewReaderSize(in, 1<<20), nil, opts...)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, 0, fmt.Errorf("build parquet file: %w", err)
	}
	info, err := os.Stat(dst)
	if err != nil {
		return st, 0, fmt.Errorf("build parquet file: %w", err)
	}
	return st, info.Size(), nil
}

// retry runs op (a step of storing the object called name) until it succeeds or u's
// partition is given up, with backoff between attempts, counting and logging failures.
func (a *Archiver) retry(u *upload, name string, op func() error) error {
	delay := 500 * time.Millisecond
	var lastLog time.Time
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			if attempt > 1 {
				a.log.Info("object stored after retries", logKeyObject, name, logKeyAttempt, attempt)
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
				logKeyObject, name, logKeyAttempt, attempt, "reason", reason, logKeyErr, err)
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
	if u.pq.name != "" {
		a.m.parquetFiles.WithLabelValues(kind).Inc()
		a.m.parquetBytes.Add(float64(u.pq.size))
		a.m.parquetRows.Add(float64(u.pq.rows))
	}
	a.log.Info("object stored", logKeyObject, obj.Name, logKeyRecords, obj.Events, logKeyBytes, obj.Size)
	if !owned {
		return
	}
	p.queue = slices.DeleteFunc(p.queue, func(c *closedFile) bool { return c == u.c })
	u.c.hs.pending--
	p.storedHour = max(p.storedHour, obj.Key.Hour)
	p.storedSinceCommit = true
}
