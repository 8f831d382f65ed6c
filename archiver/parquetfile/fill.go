package parquetfile

import (
	"strings"

	"github.com/sfstream/sfstream/sysflow"
)

// fill sets r to the flattened record f, as sysprint computes its flat fields.
func (w *Writer) fill(r *Row, f *sysflow.Flat) {
	*r = Row{}
	v := &r.v
	ev := sysflow.EventFieldsOf(f.Rec)
	r.Type = f.Kind.String()
	switch {
	case f.Process != nil:
		v.state = string(f.Process.State)
		r.State = &v.state
	case f.File != nil:
		v.state = string(f.File.State)
		r.State = &v.state
	}
	if ev.HasOpFlags {
		v.opFlags, v.opFlagsBitmap = w.opFlagsName(ev.OpFlags), ev.OpFlags
		r.OpFlags, r.OpFlagsBitmap = &v.opFlags, &v.opFlagsBitmap
	}
	if ev.HasRet {
		v.ret = ev.Ret
		r.Ret = &v.ret
	}
	r.TS, r.TSUTS = floorMicros(ev.TS), ev.TS
	if ev.IsFlow {
		v.endTS, v.endTSUTS = floorMicros(ev.EndTS), ev.EndTS
		r.EndTS, r.EndTSUTS = &v.endTS, &v.endTSUTS
	}
	if ev.HasTID {
		v.procTID = ev.TID
		r.ProcTID = &v.procTID
	}
	if ev.HasFD {
		v.fileFD = ev.FD
		r.FileFD = &v.fileFD
	}
	if p := f.Process; p != nil {
		w.procValues(&v.proc, p)
		pv := &v.proc
		r.ProcPID, r.ProcCreateTS, r.ProcUID, r.ProcGID = &pv.pid, &pv.createTS, &pv.uid, &pv.gid
		r.ProcUser, r.ProcGroup, r.ProcCwd, r.ProcExe, r.ProcArgs = &pv.user, &pv.group, &pv.cwd, &pv.exe, &pv.args
		r.ProcEnv, r.ProcTTY, r.ProcEntry = &pv.env, &pv.tty, &pv.entry
	}
	if p := f.Parent; p != nil {
		w.procValues(&v.pproc, p)
		pv := &v.pproc
		r.PprocPID, r.PprocCreateTS, r.PprocUID, r.PprocGID = &pv.pid, &pv.createTS, &pv.uid, &pv.gid
		r.PprocUser, r.PprocGroup, r.PprocCwd, r.PprocExe, r.PprocArgs = &pv.user, &pv.group, &pv.cwd, &pv.exe, &pv.args
		r.PprocEnv, r.PprocTTY, r.PprocEntry = &pv.env, &pv.tty, &pv.entry
	}
	w.fillData(r, f)
	w.fillContext(r, f)
}

// fillData sets the file, network, resource and counter columns.
func (w *Writer) fillData(r *Row, f *sysflow.Flat) {
	v := &r.v
	if f.File != nil {
		v.filePath = f.File.Path
		r.FilePath = &v.filePath
		if f.File.ResType >= 0 { // sysprint's chr(); negative codes have no character
			v.fileType = string(rune(f.File.ResType))
			r.FileType = &v.fileType
		}
	}
	if f.NewFile != nil {
		v.fileNewPath = f.NewFile.Path
		r.FileNewPath = &v.fileNewPath
	}
	switch e := f.Rec.(type) {
	case *sysflow.FileFlow:
		v.fileOpenFlags, v.fileOpenFlagsStr = e.OpenFlags, w.openFlagsName(e.OpenFlags)
		r.FileOpenFlags, r.FileOpenFlagsStr = &v.fileOpenFlags, &v.fileOpenFlagsStr
	case *sysflow.NetworkFlow:
		v.netProto, v.netSPort, v.netDPort = e.Proto, e.SPort, e.DPort
		v.netSIP, v.netDIP = w.ip(e.SIP), w.ip(e.DIP)
		r.NetProto, r.NetSPort, r.NetDPort, r.NetSIP, r.NetDIP = &v.netProto, &v.netSPort, &v.netDPort, &v.netSIP, &v.netDIP
	case *sysflow.ProcessFlow:
		v.pf = [3]int64{e.NumThreadsCloned, e.NumThreadsExited, e.NumCloneErrors}
		r.PFNThreads, r.PFNExits, r.PFNErrors = &v.pf[0], &v.pf[1], &v.pf[2]
	case *sysflow.K8sEvent:
		v.k8s = [3]string{e.Action, e.Component, e.Message}
		r.K8sAction, r.K8sKind, r.K8sMsg = &v.k8s[0], &v.k8s[1], &v.k8s[2]
	}
	switch f.Kind {
	case sysflow.KindFileFlow, sysflow.KindFileEvent, sysflow.KindNetworkFlow:
		v.res = f.Resource()
		r.Res = &v.res
	}
	if c, ok := sysflow.FlowCountersOf(f.Rec); ok {
		v.flow = [4]int64{c.RBytes, c.ROps, c.WBytes, c.WOps}
		r.FlowRBytes, r.FlowROps, r.FlowWBytes, r.FlowWOps = &v.flow[0], &v.flow[1], &v.flow[2], &v.flow[3]
	}
}

