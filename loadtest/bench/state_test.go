package bench_test

import (
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
	"github.com/sfstream/sfstream/sysflow"
)

type discard struct{}

func (discard) Entity([]byte, sysflow.Record) {}
func (discard) Event([]byte, sysflow.Record)  {}

// BenchmarkStateApply measures State.Apply alone, one State as one partition, on each load
// profile: one op is one raw event. A warm-up of 200k events (0.4 s of event time at the
// generator's default rate) runs first, untimed; batches are generated in untimed chunks.
// Reports events/s (of one core: Apply is single-threaded, GC aside).
func BenchmarkStateApply(b *testing.B) {
	for _, p := range synthetic.Profiles() {
		b.Run(p.Name, func(b *testing.B) {
			g, err := synthetic.New(synthetic.Config{Profile: p})
			if err != nil {
				b.Fatal(err)
			}
			s, err := state.New(state.DefaultConfig(), discard{})
			if err != nil {
				b.Fatal(err)
			}
			apply := func(bs []*raw.Batch) int {
				n := 0
				for _, bt := range bs {
					if err := s.Apply(bt); err != nil {
						b.Fatal(err)
					}
					n += len(bt.Events)
				}
				return n
			}
			apply(g.Batches(200_000))
			b.ReportAllocs()
			b.ResetTimer()
			done := 0
			for done < b.N {
				b.StopTimer()
				bs := g.Batches(int64(min(50_000, b.N-done)))
				b.StartTimer()
				done += apply(bs)
			}
			b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
