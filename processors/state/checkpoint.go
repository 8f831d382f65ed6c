package state

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// A checkpoint is the state of a partition as changelog records: one per process (keyed by
// its process key, the value its encoded state), one per File entity already emitted (keyed
// by the entity key, value "1") and one per Container known (keyed by the entity key, the
// value its metadata and whether it was emitted: containers.go), and Meta for the partition's clocks. Changes
// returns what changed since the last call; Restore rebuilds a State from the latest value of
// every key.

// Record is one changelog record.
type Record struct {
	Key   string
	Value []byte // nil: the key is gone (a tombstone)
}

var emittedMark = []byte("1")

// Meta is the partition-wide part of a checkpoint.
type Meta struct {
	Seq        uint64
	Now        int64
	LastExpire int64
}

// goneVersion starts the changelog value of a process removed after its exit whose entity
// tombstone is pending: the byte, then when it is due (ns, varint) and the process's creation
// seq (uvarint, the order of tombstones due at the same time). A process's own value
// starts with its format version (1), never this.
const goneVersion = 0xf0

// metaVersion is the format version of an encoded Meta.
const metaVersion = 1

// MarshalBinary encodes m: a version byte, then Seq, Now and LastExpire as varints.
func (m Meta) MarshalBinary() ([]byte, error) {
	b := make([]byte, 1, 1+3*binary.MaxVarintLen64)
	b[0] = metaVersion
	b = binary.AppendUvarint(b, m.Seq)
	b = binary.AppendVarint(b, m.Now)
	b = binary.AppendVarint(b, m.LastExpire)
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (m *Meta) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != metaVersion {
		return fmt.Errorf("decode checkpoint meta: want format version %d, have %v", metaVersion, b[:min(len(b), 1)])
	}
	var v Meta
	off := 1
	u, n := binary.Uvarint(b[off:])
	if n <= 0 {
		return fmt.Errorf("decode checkpoint meta: bad seq at byte %d", off)
	}
	v.Seq, off = u, off+n
	for _, dst := range []*int64{&v.Now, &v.LastExpire} {
		x, n := binary.Varint(b[off:])
		if n <= 0 {
			return fmt.Errorf("decode checkpoint meta: bad clock at byte %d", off)
		}
		*dst, off = x, off+n
	}
	if off != len(b) {
		return fmt.Errorf("decode checkpoint meta: %d trailing bytes", len(b)-off)
	}
	*m = v
	return nil
}

// Changes returns the changelog records of everything changed since the last call (a
// tombstone for each process removed or entity forgotten) and the partition's clocks, and
// starts a new change set.
func (s *State) Changes() ([]Record, Meta, error) {
	out := s.marks.changes(make([]Record, 0, len(s.dirty)+s.marks.pending()))
	for _, k := range s.dirtyKeys() {
		key := string(k.kafkaKey())
		p, ok := s.procs[k]
		if !ok {
			var v []byte                            // removed for good: a tombstone
			if t, pending := s.tombAt[k]; pending { // removed, entity not yet deleted
				v = binary.AppendUvarint(binary.AppendVarint([]byte{goneVersion}, t.at), t.seq)
			}
			out = append(out, Record{Key: key, Value: v})
			continue
		}
		v, err := encodeProc(p)
		if err != nil {
			return nil, Meta{}, err
		}
		out = append(out, Record{Key: key, Value: v})
	}
	clear(s.dirty)
	return out, Meta{Seq: s.seq, Now: s.now, LastExpire: s.lastExpire}, nil
}

// IsProcessKey reports whether a changelog key holds a process (else an emitted entity mark).
func IsProcessKey(key string) bool { return strings.Contains(key, "/P/") }

// Restore returns a State rebuilt from a checkpoint: the latest value of every key (tombstoned
// keys left out) and the latest Meta. Entity marks are restored in key order.
func Restore(cfg Config, out Output, meta Meta, records map[string][]byte) (*State, error) {
	s, err := New(cfg, out)
	if err != nil {
		return nil, err
	}
	s.seq, s.now, s.lastExpire = meta.Seq, meta.Now, meta.LastExpire
	keys := make([]string, 0, len(records))
	for k := range records {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := records[k]
		if !IsProcessKey(k) {
			if err := s.marks.restore(k, v); err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
			continue
		}
		if len(v) > 0 && v[0] == goneVersion {
			key, err := parseProcKey(k)
			if err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
			at, n := binary.Varint(v[1:])
			seq, m := binary.Uvarint(v[1+max(n, 0):])
			if n <= 0 || m <= 0 || 1+n+m != len(v) {
				return nil, fmt.Errorf("restore %s: bad pending tombstone value % x", k, v)
			}
			s.scheduleTombstone(key, at, seq)
			continue
		}
		p, err := decodeProc(v)
		if err != nil {
			return nil, fmt.Errorf("restore %s: %w", k, err)
		}
		s.procs[p.key] = p
		if p.seq > s.seq {
			s.seq = p.seq
		}
		for _, f := range p.files {
			s.seq = max(s.seq, f.seq)
		}
		for _, f := range p.nets {
			s.seq = max(s.seq, f.seq)
		}
		if p.exitTS != 0 {
			heap.Push(&s.exited, exitEntry{at: p.exitTS, seq: p.seq, key: p.key})
		}
	}
	return s, nil
}
