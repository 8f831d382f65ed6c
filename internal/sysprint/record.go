package sysprint

import (
	"math"
	"strings"
	"time"

	"github.com/sfstream/sfstream/sysflow"
)

// apiVersion is sysprint's "SysFlow JSON schema version" (the version field).
const apiVersion = "4"

// record is one flattened record ready to print: the Flat plus what sysprint derives from it.
type record struct {
	flat sysflow.Flat
	idx  int          // number of the record in its file
	has  schemaFields // fields the writer schema has, for sysprint's hasattr tests
	ev   eventView
	// parents maps process OIDs to their parents for the filter's proc.apid and
	// proc.aname; nil where unknown (filterPrinter).
	parents map[sysflow.OID]*sysflow.Process
}

// eventView holds the event or flow part of a record; isEvent and isFlow mirror sysprint's
// evt and flow (both false for entities).
type eventView struct {
	isEvent, isFlow  bool
	ts, endTS, tid   int64
	opFlags, ret, fd int32
}

func newRecord(flat sysflow.Flat, idx int, has schemaFields) record {
	r := record{flat: flat, idx: idx, has: has}
	v := &r.ev
	switch e := flat.Rec.(type) {
	case *sysflow.ProcessEvent:
		*v = eventView{isEvent: true, ts: e.TS, tid: e.TID, opFlags: e.OpFlags, ret: e.Ret}
	case *sysflow.FileEvent:
		*v = eventView{isEvent: true, ts: e.TS, tid: e.TID, opFlags: e.OpFlags, ret: e.Ret}
	case *sysflow.NetworkEvent:
		*v = eventView{isEvent: true, ts: e.TS, tid: e.TID, opFlags: e.OpFlags, ret: e.Ret}
	case *sysflow.K8sEvent:
		*v = eventView{isEvent: true, ts: e.TS}
	case *sysflow.FileFlow:
		*v = eventView{isFlow: true, ts: e.TS, endTS: e.EndTS, tid: e.TID, opFlags: e.OpFlags, fd: e.FD}
	case *sysflow.NetworkFlow:
		*v = eventView{isFlow: true, ts: e.TS, endTS: e.EndTS, tid: e.TID, opFlags: e.OpFlags, fd: e.FD}
	case *sysflow.ProcessFlow:
		*v = eventView{isFlow: true, ts: e.TS, endTS: e.EndTS, opFlags: e.OpFlags}
	}
	return r
}

// eventHas reports whether the record is an event or flow whose writer schema has field.
func (r *record) eventHas(field string) bool {
	return (r.ev.isEvent || r.ev.isFlow) && r.has.has(r.flat.Kind, field)
}

// value returns field id of the record as sysprint's formatter computes it.
func (r *record) value(id fieldID) value {
	f := &r.flat
	switch id {
	case fIdx:
		return num(int64(r.idx))
	case fVersion:
		return str(apiVersion)
	case fType:
		return str(f.Kind.String())
	case fState:
		switch {
		case f.Process != nil:
			return str(string(f.Process.State))
		case f.File != nil:
			return str(string(f.File.State))
		}
		return str("")
	case fOpFlags:
		if r.eventHas("opFlags") {
			return str(sysflow.OpFlags(r.ev.opFlags).String())
		}
		return str("")
	case fOpFlagsBitmap:
		if r.eventHas("opFlags") {
			return num(int64(r.ev.opFlags))
		}
		return str("")
	case fRet:
		if r.ev.isEvent && r.has.has(f.Kind, "ret") {
			return num(int64(r.ev.ret))
		}
		return none()
	case fTS, fTSUTS:
		if !r.ev.isEvent && !r.ev.isFlow {
			return emptyOrNone(id == fTS)
		}
		if id == fTS {
			return str(isoTime(r.ev.ts))
		}
		return num(r.ev.ts)
	case fEndTS, fEndTSUTS:
		if !r.ev.isFlow {
			return emptyOrNone(id == fEndTS)
		}
		if id == fEndTS {
			return str(isoTime(r.ev.endTS))
		}
		return num(r.ev.endTS)
	case fProcTID:
		if r.eventHas("tid") && f.Kind != sysflow.KindProcessFlow {
			return num(r.ev.tid)
		}
		return none()
	case fFileFD:
		if r.eventHas("fd") {
			return num(int64(r.ev.fd))
		}
		return str("")
	}
	if id >= fProcPID && id <= fPprocCreateTS {
		return r.processValue(id)
	}
	if id >= fFilePath && id <= fPFNErrors {
		return r.dataValue(id)
	}
	return r.contextValue(id)
}

