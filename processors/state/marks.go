package state

import (
	"fmt"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// marks remembers which File and Container entities a partition has emitted, so that each is
// emitted once, and which marks the next checkpoint must write.
//
// File marks, by far the most numerous, are pointer-free (an interned exporter id and the
// FOID): a million of them cost the garbage collector nothing to scan. Containers are few and
// keyed by their entity key, with their content (containerMarks).
type marks struct {
	max int // per kind; beyond it the oldest half is forgotten

	exporters []string          // interned exporter names; id i+1 is exporters[i]
	expIDs    map[string]uint32 // name -> id

	files     markSet[fileMark]
	conts     containerMarks
	forgotten []string // entity keys forgotten since the last checkpoint
}

// fileMark identifies a File entity of an exporter.
type fileMark struct {
	exp  uint32
	foid sysflow.FOID
}

// markSet is the marks of one kind.
type markSet[K comparable] struct {
	set   map[K]bool // true: not yet checkpointed
	order []K        // insertion order, for eviction
	fresh []K        // marked since the last checkpoint
}

func newMarks(max int) marks {
	return marks{max: max, expIDs: map[string]uint32{},
		files: markSet[fileMark]{set: map[fileMark]bool{}}, conts: newContainerMarks()}
}

// mark records k; it reports false if k was marked. Beyond max marks the oldest half is
// forgotten, each passed to forget: at worst they are emitted once more (REUP).
func (s *markSet[K]) mark(k K, max int, forget func(K)) bool {
	if _, ok := s.set[k]; ok {
		return false
	}
	if len(s.set) >= max {
		n := len(s.order) / 2
		for _, o := range s.order[:n] {
			delete(s.set, o)
			forget(o)
		}
		s.order = append(s.order[:0], s.order[n:]...)
	}
	s.set[k] = true
	s.order = append(s.order, k)
	s.fresh = append(s.fresh, k)
	return true
}

// changes appends the changelog records of the marks new since the last call, in marking
// order, and starts a new change set.
func (s *markSet[K]) changes(out []Record, key func(K) string) []Record {
	for _, k := range s.fresh {
		if s.set[k] { // false: already written, or forgotten and marked again
			out = append(out, Record{Key: key(k), Value: emittedMark})
			s.set[k] = false
		}
	}
	clear(s.fresh)
	s.fresh = s.fresh[:0]
	return out
}

// restore records a mark read from the changelog (already checkpointed).
func (s *markSet[K]) restore(k K) {
	s.set[k] = false
	s.order = append(s.order, k)
}

// exporterID returns the interned id of an exporter name.
func (m *marks) exporterID(name string) uint32 {
	if id, ok := m.expIDs[name]; ok {
		return id
	}
	m.exporters = append(m.exporters, name)
	id := uint32(len(m.exporters))
	m.expIDs[name] = id
	return id
}

func (m *marks) fileKey(k fileMark) string { return k.foid.Key(m.exporters[k.exp-1]) }

// markFile records that a File entity was emitted; it reports false if it had been.
func (m *marks) markFile(k fileMark) bool {
	return m.files.mark(k, m.max, func(o fileMark) { m.forgotten = append(m.forgotten, m.fileKey(o)) })
}

// containerOfProcess returns the Container entity to emit, by its entity key, for a process in
// container c; nil when the partition has emitted its current version.
func (m *marks) containerOfProcess(key string, c *raw.Container) *raw.Container {
	return m.conts.fromProcess(key, c, m.max, m.forget)
}

// containerNotice records the producer's new metadata of a container; it returns the version
// to emit when the partition had emitted another one.
func (m *marks) containerNotice(key string, c *raw.Container) *raw.Container {
	return m.conts.fromNotice(key, c, m.max, m.forget)
}

func (m *marks) forget(key string) { m.forgotten = append(m.forgotten, key) }

// pending returns how many changelog records the next changes call may append at most.
func (m *marks) pending() int { return len(m.forgotten) + len(m.files.fresh) + len(m.conts.dirty) }

// changes appends the changelog records of the marks changed since the last call: tombstones
// of forgotten marks first, then new marks (containers, then files, each in marking order).
func (m *marks) changes(out []Record) []Record {
	for _, k := range m.forgotten {
		out = append(out, Record{Key: k})
	}
	clear(m.forgotten)
	m.forgotten = m.forgotten[:0]
	out = m.conts.changes(out)
	return m.files.changes(out, m.fileKey)
}

// restore records a mark read from the changelog (already checkpointed) with its value.
func (m *marks) restore(key string, v []byte) error {
	if i := strings.LastIndex(key, "/F/"); i >= 0 {
		if foid, err := sysflow.ParseFOID(key[i+3:]); err == nil {
			m.files.restore(fileMark{exp: m.exporterID(key[:i]), foid: foid})
			return nil
		}
	}
	if i := strings.LastIndex(key, "/C/"); i >= 0 && i+3 < len(key) {
		return m.conts.restore(key, v)
	}
	return fmt.Errorf("changelog key %q is neither a process, a file nor a container key", key)
}
