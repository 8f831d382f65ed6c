package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// drainQuiet is how long a partition must have received nothing for Drain to take it as read
// to its end when its position is below the end offset (transaction markers take offsets).
const drainQuiet = 2 * time.Second

// drainReq is one Drain call.
type drainReq struct {
	targets map[int32]int64 // end offsets of the events topic at the call
	since   time.Time
	closed  bool // the open hours have been closed
	done    chan error
}

// Drain is for a stream that has ended (sfstream run, tests): once this instance has been
// assigned partitions and they are read to the end offsets they have now, it closes every open
// hour, stores everything closed and commits. The archiver keeps running; records that come later for a
// closed hour go to late objects. Drain returns when done, or with the error of ctx.
func (a *Archiver) Drain(ctx context.Context) error {
	// Until the group has assigned partitions, "every owned partition is read to its end"
	// would hold vacuously.
	for !a.Ready() || !a.joined.Load() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain archiver: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	listed, err := kadm.NewClient(a.cl).ListCommittedOffsets(ctx, a.topics.Events)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return fmt.Errorf("drain archiver: end offsets of %s: %w", a.topics.Events, err)
	}
	req := &drainReq{targets: map[int32]int64{}, since: time.Now(), done: make(chan error, 1)}
	listed.Each(func(o kadm.ListedOffset) { req.targets[o.Partition] = o.Offset })
	a.mu.Lock()
	a.drains = append(a.drains, req)
	a.mu.Unlock()
	a.wake()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		a.mu.Lock()
		a.drains = slices.DeleteFunc(a.drains, func(r *drainReq) bool { return r == req })
		a.mu.Unlock()
		return fmt.Errorf("drain archiver: %w", errors.Join(ctx.Err(), errors.New("hours still open or not stored")))
	}
}

// drainLocked closes the open hours of every owned partition once all are read to a drain's
// end offsets.
func (a *Archiver) drainLocked(now time.Time) error {
	for _, req := range a.drains {
		if req.closed {
			continue
		}
		for id, p := range a.parts {
			end := req.targets[id]
			if max(p.next, p.committed) >= end {
				continue
			}
			if last := p.lastRecord; now.Sub(last) < drainQuiet || now.Sub(req.since) < drainQuiet {
				return nil // records may still come
			}
		}
		for _, p := range a.sortedParts() {
			for _, of := range p.due(1<<63 - 1) {
				if err := a.close(p, of); err != nil {
					return err
				}
			}
		}
		req.closed = true
	}
	return nil
}

// answerDrainsLocked answers the drains whose hours are closed, stored and committed.
func (a *Archiver) answerDrainsLocked() {
	if len(a.drains) == 0 {
		return
	}
	for _, p := range a.parts {
		if len(p.queue) > 0 {
			return
		}
		if off, _ := p.commitPoint(); off > p.committed && off >= 0 {
			return
		}
	}
	keep := a.drains[:0]
	for _, req := range a.drains {
		if req.closed {
			req.done <- nil
			continue
		}
		keep = append(keep, req)
	}
	a.drains = keep
}

// failDrainsLocked answers every pending drain with err.
func (a *Archiver) failDrainsLocked(err error) {
	for _, req := range a.drains {
		req.done <- err
	}
	a.drains = nil
}
