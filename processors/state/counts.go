package state

import (
	"cmp"
	"slices"

	"github.com/sfstream/sfstream/internal/raw"
)

// ExporterCounts are the capture counts of one exporter and hour (raw.Counts) applied since
// the last TakeCounts.
type ExporterCounts struct {
	Exporter string
	raw.Counts
}

type countKey struct {
	exporter string
	hour     int64
}

// count adds e to the capture counts of its exporter and hour: a drop notice its lost (or
// excluded) events, a syscall event one captured event. Other notices and snapshot records
// are not events of the capture.
func (s *State) count(exporter string, e *raw.Event) {
	switch {
	case e.Op == raw.OpEnd, e.Op == raw.OpContainer, e.Op == raw.OpSnapshot:
		return
	case e.Op == raw.OpDrop && s.copyOfShared:
		return // another partition counts it
	}
	hour := e.TS / 3600e9
	if e.TS%3600e9 < 0 {
		hour-- // floor, for times before the epoch
	}
	hour *= 3600
	k := countKey{exporter, hour}
	c := s.lastCount
	if c == nil || s.lastCountKey != k {
		if s.counts == nil {
			s.counts = map[countKey]*raw.Counts{}
		}
		if c = s.counts[k]; c == nil {
			c = &raw.Counts{Hour: hour}
			s.counts[k] = c
			if len(s.counts) == 1 || hour < s.countsFrom {
				s.countsFrom = hour
			}
		}
		s.lastCount, s.lastCountKey = c, k
	}
	if e.Op == raw.OpDrop {
		c.AddDrop(e.Flags, max(e.Ret, 0))
		return
	}
	c.Captured++
}

// ApplyCopy applies a batch that the producer sent to every partition (drop, end and
// container notices) in a partition that is not the one to count it: it changes the state as
// Apply does, but its drop notices add nothing to the counts or to Stats.LostEvents, so that
// the partitions together count each loss once.
func (s *State) ApplyCopy(b *raw.Batch) error {
	s.copyOfShared = true
	defer func() { s.copyOfShared = false }()
	return s.Apply(b)
}

// CountsBefore reports whether counts of an hour before the hour of ts are pending: the
// pipeline takes them before it applies events of a later hour, so that an hour's counts
// precede the events that close it in the archive.
func (s *State) CountsBefore(ts int64) bool {
	return len(s.counts) > 0 && s.countsFrom*1e9+3600e9 <= ts
}

// TakeCounts returns the capture counts of the events applied since the last call, by
// exporter and hour in that order, and forgets them. The pipeline produces them in the
// transaction of those events, so they need no checkpoint.
func (s *State) TakeCounts() []ExporterCounts {
	if len(s.counts) == 0 {
		return nil
	}
	out := make([]ExporterCounts, 0, len(s.counts))
	for k, c := range s.counts {
		out = append(out, ExporterCounts{Exporter: k.exporter, Counts: *c})
	}
	clear(s.counts)
	s.lastCount = nil
	slices.SortFunc(out, func(a, b ExporterCounts) int {
		return cmp.Or(cmp.Compare(a.Exporter, b.Exporter), cmp.Compare(a.Hour, b.Hour))
	})
	return out
}
