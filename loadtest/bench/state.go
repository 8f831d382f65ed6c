package bench

import (
	"errors"
	"fmt"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
	"github.com/sfstream/sfstream/sysflow"
)

// discard is a state.Output that counts and drops what a State emits.
type discard struct{ entities, events int64 }

func (d *discard) Entity([]byte, sysflow.Record) { d.entities++ }
func (d *discard) Event([]byte, sysflow.Record)  { d.events++ }

// StateResult is the throughput of State.Apply alone, without Kafka.
type StateResult struct {
	Events     int64         // raw events applied in the measured part
	Wall       time.Duration // wall time of the measured part
	CPU        time.Duration // process CPU time of the measured part (GC included)
	Records    int64         // SysFlow records emitted in the measured part
	Warmup     int64         // events applied before measuring
	TimedOut   bool          // the measured part stopped at its time limit
	EventsPerS float64       // Events / Wall
	PerCore    float64       // Events / CPU: events per CPU-second
}

// StateThroughput feeds one State (one partition's) with the generator's batches: warmup
// events first (for at most half of limit), then up to events more, measured, until limit
// has passed since the start. The batches are generated in chunks outside the measured time.
func StateThroughput(cfg synthetic.Config, st state.Config, warmup, events int64, limit time.Duration) (StateResult, error) {
	g, err := synthetic.New(cfg)
	if err != nil {
		return StateResult{}, err
	}
	out := &discard{}
	s, err := state.New(st, out)
	if err != nil {
		return StateResult{}, err
	}
	apply := func(bs []*raw.Batch) (int64, error) {
		var n int64
		for _, b := range bs {
			if err := s.Apply(b); err != nil {
				return n, fmt.Errorf("state throughput: %w", err)
			}
			n += int64(len(b.Events))
		}
		return n, nil
	}
	var res StateResult
	start := time.Now()
	for res.Warmup < warmup && (limit <= 0 || time.Since(start) < limit/2) {
		n, err := apply(g.Batches(min(chunkEvents, warmup-res.Warmup)))
		res.Warmup += n
		if err != nil {
			return res, err
		}
	}
	before := out.entities + out.events
	deadline := start.Add(limit)
	for res.Events < events {
		bs := g.Batches(min(chunkEvents, events-res.Events))
		c0, t0 := cpuNow(), time.Now()
		n, err := apply(bs)
		res.CPU += cpuNow() - c0
		res.Wall += time.Since(t0)
		res.Events += n
		if err != nil {
			return res, err
		}
		if limit > 0 && time.Now().After(deadline) {
			res.TimedOut = res.Events < events
			break
		}
	}
	res.Records = out.entities + out.events - before
	if res.Wall <= 0 || res.CPU <= 0 {
		return res, errors.New("state throughput: nothing measured")
	}
	res.EventsPerS = float64(res.Events) / res.Wall.Seconds()
	res.PerCore = float64(res.Events) / res.CPU.Seconds()
	return res, nil
}

// chunkEvents is how many events are generated at a time outside the measured time.
const chunkEvents = 50_000
