package hourly

import (
	"bytes"
	"os"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// An object's metadata states the sums of the capture counts it received, as
// sfstream.captured, sfstream.lost and the losses by kind; the counts take offsets of the
// object's range but no record; an object without counts states none; the same input gives
// the same bytes.
func TestObjectMetadataStatesCounts(t *testing.T) {
	f := newFixture(t)
	key := Key{Exporter: "n", Hour: hour, Partition: 3}
	flow := &sysflow.NetworkFlow{ProcOID: f.child, TS: f.execTS, SPort: 1, OpFlags: 1}
	build := func(counts []raw.Counts, events bool) ([]byte, Object) {
		t.Helper()
		file, err := Create(t.TempDir(), key, key.Name("arch"), f.table)
		if err != nil {
			t.Fatal(err)
		}
		off := int64(40)
		if events {
			if err := file.Append(flow, 10, off); err != nil {
				t.Fatal(err)
			}
			off++
		}
		for _, c := range counts {
			file.AddCounts(c, off)
			off++
		}
		obj, err := file.Finish("sysflow.events")
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(obj.Path)
		if err != nil {
			t.Fatal(err)
		}
		return b, obj
	}
	in := []raw.Counts{
		{Hour: hour, Captured: 1000, LostKernel: 30, LostQueue: 5},
		{Hour: hour, Captured: 500, LostOther: 2, Excluded: 9},
	}
	tests := []struct {
		name    string
		counts  []raw.Counts
		events  bool
		want    map[string]string // nil: no count keys
		offsets string
		records int
	}{
		{"events and counts", in, true, map[string]string{
			raw.CountCaptured: "1500", raw.CountLost: "37", raw.CountLostKernel: "30", raw.CountLostQueue: "5",
			raw.CountLostOther: "2", raw.CountExcluded: "9",
		}, "40-42", 6},
		{"counts only: every event lost", []raw.Counts{{Hour: hour, LostKernel: 8}}, false, map[string]string{
			raw.CountCaptured: "0", raw.CountLost: "8", raw.CountLostKernel: "8", raw.CountLostQueue: "0",
			raw.CountLostOther: "0", raw.CountExcluded: "0",
		}, "40-40", 1},
		{"no counts", nil, true, nil, "40-40", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, obj := build(tt.counts, tt.events)
			recs, meta := read(t, b)
			if len(recs) != tt.records {
				t.Errorf("%d records (%s), want %d", len(recs), describe(recs), tt.records)
			}
			if got := string(meta[MetaOffsets]); got != tt.offsets {
				t.Errorf("offsets %q, want %q", got, tt.offsets)
			}
			for _, k := range []string{raw.CountCaptured, raw.CountLost, raw.CountLostKernel, raw.CountLostQueue, raw.CountLostOther, raw.CountExcluded} {
				got, there := meta[k]
				want, wantThere := tt.want[k]
				if there != wantThere || string(got) != want {
					t.Errorf("%s = %q (present %v), want %q (present %v)", k, got, there, want, wantThere)
				}
			}
			if obj.HasCounts != (tt.want != nil) {
				t.Errorf("Object.HasCounts %v", obj.HasCounts)
			}
			again, _ := build(tt.counts, tt.events)
			if !bytes.Equal(b, again) {
				t.Error("a rebuilt object differs")
			}
		})
	}
}
