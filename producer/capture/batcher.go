package capture

import (
	"fmt"

	"github.com/sfstream/sfstream/internal/raw"
)

// maxPending bounds the processes with a pending batch; past it every batch is flushed.
const maxPending = 4096

// batcher groups events into one pending batch per process (tgid) and emits a batch when it
// reaches the size limit, when its process's OID changes (pid reuse), or on flushAll.
type batcher struct {
	exporter string
	max      int
	emit     func(raw.Batch) error
	pending  map[int64]*raw.Batch
	emitted  int // batches emitted, for tests and logs
}

func newBatcher(exporter string, max int, emit func(raw.Batch) error) *batcher {
	return &batcher{exporter: exporter, max: max, emit: emit, pending: map[int64]*raw.Batch{}}
}

func (b *batcher) add(hpid, createTS int64, ev raw.Event) error {
	p := b.pending[hpid]
	if p != nil && p.CreateTS != createTS {
		if err := b.flush(hpid, p); err != nil {
			return err
		}
		p = nil
	}
	if p == nil {
		if len(b.pending) >= maxPending {
			if err := b.flushAll(); err != nil {
				return err
			}
		}
		p = &raw.Batch{Exporter: b.exporter, HPID: hpid, CreateTS: createTS, Events: make([]raw.Event, 0, 8)}
		b.pending[hpid] = p
	}
	p.Events = append(p.Events, ev)
	if len(p.Events) >= b.max {
		return b.flush(hpid, p)
	}
	return nil
}

func (b *batcher) flush(hpid int64, p *raw.Batch) error {
	delete(b.pending, hpid)
	b.emitted++
	if err := b.emit(*p); err != nil {
		return fmt.Errorf("emit batch of %d: %w", hpid, err)
	}
	return nil
}

// flushAll emits every pending batch.
func (b *batcher) flushAll() error {
	for hpid, p := range b.pending {
		if err := b.flush(hpid, p); err != nil {
			return err
		}
	}
	return nil
}
