package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// drainPoll is how often Drain looks at the committed offsets.
const drainPoll = 50 * time.Millisecond

// Drain is for a stream that has ended (sfstream run, tests): once this instance has joined
// its group and restored its partitions, it waits until every partition of sysflow.raw it
// owns is processed and committed up to the end offset the partition has now, and returns.
// The processor keeps running (cancel Run's context to stop it); records produced later are
// processed as usual. Drain returns the error of ctx if that does not happen in time.
func (p *Processor) Drain(ctx context.Context) error {
	for !p.Ready() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain processor: %w", ctx.Err())
		case <-time.After(drainPoll):
		}
	}
	cl := p.sess.Client()
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, p.topics.Raw)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return fmt.Errorf("drain processor: end offsets of %s: %w", p.topics.Raw, err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		behind := p.behind(cl.CommittedOffsets()[p.topics.Raw], ends)
		if behind == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain processor: %d records of %s not processed: %w", behind, p.topics.Raw, ctx.Err())
		case <-t.C:
		}
	}
}

// behind returns how many records of the owned partitions lie between the committed offsets
// and ends.
func (p *Processor) behind(committed map[int32]kgo.EpochOffset, ends map[int32]int64) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for id := range p.parts {
		at := int64(0)
		if c, ok := committed[id]; ok && c.Offset > 0 {
			at = c.Offset
		}
		n += max(ends[id]-at, 0)
	}
	return n
}
