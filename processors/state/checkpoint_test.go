package state_test

import (
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
)

// checkpointStore keeps the latest checkpoint value per key, as a compacted topic does.
type checkpointStore struct {
	procs map[string][]byte
	meta  state.Meta
}

func (c *checkpointStore) save(t *testing.T, s *state.State) {
	t.Helper()
	recs, meta, err := s.Changes()
	if err != nil {
		t.Fatalf("changes: %v", err)
	}
	for _, r := range recs {
		if r.Value == nil {
			delete(c.procs, r.Key)
		} else {
			c.procs[r.Key] = r.Value
		}
	}
	c.meta = meta
}

func (c *checkpointStore) values() map[string][]byte { return c.procs }

// splitEvents flattens batches into one-event batches so a checkpoint can fall anywhere.
func splitEvents(in []*raw.Batch) []*raw.Batch {
	var out []*raw.Batch
	for _, b := range in {
		for _, e := range b.Events {
			out = append(out, &raw.Batch{Exporter: b.Exporter, HPID: b.HPID, CreateTS: b.CreateTS, Events: []raw.Event{e}})
		}
	}
	return out
}

// A state restored from its checkpoint at any point continues exactly as the original: the
// property exactly-once processing rests on.
func TestRestoreContinuesIdentically(t *testing.T) {
	for _, tt := range goldenCases() {
		t.Run(tt.name, func(t *testing.T) {
			events := splitEvents(tt.in)
			want := run(t, tt.cfg, events...)
			for cut := 0; cut <= len(events); cut++ {
				o := &out{}
				s, err := state.New(tt.cfg, o)
				if err != nil {
					t.Fatal(err)
				}
				store := &checkpointStore{procs: map[string][]byte{}}
				for i, b := range events[:cut] {
					if err := s.Apply(b); err != nil {
						t.Fatal(err)
					}
					if i%2 == 0 { // checkpoint at uneven intervals
						store.save(t, s)
					}
				}
				store.save(t, s)
				r, err := state.Restore(tt.cfg, o, store.meta, store.values())
				if err != nil {
					t.Fatalf("cut %d: restore: %v", cut, err)
				}
				for _, b := range events[cut:] {
					if err := r.Apply(b); err != nil {
						t.Fatal(err)
					}
				}
				check(t, o.recs, want)
				if t.Failed() {
					t.Fatalf("restore after %d of %d events diverges", cut, len(events))
				}
			}
		})
	}
}
