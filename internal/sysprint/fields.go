package sysprint

import (
	"fmt"
	"strings"
)

// fieldID names a printable field. The values from fVersion to numRecordFields-1 are in the
// order sysprint's formatter builds a record (_flatten), which is the order of the JSON keys
// and CSV columns when no fields are selected.
type fieldID int

const (
	fVersion fieldID = iota
	fType
	fState
	fOpFlags
	fOpFlagsBitmap
	fRet
	fTS
	fTSUTS
	fEndTS
	fEndTSUTS
	fProcPID
	fProcTID
	fProcUID
	fProcUser
	fProcGID
	fProcGroup
	fProcCwd
	fProcExe
	fProcArgs
	fProcTTY
	fProcEntry
	fProcEnv
	fProcCreateTS
	fPprocPID
	fPprocGID
	fPprocUID
	fPprocGroup
	fPprocTTY
	fPprocEntry
	fPprocEnv
	fPprocUser
	fPprocCwd
	fPprocExe
	fPprocArgs
	fPprocCreateTS
	fFileFD
	fFilePath
	fFileNewPath
	fFileType
	fFileOpenFlags
	fNetProto
	fNetSPort
	fNetDPort
	fNetSIP
	fNetDIP
	fRes
	fFlowRBytes
	fFlowROps
	fFlowWBytes
	fFlowWOps
	fPFNThreads
	fPFNExits
	fPFNErrors
	fContID
	fContName
	fContImageID
	fContImage
	fContType
	fContPrivileged
	fPodID
	fPodName
	fPodNodeName
	fPodHostIP
	fPodInternalIP
	fPodNamespace
	fPodRestartCount
	fPodServices
	fNodeID
	fNodeIP
	fFilename
	fSchema
	fTags
	fK8sAction
	fK8sKind
	fK8sMsg
	numRecordFields

	// fIdx is the record number within its file; sysprint's table always shows it first.
	fIdx fieldID = numRecordFields
)

// The fields that sysprint's filter language (SFQL, --filter) knows but never prints: ids
// after fIdx (see fieldID.queryOnly).
const (
	fProcAPID fieldID = fIdx + 1 + iota
	fProcAName
	fProcName
	fProcCmdline
	fPprocName
	fPprocCmdline
	fFileName
	fFileDirectory
	fFileIsOpenWrite
	fFileIsOpenRead
	fNetPort
	fNetIP
)

// queryOnly reports whether the field has no value to print, only one to filter on.
func (id fieldID) queryOnly() bool { return id > fIdx }

// fieldInfo describes a field as sysprint's formatter does: its name, table column title and
// width, and description (what -l prints).
type fieldInfo struct {
	name   string
	column string
	width  int
	desc   string
	id     fieldID
}

