package hourly

import (
	"math"

	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/sysflow"
)

// RefKind is the kind of entity a reference names.
type RefKind uint8

// Reference kinds.
const (
	RefProcess   RefKind = iota + 1 // the record's own process
	RefParent                       // an ancestor of the record's process
	RefFile                         // a file of the record
	RefContainer                    // the container of a process or file
)

// Ref is one entity a record references, by identity.
type Ref struct {
	Kind      RefKind
	Exporter  string
	OID       sysflow.OID  // RefProcess, RefParent
	FOID      sysflow.FOID // RefFile
	Container string       // RefContainer
}

// String names the reference as its Kafka key does: <exporter>/P/<hpid>/<createTS>,
// <exporter>/F/<foid>, <exporter>/C/<id>.
func (r Ref) String() string {
	switch r.Kind {
	case RefProcess, RefParent:
		return r.OID.Key(r.Exporter)
	case RefFile:
		return r.FOID.Key(r.Exporter)
	case RefContainer:
		return sysflow.ContainerKey(r.Exporter, r.Container)
	}
	return "unknown reference"
}

// ProcKey identifies a process of an exporter.
type ProcKey struct {
	Exporter string
	OID      sysflow.OID
}

// Resolver finds the references of records that an entity table cannot resolve yet: those
// the archiver waits for before it writes the records (an ancestor's entity comes from the
// partition of that ancestor, which may lag the partition of the record). It remembers the
// processes whose whole ancestor chain resolved once, so that a record of a known process
// costs one map lookup. It is not safe for concurrent use.
type Resolver struct {
	table    *entities.Table
	resolved map[ProcKey]struct{}
	max      int
}

// NewResolver returns a Resolver over table remembering at most max resolved processes
// (0: 1<<20); when full it forgets them all.
func NewResolver(table *entities.Table, max int) *Resolver {
	if max <= 0 {
		max = 1 << 20
	}
	return &Resolver{table: table, resolved: map[ProcKey]struct{}{}, max: max}
}

// Unresolved appends to dst the references of rec, written to Kafka at kts (ms), that the
// table cannot resolve now and has never held (an entity the table holds only as deleted is
// not waited for: it is not coming back). Ancestors are followed as File.Append follows
// them: up to the first that is missing.
func (r *Resolver) Unresolved(dst []Ref, exporter string, rec sysflow.Record, kts int64) []Ref {
	ts := recordTime(rec)
	proc, files := references(rec)
	if proc != nil {
		dst = r.process(dst, exporter, *proc, ts, kts)
	}
	for _, foid := range files {
		if foid == nil {
			continue
		}
		v, ok := r.table.File(exporter, *foid, ts, kts)
		if !ok {
			if !r.table.HasFile(exporter, *foid) {
				dst = append(dst, Ref{Kind: RefFile, Exporter: exporter, FOID: *foid})
			}
			continue
		}
		if id := v.Rec.(*sysflow.File).ContainerID; id != nil {
			dst = r.container(dst, exporter, *id, kts)
		}
	}
	return dst
}

func (r *Resolver) process(dst []Ref, exporter string, oid sysflow.OID, ts, kts int64) []Ref {
	key := ProcKey{exporter, oid}
	if _, ok := r.resolved[key]; ok {
		return dst
	}
	n := len(dst)
	kind := RefProcess
	cur := oid
	for depth := 0; depth < maxAncestors; depth++ {
		v, ok := r.table.Process(exporter, cur, ts, kts)
		if !ok {
			if !r.table.HasProcess(exporter, cur) {
				dst = append(dst, Ref{Kind: kind, Exporter: exporter, OID: cur})
			}
			break
		}
		p := v.Rec.(*sysflow.Process)
		if p.ContainerID != nil {
			dst = r.container(dst, exporter, *p.ContainerID, kts)
		}
		if p.POID == nil || p.POID.HPID == 0 || *p.POID == cur {
			break
		}
		if _, ok := r.resolved[ProcKey{exporter, *p.POID}]; ok {
			break
		}
		cur, kind = *p.POID, RefParent
	}
	if len(dst) == n {
		if len(r.resolved) >= r.max {
			clear(r.resolved)
		}
		r.resolved[key] = struct{}{}
	}
	return dst
}

func (r *Resolver) container(dst []Ref, exporter, id string, kts int64) []Ref {
	if _, ok := r.table.Container(exporter, id, kts); ok || r.table.HasContainer(exporter, id) {
		return dst
	}
	return append(dst, Ref{Kind: RefContainer, Exporter: exporter, Container: id})
}

// references returns the process and the files rec references.
func references(rec sysflow.Record) (*sysflow.OID, [2]*sysflow.FOID) {
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		return &r.ProcOID, [2]*sysflow.FOID{}
	case *sysflow.NetworkFlow:
		return &r.ProcOID, [2]*sysflow.FOID{}
	case *sysflow.ProcessFlow:
		return &r.ProcOID, [2]*sysflow.FOID{}
	case *sysflow.NetworkEvent:
		return &r.ProcOID, [2]*sysflow.FOID{}
	case *sysflow.FileFlow:
		return &r.ProcOID, [2]*sysflow.FOID{&r.FileOID}
	case *sysflow.FileEvent:
		return &r.ProcOID, [2]*sysflow.FOID{&r.FileOID, r.NewFileOID}
	}
	return nil, [2]*sysflow.FOID{}
}

// recordTime returns the ts of an event or flow (ns).
func recordTime(rec sysflow.Record) int64 {
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		return r.TS
	case *sysflow.NetworkFlow:
		return r.TS
	case *sysflow.ProcessFlow:
		return r.TS
	case *sysflow.NetworkEvent:
		return r.TS
	case *sysflow.FileFlow:
		return r.TS
	case *sysflow.FileEvent:
		return r.TS
	}
	return 0
}

// Placeholders: what a File writes for an entity the table does not have when a record needs
// it, as the reference collector writes an entity it knows nothing of (a process sinsp has no
// thread info for: empty exe, args and names, uid and gid -1; a container whose metadata has
// not arrived: "incomplete"). They are REUP and sort before every real version, so that a
// real version found for a later record of the file is written after them.

// placeholderOrder is the Order of a placeholder in a File's entity marks.
var placeholderOrder = entities.Order{TS: math.MinInt64, Rank: math.MinInt8, KTS: math.MinInt64}

func placeholderProcess(oid sysflow.OID, ts int64) *sysflow.Process {
	return &sysflow.Process{State: sysflow.StateReup, OID: oid, TS: ts, UID: -1, GID: -1, Env: []string{}}
}

func placeholderFile(foid sysflow.FOID, ts int64) *sysflow.File {
	return &sysflow.File{State: sysflow.StateReup, OID: foid, TS: ts, ResType: '?'}
}

func placeholderContainer(id string) *sysflow.Container {
	return &sysflow.Container{ID: id, Name: "incomplete", Image: "incomplete:incomplete", ImageID: "incomplete", Type: sysflow.CTCustom}
}
