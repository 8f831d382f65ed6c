package state

import (
	"bytes"
	"container/heap"
	"encoding/gob"
	"fmt"
	"sort"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/sysflow"
)

// A checkpoint is the state of a partition as changelog records: one per process (keyed by
// its process key, the value its encoded state), one per File or Container entity already
// emitted (keyed by the entity key, value "1"), and Meta for the partition's clocks. Changes
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

// procState is the gob form of a proc.
type procState struct {
	Exporter  string
	OID       sysflow.OID
	Seq       uint64
	Entity    sysflow.Process
	Touched   bool
	Container *raw.Container
	Cwd       string
	FDs       map[int32]fdState
	Files     []fileState
	Nets      []netState
	PFlow     *procFlow
	ExitTS    int64
	LastSeen  int64
	Uncertain bool
}

type fdState struct {
	Kind, OpenFlags, Proto int32
	Path                   string
	Tuple                  [4]int32
}

type fileState struct {
	Rec                    sysflow.FileFlow
	Seq                    uint64
	ExportTime, LastUpdate int64
	Path                   string
	Kind                   int32
	Container              string
}

type netState struct {
	Rec                    sysflow.NetworkFlow
	Seq                    uint64
	ExportTime, LastUpdate int64
	Tuple                  [4]int32
}

// gob needs exported fields; procFlow's are set through these.
func (f procFlow) GobEncode() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(struct {
		Rec                    sysflow.ProcessFlow
		ExportTime, LastUpdate int64
	}{f.rec, f.exportTime, f.lastUpdate})
	return b.Bytes(), err
}

func (f *procFlow) GobDecode(data []byte) error {
	var v struct {
		Rec                    sysflow.ProcessFlow
		ExportTime, LastUpdate int64
	}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
		return err
	}
	f.rec, f.exportTime, f.lastUpdate = v.Rec, v.ExportTime, v.LastUpdate
	return nil
}

func tupleArr(t tuple) [4]int32 { return [4]int32{t.sip, t.sport, t.dip, t.dport} }
func arrTuple(a [4]int32) tuple { return tuple{a[0], a[1], a[2], a[3]} }

func encodeProc(p *proc) ([]byte, error) {
	ps := procState{
		Exporter: p.key.exporter, OID: p.key.oid, Seq: p.seq, Entity: p.entity, Touched: p.touched,
		Container: p.container, Cwd: p.cwd, FDs: make(map[int32]fdState, len(p.fds)),
		PFlow: p.pflow, ExitTS: p.exitTS, LastSeen: p.lastSeen, Uncertain: p.uncertain,
	}
	for fd, fi := range p.fds {
		ps.FDs[fd] = fdState{Kind: fi.kind, OpenFlags: fi.openFlags, Proto: fi.proto, Path: fi.path, Tuple: tupleArr(fi.tuple)}
	}
	for _, k := range sortedFiles(p) {
		f := p.files[k]
		ps.Files = append(ps.Files, fileState{Rec: f.rec, Seq: f.seq, ExportTime: f.exportTime, LastUpdate: f.lastUpdate, Path: f.path, Kind: f.kind, Container: k.container})
	}
	for _, k := range sortedNets(p) {
		f := p.nets[k]
		ps.Nets = append(ps.Nets, netState{Rec: f.rec, Seq: f.seq, ExportTime: f.exportTime, LastUpdate: f.lastUpdate, Tuple: tupleArr(k.tup)})
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&ps); err != nil {
		return nil, fmt.Errorf("encode process checkpoint: %w", err)
	}
	return b.Bytes(), nil
}

func decodeProc(data []byte) (*proc, error) {
	var ps procState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&ps); err != nil {
		return nil, fmt.Errorf("decode process checkpoint: %w", err)
	}
	p := &proc{
		key: procKey{exporter: ps.Exporter, oid: ps.OID}, seq: ps.Seq, entity: ps.Entity, touched: ps.Touched,
		container: ps.Container, cwd: ps.Cwd, fds: make(map[int32]*fdInfo, len(ps.FDs)),
		files: map[fileKey]*fileFlow{}, nets: map[netKey]*netFlow{}, pflow: ps.PFlow,
		exitTS: ps.ExitTS, lastSeen: ps.LastSeen, uncertain: ps.Uncertain,
	}
	if p.entity.Env == nil {
		p.entity.Env = []string{}
	}
	for fd, f := range ps.FDs {
		p.fds[fd] = &fdInfo{kind: f.Kind, openFlags: f.OpenFlags, proto: f.Proto, path: f.Path, tuple: arrTuple(f.Tuple)}
	}
	for _, f := range ps.Files {
		k := fileKey{path: f.Path, container: f.Container, tid: f.Rec.TID, fd: f.Rec.FD}
		p.files[k] = &fileFlow{rec: f.Rec, seq: f.Seq, exportTime: f.ExportTime, lastUpdate: f.LastUpdate, path: f.Path, kind: f.Kind}
	}
	for _, f := range ps.Nets {
		k := netKey{tid: f.Rec.TID, tup: arrTuple(f.Tuple), fd: f.Rec.FD}
		p.nets[k] = &netFlow{rec: f.Rec, seq: f.Seq, exportTime: f.ExportTime, lastUpdate: f.LastUpdate}
	}
	return p, nil
}

// Changes returns the changelog records of everything changed since the last call (a
// tombstone for each process removed or entity forgotten) and the partition's clocks, and
// starts a new change set.
func (s *State) Changes() ([]Record, Meta, error) {
	out := make([]Record, 0, len(s.dirty)+len(s.forgotten))
	for _, k := range s.forgotten {
		out = append(out, Record{Key: k})
	}
	s.forgotten = s.forgotten[:0]
	for _, k := range s.emitOrder {
		if s.emitted[k] {
			out = append(out, Record{Key: k, Value: emittedMark})
			s.emitted[k] = false
		}
	}
	for _, k := range s.dirtyKeys() {
		key := string(k.kafkaKey())
		p, ok := s.procs[k]
		if !ok {
			out = append(out, Record{Key: key})
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
			s.emitted[k] = false
			s.emitOrder = append(s.emitOrder, k)
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
