package pipeline

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/processors/state"
)

// metaKey is the changelog key of a partition's state.Meta.
const metaKey = "meta"

// checkpoint produces the partition's state changes to its changelog partition.
func (p *Processor) checkpoint(part *partition, produce func(*kgo.Record)) error {
	recs, meta, err := part.st.Changes()
	if err != nil {
		return fmt.Errorf("checkpoint partition %d: %w", part.id, err)
	}
	for _, r := range recs {
		produce(&kgo.Record{Topic: p.topics.State, Partition: part.id, Key: []byte(r.Key), Value: r.Value})
	}
	v, err := meta.MarshalBinary()
	if err != nil {
		return fmt.Errorf("checkpoint partition %d: %w", part.id, err)
	}
	produce(&kgo.Record{Topic: p.topics.State, Partition: part.id, Key: []byte(metaKey), Value: v})
	return nil
}

// assigned restores the state of newly assigned partitions of sysflow.raw.
func (p *Processor) assigned(ctx context.Context, _ *kgo.Client, assigned map[string][]int32) {
	ids := assigned[p.topics.Raw]
	if len(ids) == 0 {
		return
	}
	parts, err := p.restore(ctx, ids)
	if err != nil {
		p.cancel(err)
		return
	}
	p.mu.Lock()
	for id, part := range parts {
		p.parts[id] = part
	}
	p.ready = true
	p.mu.Unlock()
}

// dropped forgets revoked or lost partitions: no flush, no truncation.
func (p *Processor) dropped(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range lost[p.topics.Raw] {
		delete(p.parts, id)
	}
	p.log.Info("partitions released", "partitions", lost[p.topics.Raw])
}

// restoreOwned rebuilds the state of every owned partition from the changelog.
func (p *Processor) restoreOwned(ctx context.Context) error {
	p.mu.Lock()
	ids := make([]int32, 0, len(p.parts))
	for id := range p.parts {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	parts, err := p.restore(ctx, ids)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, part := range parts {
		if _, still := p.parts[id]; still {
			p.parts[id] = part
		}
	}
	return nil
}

// restore reads the changelog partitions ids to their end (read_committed) and builds their
// states.
func (p *Processor) restore(ctx context.Context, ids []int32) (map[int32]*partition, error) {
	start := time.Now()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	offsets := map[int32]kgo.Offset{}
	for _, id := range ids {
		offsets[id] = kgo.NewOffset().AtStart()
	}
	cl, err := kafka.NewClient(p.cfg.Kafka, kafka.WithKgoOpts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{p.topics.State: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	))
	if err != nil {
		return nil, fmt.Errorf("restore state: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, p.topics.State)
	if err != nil {
		return nil, fmt.Errorf("restore state: list changelog end offsets: %w", err)
	}
	type acc struct {
		recs map[string][]byte
		meta state.Meta
		err  error
		end  int64
		last int64
		done bool
		n    int
	}
	accs := map[int32]*acc{}
	pending := 0
	for _, id := range ids {
		a := &acc{recs: map[string][]byte{}, last: -1}
		if o, ok := ends.Lookup(p.topics.State, id); ok && o.Err == nil {
			a.end = o.Offset
		}
		// The visible end is at most two offsets before the stable end (a commit marker).
		a.done = a.end == 0
		if !a.done {
			pending++
		}
		accs[id] = a
	}
	for pending > 0 {
		pctx, cancel := context.WithTimeout(ctx, p.cfg.RestoreIdle)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("restore state: %w", ctx.Err())
		}
		got := 0
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if pctx.Err() == nil {
				ferr = err
			}
		})
		if ferr != nil {
			return nil, fmt.Errorf("restore state: fetch changelog: %w", ferr)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			a := accs[r.Partition]
			if a == nil {
				return
			}
			got++
			a.n++
			a.last = r.Offset
			k := string(r.Key)
			switch {
			case k == metaKey:
				var m state.Meta
				if err := m.UnmarshalBinary(r.Value); err != nil {
					a.err = fmt.Errorf("changelog partition %d offset %d: %w", r.Partition, r.Offset, err)
				} else {
					a.meta, a.err = m, nil // the latest meta is the one that counts
				}
			case r.Value == nil:
				delete(a.recs, k)
			default:
				a.recs[k] = r.Value
			}
			if !a.done && a.last >= a.end-2 {
				a.done = true
				pending--
			}
		})
		if got == 0 {
			// Idle: what remains was aborted or is a marker.
			for _, a := range accs {
				if !a.done {
					a.done = true
					pending--
				}
			}
		}
	}
	out := map[int32]*partition{}
	total := 0
	for _, id := range ids {
		a := accs[id]
		if a.err != nil {
			return nil, fmt.Errorf("restore state of partition %d: %w", id, a.err)
		}
		col := &collector{}
		st, err := state.Restore(p.cfg.State, col, a.meta, a.recs)
		if err != nil {
			return nil, fmt.Errorf("restore state of partition %d: %w", id, err)
		}
		out[id] = &partition{id: id, st: st, out: col}
		total += a.n
	}
	d := time.Since(start)
	p.m.restoreSecs.Observe(d.Seconds())
	p.log.Info("state restored", "partitions", ids, "changelog_records", total, "duration", d)
	return out, nil
}