// fillContext sets the container, pod and header columns.
func (w *Writer) fillContext(r *Row, f *sysflow.Flat) {
	v := &r.v
	if c := f.Container; c != nil {
		v.cont = [5]string{c.ID, c.Name, c.ImageID, c.Image, string(c.Type)}
		v.contPrivileged = c.Privileged
		r.ContID, r.ContName, r.ContImageID, r.ContImage, r.ContType = &v.cont[0], &v.cont[1], &v.cont[2], &v.cont[3], &v.cont[4]
		r.ContPrivileged = &v.contPrivileged
	}
	if p := f.Pod; p != nil {
		v.pod = [6]string{p.ID, p.Name, p.NodeName, ipList(p.HostIP), ipList(p.InternalIP), p.Namespace}
		v.podRestarts = p.RestartCount
		r.PodID, r.PodName, r.PodNodeName, r.PodHostIP, r.PodInternalIP, r.PodNamespace = &v.pod[0], &v.pod[1], &v.pod[2], &v.pod[3], &v.pod[4], &v.pod[5]
		r.PodRestarts = &v.podRestarts
	}
	if h := f.Header; h != nil {
		v.nodeID, v.nodeIP, v.filename, v.schema = h.Exporter, h.IP, h.Filename, h.Version
		r.NodeID, r.NodeIP, r.Filename, r.Schema = &v.nodeID, &v.nodeIP, &v.filename, &v.schema
	}
}

func (w *Writer) procValues(pv *procValues, p *sysflow.Process) {
	env, ok := w.envs[p]
	if !ok {
		env = sysflow.EnvString(p.Env)
		w.envs[p] = env
	}
	*pv = procValues{
		pid: p.OID.HPID, createTS: p.OID.CreateTS, uid: p.UID, gid: p.GID,
		user: p.UserName, group: p.GroupName, cwd: p.Cwd, exe: p.Exe, args: p.ExeArgs,
		env: env, tty: p.TTY, entry: p.Entry,
	}
}

func (w *Writer) opFlagsName(f int32) string {
	s, ok := w.opFlags[f]
	if !ok {
		s = sysflow.OpFlags(f).String()
		w.opFlags[f] = s
	}
	return s
}

func (w *Writer) openFlagsName(f int32) string {
	s, ok := w.openFlags[f]
	if !ok {
		s = sysflow.OpenFlags(f).String()
		w.openFlags[f] = s
	}
	return s
}

func (w *Writer) ip(a int32) string {
	s, ok := w.ips[a]
	if !ok {
		if len(w.ips) > 1<<14 {
			clear(w.ips)
		}
		s = sysflow.IntToIPv4(a).String()
		w.ips[a] = s
	}
	return s
}

// ipList renders pod addresses (longs holding the IPv4 encoding in their low 32 bits)
// joined with ",".
func ipList(ips []int64) string {
	parts := make([]string, len(ips))
	for i, ip := range ips {
		parts[i] = sysflow.IntToIPv4(int32(uint32(ip))).String()
	}
	return strings.Join(parts, ",")
}

// floorMicros returns ns rounded down to a whole microsecond, in microseconds.
func floorMicros(ns int64) int64 {
	us := ns / 1000
	if ns%1000 < 0 {
		us--
	}
	return us
}
