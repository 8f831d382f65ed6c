package sysflow

// Kind is a SysFlow record type: its value is the branch index in the v5 union.
type Kind int

// Record kinds, in v5 union order.
const (
	KindHeader Kind = iota
	KindContainer
	KindProcess
	KindFile
	KindProcessEvent
	KindNetworkFlow
	KindFileFlow
	KindFileEvent
	KindNetworkEvent
	KindProcessFlow
	KindPod
	KindK8sEvent
	NumKinds // the number of kinds
)

var kindInfo = [NumKinds]struct{ full, abbr string }{
	{"sysflow.entity.SFHeader", "H"},
	{"sysflow.entity.Container", "C"},
	{"sysflow.entity.Process", "P"},
	{"sysflow.entity.File", "F"},
	{"sysflow.event.ProcessEvent", "PE"},
	{"sysflow.flow.NetworkFlow", "NF"},
	{"sysflow.flow.FileFlow", "FF"},
	{"sysflow.event.FileEvent", "FE"},
	{"sysflow.event.NetworkEvent", "NE"},
	{"sysflow.flow.ProcessFlow", "PF"},
	{"sysflow.entity.Pod", "POD"},
	{"sysflow.event.K8sEvent", "KE"},
}

// FullName is the Avro full name of the kind's record, e.g. "sysflow.flow.FileFlow".
func (k Kind) FullName() string {
	if k < 0 || k >= NumKinds {
		return ""
	}
	return kindInfo[k].full
}

// String returns sysprint's abbreviation of the kind: H, C, P, F, PE, NF, FF, FE, NE, PF, POD, KE.
func (k Kind) String() string {
	if k < 0 || k >= NumKinds {
		return "?"
	}
	return kindInfo[k].abbr
}

// IsEntity reports whether records of this kind are entities (header, container, process,
// file, pod): what sysflow.entities carries.
func (k Kind) IsEntity() bool {
	return k == KindHeader || k == KindContainer || k == KindProcess || k == KindFile || k == KindPod
}