// fields lists every field in the order of sysprint's field table (what -l lists).
var fields = [...]fieldInfo{
	{"idx", "Rec #", 6, "Record number", fIdx},
	{"type", "T", 2, "Record type", fType},
	{"state", "State", 12, "Entity state", fState},
	{"opflags", "Op Flags", 14, "Operation flags", fOpFlags},
	{"opflags_bitmap", "Op Flags", 5, "Operation flags bitmap", fOpFlagsBitmap},
	{"ret", "Ret", 4, "Return code", fRet},
	{"ts", "Start Time", 26, "Record start time", fTS},
	{"ts_uts", "Start Time", 21, "Records start timestamp", fTSUTS},
	{"endts", "End Time", 26, "Record end time", fEndTS},
	{"endts_uts", "End Time", 21, "Record end timestamp", fEndTSUTS},
	{"proc.pid", "PID", 8, "Process PID", fProcPID},
	{"proc.tid", "TID", 8, "Thread PID", fProcTID},
	{"proc.uid", "UID", 5, "Process user ID", fProcUID},
	{"proc.user", "User", 8, "Process user name", fProcUser},
	{"proc.gid", "GID", 5, "Process group ID", fProcGID},
	{"proc.group", "Group", 8, "Process group name", fProcGroup},
	{"proc.apid", "A. PIDs", 20, "Process ancestors PIDs (query only)", fProcAPID},
	{"proc.aname", "A. Proc. Names", 20, "Process ancestors names (query only)", fProcAName},
	{"proc.cwd", "Cwd", 20, "Current working directory ", fProcCwd},
	{"proc.exe", "Cmd", 20, "Process command/filename", fProcExe},
	{"proc.args", "Args", 20, "Process command arguments", fProcArgs},
	{"proc.name", "Proc. Name", 20, "Process name (query only)", fProcName},
	{"proc.cmdline", "Cmd Line", 20, "Process command line (query only)", fProcCmdline},
	{"proc.tty", "TTY", 5, "Process TTY status", fProcTTY},
	{"proc.env", "Env", 30, "Process environment variables", fProcEnv},
	{"proc.entry", "Entry", 5, "Process container entrypoint", fProcEntry},
	{"proc.createts", "Proc. Creation Time", 21, "Process creation timestamp", fProcCreateTS},
	{"pproc.pid", "PPID", 8, "Parent process ID", fPprocPID},
	{"pproc.gid", "PGID", 5, "Parent process group ID", fPprocGID},
	{"pproc.uid", "PUID", 5, "Parent process user ID", fPprocUID},
	{"pproc.group", "PGroup", 8, "Parent process group name", fPprocGroup},
	{"pproc.tty", "PTTY", 5, "Parent process TTY status", fPprocTTY},
	{"pproc.env", "PEnv", 30, "Parent process environment variables", fPprocEnv},
	{"pproc.entry", "PEntry", 5, "Parent process container entry", fPprocEntry},
	{"pproc.user", "PUser", 8, "Parent process user name", fPprocUser},
	{"pproc.cwd", "PCwd", 20, "Parent current working directory ", fPprocCwd},
	{"pproc.exe", "PCmd", 20, "Parent process command/filename", fPprocExe},
	{"pproc.args", "PArgs", 20, "Parent process command arguments", fPprocArgs},
	{"pproc.name", "PProc. Name", 20, "Parent process name (query only)", fPprocName},
	{"pproc.cmdline", "PProc. Cmd Line", 20, "Parent process command line (query only)", fPprocCmdline},
	{"pproc.createts", "PProc. Creation Time", 21, "Parent process creation timestamp", fPprocCreateTS},
	{"file.fd", "FD", 5, "File descriptor number", fFileFD},
	{"file.path", "Path", 30, "File path", fFilePath},
	{"file.newpath", "New Path", 30, "New file path", fFileNewPath},
	{"file.name", "File Name", 30, "File name (query only)", fFileName},
	{"file.directory", "Dir", 30, "File directory (query only)", fFileDirectory},
	{"file.type", "File Type", 8, "File type", fFileType},
	{"file.is_open_write", "W", 5, "File open with write flag (query only)", fFileIsOpenWrite},
	{"file.is_open_read", "R", 5, "File open with read flag (query only)", fFileIsOpenRead},
	{"file.openflags", "Open Flags", 5, "File open flags", fFileOpenFlags},
	{"net.proto", "Proto", 5, "Network protocol", fNetProto},
	{"net.sport", "SPort", 5, "Source port", fNetSPort},
	{"net.dport", "DPort", 5, "Destination port", fNetDPort},
	{"net.port", "Port", 5, "Source or destination port (query only)", fNetPort},
	{"net.sip", "SIP", 16, "Source IP", fNetSIP},
	{"net.dip", "DIP", 16, "Destination IP", fNetDIP},
	{"net.ip", "IP", 5, "Source or destination IP (query only)", fNetIP},
	{"res", "Resource", 45, "File or network resource", fRes},
	{"flow.rbytes", "NoBRead", 8, "Flow bytes read/received", fFlowRBytes},
	{"flow.rops", "NoOpsRead", 8, "Flow operations read/received", fFlowROps},
	{"flow.wbytes", "NoBWrite", 8, "Flow bytes written/sent", fFlowWBytes},
	{"flow.wops", "NoOpsWrite", 8, "Flow bytes written/sent", fFlowWOps},
	{"container.id", "Cont ID", 12, "Container ID", fContID},
	{"container.name", "Cont Name", 12, "Container name", fContName},
	{"container.imageid", "Image ID", 12, "Container image ID", fContImageID},
	{"container.image", "Image Name", 12, "Container image name", fContImage},
	{"container.type", "Cont Type", 8, "Container type", fContType},
	{"container.privileged", "Privileged", 5, "Container privilege status", fContPrivileged},
	{"pf.nthreads", "NoThreads", 8, "Threads created", fPFNThreads},
	{"pf.nexits", "NoThrExits", 8, "Threads exited", fPFNExits},
	{"pf.nerrors", "NoThrErrs", 8, "Clone errors", fPFNErrors},
	{"pod.id", "Pod Id", 12, "Pod Identifier", fPodID},
	{"pod.name", "Pod Name", 30, "Pod Name", fPodName},
	{"pod.nname", "Pod Node Name", 12, "Pod Node Name", fPodNodeName},
	{"pod.hostip", "Pod Host IP", 16, "Pod Host IP", fPodHostIP},
	{"pod.internalip", "Pod Intern IP", 16, "Pod Internal IP", fPodInternalIP},
	{"pod.ns", "Pod Namespace", 12, "Pod Namespace", fPodNamespace},
	{"pod.rstrtcnt", "Rstrt Cnt", 9, "Pod Restart Count", fPodRestartCount},
	{"pod.services", "Pod Services", 100, "Pod Services", fPodServices},
	{"k8s.action", "K8s EV Action", 25, "K8s Event Action", fK8sAction},
	{"k8s.kind", "K8s EV Comp Type", 26, "K8s Event Component Type", fK8sKind},
	{"k8s.msg", "K8s EV Msg", 100, "K8s Event Message", fK8sMsg},
	{"node.id", "Node ID", 12, "Node identifier", fNodeID},
	{"node.ip", "Node IP", 16, "Node IP address", fNodeIP},
	{"tags", "Tags", 10, "Enrichment tags", fTags},
	{"schema", "SF Schema", 8, "SysFlow schema version", fSchema},
	{"version", "API version", 8, "SysFlow JSON schema version", fVersion},
	{"filename", "File name", 15, "SysFlow trace file name", fFilename},
}