// emptyOrNone is sysprint's value for a field the record lacks: "" for the text form of a
// field, None for its numeric form.
func emptyOrNone(text bool) value {
	if text {
		return str("")
	}
	return none()
}

// processValue returns the proc.* and pproc.* fields.
func (r *record) processValue(id fieldID) value {
	p, parent := r.flat.Process, id >= fPprocPID
	if parent {
		p = r.flat.Parent
	}
	if p == nil {
		switch id {
		case fProcPID, fProcUID, fProcGID, fProcCreateTS, fPprocPID, fPprocGID, fPprocUID:
			return none()
		}
		return str("") // including pproc.createts, which sysprint leaves "" rather than None
	}
	switch id {
	case fProcPID, fPprocPID:
		return num(p.OID.HPID)
	case fProcUID, fPprocUID:
		return num(int64(p.UID))
	case fProcUser, fPprocUser:
		return str(p.UserName)
	case fProcGID, fPprocGID:
		return num(int64(p.GID))
	case fProcGroup, fPprocGroup:
		return str(p.GroupName)
	case fProcCwd, fPprocCwd:
		if r.has.has(sysflow.KindProcess, "cwd") {
			return str(p.Cwd)
		}
	case fProcExe, fPprocExe:
		return str(p.Exe)
	case fProcArgs, fPprocArgs:
		return str(p.ExeArgs)
	case fProcTTY, fPprocTTY:
		return boolean(p.TTY)
	case fProcEntry, fPprocEntry:
		if r.has.has(sysflow.KindProcess, "entry") {
			return boolean(p.Entry)
		}
	case fProcEnv, fPprocEnv:
		if r.has.has(sysflow.KindProcess, "env") {
			return str(envString(p.Env))
		}
	case fProcCreateTS, fPprocCreateTS:
		return num(p.OID.CreateTS)
	}
	return str("")
}

// envString joins the environment as sysprint does: "K=V;K=V", skipping "" and "=".
func envString(env []string) string {
	var b strings.Builder
	for _, e := range env {
		if e == "" || e == "=" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(e)
	}
	return b.String()
}

// dataValue returns the file.*, net.*, res, flow.* and pf.* fields.
func (r *record) dataValue(id fieldID) value {
	f := &r.flat
	switch id {
	case fFilePath:
		return str(filePath(f.File))
	case fFileNewPath:
		return str(filePath(f.NewFile))
	case fFileType:
		if f.File != nil && f.File.ResType >= 0 { // Python chr(); negative codes have no character
			return str(string(rune(f.File.ResType)))
		}
		return str("")
	case fFileOpenFlags:
		if ff, ok := f.Rec.(*sysflow.FileFlow); ok {
			return num(int64(ff.OpenFlags))
		}
		return str("")
	case fRes:
		switch f.Kind {
		case sysflow.KindFileFlow, sysflow.KindFileEvent:
			res := filePath(f.File)
			if f.NewFile != nil {
				res += ", " + f.NewFile.Path
			}
			return str(res)
		case sysflow.KindNetworkFlow:
			return str(f.Rec.(*sysflow.NetworkFlow).Tuple())
		}
		return str("")
	}
	if id >= fNetProto && id <= fNetDIP {
		nf, ok := f.Rec.(*sysflow.NetworkFlow)
		switch {
		case !ok && (id == fNetSPort || id == fNetDPort):
			return none()
		case !ok:
			return str("")
		case id == fNetProto:
			return num(int64(nf.Proto))
		case id == fNetSPort:
			return num(int64(nf.SPort))
		case id == fNetDPort:
			return num(int64(nf.DPort))
		case id == fNetSIP:
			return str(sysflow.IntToIPv4(nf.SIP).String())
		}
		return str(sysflow.IntToIPv4(nf.DIP).String())
	}
	switch e := f.Rec.(type) {
	case *sysflow.FileFlow:
		return flowCounter(id, e.NumRRecvBytes, e.NumRRecvOps, e.NumWSendBytes, e.NumWSendOps)
	case *sysflow.NetworkFlow:
		return flowCounter(id, e.NumRRecvBytes, e.NumRRecvOps, e.NumWSendBytes, e.NumWSendOps)
	case *sysflow.ProcessFlow:
		switch id {
		case fPFNThreads:
			return num(e.NumThreadsCloned)
		case fPFNExits:
			return num(e.NumThreadsExited)
		case fPFNErrors:
			return num(e.NumCloneErrors)
		}
	}
	return none()
}

