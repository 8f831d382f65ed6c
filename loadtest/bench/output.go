package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/sysflow"
)

// outputResult is what the processors wrote: records and encoded bytes (wire format, as
// consumers read them) of sysflow.events and sysflow.entities, and what an archive of them
// takes.
type outputResult struct {
	Events, Entities        int64
	EventBytes, EntityBytes int64
	Kinds                   map[sysflow.Kind]int64
	Archive                 archiveResult
	ArchiveErr              error
	ConsumeWall             time.Duration
}

func (o outputResult) bytes() int64 { return o.EventBytes + o.EntityBytes }

// measureOutput reads the run's entities and then its events (read_committed, from the
// start, until a second passes without a record), decoding every record, and archives them.
func (b *bench) measureOutput(ctx context.Context, r *runEnv, exporter string) (outputResult, error) {
	res := outputResult{Kinds: map[sysflow.Kind]int64{}}
	t0 := time.Now()
	arch := newArchiver(exporter)
	err := b.readTopic(ctx, r, r.topics.Entities, func(rec *kgo.Record, v sysflow.Record) {
		res.Entities++
		res.EntityBytes += int64(len(rec.Value))
		res.Kinds[v.Kind()]++
		arch.entity(string(rec.Key), v)
	})
	if err != nil {
		return res, err
	}
	err = b.readTopic(ctx, r, r.topics.Events, func(rec *kgo.Record, v sysflow.Record) {
		res.Events++
		res.EventBytes += int64(len(rec.Value))
		res.Kinds[v.Kind()]++
		if res.ArchiveErr == nil {
			res.ArchiveErr = arch.event(rec.Partition, v)
		}
	})
	if err != nil {
		return res, err
	}
	if res.ArchiveErr == nil {
		res.Archive, res.ArchiveErr = arch.close()
	}
	res.ConsumeWall = time.Since(t0)
	return res, nil
}

// readTopic consumes topic from the start, read_committed, until idle for a second.
func (b *bench) readTopic(ctx context.Context, r *runEnv, topic string, fn func(*kgo.Record, sysflow.Record)) error {
	cl, err := kafka.NewClient(r.kcfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	))
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer cl.Close()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := 0
		var derr error
		fs.EachRecord(func(rec *kgo.Record) {
			n++
			if rec.Value == nil {
				return // a count record (events) or a tombstone (entities)
			}
			v, err := r.serde.DecodeSysFlow(ctx, rec.Value)
			if err != nil {
				derr = fmt.Errorf("read %s: partition %d offset %d: %w", topic, rec.Partition, rec.Offset, err)
				return
			}
			fn(rec, v)
		})
		if derr != nil {
			return derr
		}
		if n == 0 {
			return nil
		}
	}
}