// defaultTableFields are the columns of the str output when no fields are selected.
var defaultTableFields = [...]string{
	"ts_uts", "type", "proc.exe", "proc.args", "pproc.pid", "proc.pid", "proc.tid", "opflags",
	"res", "flow.rbytes", "flow.wbytes", "container.id",
}

// lookupField returns the description of the field called name.
func lookupField(name string) (fieldInfo, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return fieldInfo{}, false
}

// infoOf returns the description of a printable field.
func infoOf(id fieldID) fieldInfo {
	for _, f := range fields {
		if f.id == id {
			return f
		}
	}
	panic(fmt.Sprintf("sfprint: field %d has no description", id)) // the tables are checked by a test
}

// allRecordFields returns every record field in sysprint's record order.
func allRecordFields() []fieldInfo {
	out := make([]fieldInfo, 0, numRecordFields)
	for id := range numRecordFields {
		out = append(out, infoOf(id))
	}
	return out
}

// selectFields resolves field names: unknown and query-only names are errors, duplicates are
// dropped, empty names (as in "a,,b") are ignored.
func selectFields(names []string) ([]fieldInfo, error) {
	out := make([]fieldInfo, 0, len(names))
	seen := map[fieldID]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		f, ok := lookupField(n)
		switch {
		case !ok:
			return nil, fmt.Errorf("unknown field %q (sfprint -l lists the fields)", n)
		case f.id.queryOnly():
			return nil, fmt.Errorf("field %q is only for sysprint's filter queries and has no value to print", n)
		case seen[f.id]:
			continue
		}
		seen[f.id] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no field selected in %q", strings.Join(names, ","))
	}
	return out, nil
}
