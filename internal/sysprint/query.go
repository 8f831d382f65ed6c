package sysprint

import (
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sfql"
)

// This file gives sfprint's records to the SFQL filter (--filter, --defs). The fields are those
// of the field table; their values are what the reference's filter (sysflow-tools' SfqlMapper)
// compares, which is not always what sysprint prints: ts is the integer timestamp, opflags the
// set of operation names ("OPEN,READ,RECV"), file.openflags the set of open-flag names, a
// field of an entity the record lacks is None. Fields the reference's filter does not know
// (ts_uts, endts_uts, opflags_bitmap, res, state, ...) filter on their printed value. IP
// addresses (net.sip, net.dip, net.ip, pod.hostip, ...) are dotted quads, as printed: the
// reference compares net.sip and net.dip as the raw Avro integers and fails on net.ip and
// net.port, which here are "sip,dip" and "sport,dport".

// queryFields resolves SFQL field names with the field table (idx, the output's numbering,
// is no field of the record).
var queryFields = sfql.FieldsFunc(func(name string) (sfql.FieldID, bool) {
	f, ok := lookupField(name)
	if !ok || f.id == fIdx {
		return 0, false
	}
	return sfql.FieldID(f.id), true
})

// newFilterPrinter compiles --filter with the definitions of --defs, and returns a printer
// that passes the matching records to p.
func newFilterPrinter(p printer, expr string, defPaths []string) (*filterPrinter, error) {
	defs, err := sfql.LoadDefs(defPaths...)
	if err != nil {
		return nil, err
	}
	f, err := NewFilter(expr, defs)
	if err != nil {
		return nil, fmt.Errorf("--filter: %w", err)
	}
	return &filterPrinter{printer: p, filter: f}, nil
}

// filterPrinter passes on the records that match the filter, numbered from 0 in each file as
// sysprint numbers the records its filter lets through.
type filterPrinter struct {
	printer
	filter *Filter
	n      int
}

func (p *filterPrinter) beginFile() error {
	p.n = 0
	return p.printer.beginFile()
}

func (p *filterPrinter) write(r *record) error {
	if !p.filter.match(r) {
		return nil
	}
	r.idx = p.n
	p.n++
	return p.printer.write(r)
}

// Filter is a compiled SFQL expression over flattened records, with sfprint's fields and
// the values sfprint --filter compares. It remembers the parent of every process it has seen,
// for proc.apid and proc.aname, so it is not safe for concurrent use; feed it the records of
// one stream in order.
type Filter struct {
	filter *sfql.Filter
	has    schemaFields
	// parents holds the parent of the process of every record filtered so far, when the
	// filter needs ancestors; it grows with the number of processes, as the reference's does.
	parents map[sysflow.OID]*sysflow.Process
}

// NewFilter compiles expr with the lists and macros of defs (nil: none). Records are taken
// to be of the v5 schema until SetSchema says otherwise.
func NewFilter(expr string, defs *sfql.Defs) (*Filter, error) {
	f := &Filter{has: v5Fields()}
	fields := sfql.FieldsFunc(func(name string) (sfql.FieldID, bool) {
		id, ok := queryFields.Lookup(name)
		if ok && (fieldID(id) == fProcAPID || fieldID(id) == fProcAName) {
			f.parents = map[sysflow.OID]*sysflow.Process{}
		}
		return id, ok
	})
	var err error
	if f.filter, err = sfql.Compile(expr, fields, defs); err != nil {
		return nil, err
	}
	return f, nil
}

// SetSchema sets the writer schema (the Avro JSON text of a file's header) of the records
// to come: fields the schema lacks are None, as in sysprint.
func (f *Filter) SetSchema(text string) error {
	has, err := parseSchemaFields(text)
	if err != nil {
		return err
	}
	f.has = has
	return nil
}

// String returns the expression in a canonical form.
func (f *Filter) String() string { return f.filter.String() }

// Match reports whether flat matches the expression.
func (f *Filter) Match(flat *sysflow.Flat) bool {
	r := newRecord(*flat, 0, f.has)
	return f.match(&r)
}

func (f *Filter) match(r *record) bool {
	if f.parents != nil && r.flat.Process != nil {
		f.parents[r.flat.Process.OID] = r.flat.Parent
		r.parents = f.parents
	}
	return f.filter.Match(r)
}

