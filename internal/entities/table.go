package entities

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// DefaultMaxVersions is the number of versions kept per entity when NewTable is given 0.
const DefaultMaxVersions = 16

// ErrBadKey marks an entity record whose Kafka key does not match the record.
var ErrBadKey = errors.New("entity key does not match the record")

// Order sorts the versions of one entity: by ts, then by state (REUP before CREATED before
// MODIFIED, the preference of SysFlow readers for equal times), then by Kafka timestamp.
type Order struct {
	TS   int64
	Rank int8
	KTS  int64
}

// Less reports whether o sorts before p.
func (o Order) Less(p Order) bool {
	if o.TS != p.TS {
		return o.TS < p.TS
	}
	if o.Rank != p.Rank {
		return o.Rank < p.Rank
	}
	return o.KTS < p.KTS
}

// Version is one version of an entity.
type Version struct {
	// Rec is *sysflow.Process, *sysflow.File, *sysflow.Container or *sysflow.Header. It is
	// shared and must not be modified.
	Rec sysflow.Record
	// Order places the version among the entity's others.
	Order
}

// State returns the version's entity state, "" for containers and headers.
func (v Version) State() sysflow.ObjectState {
	switch r := v.Rec.(type) {
	case *sysflow.Process:
		return r.State
	case *sysflow.File:
		return r.State
	}
	return ""
}

func rank(s sysflow.ObjectState) int8 {
	switch s {
	case sysflow.StateCreated:
		return 1
	case sysflow.StateModified:
		return 2
	}
	return 0
}

type procKey struct {
	exporter string
	oid      sysflow.OID
}

type fileKey struct {
	exporter string
	foid     sysflow.FOID
}

type contKey struct {
	exporter, id string
}

// Table holds entity versions by identity. It is safe for concurrent use.
type Table struct {
	max int

	mu      sync.RWMutex
	procs   map[procKey][]Version
	files   map[fileKey][]Version
	conts   map[contKey][]Version
	headers map[string][]Version
}

// NewTable returns an empty table keeping at most maxVersions versions per entity (0:
// DefaultMaxVersions).
func NewTable(maxVersions int) *Table {
	if maxVersions <= 0 {
		maxVersions = DefaultMaxVersions
	}
	return &Table{
		max:     maxVersions,
		procs:   map[procKey][]Version{},
		files:   map[fileKey][]Version{},
		conts:   map[contKey][]Version{},
		headers: map[string][]Version{},
	}
}

// Len returns the number of entities held.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.procs) + len(t.files) + len(t.conts) + len(t.headers)
}

// Add adds rec, read from sysflow.entities with Kafka key key and record timestamp kts (ms).
// Records of other kinds (pods) are ignored. A key that does not match the record gives an
// error wrapping ErrBadKey and changes nothing.
func (t *Table) Add(key string, rec sysflow.Record, kts int64) error {
	switch r := rec.(type) {
	case *sysflow.Process:
		exp, ok := strings.CutSuffix(key, "/P/"+r.OID.String())
		if !ok {
			return fmt.Errorf("add process %s: %w: %q", r.OID, ErrBadKey, key)
		}
		v := Version{Rec: r, Order: Order{TS: r.TS, Rank: rank(r.State), KTS: kts}}
		t.mu.Lock()
		t.procs[procKey{exp, r.OID}] = t.insert(t.procs[procKey{exp, r.OID}], v, false)
		t.mu.Unlock()
	case *sysflow.File:
		exp, ok := strings.CutSuffix(key, "/F/"+r.OID.String())
		if !ok {
			return fmt.Errorf("add file %s: %w: %q", r.OID, ErrBadKey, key)
		}
		v := Version{Rec: r, Order: Order{TS: r.TS, Rank: rank(r.State), KTS: kts}}
		t.mu.Lock()
		t.files[fileKey{exp, r.OID}] = t.insert(t.files[fileKey{exp, r.OID}], v, false)
		t.mu.Unlock()
	case *sysflow.Container:
		exp, ok := strings.CutSuffix(key, "/C/"+r.ID)
		if !ok {
			return fmt.Errorf("add container %s: %w: %q", r.ID, ErrBadKey, key)
		}
		v := Version{Rec: r, Order: Order{KTS: kts}}
		t.mu.Lock()
		k := contKey{exp, r.ID}
		if !(Incomplete(r) && hasComplete(t.conts[k])) {
			t.conts[k] = t.insert(t.conts[k], v, true)
		}
		t.mu.Unlock()
	case *sysflow.Header:
		exp, ok := strings.CutSuffix(key, "/H")
		if !ok {
			return fmt.Errorf("add header: %w: %q", ErrBadKey, key)
		}
		v := Version{Rec: r, Order: Order{KTS: kts}}
		t.mu.Lock()
		t.headers[exp] = t.insert(t.headers[exp], v, true)
		t.mu.Unlock()
	}
	return nil
}

