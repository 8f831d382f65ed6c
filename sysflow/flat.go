package sysflow

// Flat is one SysFlow record with the entities it references resolved, in the spirit of
// sysprint's FlattenedSFReader. Entity pointers are nil when the record references nothing of
// that kind or when the reference is to an entity not seen (yet). The pointed-to records are
// shared with the Flattener and with later Flats and must not be modified.
type Flat struct {
	Kind Kind
	// Rec is the record itself: an event or flow, or an entity when entities are enabled.
	Rec Record
	// Header is the last header seen.
	Header *Header
	// Pod is the pod of Container (by its podId).
	Pod *Pod
	// Container is the container of Process (by its containerId), or of File for a file
	// entity, or the record itself for a container entity.
	Container *Container
	// Process is the process of an event or flow (by procOID), or the record itself for a
	// process entity.
	Process *Process
	// Parent is Process's parent (by its poid).
	Parent *Process
	// File is the file of a FileFlow or FileEvent (by fileOID), or the record itself for a
	// file entity.
	File *File
	// NewFile is the second file of a FileEvent (by newFileOID: link, symlink, rename).
	NewFile *File
}

// Flattener links events and flows to the entities they reference. Feed it records in their
// order of arrival with Add: it keeps the header, and containers, pods, processes and files by
// their keys (a later record with the same key replaces the earlier one), and for every event
// or flow returns a Flat. Records may come from a file (sysflow/sffile) or any other source.
//
// A Flattener holds the entities of one exporter (process OIDs and FOIDs are unique only within
// an exporter) and grows with the number of distinct entities; call Reset between unrelated
// inputs. It is not safe for concurrent use.
type Flattener struct {
	entities      bool
	resetOnHeader bool

	header     *Header
	pods       map[string]*Pod
	containers map[string]*Container
	procs      map[OID]*Process
	files      map[FOID]*File
}

// FlattenOption configures a Flattener.
type FlattenOption func(*Flattener)

// WithEntities makes Add return a Flat for entity records too (header, pod, container,
// process, file), as sysprint's FlattenedSFReader does with retEntities. Default: entities are
// only remembered.
func WithEntities() FlattenOption {
	return func(f *Flattener) { f.entities = true }
}

// WithResetOnHeader makes a header record forget every entity seen before it, as the reference
// reader does: a header starts a new self-contained file. Default: entities are kept, since a
// stream (a Kafka topic) can carry headers between records that still reference older entities.
func WithResetOnHeader() FlattenOption {
	return func(f *Flattener) { f.resetOnHeader = true }
}

// NewFlattener returns an empty Flattener.
func NewFlattener(opts ...FlattenOption) *Flattener {
	f := &Flattener{}
	for _, o := range opts {
		o(f)
	}
	f.Reset()
	return f
}

// Reset forgets the header and every entity.
func (f *Flattener) Reset() {
	f.header = nil
	f.pods = map[string]*Pod{}
	f.containers = map[string]*Container{}
	f.procs = map[OID]*Process{}
	f.files = map[FOID]*File{}
}

// Add takes the next record. For an event or flow (and, with WithEntities, for an entity) it
// returns the flattened record and true; otherwise it returns false. A nil record is ignored.
// Unresolvable references are not errors: the Flat's field stays nil.
func (f *Flattener) Add(rec Record) (Flat, bool) {
	switch r := rec.(type) {
	case nil:
		return Flat{}, false
	case *Header:
		if f.resetOnHeader {
			f.Reset()
		}
		f.header = r
		return f.entity(Flat{Kind: KindHeader, Rec: r})
	case *Pod:
		f.pods[r.ID] = r
		return f.entity(Flat{Kind: KindPod, Rec: r, Pod: r})
	case *Container:
		f.containers[r.ID] = r
		return f.entity(Flat{Kind: KindContainer, Rec: r, Container: r, Pod: f.podOf(r)})
	case *Process:
		f.procs[r.OID] = r
		if !f.entities {
			return Flat{}, false
		}
		flat := Flat{Kind: KindProcess, Rec: r, Header: f.header}
		f.withProcess(&flat, r)
		return flat, true
	case *File:
		f.files[r.OID] = r
		c := f.container(r.ContainerID)
		return f.entity(Flat{Kind: KindFile, Rec: r, File: r, Container: c, Pod: f.podOf(c)})
	case *ProcessEvent:
		return f.event(r, r.ProcOID), true
	case *NetworkFlow:
		return f.event(r, r.ProcOID), true
	case *NetworkEvent:
		return f.event(r, r.ProcOID), true
	case *ProcessFlow:
		return f.event(r, r.ProcOID), true
	case *FileFlow:
		flat := f.event(r, r.ProcOID)
		flat.File = f.files[r.FileOID]
		return flat, true
	case *FileEvent:
		flat := f.event(r, r.ProcOID)
		flat.File = f.files[r.FileOID]
		if r.NewFileOID != nil {
			flat.NewFile = f.files[*r.NewFileOID]
		}
		return flat, true
	default: // K8s events and any record without references
		return Flat{Kind: rec.Kind(), Rec: rec, Header: f.header}, true
	}
}

// entity completes and returns an entity's Flat when entities are enabled.
func (f *Flattener) entity(flat Flat) (Flat, bool) {
	if !f.entities {
		return Flat{}, false
	}
	flat.Header = f.header
	return flat, true
}

// event returns the Flat of an event or flow of process oid, without files.
func (f *Flattener) event(rec Record, oid OID) Flat {
	flat := Flat{Kind: rec.Kind(), Rec: rec, Header: f.header}
	if p := f.procs[oid]; p != nil {
		f.withProcess(&flat, p)
	}
	return flat
}

// withProcess sets flat's process and what it references: parent, container and pod.
func (f *Flattener) withProcess(flat *Flat, p *Process) {
	flat.Process = p
	if p.POID != nil {
		flat.Parent = f.procs[*p.POID]
	}
	flat.Container = f.container(p.ContainerID)
	flat.Pod = f.podOf(flat.Container)
}

func (f *Flattener) container(id *string) *Container {
	if id == nil {
		return nil
	}
	return f.containers[*id]
}

func (f *Flattener) podOf(c *Container) *Pod {
	if c == nil || c.PodID == nil {
		return nil
	}
	return f.pods[*c.PodID]
}

// Header returns the last header seen, or nil.
func (f *Flattener) Header() *Header { return f.header }

// Process returns the last process record with OID oid, or nil.
func (f *Flattener) Process(oid OID) *Process { return f.procs[oid] }

// File returns the last file record with FOID oid, or nil.
func (f *Flattener) File(oid FOID) *File { return f.files[oid] }

// Container returns the last container record with id, or nil.
func (f *Flattener) Container(id string) *Container { return f.containers[id] }