// Field returns the value the filter compares for field id.
func (r *record) Field(id sfql.FieldID) sfql.Value {
	f := &r.flat
	switch id := fieldID(id); id {
	case fTS, fTSUTS:
		if r.ev.isEvent || r.ev.isFlow {
			return sfql.IntValue(r.ev.ts)
		}
		return sfql.NoValue()
	case fEndTS, fEndTSUTS:
		if r.ev.isFlow {
			return sfql.IntValue(r.ev.endTS)
		}
		return sfql.NoValue()
	case fOpFlags:
		if r.ev.isEvent && f.Kind != sysflow.KindK8sEvent || r.ev.isFlow {
			return sfql.StringValue(opFlagSet(r.ev.opFlags))
		}
		return sfql.NoValue()
	case fFileFD:
		if r.ev.isFlow && f.Kind != sysflow.KindProcessFlow {
			return sfql.IntValue(int64(r.ev.fd))
		}
		return sfql.NoValue()
	case fFileOpenFlags, fFileIsOpenRead, fFileIsOpenWrite:
		ff, ok := f.Rec.(*sysflow.FileFlow)
		switch {
		case !ok:
			return sfql.NoValue()
		case id == fFileOpenFlags:
			return sfql.StringValue(openFlagSet(ff.OpenFlags))
		}
		// The reference's open-flag set holds RDWR whenever RDONLY or WRONLY is set, so both
		// tests come down to whether any access bit is set.
		if ff.OpenFlags&int32(sysflow.OpenRdwr) != 0 {
			return sfql.StringValue("true")
		}
		return sfql.StringValue("false")
	case fFilePath, fFileNewPath, fFileName, fFileDirectory, fFileType:
		file := f.File
		if id == fFileNewPath {
			file = f.NewFile
		}
		if file == nil {
			return sfql.NoValue()
		}
		switch id {
		case fFileName:
			return sfql.StringValue(pyBasename(file.Path))
		case fFileDirectory:
			return sfql.StringValue(pyDirname(file.Path))
		case fFileType:
			return toQuery(r.value(id))
		}
		return sfql.StringValue(file.Path)
	case fNetProto, fNetSPort, fNetDPort, fNetSIP, fNetDIP, fNetPort, fNetIP:
		nf, ok := f.Rec.(*sysflow.NetworkFlow)
		switch {
		case !ok:
			return sfql.NoValue()
		case id == fNetPort:
			return sfql.StringValue(fmt.Sprintf("%d,%d", nf.SPort, nf.DPort))
		case id == fNetIP:
			return sfql.StringValue(sysflow.IntToIPv4(nf.SIP).String() + "," + sysflow.IntToIPv4(nf.DIP).String())
		}
		return toQuery(r.value(id))
	case fContID, fContName, fContImageID, fContImage, fContType, fContPrivileged:
		if f.Container == nil {
			return sfql.NoValue()
		}
	case fNodeID, fNodeIP, fFilename, fSchema:
		if f.Header == nil || (id == fNodeIP && !r.has.has(sysflow.KindHeader, "ip")) ||
			(id == fFilename && !r.has.has(sysflow.KindHeader, "filename")) {
			return sfql.NoValue()
		}
	case fPodID, fPodName, fPodNodeName, fPodHostIP, fPodInternalIP, fPodNamespace, fPodRestartCount, fPodServices:
		if f.Pod == nil {
			return sfql.NoValue()
		}
	}
	if id := fieldID(id); (id >= fProcPID && id <= fPprocCreateTS && id != fProcTID) ||
		(id >= fProcAPID && id <= fPprocCmdline) {
		return r.processField(id)
	}
	return toQuery(r.value(fieldID(id)))
}

// processField returns the proc.* and pproc.* fields (but proc.tid, a field of the event).
func (r *record) processField(id fieldID) sfql.Value {
	p := r.flat.Process
	if id >= fPprocPID && id <= fPprocCreateTS || id == fPprocName || id == fPprocCmdline {
		p = r.flat.Parent
	}
	if p == nil {
		return sfql.NoValue()
	}
	switch id {
	case fProcName, fPprocName:
		return sfql.StringValue(pyBasename(p.Exe))
	case fProcCmdline, fPprocCmdline:
		return sfql.StringValue(p.Exe + " " + p.ExeArgs)
	case fProcAPID, fProcAName:
		var b strings.Builder
		r.ancestry(func(a *sysflow.Process) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			if id == fProcAPID {
				fmt.Fprint(&b, a.OID.HPID)
			} else {
				b.WriteString(a.Exe)
			}
		})
		return sfql.StringValue(b.String())
	case fProcCwd, fPprocCwd:
		if !r.has.has(sysflow.KindProcess, "cwd") {
			return sfql.NoValue()
		}
	case fProcEntry, fPprocEntry:
		if !r.has.has(sysflow.KindProcess, "entry") {
			return sfql.NoValue()
		}
	case fProcEnv, fPprocEnv:
		if !r.has.has(sysflow.KindProcess, "env") {
			return sfql.NoValue()
		}
		items := make([]value, len(p.Env))
		for i, e := range p.Env {
			items[i] = str(e)
		}
		return sfql.ListValue(string(appendRepr(nil, list(items))), len(items))
	}
	return toQuery(r.value(id))
}

