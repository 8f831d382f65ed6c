package hourly

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// Container metadata keys written besides avro.codec and avro.schema.
const (
	MetaTopic     = "sfstream.topic"
	MetaPartition = "sfstream.partition"
	MetaOffsets   = "sfstream.offsets"
	MetaRecords   = "sfstream.records"
)

// maxAncestors bounds the ancestor walk (and breaks POID cycles).
const maxAncestors = 64

// Option configures a File.
type Option func(*config)

type config struct {
	ip        string
	blockSize int
}

// WithIP sets the header's ip field. Default "".
func WithIP(ip string) Option { return func(c *config) { c.ip = ip } }

// WithBlockSize sets the uncompressed bytes per Avro block. Default sffile.DefaultBlockSize.
func WithBlockSize(n int) Option { return func(c *config) { c.blockSize = n } }

// Missing counts references a File could not resolve because the table had no version of the
// entity: each is written as a placeholder (an unknown process, file or container, as the
// reference writes one) before the record, so the file stays self-contained.
type Missing struct {
	Processes, Parents, Files, Containers int64
}

// Total returns the number of missing references.
func (m Missing) Total() int64 { return m.Processes + m.Parents + m.Files + m.Containers }

// File is one object being written to the staging directory. It is not safe for concurrent use.
type File struct {
	key       Key
	name      string
	table     *entities.Table
	hourStart int64 // ns
	hourEnd   int64 // ns
	sync      [16]byte

	body   string // staging path of the blocks
	sink   *sink
	w      *sffile.Writer
	header []byte // the container header sffile wrote

	procs map[sysflow.OID]entities.Order
	files map[sysflow.FOID]entities.Order
	conts map[string]entities.Order
	chain []entities.Version // scratch for the ancestor walk

	first, last int64 // Kafka offsets of the first and last record
	events      int64
	entities    int64
	missing     Missing
	counts      raw.Counts // the capture counts of the count records, if hasCounts
	hasCounts   bool
	err         error
}

// Object is a finished File, ready to be stored.
type Object struct {
	Key  Key
	Name string
	// Path is the staged object: header and blocks, the bytes to store.
	Path string
	Size int64
	// First and Last are the Kafka offsets of the first and last record.
	First, Last int64
	// Events is the number of events and flows; Entities the number of entity records.
	Events, Entities int64
	Missing          Missing
	// Counts are the capture counts the object states (Counts.Hour is the object's hour);
	// HasCounts is false when no count record came (processors older than count records).
	Counts    raw.Counts
	HasCounts bool
}

// SyncMarker returns the Avro sync marker of the object called name: the first 16 bytes of
// SHA-256 of the name, so that rewriting an object gives the same bytes.
func SyncMarker(name string) [16]byte {
	sum := sha256.Sum256([]byte("sfstream sync marker\x00" + name))
	var m [16]byte
	copy(m[:], sum[:16])
	return m
}