// insert adds v to vs in order. Without timeless, a version with the same ts and state as one
// held is a repeat and dropped; with it (containers, headers), a version equal to the one
// before it is.
func (t *Table) insert(vs []Version, v Version, timeless bool) []Version {
	i, _ := slices.BinarySearchFunc(vs, v.Order, func(e Version, o Order) int {
		switch {
		case e.Order.Less(o):
			return -1
		case o.Less(e.Order):
			return 1
		}
		return 0
	})
	if timeless {
		if i > 0 && sameContent(vs[i-1].Rec, v.Rec) {
			return vs
		}
	} else {
		for _, e := range vs {
			if e.TS == v.TS && e.Rank == v.Rank {
				return vs
			}
		}
	}
	vs = slices.Insert(vs, i, v)
	if len(vs) > t.max {
		vs = slices.Delete(vs, 0, len(vs)-t.max)
	}
	return vs
}

// Incomplete reports whether c is a container written before its runtime answered (name
// "incomplete", as the reference writes it). Several partitions write a container's entity,
// each when it first meets the container: one that is behind may write "incomplete" after
// another wrote the runtime's answer. The table keeps no incomplete version once it holds a
// complete one, so a container never goes back to incomplete for the records after it.
func Incomplete(c *sysflow.Container) bool {
	return c.Name == "incomplete" && c.Image == "incomplete:incomplete"
}

func hasComplete(vs []Version) bool {
	for _, v := range vs {
		if c, ok := v.Rec.(*sysflow.Container); ok && !Incomplete(c) {
			return true
		}
	}
	return false
}

func sameContent(a, b sysflow.Record) bool {
	switch x := a.(type) {
	case *sysflow.Container:
		y, ok := b.(*sysflow.Container)
		return ok && x.ID == y.ID && x.Name == y.Name && x.Image == y.Image && x.ImageID == y.ImageID &&
			x.Type == y.Type && x.Privileged == y.Privileged && equalPtr(x.PodID, y.PodID)
	case *sysflow.Header:
		y, ok := b.(*sysflow.Header)
		return ok && *x == *y
	}
	return false
}

func equalPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Remove records a tombstone of the entity with Kafka key key, written at Kafka timestamp kts
// (ms). Like versions, it takes effect by Kafka time: a record written after it (a later
// kts) finds the entity deleted, a record written before it (or in the same millisecond)
// still finds its versions, so the
// archive of an hour does not depend on whether the table read the tombstone before archiving
// it (an archiver rebuilding old hours after a restart reads the whole topic first). Unknown
// keys are ignored. Deleted entities are dropped from memory by Prune.
func (t *Table) Remove(key string, kts int64) {
	tomb := Version{Order: Order{TS: math.MaxInt64, KTS: kts}}
	t.mu.Lock()
	defer t.mu.Unlock()
	if exp, h, c, ok := raw.ParseKey(key); ok {
		k := procKey{exp, sysflow.OID{CreateTS: c, HPID: h}}
		if vs, ok := t.procs[k]; ok {
			t.procs[k] = addTombstone(vs, tomb)
		}
		return
	}
	if i := strings.LastIndex(key, "/F/"); i >= 0 {
		if foid, err := sysflow.ParseFOID(key[i+3:]); err == nil {
			k := fileKey{key[:i], foid}
			if vs, ok := t.files[k]; ok {
				t.files[k] = addTombstone(vs, tomb)
			}
			return
		}
	}
	if exp, ok := strings.CutSuffix(key, "/H"); ok {
		if vs, ok := t.headers[exp]; ok {
			t.headers[exp] = addTombstone(vs, tomb)
		}
	}
	if i := strings.Index(key, "/C/"); i >= 0 {
		k := contKey{key[:i], key[i+3:]}
		if vs, ok := t.conts[k]; ok {
			t.conts[k] = addTombstone(vs, tomb)
		}
	}
}

