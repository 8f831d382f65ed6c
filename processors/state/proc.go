package state

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// procKey identifies a process across the exporters that share a partition.
type procKey struct {
	exporter string
	oid      sysflow.OID
}

// proc is the state of one process.
type proc struct {
	key       procKey
	seq       uint64 // creation order, for deterministic iteration
	entity    sysflow.Process
	touched   bool // in the reference's process cache: an event of it led to a record
	container *raw.Container
	cwd       string // working directory for path resolution, no trailing slash
	fds       map[int32]*fdInfo
	files     map[fileKey]*fileFlow
	nets      map[netKey]*netFlow
	pflow     *procFlow
	exitTS    int64 // ns; 0 while running
	lastSeen  int64 // ns; for LRU eviction
	uncertain bool  // events may have been lost for it

	kkey  []byte // key.kafkaKey(), built on first use; a cache, not checkpointed
	expID uint32 // the exporter's id in the State's marks, set on first use; a cache
}

// kafkaKey returns the process's Kafka key. The slice is shared by every record the process
// emits: nobody may modify it.
func (p *proc) kafkaKey() []byte {
	if p.kkey == nil {
		p.kkey = p.key.kafkaKey()
	}
	return p.kkey
}

// fdInfo is what the fd table knows of one descriptor.
type fdInfo struct {
	kind      int32 // raw.FD* kinds
	path      string
	openFlags int32 // PPM encoding
	tuple     tuple // IPv4 sockets: client->server
	proto     int32
}

// tuple is an IPv4 flow tuple in SysFlow encoding, client->server.
type tuple struct {
	sip, sport, dip, dport int32
}

// processKey returns the Kafka key of a process: <exporter>/P/<hpid>/<createTS>.
func (k procKey) kafkaKey() []byte {
	return raw.Key(k.exporter, k.oid.HPID, k.oid.CreateTS)
}

// parseProcKey parses a process key, <exporter>/P/<hpid>/<createTS>.
func parseProcKey(key string) (procKey, error) {
	exp, hpid, cts, ok := raw.ParseKey(key)
	if !ok {
		return procKey{}, fmt.Errorf("process key %q: want <exporter>/P/<hpid>/<createTS>", key)
	}
	return procKey{exporter: exp, oid: sysflow.OID{HPID: hpid, CreateTS: cts}}, nil
}

// newProcEntity builds a Process entity from raw attributes, as the reference's createProcess.
func newProcEntity(oid sysflow.OID, ts int64, p *raw.Proc) sysflow.Process {
	e := sysflow.Process{OID: oid, TS: ts, UID: -1, GID: -1, UserName: "", GroupName: "", Env: []string{}}
	if p == nil {
		return e
	}
	if p.PPID > 0 {
		e.POID = &sysflow.OID{CreateTS: p.PCreateTS, HPID: p.PPID}
	}
	applyAttrs(&e, p)
	e.TTY = p.TTY != 0
	e.Entry = p.VPID == 1
	if p.Container != nil && p.Container.ID != "" {
		id := p.Container.ID
		e.ContainerID = &id
	}
	e.Cwd = dirWithSlash(p.Cwd)
	if p.Env != nil {
		e.Env = append([]string{}, p.Env...)
	}
	return e
}

// applyAttrs refreshes what an exec or setuid refreshes: exe, args, uid, gid and names.
func applyAttrs(e *sysflow.Process, p *raw.Proc) {
	e.Exe = p.Exe
	if e.Exe == "" || e.Exe == "<NA>" {
		e.Exe = p.Comm
	}
	e.ExeArgs = strings.Join(p.Args, " ")
	e.UID, e.GID = p.UID, p.GID
	e.UserName, e.GroupName = p.UserName, p.GroupName
}

func dirWithSlash(d string) string {
	if d == "" || strings.HasSuffix(d, "/") {
		return d
	}
	return d + "/"
}

// containerEntity builds the Container entity of c; incomplete metadata is written the way
// the reference writes it before metadata arrives.
func containerEntity(c *raw.Container) *sysflow.Container {
	e := &sysflow.Container{ID: c.ID, Name: c.Name, Image: c.Image, ImageID: c.ImageID, Privileged: c.Privileged, Type: sysflow.CTDocker}
	if c.PodID != "" {
		pod := c.PodID
		e.PodID = &pod
	}
	if int(c.Runtime) >= 0 && int(c.Runtime) < len(sysflow.ContainerTypes) {
		e.Type = sysflow.ContainerTypes[c.Runtime]
	}
	if e.Name == "" {
		e.Name = "incomplete"
	}
	if e.Image == "" {
		e.Image = "incomplete:incomplete"
	}
	return e
}

func (p *proc) containerID() string {
	if p.entity.ContainerID != nil {
		return *p.entity.ContainerID
	}
	return ""
}

func (p *proc) containerPtr() *string {
	if p.entity.ContainerID == nil {
		return nil
	}
	id := *p.entity.ContainerID
	return &id
}

// fileKey keys a FileFlow as the reference does: fd name, container, tid and fd.
type fileKey struct {
	path      string
	container string
	tid       int64
	fd        int32
}

// netKey keys a NetworkFlow: tid, tuple and fd (proto is not part of it).
type netKey struct {
	tid int64
	tup tuple
	fd  int32
}

func (k fileKey) String() string {
	return k.path + k.container + strconv.FormatInt(k.tid, 10) + strconv.FormatInt(int64(k.fd), 10)
}