// Create starts the object name for key in the staging directory dir, resolving entity
// references through table, and writes its header.
func Create(dir string, key Key, name string, table *entities.Table, opts ...Option) (*File, error) {
	cfg := config{blockSize: sffile.DefaultBlockSize}
	for _, o := range opts {
		o(&cfg)
	}
	sum := sha256.Sum256([]byte(name))
	base := filepath.Base(name)
	f := &File{
		key:       key,
		name:      name,
		table:     table,
		hourStart: key.Hour * 1e9,
		hourEnd:   (key.Hour + 3600) * 1e9,
		sync:      SyncMarker(name),
		body:      filepath.Join(dir, strings.TrimSuffix(base, ".sf")+"-"+hex.EncodeToString(sum[:6])+".body"),
		procs:     map[sysflow.OID]entities.Order{},
		files:     map[sysflow.FOID]entities.Order{},
		conts:     map[string]entities.Order{},
		first:     -1,
		last:      -1,
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	if err := os.WriteFile(f.body, nil, 0o644); err != nil { // truncate a leftover
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	f.sink = &sink{path: f.body}
	hdr := &sysflow.Header{Version: 5, Exporter: key.Exporter, IP: cfg.ip, Filename: name}
	w, err := sffile.NewWriter(f.sink, hdr, sffile.WithSyncMarker(f.sync), sffile.WithBlockSize(cfg.blockSize))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create %s: %w", name, err), os.Remove(f.body))
	}
	// Everything NewWriter wrote is the container header; records go to the body file.
	f.header = f.sink.header.Bytes()
	f.sink.started = true
	if !bytes.HasSuffix(f.header, f.sync[:]) {
		return nil, errors.Join(fmt.Errorf("create %s: unexpected container header from sffile (%d bytes)", name, len(f.header)), os.Remove(f.body))
	}
	f.w = w
	return f, nil
}

// Key returns the object's key.
func (f *File) Key() Key { return f.key }

// Name returns the object name.
func (f *File) Name() string { return f.name }

// First returns the Kafka offset of the first record, -1 before any.
func (f *File) First() int64 { return f.first }

// Events returns the number of events and flows written.
func (f *File) Events() int64 { return f.events }

// Staged returns the bytes the file holds on disk and in its open block.
func (f *File) Staged() int64 { return f.sink.written + int64(f.w.Buffered()) }

// Missing returns the references not resolved so far.
func (f *File) Missing() Missing { return f.missing }

// Append writes rec, the record at Kafka offset offset written at Kafka timestamp kts (ms),
// preceded by the entities it references that the file lacks.
func (f *File) Append(rec sysflow.Record, kts, offset int64) error {
	if f.err != nil {
		return f.err
	}
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		f.process(r.ProcOID, r.TS, kts)
	case *sysflow.NetworkFlow:
		f.process(r.ProcOID, r.TS, kts)
	case *sysflow.ProcessFlow:
		f.process(r.ProcOID, r.TS, kts)
	case *sysflow.NetworkEvent:
		f.process(r.ProcOID, r.TS, kts)
	case *sysflow.FileFlow:
		f.process(r.ProcOID, r.TS, kts)
		f.file(r.FileOID, r.TS, kts)
	case *sysflow.FileEvent:
		f.process(r.ProcOID, r.TS, kts)
		f.file(r.FileOID, r.TS, kts)
		if r.NewFileOID != nil {
			f.file(*r.NewFileOID, r.TS, kts)
		}
	}
	f.write(rec)
	if f.err != nil {
		return f.err
	}
	f.events++
	if f.first < 0 {
		f.first = offset
	}
	f.last = offset
	return nil
}

// AddCounts adds the capture counts of the count record at Kafka offset offset (raw.Counts,
// sent by the processors to sysflow.events) to the object's. The object holds no record for
// them: the sums go into its metadata (raw.Count* keys), and the offset into its range.
func (f *File) AddCounts(c raw.Counts, offset int64) {
	f.counts.Add(c)
	f.counts.Hour = f.key.Hour
	f.hasCounts = true
	if f.first < 0 {
		f.first = offset
	}
	f.last = offset
}

// Counts returns the capture counts added so far, and whether any were.
func (f *File) Counts() (raw.Counts, bool) { return f.counts, f.hasCounts }

func (f *File) write(rec sysflow.Record) {
	if f.err != nil {
		return
	}
	if err := f.w.Write(rec); err != nil {
		f.err = fmt.Errorf("write %s: %w", f.name, err)
	}
}

// state returns the state version v is written with in this file.
func (f *File) state(v entities.Version) sysflow.ObjectState {
	st := v.State()
	if st != sysflow.StateReup && (v.TS < f.hourStart || v.TS >= f.hourEnd) {
		return sysflow.StateReup
	}
	return st
}

