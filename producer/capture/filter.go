package capture

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow/sfql"
)

// The fields of the producer's filter, in the reference collector's (sysdig's) names. They
// describe a process, not an event: the filter is judged when a process's identity changes.
const (
	fContainerID sfql.FieldID = iota
	fContainerName
	fContainerImage
	fContainerType
	fProcName
	fProcExe
	fProcArgs
	fProcPID
	fProcAname
	fUserName
	fFDName
	// fProcAnameN + n is proc.aname[n]: the process's nth ancestor's name (0 is its own).
	fProcAnameN
)

// maxAncestors bounds the walk up the process table for proc.aname.
const maxAncestors = 64

var filterFields = map[string]sfql.FieldID{
	"container.id": fContainerID, "container.name": fContainerName, "container.image": fContainerImage,
	"container.type": fContainerType, "proc.name": fProcName, "proc.exe": fProcExe,
	"proc.args": fProcArgs, "proc.pid": fProcPID, "proc.aname": fProcAname,
	"user.name": fUserName, "fd.name": fFDName,
}

func lookupFilterField(name string) (sfql.FieldID, bool) {
	if id, ok := filterFields[name]; ok {
		return id, true
	}
	if rest, ok := strings.CutPrefix(name, "proc.aname["); ok {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil && strings.HasSuffix(rest, "]") && n >= 0 && n <= maxAncestors {
			return fProcAnameN + sfql.FieldID(n), true
		}
	}
	return 0, false
}

// containerTypes are sysdig's names of the runtimes, by raw.Container.Runtime (SysFlow's
// ContainerType order); a process outside a container is of type "host".
var containerTypes = []string{"docker", "lxc", "libvirt-lxc", "mesos", "rkt", "custom", "cri", "containerd", "cri-o", "bpm"}

// processFilter decides which processes are captured: the --filter expression and
// --containers-only. The zero value captures everything.
type processFilter struct {
	expr           *sfql.Filter // nil: no expression
	containersOnly bool
}

// newProcessFilter compiles expr (empty: none). A bad expression is an error naming its
// position (line:column).
func newProcessFilter(expr string, containersOnly bool) (*processFilter, error) {
	f := &processFilter{containersOnly: containersOnly}
	if strings.TrimSpace(expr) != "" {
		var err error
		if f.expr, err = sfql.Compile(expr, sfql.FieldsFunc(lookupFilterField), nil); err != nil {
			return nil, fmt.Errorf("filter %q: %w", expr, err)
		}
	}
	return f, nil
}

// active reports whether the filter can exclude anything.
func (f *processFilter) active() bool { return f != nil && (f.expr != nil || f.containersOnly) }

// include reports whether process hpid, described by p, is captured. table gives its
// ancestors (proc.aname).
func (f *processFilter) include(hpid int64, p *raw.Proc, table procs) bool {
	if !f.active() {
		return true
	}
	if p == nil {
		// Known by its OID only (gone before /proc could be read): nothing says it matches.
		return false
	}
	if f.containersOnly && p.Container == nil {
		return false
	}
	return f.expr == nil || f.expr.Match(filterRecord{hpid: hpid, p: p, table: table})
}

// filterRecord is a process as the filter sees it.
type filterRecord struct {
	hpid  int64
	p     *raw.Proc
	table procs
}

func (r filterRecord) Field(id sfql.FieldID) sfql.Value {
	c := r.p.Container
	switch id {
	case fContainerID:
		if c == nil {
			return sfql.StringValue("host")
		}
		return sfql.StringValue(c.ID)
	case fContainerName:
		if c == nil {
			return sfql.StringValue("host")
		}
		return sfql.StringValue(c.Name)
	case fContainerImage:
		if c == nil {
			return sfql.StringValue("")
		}
		return sfql.StringValue(c.Image)
	case fContainerType:
		if c == nil {
			return sfql.StringValue("host")
		}
		if c.Runtime >= 0 && int(c.Runtime) < len(containerTypes) {
			return sfql.StringValue(containerTypes[c.Runtime])
		}
		return sfql.NoValue()
	case fProcName:
		return sfql.StringValue(r.p.Comm)
	case fProcExe:
		return sfql.StringValue(r.p.Exe)
	case fProcArgs:
		return sfql.StringValue(strings.Join(r.p.Args, " "))
	case fProcPID:
		return sfql.IntValue(r.hpid)
	case fProcAname:
		names := r.ancestors(maxAncestors)
		if len(names) == 0 {
			return sfql.NoValue()
		}
		// Parts are what predicates test: proc.aname = bash holds if an ancestor is bash.
		return sfql.StringValue(strings.Join(names, ","))
	case fUserName:
		return sfql.StringValue(r.p.UserName)
	case fFDName:
		return sfql.NoValue() // a process has no fd of its own: judged as a missing field
	}
	if n := int(id - fProcAnameN); n >= 0 && n <= maxAncestors {
		if n == 0 {
			return sfql.StringValue(r.p.Comm)
		}
		if names := r.ancestors(n); len(names) == n {
			return sfql.StringValue(names[n-1])
		}
	}
	return sfql.NoValue()
}

// ancestors returns the names of up to n ancestors, parent first, as far as the table knows
// them.
func (r filterRecord) ancestors(n int) []string {
	var names []string
	ppid, pcreate := r.p.PPID, r.p.PCreateTS
	for len(names) < n && ppid > 0 {
		e, ok := r.table[ppid]
		if !ok || e.info == nil || (pcreate != 0 && e.createTS != pcreate) {
			break
		}
		names = append(names, e.info.Comm)
		ppid, pcreate = e.info.PPID, e.info.PCreateTS
	}
	return names
}
