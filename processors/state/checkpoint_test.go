package state_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/sysflow"

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

// The emitted-entity cap forgets the oldest half: a forgotten file is emitted again, a
// remembered one is not, and the checkpoint carries the forgetting (tombstones), so a restored
// state remembers exactly the same files.
func TestEntityMarksCapAndRestore(t *testing.T) {
	cfg := state.DefaultConfig()
	cfg.MaxEntities = 4
	path := func(i int) string { return fmt.Sprintf("/data/f%d", i) }
	open := func(ts int64, i int) *raw.Batch {
		return batch(
			ev(raw.OpOpen, ts, func(e *raw.Event) { e.Path = path(i); e.Flags = 1; e.Ret = 3 }), // O_WRONLY
			ev(raw.OpWrite, ts+1, func(e *raw.Event) { e.FD = 3; e.Ret = 10 }),
			ev(raw.OpClose, ts+2, func(e *raw.Event) { e.FD = 3 }),
		)
	}
	files := func(o *out) []string {
		var got []string
		for _, r := range o.recs {
			if f, ok := r.rec.(*sysflow.File); ok {
				got = append(got, f.Path)
			}
		}
		return got
	}
	o := &out{}
	s, err := state.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	store := &checkpointStore{procs: map[string][]byte{}}
	ts := t0
	for i := range 6 { // f4 reaches the cap: f0, f1 forgotten
		if err := s.Apply(open(ts, i)); err != nil {
			t.Fatal(err)
		}
		ts += sec / 10
	}
	store.save(t, s)
	marks := 0
	for k := range store.values() {
		if strings.Contains(k, "/F/") {
			marks++
		}
	}
	if marks != 4 {
		t.Errorf("checkpoint holds %d file marks, want 4 (f2..f5)", marks)
	}
	if got := files(o); len(got) != 6 {
		t.Fatalf("files emitted %v, want f0..f5 once each", got)
	}
	check := func(name string, s *state.State, o *out) {
		t.Helper()
		o.recs = nil
		for _, i := range []int{5, 2, 0} { // remembered, remembered, forgotten
			if err := s.Apply(open(ts, i)); err != nil {
				t.Fatal(err)
			}
		}
		if got := files(o); !reflect.DeepEqual(got, []string{path(0)}) {
			t.Errorf("%s: files emitted again %v, want only the forgotten %s", name, got, path(0))
		}
	}
	ro := &out{}
	r2, err := state.Restore(cfg, ro, store.meta, store.values())
	if err != nil {
		t.Fatal(err)
	}
	check("original", s, o)
	check("restored", r2, ro)
}

// A changelog key that is neither a process nor an entity mark fails the restore clearly.
func TestRestoreRejectsUnknownKeys(t *testing.T) {
	_, err := state.Restore(state.DefaultConfig(), &out{}, state.Meta{}, map[string][]byte{"node/X/1": []byte("1")})
	if err == nil || !strings.Contains(err.Error(), `"node/X/1"`) {
		t.Fatalf("restore of an unknown key: %v, want an error naming it", err)
	}
}

func TestMetaBinary(t *testing.T) {
	for _, m := range []state.Meta{{}, {Seq: 1 << 63, Now: -1, LastExpire: 1_700_000_000}, {Seq: 7, Now: t0, LastExpire: t0 / sec}} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got state.Meta
		if err := got.UnmarshalBinary(b); err != nil || got != m {
			t.Errorf("round trip of %+v: %+v, %v", m, got, err)
		}
		for n := range len(b) {
			if err := got.UnmarshalBinary(b[:n]); err == nil {
				t.Errorf("%d of %d bytes decoded without error", n, len(b))
			}
		}
		if err := got.UnmarshalBinary(append(b, 0)); err == nil {
			t.Error("trailing byte accepted")
		}
	}
}

// Pending tombstones are capped by MaxEntities: beyond it the earliest is given up (counted),
// never emitted early.
func TestPendingTombstonesCapped(t *testing.T) {
	cfg := state.ReferenceTestConfig()
	cfg.MaxEntities = 2
	o := &out{}
	s, err := state.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 { // four processes exit, one per second
		b := &raw.Batch{Exporter: exporter, HPID: int64(300 + i), CreateTS: 9, Events: []raw.Event{raw.NewEvent(raw.OpExit, t0+int64(i)*sec, int64(300+i))}}
		if err := s.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Apply(other(200, t0+10*sec)); err != nil { // all four removed
		t.Fatal(err)
	}
	if st := s.Stats(); st.Removed != 4 || st.TombstonesForgotten != 2 || st.Tombstones != 0 {
		t.Fatalf("stats %+v: want 4 removed, 2 tombstones forgotten, none emitted yet", st)
	}
	o.recs = nil
	if err := s.Apply(other(200, t0+3*3600*sec)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range o.recs {
		if r.rec == nil {
			keys = append(keys, r.key)
		}
	}
	if want := []string{"node/P/302/9", "node/P/303/9"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("tombstones %v, want %v (the two latest)", keys, want)
	}
}