// process writes the version of process oid that a record at ts refers to, with its
// containers and unwritten ancestors, unless the file holds it or a later version.
func (f *File) process(oid sysflow.OID, ts, kts int64) {
	exp := f.key.Exporter
	v, ok := f.table.Process(exp, oid, ts, kts)
	if !ok {
		if _, held := f.procs[oid]; !held {
			f.missing.Processes++
			f.procs[oid] = placeholderOrder
			f.entities++
			f.write(placeholderProcess(oid, ts))
		}
		return
	}
	if holdsIn(f.procs, oid, v.Order) {
		return
	}
	f.chain = append(f.chain[:0], v)
	cur := v.Rec.(*sysflow.Process)
	for len(f.chain) < maxAncestors && cur.POID != nil && cur.POID.HPID != 0 {
		pv, ok := f.table.Process(exp, *cur.POID, ts, kts)
		if !ok {
			if _, held := f.procs[*cur.POID]; !held {
				f.missing.Parents++
				pv = entities.Version{Rec: placeholderProcess(*cur.POID, ts), Order: placeholderOrder}
				f.chain = append(f.chain, pv)
			}
			break
		}
		if holdsIn(f.procs, *cur.POID, pv.Order) || f.inChain(pv) {
			break
		}
		f.chain = append(f.chain, pv)
		cur = pv.Rec.(*sysflow.Process)
	}
	for i := len(f.chain) - 1; i >= 0; i-- {
		if id := f.chain[i].Rec.(*sysflow.Process).ContainerID; id != nil {
			f.container(*id, kts)
		}
	}
	headTS := f.chain[0].Rec.(*sysflow.Process).TS
	for i := len(f.chain) - 1; i >= 0; i-- {
		pv := f.chain[i]
		p := *pv.Rec.(*sysflow.Process)
		p.State = f.state(pv)
		if i > 0 && pv.State() == sysflow.StateReup {
			// Ancestors the reference's process cache creates along with a process take that
			// process's time.
			p.TS = headTS
		}
		f.procs[p.OID] = pv.Order
		f.entities++
		f.write(&p)
	}
}

func (f *File) inChain(v entities.Version) bool {
	oid := v.Rec.(*sysflow.Process).OID
	for _, c := range f.chain {
		if c.Rec.(*sysflow.Process).OID == oid {
			return true
		}
	}
	return false
}

// holds reports whether the file holds version o of the entity id or a later one.
func holdsIn[K comparable](m map[K]entities.Order, id K, o entities.Order) bool {
	w, ok := m[id]
	return ok && !w.Less(o)
}

// file writes the version of file foid that a record at ts refers to, after its container.
func (f *File) file(foid sysflow.FOID, ts, kts int64) {
	v, ok := f.table.File(f.key.Exporter, foid, ts, kts)
	if !ok {
		if _, held := f.files[foid]; !held {
			f.missing.Files++
			f.files[foid] = placeholderOrder
			f.entities++
			f.write(placeholderFile(foid, ts))
		}
		return
	}
	if holdsIn(f.files, foid, v.Order) {
		return
	}
	fl := *v.Rec.(*sysflow.File)
	if fl.ContainerID != nil {
		f.container(*fl.ContainerID, kts)
	}
	fl.State = f.state(v)
	f.files[foid] = v.Order
	f.entities++
	f.write(&fl)
}

// container writes the version of container id written last before kts, unless held.
func (f *File) container(id string, kts int64) {
	v, ok := f.table.Container(f.key.Exporter, id, kts)
	if !ok {
		if _, held := f.conts[id]; !held {
			f.missing.Containers++
			f.conts[id] = placeholderOrder
			f.entities++
			f.write(placeholderContainer(id))
		}
		return
	}
	if holdsIn(f.conts, id, v.Order) {
		return
	}
	f.conts[id] = v.Order
	f.entities++
	f.write(v.Rec)
}

