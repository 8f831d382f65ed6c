package state_test

import (
	"reflect"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
)

// Drop notices become the lost counts of their exporter and hour, by where the events were
// lost; syscall events are the captured count; snapshots and other notices count nothing.
func TestCountsFromDropNotices(t *testing.T) {
	const hour0 = 1_699_999_200 // the hour of t0 (t0 is 800 s into it)
	drop := func(ts, flags, n int64) raw.Event {
		return ev(raw.OpDrop, ts, func(e *raw.Event) { e.Ret, e.Flags = n, flags })
	}
	notice := func(exp string, events ...raw.Event) *raw.Batch {
		return &raw.Batch{Exporter: exp, Events: events}
	}
	tests := []struct {
		name string
		in   []*raw.Batch
		want []state.ExporterCounts
	}{
		{"nothing", nil, nil},
		{
			name: "events and snapshots",
			in: []*raw.Batch{batch(snapshot(t0), ev(raw.OpOpen, t0+sec, func(e *raw.Event) { e.Path, e.Ret = "/etc/x", 3 }),
				ev(raw.OpClose, t0+2*sec, func(e *raw.Event) { e.FD = 3 }))},
			want: []state.ExporterCounts{{Exporter: exporter, Counts: raw.Counts{Hour: hour0, Captured: 2}}},
		},
		{
			name: "drops by kind",
			in: []*raw.Batch{
				batch(snapshot(t0), drop(t0+sec, raw.DropKernel, 7), drop(t0+sec, raw.DropQueue, 5)),
				notice(exporter, drop(t0+2*sec, raw.DropUnspecified, 3), drop(t0+2*sec, raw.DropFilter, 11), drop(t0+2*sec, 99, 1)),
			},
			want: []state.ExporterCounts{{Exporter: exporter, Counts: raw.Counts{Hour: hour0, LostKernel: 7, LostQueue: 5, LostOther: 4, Excluded: 11}}},
		},
		{
			name: "by exporter and hour",
			in: []*raw.Batch{
				batch(ev(raw.OpClose, t0, nil), ev(raw.OpClose, t0+2800*sec, nil), drop(t0+2800*sec, raw.DropKernel, 2)),
				notice("a-node", drop(t0, raw.DropQueue, 4)),
				notice(exporter, ev(raw.OpEnd, t0+2801*sec, nil)),
			},
			want: []state.ExporterCounts{
				{Exporter: "a-node", Counts: raw.Counts{Hour: hour0, LostQueue: 4}},
				{Exporter: exporter, Counts: raw.Counts{Hour: hour0, Captured: 1}},
				{Exporter: exporter, Counts: raw.Counts{Hour: hour0 + 3600, Captured: 1, LostKernel: 2}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := state.New(state.ReferenceTestConfig(), &out{})
			if err != nil {
				t.Fatal(err)
			}
			var lost int64
			for _, b := range tt.in {
				if err := s.Apply(b); err != nil {
					t.Fatalf("apply: %v", err)
				}
			}
			got := s.TakeCounts()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("counts:\n got %+v\nwant %+v", got, tt.want)
			}
			for _, c := range got {
				lost += c.Lost() + c.Excluded
			}
			if st := s.Stats(); st.LostEvents != lost {
				t.Errorf("Stats.LostEvents %d, counts' lost and excluded %d", st.LostEvents, lost)
			}
			if again := s.TakeCounts(); again != nil {
				t.Errorf("second TakeCounts: %+v, want nothing", again)
			}
		})
	}
}

// A notice batch that another partition counts (ApplyCopy) changes the state but not the
// counts: each loss sent to every partition is counted once.
func TestApplyCopyDoesNotCountDrops(t *testing.T) {
	s, err := state.New(state.ReferenceTestConfig(), &out{})
	if err != nil {
		t.Fatal(err)
	}
	d := raw.NewEvent(raw.OpDrop, t0, 0)
	d.Ret, d.Flags = 9, raw.DropKernel
	if err := s.ApplyCopy(&raw.Batch{Exporter: exporter, Events: []raw.Event{d}}); err != nil {
		t.Fatal(err)
	}
	if got := s.TakeCounts(); got != nil {
		t.Errorf("counts of a copy: %+v", got)
	}
	if st := s.Stats(); st.LostNotices != 1 || st.LostEvents != 0 {
		t.Errorf("stats of a copy: %+v", st)
	}
	if err := s.Apply(&raw.Batch{Exporter: exporter, Events: []raw.Event{d}}); err != nil {
		t.Fatal(err)
	}
	if got := s.TakeCounts(); len(got) != 1 || got[0].LostKernel != 9 {
		t.Errorf("counts after Apply: %+v", got)
	}
}