// addTombstone appends a tombstone (a Version without a record) to vs, which keeps its
// versions in order: tombstones sort last (ts MaxInt64) and are never trimmed by MaxVersions
// before the versions they delete.
func addTombstone(vs []Version, tomb Version) []Version {
	for _, v := range vs {
		if v.Rec == nil && v.KTS == tomb.KTS {
			return vs
		}
	}
	return append(vs, tomb)
}

// Prune drops from memory the entities whose latest entry is a tombstone written before
// before (Kafka timestamp, ms): no record the archiver may still look up was written that
// early. It returns how many were dropped.
func (t *Table) Prune(before int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return pruneMap(t.procs, before) + pruneMap(t.files, before) + pruneMap(t.conts, before) + pruneMap(t.headers, before)
}

func pruneMap[K comparable](m map[K][]Version, before int64) int {
	n := 0
	for k, vs := range m {
		if last := vs[len(vs)-1]; last.Rec == nil && last.KTS < before && latestKTS(vs) == last.KTS {
			delete(m, k)
			n++
		}
	}
	return n
}

func latestKTS(vs []Version) int64 {
	var m int64
	for _, v := range vs {
		m = max(m, v.KTS)
	}
	return m
}

// pick returns the version a record with SysFlow time ts and Kafka timestamp kts refers to:
// among the versions written no later than kts (or all, when none was), the latest with ts at
// most ts, else the earliest. Versions written no later than the latest tombstone written
// before kts are deleted for it; if that leaves none, the entity is not found.
func pick(vs []Version, ts, kts int64) (Version, bool) {
	// Kafka timestamps are milliseconds: a record written in the same millisecond as a
	// tombstone counts as written before it (the processor writes an entity's last events
	// before its tombstone), and so does a version.
	tomb := int64(math.MinInt64) // KTS of the latest tombstone before kts
	for i := range vs {
		if vs[i].Rec == nil && vs[i].KTS < kts {
			tomb = max(tomb, vs[i].KTS)
		}
	}
	best, first := -1, -1
	for i := range vs {
		if vs[i].Rec == nil || vs[i].KTS > kts || (tomb != math.MinInt64 && vs[i].KTS <= tomb) {
			continue
		}
		if first < 0 {
			first = i
		}
		if vs[i].TS <= ts {
			best = i
		}
	}
	if first < 0 && tomb == math.MinInt64 { // every version was written after the record: the log is out of order
		for i := range vs {
			if vs[i].Rec == nil {
				continue
			}
			if first < 0 {
				first = i
			}
			if vs[i].TS <= ts {
				best = i
			}
		}
	}
	switch {
	case best >= 0:
		return vs[best], true
	case first >= 0:
		return vs[first], true
	}
	return Version{}, false
}

// Process returns the version of process oid of exporter that a record with SysFlow time ts
// and Kafka timestamp kts (ms) refers to.
func (t *Table) Process(exporter string, oid sysflow.OID, ts, kts int64) (Version, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return pick(t.procs[procKey{exporter, oid}], ts, kts)
}

// File returns the version of file foid of exporter that a record with SysFlow time ts and
// Kafka timestamp kts (ms) refers to.
func (t *Table) File(exporter string, foid sysflow.FOID, ts, kts int64) (Version, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return pick(t.files[fileKey{exporter, foid}], ts, kts)
}

// Container returns the latest version of container id of exporter written no later than kts
// (ms), else the earliest.
func (t *Table) Container(exporter, id string, kts int64) (Version, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return pick(t.conts[contKey{exporter, id}], 0, kts)
}

// Header returns the latest header record of exporter written no later than kts (ms), else
// the earliest.
func (t *Table) Header(exporter string, kts int64) (*sysflow.Header, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	v, ok := pick(t.headers[exporter], 0, kts)
	if !ok {
		return nil, false
	}
	return v.Rec.(*sysflow.Header), true
}

// HasProcess reports whether the table holds any entry (a version or a tombstone) of process
// oid of exporter: false only for an entity it has never read.
func (t *Table) HasProcess(exporter string, oid sysflow.OID) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.procs[procKey{exporter, oid}]) > 0
}

// HasFile reports whether the table holds any entry of file foid of exporter.
func (t *Table) HasFile(exporter string, foid sysflow.FOID) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.files[fileKey{exporter, foid}]) > 0
}

// HasContainer reports whether the table holds any entry of container id of exporter.
func (t *Table) HasContainer(exporter, id string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.conts[contKey{exporter, id}]) > 0
}