// Finish writes the last block and the final object: the container header with metadata
// (extra, plus this package's sfstream.* keys) followed by the blocks. The staged blocks are
// removed; the returned Object's Path is the only staged file left.
func (f *File) Finish(topic string) (Object, error) {
	if f.err == nil {
		if err := f.w.Close(); err != nil {
			f.err = fmt.Errorf("finish %s: %w", f.name, err)
		}
	}
	if f.err != nil {
		return Object{}, errors.Join(f.err, f.Discard())
	}
	meta := map[string]string{
		MetaTopic:     topic,
		MetaPartition: strconv.FormatInt(int64(f.key.Partition), 10),
		MetaOffsets:   strconv.FormatInt(f.first, 10) + "-" + strconv.FormatInt(f.last, 10),
		MetaRecords:   strconv.FormatInt(f.events, 10),
	}
	if f.hasCounts {
		for _, kv := range f.counts.Pairs(false) {
			meta[kv[0]] = kv[1]
		}
	}
	hdr, err := withMetadata(f.header, f.sync, meta)
	if err != nil {
		return Object{}, errors.Join(fmt.Errorf("finish %s: %w", f.name, err), f.Discard())
	}
	final := strings.TrimSuffix(f.body, ".body") + ".sf"
	size, err := concat(final, hdr, f.body)
	if err != nil {
		return Object{}, errors.Join(fmt.Errorf("finish %s: %w", f.name, err), f.Discard(), removeIfExists(final))
	}
	if err := os.Remove(f.body); err != nil {
		return Object{}, errors.Join(fmt.Errorf("finish %s: %w", f.name, err), removeIfExists(final))
	}
	return Object{
		Key: f.key, Name: f.name, Path: final, Size: size,
		First: f.first, Last: f.last, Events: f.events, Entities: f.entities, Missing: f.missing,
		Counts: f.counts, HasCounts: f.hasCounts,
	}, nil
}

// Discard removes what the file staged.
func (f *File) Discard() error {
	if f.err == nil {
		f.err = fmt.Errorf("%s: discarded", f.name)
	}
	return removeIfExists(f.body)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// concat writes hdr followed by the content of body to path and returns the size.
func concat(path string, hdr []byte, body string) (int64, error) {
	out, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	in, err := os.Open(body)
	if err != nil {
		return 0, errors.Join(err, out.Close())
	}
	defer func() { _ = in.Close() }() // read-only
	n, err := out.Write(hdr)
	size := int64(n)
	if err == nil {
		var m int64
		m, err = io.Copy(out, in)
		size += m
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return size, err
}

// withMetadata returns the container header hdr (magic, metadata map, sync) with the entries
// of extra added, every entry in key order.
func withMetadata(hdr []byte, sync [16]byte, extra map[string]string) ([]byte, error) {
	r, err := sffile.NewReader(bytes.NewReader(hdr))
	if err != nil {
		return nil, fmt.Errorf("read container header: %w", err)
	}
	meta := map[string][]byte{}
	for k, v := range r.Metadata() {
		meta[k] = v
	}
	for k, v := range extra {
		meta[k] = []byte(v)
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []byte{'O', 'b', 'j', 1}
	out = sysflow.AppendLong(out, int64(len(keys)))
	for _, k := range keys {
		out = sysflow.AppendLong(out, int64(len(k)))
		out = append(out, k...)
		out = sysflow.AppendLong(out, int64(len(meta[k])))
		out = append(out, meta[k]...)
	}
	out = sysflow.AppendLong(out, 0)
	return append(out, sync[:]...), nil
}

// ReadMetadata reads the container metadata of an object from its first bytes.
func ReadMetadata(r io.Reader) (map[string]string, error) {
	rd, err := sffile.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	out := map[string]string{}
	for k, v := range rd.Metadata() {
		out[k] = string(v)
	}
	return out, nil
}

// ParseOffsets parses the sfstream.offsets metadata value "first-last".
func ParseOffsets(s string) (first, last int64, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		first, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			last, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil || first < 0 || last < first {
		return 0, 0, fmt.Errorf("parse offsets %q: want first-last", s)
	}
	return first, last, nil
}

// sink is the io.Writer under sffile.Writer: it keeps the container header in memory and
// appends everything after it to the body file, opening the file only for the time of a
// write so that many open hours hold no descriptors.
type sink struct {
	path    string
	header  bytes.Buffer
	started bool
	written int64
}

func (s *sink) Write(p []byte) (int, error) {
	if !s.started {
		return s.header.Write(p)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return 0, err
	}
	n, err := f.Write(p)
	s.written += int64(n)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