func flowCounter(id fieldID, rbytes, rops, wbytes, wops int64) value {
	switch id {
	case fFlowRBytes:
		return num(rbytes)
	case fFlowROps:
		return num(rops)
	case fFlowWBytes:
		return num(wbytes)
	case fFlowWOps:
		return num(wops)
	}
	return none()
}

func filePath(f *sysflow.File) string {
	if f == nil {
		return ""
	}
	return f.Path
}

// contextValue returns the container.*, pod.*, node.*, filename, schema, tags and k8s.* fields.
func (r *record) contextValue(id fieldID) value {
	f := &r.flat
	switch id {
	case fContID, fContName, fContImageID, fContImage, fContType, fContPrivileged:
		c := f.Container
		switch {
		case c == nil:
			return str("")
		case id == fContID:
			return str(c.ID)
		case id == fContName:
			return str(c.Name)
		case id == fContImageID:
			return str(c.ImageID)
		case id == fContImage:
			return str(c.Image)
		case id == fContType:
			return str(string(c.Type))
		}
		return boolean(c.Privileged)
	case fNodeID, fNodeIP, fFilename, fSchema:
		h := f.Header
		switch {
		case h == nil:
			return str("")
		case id == fNodeID:
			return str(h.Exporter)
		case id == fSchema:
			return num(h.Version)
		case id == fNodeIP && r.has.has(sysflow.KindHeader, "ip"):
			return str(h.IP)
		case id == fFilename && r.has.has(sysflow.KindHeader, "filename"):
			return str(h.Filename)
		}
		return str("")
	case fTags:
		return emptyTuple()
	case fK8sAction, fK8sKind, fK8sMsg:
		ke, ok := f.Rec.(*sysflow.K8sEvent)
		switch {
		case !ok:
			return str("")
		case id == fK8sAction:
			return str(ke.Action)
		case id == fK8sKind:
			return str(ke.Component)
		}
		return str(ke.Message)
	}
	return podValue(f.Pod, id)
}

// podValue returns the pod.* fields.
func podValue(p *sysflow.Pod, id fieldID) value {
	if p == nil {
		if id == fPodRestartCount {
			return none()
		}
		return str("")
	}
	switch id {
	case fPodID:
		return str(p.ID)
	case fPodName:
		return str(p.Name)
	case fPodNodeName:
		return str(p.NodeName)
	case fPodHostIP:
		return ipList(p.HostIP)
	case fPodInternalIP:
		return ipList(p.InternalIP)
	case fPodNamespace:
		return str(p.Namespace)
	case fPodRestartCount:
		return num(p.RestartCount)
	case fPodServices:
		svcs := make([]value, len(p.Services))
		for i, s := range p.Services {
			ports := make([]value, len(s.PortList))
			for j, pt := range s.PortList {
				ports[j] = value{kind: vDict, keys: []string{"port", "targetPort", "nodePort", "proto"},
					items: []value{num(int64(pt.Port)), num(int64(pt.TargetPort)), num(int64(pt.NodePort)), str(pt.Proto)}}
			}
			svcs[i] = value{kind: vDict, keys: []string{"name", "id", "namespace", "portList", "clusterIP"},
				items: []value{str(s.Name), str(s.ID), str(s.Namespace), list(ports), ipList(s.ClusterIP)}}
		}
		return list(svcs)
	}
	return str("")
}

// ipList renders pod and service addresses, which SysFlow stores as longs holding the
// little-endian IPv4 encoding in their low 32 bits.
func ipList(ips []int64) value {
	out := make([]value, len(ips))
	for i, ip := range ips {
		out[i] = str(sysflow.IntToIPv4(int32(uint32(ip))).String())
	}
	return list(out)
}

// isoTime formats a ns timestamp as sysprint does: Python's
// datetime.utcfromtimestamp(ts/1e9).isoformat(), which goes through a float64 (so it keeps
// about microsecond precision), rounds the fraction half to even to microseconds and omits it
// when it is zero.
func isoTime(ns int64) string {
	sec, frac := math.Modf(float64(ns) / 1e9)
	us := math.RoundToEven(frac * 1e6)
	if us >= 1e6 {
		us -= 1e6
		sec++
	} else if us < 0 {
		us += 1e6
		sec--
	}
	t := time.Unix(int64(sec), int64(us)*1000).UTC()
	if us == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}
