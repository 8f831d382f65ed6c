package synthetic_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
	"github.com/sfstream/sfstream/sysflow"
)

func newGen(t *testing.T, cfg synthetic.Config) *synthetic.Generator {
	t.Helper()
	g, err := synthetic.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSameSeedSameBatches(t *testing.T) {
	for _, p := range synthetic.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			a := newGen(t, synthetic.Config{Profile: p, Seed: 7}).Batches(20_000)
			b := newGen(t, synthetic.Config{Profile: p, Seed: 7}).Batches(20_000)
			if !reflect.DeepEqual(a, b) {
				t.Fatal("two generators with the same config differ")
			}
			c := newGen(t, synthetic.Config{Profile: p, Seed: 8}).Batches(20_000)
			if reflect.DeepEqual(a, c) {
				t.Fatal("seeds 7 and 8 give the same batches")
			}
		})
	}
}

// The batches keep the producer's contract: valid, one process each, at most BatchSize
// events, timestamps increasing within a process, one snapshot per initial process first.
func TestBatchesKeepTheRawContract(t *testing.T) {
	for _, p := range synthetic.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			const size = 64
			g := newGen(t, synthetic.Config{Profile: p, BatchSize: size, Processes: 10})
			last := map[string]int64{}
			for i, b := range g.Batches(100_000) {
				if err := b.Validate(); err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
				if len(b.Events) == 0 || len(b.Events) > size {
					t.Fatalf("batch %d has %d events, want 1..%d", i, len(b.Events), size)
				}
				if i < 10 && (b.Events[0].Op != raw.OpSnapshot || len(b.Events) != 1) {
					t.Fatalf("batch %d: want the snapshot of an initial process first, got %s", i, b.Events[0].Op)
				}
				k := string(raw.Key(b.Exporter, b.HPID, b.CreateTS))
				for _, e := range b.Events {
					if e.TS <= last[k] {
						t.Fatalf("batch %d (%s): ts %d after %d", i, k, e.TS, last[k])
					}
					last[k] = e.TS
					if e.TID != b.HPID {
						t.Fatalf("batch %d: tid %d in a batch of process %d", i, e.TID, b.HPID)
					}
				}
			}
		})
	}
}

// The generator produces each profile's declared mix.
func TestGeneratorReproducesMix(t *testing.T) {
	for _, p := range synthetic.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			h := map[raw.Op]int{}
			for _, b := range newGen(t, synthetic.Config{Profile: p, Seed: 3}).Batches(500_000) {
				for _, e := range b.Events {
					h[e.Op]++
				}
			}
			got, coverage := synthetic.MixOf(h, p.Ops)
			if coverage != 1 {
				t.Errorf("%.4f of the events have an op outside the profile's ops: %v", 1-coverage, h)
			}
			tvd, worst, diff := synthetic.Distance(got, p.Mix)
			t.Logf("distance %.4f (worst %s %.4f)", tvd, worst, diff)
			if tvd > 0.01 {
				t.Errorf("generated mix is %.4f from the declared one (worst %s by %.4f)\n got %v\nwant %v", tvd, worst, diff, got, p.Mix)
			}
		})
	}
}

// Every profile's stream goes through State without a contract error and yields SysFlow.
func TestProfilesMakeSysFlow(t *testing.T) {
	for _, p := range synthetic.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			o := &counter{kinds: map[sysflow.Kind]int{}}
			st, err := state.New(state.DefaultConfig(), o)
			if err != nil {
				t.Fatal(err)
			}
			g := newGen(t, synthetic.Config{Profile: p})
			failed := int64(0) // failed opens make no record, as in the reference
			for _, b := range g.Batches(20_000) {
				for _, e := range b.Events {
					if e.Op == raw.OpOpen && e.Ret < 0 {
						failed++
					}
				}
				if err := st.Apply(b); err != nil {
					t.Fatal(err)
				}
			}
			s := st.Stats()
			t.Logf("%d events: %d entities, %d event records %v; dropped %d, filtered %d", s.Events, s.Entities, s.EventRecords, o.kinds, s.Dropped, s.Filtered)
			if s.EventRecords == 0 || s.Entities == 0 {
				t.Fatal("no SysFlow came out")
			}
			if s.Dropped != failed {
				t.Errorf("%d events dropped, want the %d failed opens only: the scripts use fds the state does not know", s.Dropped, failed)
			}
		})
	}
}

type counter struct{ kinds map[sysflow.Kind]int }

func (c *counter) Entity(_ []byte, r sysflow.Record) { c.kinds[r.Kind()]++ }
func (c *counter) Event(_ []byte, r sysflow.Record)  { c.kinds[r.Kind()]++ }

func TestPacedRunKeepsRateAndWallClock(t *testing.T) {
	const rate = 20_000
	g := newGen(t, synthetic.Config{Profile: synthetic.HTTPD, Pace: true, Rate: rate, Processes: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	var n int
	for time.Since(start) < 500*time.Millisecond {
		b, err := g.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(b.Events)
		if d := time.Since(time.Unix(0, b.Events[len(b.Events)-1].TS)); d < 0 || d > time.Second {
			t.Fatalf("paced event ts is %s away from the wall clock", d)
		}
	}
	got := float64(n) / time.Since(start).Seconds()
	if got > rate*1.3 {
		t.Errorf("paced at %.0f events/s, want about %d", got, rate)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := synthetic.New(synthetic.Config{}); err == nil {
		t.Error("no profile: want an error")
	}
	if _, err := synthetic.New(synthetic.Config{Profile: synthetic.HTTPD, Rate: -1}); err == nil {
		t.Error("negative rate: want an error")
	}
	if _, err := synthetic.ProfileByName("nope"); err == nil {
		t.Error("unknown profile: want an error")
	}
}