// Kinds returns every record kind in union order.
func Kinds() []Kind {
	ks := make([]Kind, NumKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// KindByFullName returns the kind with Avro full name name.
func KindByFullName(name string) (Kind, bool) {
	for i, ki := range kindInfo {
		if ki.full == name {
			return Kind(i), true
		}
	}
	return 0, false
}

// Record is one SysFlow record: a pointer to one of the types of this package.
type Record interface {
	Kind() Kind
}

// ObjectState is an entity's state (sysflow.type.SFObjectState).
type ObjectState string

// Entity states.
const (
	StateCreated  ObjectState = "CREATED"
	StateModified ObjectState = "MODIFIED"
	StateReup     ObjectState = "REUP"
)

// ContainerType is the container runtime (sysflow.type.ContainerType).
type ContainerType string

// Container runtimes, in schema order.
const (
	CTDocker     ContainerType = "CT_DOCKER"
	CTLXC        ContainerType = "CT_LXC"
	CTLibvirtLXC ContainerType = "CT_LIBVIRT_LXC"
	CTMesos      ContainerType = "CT_MESOS"
	CTRkt        ContainerType = "CT_RKT"
	CTCustom     ContainerType = "CT_CUSTOM"
	CTCRI        ContainerType = "CT_CRI"
	CTContainerd ContainerType = "CT_CONTAINERD"
	CTCRIO       ContainerType = "CT_CRIO"
	CTBPM        ContainerType = "CT_BPM"
)

// ContainerTypes lists the runtimes in schema order: index i is symbol i of the enum.
var ContainerTypes = []ContainerType{CTDocker, CTLXC, CTLibvirtLXC, CTMesos, CTRkt, CTCustom, CTCRI, CTContainerd, CTCRIO, CTBPM}

// OID identifies a process: host pid and creation time (ns since the epoch).
type OID struct {
	CreateTS int64 `avro:"createTS"`
	HPID     int64 `avro:"hpid"`
}

// FOID identifies a file: SHA-1 of container id + path.
type FOID [20]byte

// Header is the first record of every SysFlow file (sysflow.entity.SFHeader).
type Header struct {
	Version  int64  `avro:"version"`
	Exporter string `avro:"exporter"`
	IP       string `avro:"ip"`
	Filename string `avro:"filename"`
}

// Container is a container entity (sysflow.entity.Container).
type Container struct {
	ID         string        `avro:"id"`
	Name       string        `avro:"name"`
	Image      string        `avro:"image"`
	ImageID    string        `avro:"imageid"`
	Type       ContainerType `avro:"type"`
	Privileged bool          `avro:"privileged"`
	PodID      *string       `avro:"podId"`
}

// Process is a process entity (sysflow.entity.Process).
type Process struct {
	State       ObjectState `avro:"state"`
	OID         OID         `avro:"oid"`
	POID        *OID        `avro:"poid"`
	TS          int64       `avro:"ts"`
	Exe         string      `avro:"exe"`
	ExeArgs     string      `avro:"exeArgs"`
	UID         int32       `avro:"uid"`
	UserName    string      `avro:"userName"`
	GID         int32       `avro:"gid"`
	GroupName   string      `avro:"groupName"`
	TTY         bool        `avro:"tty"`
	ContainerID *string     `avro:"containerId"`
	Entry       bool        `avro:"entry"`
	Cwd         string      `avro:"cwd"`
	Env         []string    `avro:"env"`
}

// File is a file entity (sysflow.entity.File).
type File struct {
	State       ObjectState `avro:"state"`
	OID         FOID        `avro:"oid"`
	TS          int64       `avro:"ts"`
	ResType     int32       `avro:"restype"`
	Path        string      `avro:"path"`
	ContainerID *string     `avro:"containerId"`
}

// ProcessEvent is an exec, clone, exit or setuid (sysflow.event.ProcessEvent).
type ProcessEvent struct {
	ProcOID OID      `avro:"procOID"`
	TS      int64    `avro:"ts"`
	TID     int64    `avro:"tid"`
	OpFlags int32    `avro:"opFlags"`
	Args    []string `avro:"args"`
	Ret     int32    `avro:"ret"`
}

// NetworkFlow aggregates a socket's activity (sysflow.flow.NetworkFlow). SIP/DIP are IPv4
// addresses in SysFlow's encoding (see IPv4ToInt); the tuple is client→server.
type NetworkFlow struct {
	ProcOID       OID   `avro:"procOID"`
	TS            int64 `avro:"ts"`
	TID           int64 `avro:"tid"`
	OpFlags       int32 `avro:"opFlags"`
	EndTS         int64 `avro:"endTs"`
	SIP           int32 `avro:"sip"`
	SPort         int32 `avro:"sport"`
	DIP           int32 `avro:"dip"`
	DPort         int32 `avro:"dport"`
	Proto         int32 `avro:"proto"`
	FD            int32 `avro:"fd"`
	NumRRecvOps   int64 `avro:"numRRecvOps"`
	NumWSendOps   int64 `avro:"numWSendOps"`
	NumRRecvBytes int64 `avro:"numRRecvBytes"`
	NumWSendBytes int64 `avro:"numWSendBytes"`
}

// FileFlow aggregates a file descriptor's activity (sysflow.flow.FileFlow).
type FileFlow struct {
	ProcOID       OID   `avro:"procOID"`
	TS            int64 `avro:"ts"`
	TID           int64 `avro:"tid"`
	OpFlags       int32 `avro:"opFlags"`
	OpenFlags     int32 `avro:"openFlags"`
	EndTS         int64 `avro:"endTs"`
	FileOID       FOID  `avro:"fileOID"`
	FD            int32 `avro:"fd"`
	NumRRecvOps   int64 `avro:"numRRecvOps"`
	NumWSendOps   int64 `avro:"numWSendOps"`
	NumRRecvBytes int64 `avro:"numRRecvBytes"`
	NumWSendBytes int64 `avro:"numWSendBytes"`
}

// FileEvent is a path operation: mkdir, rmdir, unlink, link, symlink, rename
// (sysflow.event.FileEvent).
type FileEvent struct {
	ProcOID    OID   `avro:"procOID"`
	TS         int64 `avro:"ts"`
	TID        int64 `avro:"tid"`
	OpFlags    int32 `avro:"opFlags"`
	FileOID    FOID  `avro:"fileOID"`
	Ret        int32 `avro:"ret"`
	NewFileOID *FOID `avro:"newFileOID"`
}

// NetworkEvent is declared by the schema but never emitted by the reference
// (sysflow.event.NetworkEvent).
type NetworkEvent struct {
	ProcOID OID   `avro:"procOID"`
	TS      int64 `avro:"ts"`
	TID     int64 `avro:"tid"`
	OpFlags int32 `avro:"opFlags"`
	SIP     int32 `avro:"sip"`
	SPort   int32 `avro:"sport"`
	DIP     int32 `avro:"dip"`
	DPort   int32 `avro:"dport"`
	Proto   int32 `avro:"proto"`
	Ret     int32 `avro:"ret"`
}

// ProcessFlow aggregates thread clones and exits of one process (sysflow.flow.ProcessFlow).
type ProcessFlow struct {
	ProcOID          OID   `avro:"procOID"`
	TS               int64 `avro:"ts"`
	NumThreadsCloned int64 `avro:"numThreadsCloned"`
	OpFlags          int32 `avro:"opFlags"`
	EndTS            int64 `avro:"endTs"`
	NumThreadsExited int64 `avro:"numThreadsExited"`
	NumCloneErrors   int64 `avro:"numCloneErrors"`
}

// Pod is a Kubernetes pod entity (sysflow.entity.Pod).
type Pod struct {
	TS           int64             `avro:"ts"`
	ID           string            `avro:"id"`
	Name         string            `avro:"name"`
	NodeName     string            `avro:"nodeName"`
	HostIP       []int64           `avro:"hostIP"`
	InternalIP   []int64           `avro:"internalIP"`
	Namespace    string            `avro:"namespace"`
	RestartCount int64             `avro:"restartCount"`
	Labels       map[string]string `avro:"labels"`
	Selectors    map[string]string `avro:"selectors"`
	Services     []Service         `avro:"services"`
}

// Service is a Kubernetes service of a Pod (sysflow.entity.Service).
type Service struct {
	Name      string  `avro:"name"`
	ID        string  `avro:"id"`
	Namespace string  `avro:"namespace"`
	PortList  []Port  `avro:"portList"`
	ClusterIP []int64 `avro:"clusterIP"`
}

// Port is a Kubernetes service port (sysflow.entity.Port).
type Port struct {
	Port       int32  `avro:"port"`
	TargetPort int32  `avro:"targetPort"`
	NodePort   int32  `avro:"nodePort"`
	Proto      string `avro:"proto"`
}

// K8sEvent is a Kubernetes API event (sysflow.event.K8sEvent).
type K8sEvent struct {
	Component string `avro:"kind"`   // sysflow.type.K8sComponent symbol
	Action    string `avro:"action"` // sysflow.type.K8sAction symbol
	TS        int64  `avro:"ts"`
	Message   string `avro:"message"`
}

// Kind implementations.
func (*Header) Kind() Kind       { return KindHeader }
func (*Container) Kind() Kind    { return KindContainer }
func (*Process) Kind() Kind      { return KindProcess }
func (*File) Kind() Kind         { return KindFile }
func (*ProcessEvent) Kind() Kind { return KindProcessEvent }
func (*NetworkFlow) Kind() Kind  { return KindNetworkFlow }
func (*FileFlow) Kind() Kind     { return KindFileFlow }
func (*FileEvent) Kind() Kind    { return KindFileEvent }
func (*NetworkEvent) Kind() Kind { return KindNetworkEvent }
func (*ProcessFlow) Kind() Kind  { return KindProcessFlow }
func (*Pod) Kind() Kind          { return KindPod }
func (*K8sEvent) Kind() Kind     { return KindK8sEvent }

// New returns a new zero record of kind k, or nil for an unknown kind.
func New(k Kind) Record {
	switch k {
	case KindHeader:
		return new(Header)
	case KindContainer:
		return new(Container)
	case KindProcess:
		return new(Process)
	case KindFile:
		return new(File)
	case KindProcessEvent:
		return new(ProcessEvent)
	case KindNetworkFlow:
		return new(NetworkFlow)
	case KindFileFlow:
		return new(FileFlow)
	case KindFileEvent:
		return new(FileEvent)
	case KindNetworkEvent:
		return new(NetworkEvent)
	case KindProcessFlow:
		return new(ProcessFlow)
	case KindPod:
		return new(Pod)
	case KindK8sEvent:
		return new(K8sEvent)
	}
	return nil
}
