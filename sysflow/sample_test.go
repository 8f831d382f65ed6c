package sysflow_test

import "github.com/sfstream/sfstream/sysflow"

func strp(s string) *string { return &s }

// samples returns one fully populated record of every kind.
func samples() []sysflow.Record {
	oid := sysflow.OID{CreateTS: 1700000000123456789, HPID: 4242}
	parent := sysflow.OID{CreateTS: 1690000000000000000, HPID: 1}
	foid := sysflow.FOID{0x8d, 0x57, 0xb8, 0xc6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	foid2 := sysflow.FOID{19: 0xff}
	return []sysflow.Record{
		&sysflow.Header{Version: 5, Exporter: "node-1", IP: "10.0.0.7", Filename: "node-1.2026112500.p0.sf"},
		&sysflow.Container{ID: "347b1411b047", Name: "web", Image: "alpine:latest", ImageID: "sha256:abc", Type: sysflow.CTDocker, Privileged: true, PodID: strp("pod-1")},
		&sysflow.Process{State: sysflow.StateCreated, OID: oid, POID: &parent, TS: 1700000000200000000, Exe: "/usr/bin/curl", ExeArgs: "-s http://x", UID: 1000, UserName: "alice", GID: 100, GroupName: "users", TTY: true, ContainerID: strp("347b1411b047"), Entry: true, Cwd: "/home/alice/", Env: []string{"PATH=/bin", "HOME=/home/alice"}},
		&sysflow.File{State: sysflow.StateReup, OID: foid, TS: 1700000000300000000, ResType: 'f', Path: "/etc/ld.so.cache"},
		&sysflow.ProcessEvent{ProcOID: oid, TS: 1700000000400000000, TID: 4243, OpFlags: 1 << 3, Args: []string{"alice"}, Ret: -1},
		&sysflow.NetworkFlow{ProcOID: oid, TS: 1, TID: 4242, OpFlags: 1<<6 | 1<<8, EndTS: 2, SIP: 16777343, SPort: 40556, DIP: 16777343, DPort: 8080, Proto: 6, FD: 3, NumRRecvOps: 4, NumWSendOps: 5, NumRRecvBytes: 600, NumWSendBytes: 700},
		&sysflow.FileFlow{ProcOID: oid, TS: 10, TID: 4242, OpFlags: 1<<7 | 1<<8 | 1<<10, OpenFlags: 263, EndTS: 20, FileOID: foid, FD: 7, NumRRecvOps: 1, NumWSendOps: 2, NumRRecvBytes: 3, NumWSendBytes: 4},
		&sysflow.FileEvent{ProcOID: oid, TS: 30, TID: 4242, OpFlags: 1 << 20, FileOID: foid, Ret: 0, NewFileOID: &foid2},
		&sysflow.NetworkEvent{ProcOID: oid, TS: 40, TID: 4242, OpFlags: 1 << 6, SIP: 1, SPort: 2, DIP: 3, DPort: 4, Proto: 17, Ret: 0},
		&sysflow.ProcessFlow{ProcOID: oid, TS: 50, NumThreadsCloned: 3, OpFlags: 1, EndTS: 60, NumThreadsExited: 2, NumCloneErrors: 1},
		&sysflow.Pod{TS: 70, ID: "uid-1", Name: "web-0", NodeName: "node-1", HostIP: []int64{16777343}, InternalIP: []int64{}, Namespace: "default", RestartCount: 2,
			Labels: map[string]string{"app": "web"}, Selectors: map[string]string{},
			Services: []sysflow.Service{{Name: "web", ID: "svc-1", Namespace: "default", PortList: []sysflow.Port{{Port: 80, TargetPort: 8080, NodePort: 30080, Proto: "TCP"}}, ClusterIP: []int64{1}}}},
		&sysflow.K8sEvent{Component: "K8S_PODS", Action: "K8S_COMPONENT_ADDED", TS: 80, Message: "{}"},
	}
}
