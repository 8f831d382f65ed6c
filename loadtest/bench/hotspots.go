package bench

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// hotspots summarises a CPU profile of the processor phase: where the time went by stage and
// the functions with the most self time.
type hotspots struct {
	Total  time.Duration
	Stages []share // exclusive: each sample counted once, in the deepest stage on its stack
	Flat   []share // self time, top functions
}

type share struct {
	Name     string
	Duration time.Duration
	Fraction float64
}

// stages are call subtrees named by their entry function: each sample goes to the deepest
// frame of its stack that starts with one of the markers (so an encoder under State.Changes is the
// checkpoint's, a malloc under DecodeRaw the decoder's).
var stages = []struct{ name, marker string }{
	{"compression (lz4 fetch, snappy produce)", "github.com/pierrec/lz4"},
	{"compression (lz4 fetch, snappy produce)", "github.com/klauspost/compress"},
	{"raw decode (codec.DecodeRaw)", "github.com/sfstream/sfstream/internal/codec.(*Serde).DecodeRaw"},
	{"checkpoint (state.Changes)", "github.com/sfstream/sfstream/processors/state.(*State).Changes"},
	{"checkpoint (state.Changes)", "github.com/sfstream/sfstream/processors/pipeline.(*Processor).checkpoint"},
	{"state restore (changelog)", "github.com/sfstream/sfstream/processors/pipeline.(*Processor).restore"},
	{"SysFlow encode (codec.AppendSysFlow)", "github.com/sfstream/sfstream/internal/codec.(*Serde).AppendSysFlow"},
	{"state.Apply (SysFlow building)", "github.com/sfstream/sfstream/processors/state.(*State).Apply"},
	{"metrics (prometheus)", "github.com/prometheus/"},
	{"Kafka client (franz-go: fetch, produce, txn)", "github.com/twmb/franz-go/"},
	{"pipeline (transact, flush, records)", "github.com/sfstream/sfstream/processors/pipeline."},
	{"GC (background mark)", "runtime.gcBgMarkWorker"},
}

func summarizeProfile(path string) (*hotspots, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read cpu profile: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("read cpu profile: %w", err)
	}
	vi := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			vi = i
		}
	}
	if vi < 0 {
		return nil, fmt.Errorf("read cpu profile %s: no cpu samples", path)
	}
	byStage := map[string]int64{}
	flat := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[vi]
		total += v
		var frames []string
		for _, loc := range s.Location {
			for _, ln := range loc.Line { // inlined frames first, leaf first
				if ln.Function != nil {
					frames = append(frames, ln.Function.Name)
				}
			}
		}
		if len(frames) > 0 {
			flat[frames[0]] += v
		}
		stage := "other (runtime, scheduler, syscalls)"
	find:
		for _, fn := range frames {
			for _, st := range stages {
				if strings.HasPrefix(fn, st.marker) {
					stage = st.name
					break find
				}
			}
		}
		byStage[stage] += v
	}
	if total == 0 {
		return nil, fmt.Errorf("read cpu profile %s: empty", path)
	}
	h := &hotspots{Total: time.Duration(total)}
	h.Stages = top(byStage, total, 0)
	h.Flat = top(flat, total, 15)
	return h, nil
}

func top(m map[string]int64, total int64, n int) []share {
	out := make([]share, 0, len(m))
	for k, v := range m {
		out = append(out, share{Name: k, Duration: time.Duration(v), Fraction: float64(v) / float64(total)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Duration != out[j].Duration {
			return out[i].Duration > out[j].Duration
		}
		return out[i].Name < out[j].Name
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
