package testkit

import (
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

func ptr[T any](v T) *T { return &v }

// SysFlowRecords returns one populated record of every SysFlow kind, in union order (header
// first). Values survive an Avro round trip unchanged (empty slices and maps are non-nil).
func SysFlowRecords() []sysflow.Record {
	oid := sysflow.OID{CreateTS: 1_700_000_000_123_456_789, HPID: 4242}
	poid := sysflow.OID{CreateTS: 1_690_000_000_000_000_000, HPID: 1}
	foid := sysflow.FOID{0xde, 0xad, 19: 0xef}
	foid2 := sysflow.FOID{1, 2, 3}
	return []sysflow.Record{
		&sysflow.Header{Version: 5, Exporter: "node-1", IP: "10.0.0.7", Filename: "node-1.2024010100.p0.sf"},
		&sysflow.Container{ID: "347b1411b047", Name: "web", Image: "alpine:3.20", ImageID: "sha256:abc", Type: sysflow.CTContainerd, Privileged: true, PodID: ptr("pod-1")},
		&sysflow.Process{State: sysflow.StateCreated, OID: oid, POID: &poid, TS: 1_700_000_000_200_000_000, Exe: "/usr/bin/curl", ExeArgs: "-s http://x", UID: 1000, UserName: "app", GID: 1000, GroupName: "app", TTY: true, ContainerID: ptr("347b1411b047"), Entry: true, Cwd: "/srv", Env: []string{"PATH=/bin", "HOME=/srv"}},
		&sysflow.File{State: sysflow.StateReup, OID: foid, TS: 1_700_000_000_300_000_000, ResType: 'f', Path: "/etc/hosts", ContainerID: ptr("347b1411b047")},
		&sysflow.ProcessEvent{ProcOID: oid, TS: 1_700_000_000_400_000_000, TID: 4243, OpFlags: 1 << 1, Args: []string{"-s", "http://x"}, Ret: 0},
		&sysflow.NetworkFlow{ProcOID: oid, TS: 1_700_000_000_500_000_000, TID: 4242, OpFlags: 1<<6 | 1<<8, EndTS: 1_700_000_000_600_000_000, SIP: 16777343, SPort: 40556, DIP: 16777343, DPort: 8080, Proto: 6, FD: 3, NumRRecvOps: 2, NumWSendOps: 1, NumRRecvBytes: 4096, NumWSendBytes: 77},
		&sysflow.FileFlow{ProcOID: oid, TS: 1_700_000_000_700_000_000, TID: 4242, OpFlags: 1 << 7, OpenFlags: 0o101, EndTS: 1_700_000_000_800_000_000, FileOID: foid, FD: 4, NumRRecvOps: 1, NumWSendOps: 3, NumRRecvBytes: 10, NumWSendBytes: 300},
		&sysflow.FileEvent{ProcOID: oid, TS: 1_700_000_000_900_000_000, TID: 4244, OpFlags: 1 << 16, FileOID: foid, Ret: -2, NewFileOID: &foid2},
		&sysflow.NetworkEvent{ProcOID: oid, TS: 1_700_000_001_000_000_000, TID: 4242, OpFlags: 1 << 5, SIP: 1, SPort: 2, DIP: 3, DPort: 4, Proto: 17, Ret: 5},
		&sysflow.ProcessFlow{ProcOID: oid, TS: 1_700_000_001_100_000_000, NumThreadsCloned: 3, OpFlags: 1, EndTS: 1_700_000_001_200_000_000, NumThreadsExited: 2, NumCloneErrors: 1},
		&sysflow.Pod{TS: 1_700_000_001_300_000_000, ID: "uid-1", Name: "web-0", NodeName: "node-1", HostIP: []int64{167772167}, InternalIP: []int64{167772168}, Namespace: "default", RestartCount: 1,
			Labels: map[string]string{"app": "web"}, Selectors: map[string]string{"app": "web"},
			Services: []sysflow.Service{{Name: "web", ID: "svc-1", Namespace: "default", PortList: []sysflow.Port{{Port: 80, TargetPort: 8080, NodePort: 30080, Proto: "TCP"}}, ClusterIP: []int64{167772169}}}},
		&sysflow.K8sEvent{Component: "K8S_PODS", Action: "K8S_COMPONENT_ADDED", TS: 1_700_000_001_400_000_000, Message: "pod added"},
	}
}

// RawBatch returns a valid raw batch of process hpid exercising every optional part of the
// raw schema (socket tuple, process attributes with container, fd list).
func RawBatch(exporter string, hpid int64) *raw.Batch {
	createTS := int64(1_700_000_000_000_000_000) + hpid
	clone := raw.NewEvent(raw.OpClone, createTS+1, hpid)
	clone.Ret = 0
	clone.Flags = 0x11
	clone.Proc = &raw.Proc{PPID: 1, PCreateTS: 7, Exe: "/bin/sh", Args: []string{"-c", "true"}, Comm: "sh", Cwd: "/", Env: []string{"A=1"}, UID: 0, GID: 0, UserName: "root", GroupName: "root", VPID: 1,
		Container: &raw.Container{ID: "347b1411b047", Name: "web", Image: "alpine", ImageID: "sha256:abc", Runtime: 7}}
	open := raw.NewEvent(raw.OpOpen, createTS+2, hpid)
	open.Path, open.Flags, open.Mode, open.Ret = "/etc/hosts", 0, 0o644, 3
	connect := raw.NewEvent(raw.OpConnect, createTS+3, hpid+1)
	connect.FD = 4
	connect.Sock = &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: []byte{127, 0, 0, 1}, LPort: 40556, RAddr: []byte{127, 0, 0, 1}, RPort: 8080, Path: ""}
	pipe := raw.NewEvent(raw.OpPipe, createTS+4, hpid)
	pipe.FDs = []raw.FD{{FD: 5, Kind: 6}, {FD: 6, Kind: 6}}
	return &raw.Batch{Exporter: exporter, HPID: hpid, CreateTS: createTS, Events: []raw.Event{clone, open, connect, pipe}}
}
