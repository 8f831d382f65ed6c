package state

import (
	"fmt"
	"strings"

	"github.com/sfstream/sfstream/internal/sysflow"
)

// marks remembers which File and Container entities a partition has emitted, so that each is
// emitted once, and which marks the next checkpoint must write.
//
// File marks, by far the most numerous, are pointer-free (an interned exporter id and the
// FOID): a million of them cost the garbage collector nothing to scan. Containers are few and
// keyed by their entity key.
type marks struct {
	max int // per kind; beyond it the oldest half is forgotten

	exporters []string          // interned exporter names; id i+1 is exporters[i]
	expIDs    map[string]uint32 // name -> id

	files     map[fileMark]bool // true: not yet checkpointed
	fileOrder []fileMark        // insertion order, for eviction
	newFiles  []fileMark        // marked since the last checkpoint

	conts     map[string]bool // by entity key; true: not yet checkpointed
	contOrder []string
	newConts  []string

	forgotten []string // entity keys forgotten since the last checkpoint
}

// fileMark identifies a File entity of an exporter.
type fileMark struct {
	exp  uint32
	foid sysflow.FOID
}

func newMarks(max int) marks {
	return marks{max: max, expIDs: map[string]uint32{}, files: map[fileMark]bool{}, conts: map[string]bool{}}
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
	if _, ok := m.files[k]; ok {
		return false
	}
	if len(m.files) >= m.max {
		// Forget the oldest half: at worst they are emitted once more (REUP).
		n := len(m.fileOrder) / 2
		for _, o := range m.fileOrder[:n] {
			delete(m.files, o)
			m.forgotten = append(m.forgotten, m.fileKey(o))
		}
		m.fileOrder = append(m.fileOrder[:0], m.fileOrder[n:]...)
	}
	m.files[k] = true
	m.fileOrder = append(m.fileOrder, k)
	m.newFiles = append(m.newFiles, k)
	return true
}

// markContainer is markFile for a Container entity, by its entity key.
func (m *marks) markContainer(key string) bool {
	if _, ok := m.conts[key]; ok {
		return false
	}
	if len(m.conts) >= m.max {
		n := len(m.contOrder) / 2
		for _, o := range m.contOrder[:n] {
			delete(m.conts, o)
			m.forgotten = append(m.forgotten, o)
		}
		m.contOrder = append(m.contOrder[:0], m.contOrder[n:]...)
	}
	m.conts[key] = true
	m.contOrder = append(m.contOrder, key)
	m.newConts = append(m.newConts, key)
	return true
}

// changes appends the changelog records of the marks changed since the last call: tombstones
// of forgotten marks first, then new marks (containers, then files, each in marking order).
func (m *marks) changes(out []Record) []Record {
	for _, k := range m.forgotten {
		out = append(out, Record{Key: k})
	}
	clear(m.forgotten)
	m.forgotten = m.forgotten[:0]
	for _, k := range m.newConts {
		if m.conts[k] { // false: already written, or forgotten and marked again
			out = append(out, Record{Key: k, Value: emittedMark})
			m.conts[k] = false
		}
	}
	clear(m.newConts)
	m.newConts = m.newConts[:0]
	for _, k := range m.newFiles {
		if m.files[k] {
			out = append(out, Record{Key: m.fileKey(k), Value: emittedMark})
			m.files[k] = false
		}
	}
	m.newFiles = m.newFiles[:0]
	return out
}

// restore records a mark read from the changelog (already checkpointed).
func (m *marks) restore(key string) error {
	if i := strings.LastIndex(key, "/F/"); i >= 0 {
		if foid, err := sysflow.ParseFOID(key[i+3:]); err == nil {
			k := fileMark{exp: m.exporterID(key[:i]), foid: foid}
			m.files[k] = false
			m.fileOrder = append(m.fileOrder, k)
			return nil
		}
	}
	if i := strings.LastIndex(key, "/C/"); i >= 0 && i+3 < len(key) {
		m.conts[key] = false
		m.contOrder = append(m.contOrder, key)
		return nil
	}
	return fmt.Errorf("changelog key %q is neither a process, a file nor a container key", key)
}

// size returns the number of marks held.
func (m *marks) size() int { return len(m.files) + len(m.conts) }
