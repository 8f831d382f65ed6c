package state

import (
	"encoding/binary"
	"fmt"

	"github.com/sfstream/sfstream/internal/raw"
)

// containerMarks remembers, per Container entity key, the latest metadata the partition
// knows and whether that version was emitted: a Container is emitted once per partition per
// content, so the version a producer's container notice brings (raw.OpContainer: the runtime
// answered, or the container restarted or was renamed) is emitted again under the same key.
//
// Which content wins: a notice always (the producer sends one when its answer changes); a
// process's own copy only when the partition knows no metadata of the container yet, because
// a process's copy may predate a notice (it was taken when the process was first seen), and
// an older copy must never replace newer metadata. So a container never goes back to
// "incomplete" in a partition once metadata reached it.
type containerMarks struct {
	set   map[string]*contMark // by entity key
	order []string             // insertion order, for eviction
	dirty []string             // changed since the last checkpoint
}

type contMark struct {
	c       raw.Container
	emitted bool // c was emitted in this partition
	dirty   bool // in dirty
}

func newContainerMarks() containerMarks { return containerMarks{set: map[string]*contMark{}} }

// complete reports whether c holds metadata (the runtime's answer), not only the cgroup id.
func complete(c *raw.Container) bool { return c.Name != "" || c.Image != "" }

// get returns the mark of key, creating it from c; beyond max marks the oldest half is
// forgotten first, each passed to forget (at worst a container is emitted once more).
func (m *containerMarks) get(key string, c *raw.Container, max int, forget func(string)) (*contMark, bool) {
	if k, ok := m.set[key]; ok {
		return k, false
	}
	if len(m.set) >= max {
		n := len(m.order) / 2
		for _, o := range m.order[:n] {
			delete(m.set, o)
			forget(o)
		}
		m.order = append(m.order[:0], m.order[n:]...)
	}
	k := &contMark{c: *c}
	m.set[key] = k
	m.order = append(m.order, key)
	m.touch(key, k)
	return k, true
}

func (m *containerMarks) touch(key string, k *contMark) {
	if !k.dirty {
		k.dirty = true
		m.dirty = append(m.dirty, key)
	}
}

// fromProcess returns the container to emit for a process in container c (nil: nothing to
// emit): the partition's version, once per content.
func (m *containerMarks) fromProcess(key string, c *raw.Container, max int, forget func(string)) *raw.Container {
	k, _ := m.get(key, c, max, forget)
	if !complete(&k.c) && complete(c) && k.c != *c {
		k.c, k.emitted = *c, false
	}
	if k.emitted {
		return nil
	}
	k.emitted = true
	m.touch(key, k)
	return &k.c
}

// fromNotice records a container notice; it returns the container to emit (nil: none) when
// the partition had emitted an older version.
func (m *containerMarks) fromNotice(key string, c *raw.Container, max int, forget func(string)) *raw.Container {
	k, created := m.get(key, c, max, forget)
	if created || k.c == *c {
		return nil // known from now on; emitted when a process of this partition references it
	}
	k.c = *c
	m.touch(key, k)
	if !k.emitted {
		return nil
	}
	return &k.c
}

// changes appends the changelog records of the marks changed since the last call.
func (m *containerMarks) changes(out []Record) []Record {
	for _, key := range m.dirty {
		if k, ok := m.set[key]; ok && k.dirty {
			out = append(out, Record{Key: key, Value: encodeContMark(k)})
			k.dirty = false
		}
	}
	clear(m.dirty)
	m.dirty = m.dirty[:0]
	return out
}

// contMarkVersion starts a container mark's changelog value; a value of "1" (emittedMark) is a
// mark written before marks held content: emitted, content unknown.
const contMarkVersion = 2

// encodeContMark encodes a mark: the version byte, emitted (0 or 1), then id, name, image,
// imageId and podId (length-prefixed), runtime (varint) and privileged (0 or 1).
func encodeContMark(k *contMark) []byte {
	b := []byte{contMarkVersion}
	b = appendBool(b, k.emitted)
	for _, s := range []string{k.c.ID, k.c.Name, k.c.Image, k.c.ImageID, k.c.PodID} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(k.c.Runtime))
	return appendBool(b, k.c.Privileged)
}

// restore records a mark read from the changelog (already checkpointed).
func (m *containerMarks) restore(key string, v []byte) error {
	k := &contMark{emitted: true}
	switch {
	case string(v) == string(emittedMark): // content unknown: a process's metadata replaces it
	case len(v) > 0 && v[0] == contMarkVersion:
		d := &procDecoder{b: v, off: 1}
		k.emitted = d.bool("container mark emitted")
		k.c.ID = d.string("container id")
		k.c.Name = d.string("container name")
		k.c.Image = d.string("container image")
		k.c.ImageID = d.string("container imageId")
		k.c.PodID = d.string("container podId")
		k.c.Runtime = d.int32("container runtime")
		k.c.Privileged = d.bool("container privileged")
		if d.err == nil && d.off != len(v) {
			return fmt.Errorf("restore container mark %s: %d trailing bytes", key, len(v)-d.off)
		}
		if d.err != nil {
			return fmt.Errorf("restore container mark %s: %w", key, d.err)
		}
	default:
		return fmt.Errorf("restore container mark %s: unknown value % x", key, v[:min(len(v), 4)])
	}
	if _, ok := m.set[key]; !ok {
		m.order = append(m.order, key)
	}
	m.set[key] = k
	return nil
}
