package parquetfile

// Row is one event or flow flattened: the Parquet row. Columns are sysprint's flat fields
// (cmd/sfprint names them) with dots as underscores; ts and endts are TIMESTAMP(MICROS, UTC)
// and ts_uts, endts_uts keep the nanoseconds. A column is NULL where sysprint prints None or
// an empty value because the record's type lacks the field or the entity is unknown (no
// parent, no container, ...). opflags and file_openflags come both as names (opflags,
// file_openflags_str) and as integers (opflags_bitmap, file_openflags).
//
// The pointer fields point into the row's own values (v), so a Row is filled without
// allocating; a Row must not be copied once filled.
type Row struct {
	Type          string  `parquet:"type,dict"`
	State         *string `parquet:"state,optional,dict"`
	OpFlags       *string `parquet:"opflags,optional,dict"`
	OpFlagsBitmap *int32  `parquet:"opflags_bitmap,optional"`
	Ret           *int32  `parquet:"ret,optional"`
	TS            int64   `parquet:"ts,timestamp(microsecond:utc)"`
	TSUTS         int64   `parquet:"ts_uts"`
	EndTS         *int64  `parquet:"endts,optional,timestamp(microsecond:utc)"`
	EndTSUTS      *int64  `parquet:"endts_uts,optional"`

	ProcPID      *int64  `parquet:"proc_pid,optional"`
	ProcTID      *int64  `parquet:"proc_tid,optional"`
	ProcUID      *int32  `parquet:"proc_uid,optional"`
	ProcUser     *string `parquet:"proc_user,optional,dict"`
	ProcGID      *int32  `parquet:"proc_gid,optional"`
	ProcGroup    *string `parquet:"proc_group,optional,dict"`
	ProcCwd      *string `parquet:"proc_cwd,optional,dict"`
	ProcExe      *string `parquet:"proc_exe,optional,dict"`
	ProcArgs     *string `parquet:"proc_args,optional,dict"`
	ProcTTY      *bool   `parquet:"proc_tty,optional"`
	ProcEntry    *bool   `parquet:"proc_entry,optional"`
	ProcEnv      *string `parquet:"proc_env,optional,dict"`
	ProcCreateTS *int64  `parquet:"proc_createts,optional"`

	PprocPID      *int64  `parquet:"pproc_pid,optional"`
	PprocUID      *int32  `parquet:"pproc_uid,optional"`
	PprocUser     *string `parquet:"pproc_user,optional,dict"`
	PprocGID      *int32  `parquet:"pproc_gid,optional"`
	PprocGroup    *string `parquet:"pproc_group,optional,dict"`
	PprocCwd      *string `parquet:"pproc_cwd,optional,dict"`
	PprocExe      *string `parquet:"pproc_exe,optional,dict"`
	PprocArgs     *string `parquet:"pproc_args,optional,dict"`
	PprocTTY      *bool   `parquet:"pproc_tty,optional"`
	PprocEntry    *bool   `parquet:"pproc_entry,optional"`
	PprocEnv      *string `parquet:"pproc_env,optional,dict"`
	PprocCreateTS *int64  `parquet:"pproc_createts,optional"`

	FileFD           *int32  `parquet:"file_fd,optional"`
	FilePath         *string `parquet:"file_path,optional,dict"`
	FileNewPath      *string `parquet:"file_newpath,optional,dict"`
	FileType         *string `parquet:"file_type,optional,dict"`
	FileOpenFlags    *int32  `parquet:"file_openflags,optional"`
	FileOpenFlagsStr *string `parquet:"file_openflags_str,optional,dict"`

	NetProto *int32  `parquet:"net_proto,optional"`
	NetSPort *int32  `parquet:"net_sport,optional"`
	NetDPort *int32  `parquet:"net_dport,optional"`
	NetSIP   *string `parquet:"net_sip,optional,dict"`
	NetDIP   *string `parquet:"net_dip,optional,dict"`
	Res      *string `parquet:"res,optional,dict"`

	FlowRBytes *int64 `parquet:"flow_rbytes,optional"`
	FlowROps   *int64 `parquet:"flow_rops,optional"`
	FlowWBytes *int64 `parquet:"flow_wbytes,optional"`
	FlowWOps   *int64 `parquet:"flow_wops,optional"`
	PFNThreads *int64 `parquet:"pf_nthreads,optional"`
	PFNExits   *int64 `parquet:"pf_nexits,optional"`
	PFNErrors  *int64 `parquet:"pf_nerrors,optional"`

	ContID         *string `parquet:"container_id,optional,dict"`
	ContName       *string `parquet:"container_name,optional,dict"`
	ContImageID    *string `parquet:"container_imageid,optional,dict"`
	ContImage      *string `parquet:"container_image,optional,dict"`
	ContType       *string `parquet:"container_type,optional,dict"`
	ContPrivileged *bool   `parquet:"container_privileged,optional"`

	PodID         *string `parquet:"pod_id,optional,dict"`
	PodName       *string `parquet:"pod_name,optional,dict"`
	PodNodeName   *string `parquet:"pod_nname,optional,dict"`
	PodHostIP     *string `parquet:"pod_hostip,optional,dict"`
	PodInternalIP *string `parquet:"pod_internalip,optional,dict"`
	PodNamespace  *string `parquet:"pod_ns,optional,dict"`
	PodRestarts   *int64  `parquet:"pod_rstrtcnt,optional"`

	K8sAction *string `parquet:"k8s_action,optional,dict"`
	K8sKind   *string `parquet:"k8s_kind,optional,dict"`
	K8sMsg    *string `parquet:"k8s_msg,optional,dict"`

	NodeID   *string `parquet:"node_id,optional,dict"`
	NodeIP   *string `parquet:"node_ip,optional,dict"`
	Filename *string `parquet:"filename,optional,dict"`
	Schema   *int64  `parquet:"schema,optional"`

	v rowValues
}

// rowValues holds what Row's pointers point to.
type rowValues struct {
	state, opFlags                                    string
	opFlagsBitmap, ret                                int32
	endTS, endTSUTS                                   int64
	proc, pproc                                       procValues
	procTID                                           int64
	fileFD, fileOpenFlags                             int32
	filePath, fileNewPath, fileType, fileOpenFlagsStr string
	netProto, netSPort, netDPort                      int32
	netSIP, netDIP, res                               string
	flow                                              [4]int64
	pf                                                [3]int64
	cont                                              [5]string
	contPrivileged                                    bool
	pod                                               [6]string
	podRestarts                                       int64
	k8s                                               [3]string
	nodeID, nodeIP, filename                          string
	schema                                            int64
}

type procValues struct {
	pid, createTS               int64
	uid, gid                    int32
	user, group, cwd, exe, args string
	env                         string
	tty, entry                  bool
}