// maxAncestors bounds the walk up the process tree (a damaged file may hold a cycle).
const maxAncestors = 256

// ancestry calls fn for the process and each of its known ancestors, nearest first. As in
// the reference, an ancestor above the parent is known if it was the parent of a process of
// a record filtered before (r.parents), not merely an entity of the file.
func (r *record) ancestry(fn func(*sysflow.Process)) {
	fn(r.flat.Process)
	parent := r.flat.Parent
	for range maxAncestors {
		if parent == nil {
			return
		}
		fn(parent)
		parent = r.parents[parent.OID]
	}
}

// toQuery converts a printed value to a filter value.
func toQuery(v value) sfql.Value {
	switch v.kind {
	case vStr:
		return sfql.StringValue(v.str)
	case vInt:
		return sfql.IntValue(v.num)
	case vBool:
		return sfql.BoolValue(v.num != 0)
	case vList, vTuple, vDict:
		return sfql.ListValue(string(appendRepr(nil, v)), len(v.items))
	}
	return sfql.NoValue()
}

// pyBasename is Python's os.path.basename(os.path.normpath(p)).
func pyBasename(p string) string {
	c := path.Clean(p)
	if c == "/" {
		return ""
	}
	return path.Base(c)
}

// pyDirname is Python's os.path.dirname(p).
func pyDirname(p string) string {
	head := p[:strings.LastIndexByte(p, '/')+1]
	if trimmed := strings.TrimRight(head, "/"); trimmed != "" {
		return trimmed
	}
	return head
}

// flagSets caches the texts of flag sets: a file has few distinct combinations.
type flagSets struct {
	mu sync.Mutex
	m  map[int32]string
}

const maxFlagSets = 4096

func (c *flagSets) get(flags int32, build func(int32) string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[flags]; ok {
		return s
	}
	s := build(flags)
	if c.m == nil || len(c.m) >= maxFlagSets {
		c.m = map[int32]string{}
	}
	c.m[flags] = s
	return s
}

var opSets, openSets flagSets

// opFlagSet returns the reference's set of operation names, comma-separated: READ_RECV is
// READ and RECV, WRITE_SEND is WRITE and SEND.
func opFlagSet(flags int32) string {
	return opSets.get(flags, func(flags int32) string {
		var names []string
		for _, n := range sysflow.OpFlags(flags).Names() {
			switch n {
			case "READ":
				names = append(names, "READ", "RECV")
			case "WRITE":
				names = append(names, "WRITE", "SEND")
			default:
				if !strings.HasPrefix(n, "0x") {
					names = append(names, n)
				}
			}
		}
		return strings.Join(names, ",")
	})
}

// referenceOpenFlags are the open flags the reference names, with its names.
var referenceOpenFlags = [...]struct {
	flag sysflow.OpenFlags
	name string
}{
	{sysflow.OpenRdonly, "RDONLY"}, {sysflow.OpenWronly, "WRONLY"}, {sysflow.OpenCreat, "CREAT"},
	{sysflow.OpenExcl, "EXCL"}, {sysflow.OpenTrunc, "TRUNC"}, {sysflow.OpenAppend, "APPEND"},
	{sysflow.OpenNonblock, "NONBLOCK"}, {sysflow.OpenDirect, "DIRECT"}, {sysflow.OpenLargefile, "LARGEFILE"},
	{sysflow.OpenDirectory, "DIRECTORY"}, {sysflow.OpenCloexec, "CLOEXEC"}, {sysflow.OpenDsync, "DSYNC"},
	{sysflow.OpenSync, "SYNC"},
}

// openFlagSet returns the reference's set of open-flag names, comma-separated. Like the
// reference it has RDWR whenever RDONLY or WRONLY is set, and never NONE.
func openFlagSet(flags int32) string {
	return openSets.get(flags, func(flags int32) string {
		var names []string
		f := sysflow.OpenFlags(flags)
		for i, o := range referenceOpenFlags {
			if f&o.flag != 0 {
				names = append(names, o.name)
			}
			if i == 1 && f&sysflow.OpenRdwr != 0 {
				names = append(names, "RDWR")
			}
		}
		return strings.Join(names, ",")
	})
}
