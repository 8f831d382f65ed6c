package scap

import (
	"fmt"
	"strconv"
	"strings"
)

// EventType is a PPME_* event code: even codes are enter events, odd codes exit events, with
// exceptions for meta events such as PROCEXIT_1_E or CONTAINER_JSON_E.
type EventType uint16

// MaxEventType bounds event type codes. The newest event tables stop a little above 400;
// a code at or beyond this bound is treated as corruption (ErrUnknownEvent).
const MaxEventType = 1024

// ParamType is a PT_* parameter type (SCAP.md section 6).
type ParamType uint8

// Parameter types.
const (
	PTNone        ParamType = 0
	PTInt8        ParamType = 1
	PTInt16       ParamType = 2
	PTInt32       ParamType = 3
	PTInt64       ParamType = 4
	PTUint8       ParamType = 5
	PTUint16      ParamType = 6
	PTUint32      ParamType = 7
	PTUint64      ParamType = 8
	PTCharBuf     ParamType = 9
	PTByteBuf     ParamType = 10
	PTErrno       ParamType = 11
	PTSockAddr    ParamType = 12
	PTSockTuple   ParamType = 13
	PTFD          ParamType = 14
	PTPID         ParamType = 15
	PTFDList      ParamType = 16
	PTFSPath      ParamType = 17
	PTSyscallID   ParamType = 18
	PTSigType     ParamType = 19
	PTRelTime     ParamType = 20
	PTAbsTime     ParamType = 21
	PTPort        ParamType = 22
	PTL4Proto     ParamType = 23
	PTSockFamily  ParamType = 24
	PTBool        ParamType = 25
	PTIPv4Addr    ParamType = 26
	PTDyn         ParamType = 27
	PTFlags8      ParamType = 28
	PTFlags16     ParamType = 29
	PTFlags32     ParamType = 30
	PTUID         ParamType = 31
	PTGID         ParamType = 32
	PTDouble      ParamType = 33
	PTSigSet      ParamType = 34
	PTMode        ParamType = 42
	PTFSRelPath   ParamType = 43
	PTEnumFlags8  ParamType = 44
	PTEnumFlags16 ParamType = 45
	PTEnumFlags32 ParamType = 46
	PTFD32        ParamType = 47
	PTPID32       ParamType = 48
)

var paramTypeNames = map[string]ParamType{
	"INT8": PTInt8, "INT16": PTInt16, "INT32": PTInt32, "INT64": PTInt64, "UINT8": PTUint8,
	"UINT16": PTUint16, "UINT32": PTUint32, "UINT64": PTUint64, "CHARBUF": PTCharBuf,
	"BYTEBUF": PTByteBuf, "ERRNO": PTErrno, "SOCKADDR": PTSockAddr, "SOCKTUPLE": PTSockTuple,
	"FD": PTFD, "PID": PTPID, "FDLIST": PTFDList, "FSPATH": PTFSPath, "SYSCALLID": PTSyscallID,
	"SIGTYPE": PTSigType, "RELTIME": PTRelTime, "ABSTIME": PTAbsTime, "PORT": PTPort,
	"L4PROTO": PTL4Proto, "SOCKFAMILY": PTSockFamily, "BOOL": PTBool, "IPV4ADDR": PTIPv4Addr,
	"DYN": PTDyn, "FLAGS8": PTFlags8, "FLAGS16": PTFlags16, "FLAGS32": PTFlags32, "UID": PTUID,
	"GID": PTGID, "DOUBLE": PTDouble, "SIGSET": PTSigSet, "MODE": PTMode,
	"FSRELPATH": PTFSRelPath, "ENUMFLAGS8": PTEnumFlags8, "ENUMFLAGS16": PTEnumFlags16,
	"ENUMFLAGS32": PTEnumFlags32, "FD32": PTFD32, "PID32": PTPID32,
}

// Signed reports whether integer values of this type are signed.
func (t ParamType) Signed() bool {
	switch t {
	case PTInt8, PTInt16, PTInt32, PTInt64, PTErrno, PTFD, PTPID, PTFD32, PTPID32, PTRelTime:
		return true
	}
	return false
}

// ParamInfo names one parameter of an event type.
type ParamInfo struct {
	Name string
	Type ParamType // PTNone when this package does not know the type
}

// EventInfo describes an event type, with the parameter list of the newest event table
// (older captures carry a prefix of it).
type EventInfo struct {
	Name   string
	Params []ParamInfo
	// Large means 32-bit parameter lengths (PLUGINEVENT_E, CONTAINER_JSON_2_E, ASYNCEVENT_E).
	Large bool
	// Meta marks events that are not one side of a syscall (PROCEXIT, CONTAINER_JSON, ...).
	Meta bool
}

// ParamIndex returns the index of the named parameter, or -1.
func (ei *EventInfo) ParamIndex(name string) int {
	if ei == nil {
		return -1
	}
	for i, p := range ei.Params {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// Info returns the table entry of t, or nil for a type this package does not describe.
func (t EventType) Info() *EventInfo {
	if int(t) < len(eventTable) && eventTable[t].Name != "" {
		return &eventTable[t]
	}
	return nil
}

// IsEnter reports whether t is the enter side of a syscall pair.
func (t EventType) IsEnter() bool {
	ei := t.Info()
	return t%2 == 0 && (ei == nil || !ei.Meta)
}

// String returns the PPME_* name without the prefix, e.g. SYSCALL_OPEN_X.
func (t EventType) String() string {
	if ei := t.Info(); ei != nil {
		return ei.Name
	}
	return fmt.Sprintf("EVENT_%d", uint16(t))
}

// largePayload reports whether t uses 32-bit parameter lengths.
func largePayload(t EventType) bool {
	return t == PluginEventE || t == ContainerJSON2E || t == AsyncEventE
}

// Event types the replayer handles or that need special treatment by the reader.
const (
	GenericE EventType = 0
	GenericX EventType = 1
	OpenE    EventType = 2
	OpenX    EventType = 3
	CloseE   EventType = 4
	CloseX   EventType = 5
	ReadE    EventType = 6
	ReadX    EventType = 7
	WriteE   EventType = 8
	WriteX   EventType = 9

	Execve8E        EventType = 12
	Execve8X        EventType = 13
	Clone11E        EventType = 14
	Clone11X        EventType = 15
	ProcExitE       EventType = 16
	SocketE         EventType = 18
	SocketX         EventType = 19
	ConnectE        EventType = 22
	ConnectX        EventType = 23
	AcceptE         EventType = 26
	AcceptX         EventType = 27
	SendE           EventType = 28
	SendX           EventType = 29
	SendToE         EventType = 30
	SendToX         EventType = 31
	RecvE           EventType = 32
	RecvX           EventType = 33
	RecvFromE       EventType = 34
	RecvFromX       EventType = 35
	ShutdownE       EventType = 36
	ShutdownX       EventType = 37
	SocketPairE     EventType = 42
	SocketPairX     EventType = 43
	SendMsgE        EventType = 48
	SendMsgX        EventType = 49
	SendMMsgE       EventType = 50
	SendMMsgX       EventType = 51
	RecvMsgE        EventType = 52
	RecvMsgX        EventType = 53
	RecvMMsgE       EventType = 54
	RecvMMsgX       EventType = 55
	Accept4E        EventType = 56
	Accept4X        EventType = 57
	CreatE          EventType = 58
	CreatX          EventType = 59
	PipeE           EventType = 60
	PipeX           EventType = 61
	ChdirE          EventType = 94
	ChdirX          EventType = 95
	FchdirE         EventType = 96
	FchdirX         EventType = 97
	MkdirE          EventType = 98
	MkdirX          EventType = 99
	RmdirE          EventType = 100
	RmdirX          EventType = 101
	OpenAtE         EventType = 102
	OpenAtX         EventType = 103
	LinkE           EventType = 104
	LinkX           EventType = 105
	LinkAtE         EventType = 106
	LinkAtX         EventType = 107
	UnlinkE         EventType = 108
	UnlinkX         EventType = 109
	UnlinkAtE       EventType = 110
	UnlinkAtX       EventType = 111
	PreadE          EventType = 112
	PreadX          EventType = 113
	PwriteE         EventType = 114
	PwriteX         EventType = 115
	ReadvE          EventType = 116
	ReadvX          EventType = 117
	WritevE         EventType = 118
	WritevX         EventType = 119
	PreadvE         EventType = 120
	PreadvX         EventType = 121
	PwritevE        EventType = 122
	PwritevX        EventType = 123
	DupE            EventType = 124
	DupX            EventType = 125
	DropE           EventType = 148
	DropX           EventType = 149
	FcntlE          EventType = 150
	FcntlX          EventType = 151
	Execve13E       EventType = 154
	Execve13X       EventType = 155
	Clone16E        EventType = 156
	Clone16X        EventType = 157
	MmapE           EventType = 160
	MmapX           EventType = 161
	Mmap2E          EventType = 162
	Mmap2X          EventType = 163
	Execve14E       EventType = 172
	Execve14X       EventType = 173
	RenameE         EventType = 174
	RenameX         EventType = 175
	RenameAtE       EventType = 176
	RenameAtX       EventType = 177
	SymlinkE        EventType = 178
	SymlinkX        EventType = 179
	SymlinkAtE      EventType = 180
	SymlinkAtX      EventType = 181
	ForkE           EventType = 182
	ForkX           EventType = 183
	VforkE          EventType = 184
	VforkX          EventType = 185
	ProcExit1E      EventType = 186
	SetresuidE      EventType = 192
	SetresuidX      EventType = 193
	SetresgidE      EventType = 194
	SetresgidX      EventType = 195
	SetuidE         EventType = 198
	SetuidX         EventType = 199
	SetgidE         EventType = 200
	SetgidX         EventType = 201
	Execve15E       EventType = 214
	Execve15X       EventType = 215
	Clone17E        EventType = 216
	Clone17X        EventType = 217
	Fork17E         EventType = 218
	Fork17X         EventType = 219
	Vfork17E        EventType = 220
	Vfork17X        EventType = 221
	Clone20E        EventType = 222
	Clone20X        EventType = 223
	Fork20E         EventType = 224
	Fork20X         EventType = 225
	Vfork20E        EventType = 226
	Vfork20X        EventType = 227
	Execve16E       EventType = 230
	Execve16X       EventType = 231
	ProcInfoE       EventType = 234
	SetnsE          EventType = 240
	SetnsX          EventType = 241
	Accept5E        EventType = 246
	Accept5X        EventType = 247
	Accept45E       EventType = 248
	Accept45X       EventType = 249
	ContainerJSONE  EventType = 272
	Mkdir2E         EventType = 276
	Mkdir2X         EventType = 277
	Rmdir2E         EventType = 278
	Rmdir2X         EventType = 279
	NotificationE   EventType = 280
	Execve17E       EventType = 282
	Execve17X       EventType = 283
	InfraEventE     EventType = 286
	Execve18E       EventType = 288
	Execve18X       EventType = 289
	Execve19E       EventType = 292
	Execve19X       EventType = 293
	Unlink2E        EventType = 300
	Unlink2X        EventType = 301
	UnlinkAt2E      EventType = 302
	UnlinkAt2X      EventType = 303
	MkdirAtE        EventType = 304
	MkdirAtX        EventType = 305
	OpenAt2E        EventType = 306
	OpenAt2X        EventType = 307
	Link2E          EventType = 308
	Link2X          EventType = 309
	LinkAt2E        EventType = 310
	LinkAt2X        EventType = 311
	RenameAt2E      EventType = 318
	RenameAt2X      EventType = 319
	PluginEventE    EventType = 322
	ContainerJSON2E EventType = 324
	OpenAt2NewE     EventType = 326 // openat2(2)
	OpenAt2NewX     EventType = 327
	ExecveAtE       EventType = 330
	ExecveAtX       EventType = 331
	Clone3E         EventType = 334
	Clone3X         EventType = 335
	UserAddedE      EventType = 354
	GroupAddedE     EventType = 358
	Dup2E           EventType = 362
	Dup2X           EventType = 363
	Dup3E           EventType = 364
	Dup3X           EventType = 365
	Dup1E           EventType = 366
	Dup1X           EventType = 367
	Accept46E       EventType = 388
	Accept46X       EventType = 389
	Pipe2E          EventType = 392
	Pipe2X          EventType = 393
	AsyncEventE     EventType = 402
)

// Parameter lists shared by several event versions.
const (
	cloneBase = "res:PID exe:CHARBUF args:BYTEBUF tid:PID pid:PID ptid:PID cwd:CHARBUF fdlimit:INT64"
	cloneVM   = " pgft_maj:UINT64 pgft_min:UINT64 vm_size:UINT32 vm_rss:UINT32 vm_swap:UINT32"
	clone16   = cloneBase + cloneVM + " flags:FLAGS32 uid:UINT32 gid:UINT32"
	clone17   = cloneBase + cloneVM + " comm:CHARBUF flags:FLAGS32 uid:UINT32 gid:UINT32"
	clone20   = cloneBase + cloneVM + " comm:CHARBUF cgroups:BYTEBUF flags:FLAGS32 uid:UINT32 gid:UINT32 vtid:PID vpid:PID pidns_init_start_ts:UINT64"
	execBase  = "res:ERRNO exe:CHARBUF args:BYTEBUF tid:PID pid:PID ptid:PID cwd:CHARBUF fdlimit:UINT64"
	execVM    = " pgft_maj:UINT64 pgft_min:UINT64 vm_size:UINT32 vm_rss:UINT32 vm_swap:UINT32"
	exec17    = execBase + execVM + " comm:CHARBUF cgroups:BYTEBUF env:BYTEBUF tty:INT32"
	execAt    = execBase + execVM + " comm:CHARBUF cgroups:BYTEBUF env:BYTEBUF tty:UINT32 vpgid:PID loginuid:UID flags:FLAGS32 cap_inheritable:UINT64 cap_permitted:UINT64 cap_effective:UINT64 exe_ino:UINT64 exe_ino_ctime:ABSTIME exe_ino_mtime:ABSTIME uid:UID trusted_exepath:FSPATH pgid:PID gid:GID"
	exec19    = execAt + " filename:FSPATH"
	acceptOld = "fd:FD tuple:SOCKTUPLE queuepct:UINT8"
	accept5   = acceptOld + " queuelen:UINT32 queuemax:UINT32"
	rwExit    = "res:ERRNO data:BYTEBUF fd:FD size:UINT32"
	mmapExit  = "res:ERRNO vm_size:UINT32 vm_rss:UINT32 vm_swap:UINT32 addr:UINT64 length:UINT64 prot:FLAGS32 flags:FLAGS32 fd:FD"
)

// eventDefs is this package's event table, written from SCAP.md section 7 (newest parameter
// order). "#n" stands for n parameters whose names and types this package does not need.
var eventDefs = []struct {
	code   EventType
	name   string
	params string
}{
	{0, "GENERIC_E", "ID:SYSCALLID nativeID:UINT16"},
	{1, "GENERIC_X", "ID:SYSCALLID nativeID:UINT16"},
	{2, "SYSCALL_OPEN_E", "name:FSPATH flags:FLAGS32 mode:UINT32"},
	{3, "SYSCALL_OPEN_X", "fd:FD name:FSPATH flags:FLAGS32 mode:UINT32 dev:UINT32 ino:UINT64"},
	{4, "SYSCALL_CLOSE_E", "fd:FD"},
	{5, "SYSCALL_CLOSE_X", "res:ERRNO fd:FD"},
	{6, "SYSCALL_READ_E", "fd:FD size:UINT32"},
	{7, "SYSCALL_READ_X", rwExit},
	{8, "SYSCALL_WRITE_E", "fd:FD size:UINT32"},
	{9, "SYSCALL_WRITE_X", rwExit},
	{12, "SYSCALL_EXECVE_8_E", ""},
	{13, "SYSCALL_EXECVE_8_X", execBase},
	{14, "SYSCALL_CLONE_11_E", ""},
	{15, "SYSCALL_CLONE_11_X", cloneBase + " flags:FLAGS32 uid:UINT32 gid:UINT32"},
	{16, "PROCEXIT_E", "!"},
	{18, "SOCKET_SOCKET_E", "domain:ENUMFLAGS32 type:UINT32 proto:UINT32"},
	{19, "SOCKET_SOCKET_X", "fd:FD domain:ENUMFLAGS32 type:UINT32 proto:UINT32 flags:FLAGS32"},
	{20, "SOCKET_BIND_E", "fd:FD"},
	{21, "SOCKET_BIND_X", "res:ERRNO addr:SOCKADDR fd:FD"},
	{22, "SOCKET_CONNECT_E", "fd:FD addr:SOCKADDR"},
	{23, "SOCKET_CONNECT_X", "res:ERRNO tuple:SOCKTUPLE fd:FD addr:SOCKADDR"},
	{24, "SOCKET_LISTEN_E", "fd:FD backlog:INT32"},
	{25, "SOCKET_LISTEN_X", "res:ERRNO fd:FD backlog:INT32"},
	{26, "SOCKET_ACCEPT_E", ""},
	{27, "SOCKET_ACCEPT_X", acceptOld},
	{28, "SOCKET_SEND_E", "fd:FD size:UINT32"},
	{29, "SOCKET_SEND_X", rwExit + " tuple:SOCKTUPLE"},
	{30, "SOCKET_SENDTO_E", "fd:FD size:UINT32 tuple:SOCKTUPLE"},
	{31, "SOCKET_SENDTO_X", rwExit + " tuple:SOCKTUPLE"},
	{32, "SOCKET_RECV_E", "fd:FD size:UINT32"},
	{33, "SOCKET_RECV_X", rwExit + " tuple:SOCKTUPLE"},
	{34, "SOCKET_RECVFROM_E", "fd:FD size:UINT32"},
	{35, "SOCKET_RECVFROM_X", "res:ERRNO data:BYTEBUF tuple:SOCKTUPLE fd:FD size:UINT32"},
	{36, "SOCKET_SHUTDOWN_E", "fd:FD how:ENUMFLAGS8"},
	{37, "SOCKET_SHUTDOWN_X", "res:ERRNO fd:FD how:ENUMFLAGS8"},
	{38, "SOCKET_GETSOCKNAME_E", ""},
	{39, "SOCKET_GETSOCKNAME_X", ""},
	{40, "SOCKET_GETPEERNAME_E", ""},
	{41, "SOCKET_GETPEERNAME_X", ""},
	{42, "SOCKET_SOCKETPAIR_E", "domain:ENUMFLAGS32 type:UINT32 proto:UINT32"},
	{43, "SOCKET_SOCKETPAIR_X", "res:ERRNO fd1:FD fd2:FD source:UINT64 peer:UINT64 domain:ENUMFLAGS32 type:UINT32 proto:UINT32"},
	{44, "SOCKET_SETSOCKOPT_E", ""},
	{45, "SOCKET_SETSOCKOPT_X", "res:ERRNO fd:FD level:ENUMFLAGS8 optname:ENUMFLAGS8 val:DYN optlen:UINT32"},
	{46, "SOCKET_GETSOCKOPT_E", ""},
	{47, "SOCKET_GETSOCKOPT_X", "res:ERRNO fd:FD level:ENUMFLAGS8 optname:ENUMFLAGS8 val:DYN optlen:UINT32"},
	{48, "SOCKET_SENDMSG_E", "fd:FD size:UINT32 tuple:SOCKTUPLE"},
	{49, "SOCKET_SENDMSG_X", rwExit + " tuple:SOCKTUPLE"},
	{50, "SOCKET_SENDMMSG_E", ""},
	{51, "SOCKET_SENDMMSG_X", "res:ERRNO fd:FD size:UINT32 data:BYTEBUF tuple:SOCKTUPLE"},
	{52, "SOCKET_RECVMSG_E", "fd:FD"},
	{53, "SOCKET_RECVMSG_X", "res:ERRNO size:UINT32 data:BYTEBUF tuple:SOCKTUPLE msgcontrol:BYTEBUF fd:FD"},
	{54, "SOCKET_RECVMMSG_E", ""},
	{55, "SOCKET_RECVMMSG_X", "res:ERRNO fd:FD size:UINT32 data:BYTEBUF tuple:SOCKTUPLE msgcontrol:BYTEBUF"},
	{56, "SOCKET_ACCEPT4_E", "flags:INT32"},
	{57, "SOCKET_ACCEPT4_X", acceptOld},
	{58, "SYSCALL_CREAT_E", "name:FSPATH mode:UINT32"},
	{59, "SYSCALL_CREAT_X", "fd:FD name:FSPATH mode:UINT32 dev:UINT32 ino:UINT64 creat_flags:FLAGS16"},
	{60, "SYSCALL_PIPE_E", ""},
	{61, "SYSCALL_PIPE_X", "res:ERRNO fd1:FD fd2:FD ino:UINT64"},
	{64, "SYSCALL_FUTEX_E", "#3"},
	{65, "SYSCALL_FUTEX_X", "#4"},
	{66, "SYSCALL_STAT_E", ""},
	{67, "SYSCALL_STAT_X", "res:ERRNO path:FSPATH"},
	{68, "SYSCALL_LSTAT_E", ""},
	{69, "SYSCALL_LSTAT_X", "res:ERRNO path:FSPATH"},
	{70, "SYSCALL_FSTAT_E", "fd:FD"},
	{71, "SYSCALL_FSTAT_X", "res:ERRNO fd:FD"},
	{78, "SYSCALL_EPOLLWAIT_E", "#1"},
	{79, "SYSCALL_EPOLLWAIT_X", "#2"},
	{80, "SYSCALL_POLL_E", "#2"},
	{81, "SYSCALL_POLL_X", "#3"},
	{82, "SYSCALL_SELECT_E", ""},
	{83, "SYSCALL_SELECT_X", "res:ERRNO"},
	{86, "SYSCALL_LSEEK_E", "fd:FD offset:UINT64 whence:ENUMFLAGS8"},
	{87, "SYSCALL_LSEEK_X", "res:ERRNO fd:FD offset:UINT64 whence:ENUMFLAGS8"},
	{92, "SYSCALL_GETCWD_E", ""},
	{93, "SYSCALL_GETCWD_X", "res:ERRNO path:CHARBUF"},
	{94, "SYSCALL_CHDIR_E", ""},
	{95, "SYSCALL_CHDIR_X", "res:ERRNO path:CHARBUF"},
	{96, "SYSCALL_FCHDIR_E", "fd:FD"},
	{97, "SYSCALL_FCHDIR_X", "res:ERRNO fd:FD"},
	{98, "SYSCALL_MKDIR_E", "path:FSPATH mode:UINT32"},
	{99, "SYSCALL_MKDIR_X", "res:ERRNO"},
	{100, "SYSCALL_RMDIR_E", "path:FSPATH"},
	{101, "SYSCALL_RMDIR_X", "res:ERRNO"},
	{102, "SYSCALL_OPENAT_E", "dirfd:FD name:CHARBUF flags:FLAGS32 mode:UINT32"},
	{103, "SYSCALL_OPENAT_X", "fd:FD"},
	{104, "SYSCALL_LINK_E", "oldpath:FSPATH newpath:FSPATH"},
	{105, "SYSCALL_LINK_X", "res:ERRNO"},
	{106, "SYSCALL_LINKAT_E", "olddir:FD oldpath:CHARBUF newdir:FD newpath:CHARBUF"},
	{107, "SYSCALL_LINKAT_X", "res:ERRNO"},
	{108, "SYSCALL_UNLINK_E", "path:FSPATH"},
	{109, "SYSCALL_UNLINK_X", "res:ERRNO"},
	{110, "SYSCALL_UNLINKAT_E", "dirfd:FD name:CHARBUF"},
	{111, "SYSCALL_UNLINKAT_X", "res:ERRNO"},
	{112, "SYSCALL_PREAD_E", "fd:FD size:UINT32 pos:UINT64"},
	{113, "SYSCALL_PREAD_X", rwExit + " pos:UINT64"},
	{114, "SYSCALL_PWRITE_E", "fd:FD size:UINT32 pos:UINT64"},
	{115, "SYSCALL_PWRITE_X", rwExit + " pos:UINT64"},
	{116, "SYSCALL_READV_E", "fd:FD"},
	{117, "SYSCALL_READV_X", "res:ERRNO size:UINT32 data:BYTEBUF fd:FD"},
	{118, "SYSCALL_WRITEV_E", "fd:FD size:UINT32"},
	{119, "SYSCALL_WRITEV_X", rwExit},
	{120, "SYSCALL_PREADV_E", "fd:FD pos:UINT64"},
	{121, "SYSCALL_PREADV_X", "res:ERRNO size:UINT32 data:BYTEBUF fd:FD pos:UINT64"},
	{122, "SYSCALL_PWRITEV_E", "fd:FD size:UINT32 pos:UINT64"},
	{123, "SYSCALL_PWRITEV_X", rwExit + " pos:UINT64"},
	{124, "SYSCALL_DUP_E", "fd:FD"},
	{125, "SYSCALL_DUP_X", "res:FD"},
	{134, "SYSCALL_NANOSLEEP_E", "#1"},
	{135, "SYSCALL_NANOSLEEP_X", "#2"},
	{140, "SYSCALL_GETRLIMIT_E", "#1"},
	{141, "SYSCALL_GETRLIMIT_X", "#4"},
	{142, "SYSCALL_SETRLIMIT_E", "#1"},
	{143, "SYSCALL_SETRLIMIT_X", "#4"},
	{144, "SYSCALL_PRLIMIT_E", "#2"},
	{145, "SYSCALL_PRLIMIT_X", "#7"},
	{148, "DROP_E", "!ratio:UINT32"},
	{149, "DROP_X", "!ratio:UINT32"},
	{150, "SYSCALL_FCNTL_E", "fd:FD cmd:ENUMFLAGS8"},
	{151, "SYSCALL_FCNTL_X", "res:FD fd:FD cmd:ENUMFLAGS8 #1"},
	{152, "SCHEDSWITCH_6_E", "!next:PID pgft_maj:UINT64 pgft_min:UINT64 vm_size:UINT32 vm_rss:UINT32 vm_swap:UINT32"},
	{154, "SYSCALL_EXECVE_13_E", ""},
	{155, "SYSCALL_EXECVE_13_X", execBase + execVM},
	{156, "SYSCALL_CLONE_16_E", ""},
	{157, "SYSCALL_CLONE_16_X", clone16},
	{158, "SYSCALL_BRK_4_E", "#1"},
	{159, "SYSCALL_BRK_4_X", "#5"},
	{160, "SYSCALL_MMAP_E", "addr:UINT64 length:UINT64 prot:FLAGS32 flags:FLAGS32 fd:FD offset:UINT64"},
	{161, "SYSCALL_MMAP_X", mmapExit + " offset:UINT64"},
	{162, "SYSCALL_MMAP2_E", "addr:UINT64 length:UINT64 prot:FLAGS32 flags:FLAGS32 fd:FD pgoffset:UINT64"},
	{163, "SYSCALL_MMAP2_X", mmapExit + " pgoffset:UINT64"},
	{164, "SYSCALL_MUNMAP_E", "#2"},
	{165, "SYSCALL_MUNMAP_X", "#6"},
	{170, "SYSCALL_IOCTL_3_E", "#3"},
	{171, "SYSCALL_IOCTL_3_X", "#4"},
	{172, "SYSCALL_EXECVE_14_E", ""},
	{173, "SYSCALL_EXECVE_14_X", execBase + execVM + " env:BYTEBUF"},
	{174, "SYSCALL_RENAME_E", ""},
	{175, "SYSCALL_RENAME_X", "res:ERRNO oldpath:FSPATH newpath:FSPATH"},
	{176, "SYSCALL_RENAMEAT_E", ""},
	{177, "SYSCALL_RENAMEAT_X", "res:ERRNO olddirfd:FD oldpath:FSRELPATH newdirfd:FD newpath:FSRELPATH"},
	{178, "SYSCALL_SYMLINK_E", ""},
	{179, "SYSCALL_SYMLINK_X", "res:ERRNO target:CHARBUF linkpath:FSPATH"},
	{180, "SYSCALL_SYMLINKAT_E", ""},
	{181, "SYSCALL_SYMLINKAT_X", "res:ERRNO target:CHARBUF linkdirfd:FD linkpath:FSRELPATH"},
	{182, "SYSCALL_FORK_E", ""},
	{183, "SYSCALL_FORK_X", clone16},
	{184, "SYSCALL_VFORK_E", ""},
	{185, "SYSCALL_VFORK_X", clone16},
	{186, "PROCEXIT_1_E", "!status:ERRNO ret:ERRNO sig:SIGTYPE core:UINT8 reaper_tid:PID"},
	{192, "SYSCALL_SETRESUID_E", "ruid:UID euid:UID suid:UID"},
	{193, "SYSCALL_SETRESUID_X", "res:ERRNO ruid:UID euid:UID suid:UID"},
	{194, "SYSCALL_SETRESGID_E", "rgid:GID egid:GID sgid:GID"},
	{195, "SYSCALL_SETRESGID_X", "res:ERRNO rgid:GID egid:GID sgid:GID"},
	{198, "SYSCALL_SETUID_E", "uid:UID"},
	{199, "SYSCALL_SETUID_X", "res:ERRNO uid:UID"},
	{200, "SYSCALL_SETGID_E", "gid:GID"},
	{201, "SYSCALL_SETGID_X", "res:ERRNO gid:GID"},
	{202, "SYSCALL_GETUID_E", ""},
	{203, "SYSCALL_GETUID_X", "uid:UID"},
	{204, "SYSCALL_GETEUID_E", ""},
	{205, "SYSCALL_GETEUID_X", "euid:UID"},
	{206, "SYSCALL_GETGID_E", ""},
	{207, "SYSCALL_GETGID_X", "gid:GID"},
	{208, "SYSCALL_GETEGID_E", ""},
	{209, "SYSCALL_GETEGID_X", "egid:GID"},
	{210, "SYSCALL_GETRESUID_E", ""},
	{211, "SYSCALL_GETRESUID_X", "#4"},
	{212, "SYSCALL_GETRESGID_E", ""},
	{213, "SYSCALL_GETRESGID_X", "#4"},
	{214, "SYSCALL_EXECVE_15_E", ""},
	{215, "SYSCALL_EXECVE_15_X", execBase + execVM + " comm:CHARBUF env:BYTEBUF"},
	{216, "SYSCALL_CLONE_17_E", ""},
	{217, "SYSCALL_CLONE_17_X", clone17},
	{218, "SYSCALL_FORK_17_E", ""},
	{219, "SYSCALL_FORK_17_X", clone17},
	{220, "SYSCALL_VFORK_17_E", ""},
	{221, "SYSCALL_VFORK_17_X", clone17},
	{222, "SYSCALL_CLONE_20_E", ""},
	{223, "SYSCALL_CLONE_20_X", clone20},
	{224, "SYSCALL_FORK_20_E", ""},
	{225, "SYSCALL_FORK_20_X", clone20},
	{226, "SYSCALL_VFORK_20_E", ""},
	{227, "SYSCALL_VFORK_20_X", clone20},
	{230, "SYSCALL_EXECVE_16_E", ""},
	{231, "SYSCALL_EXECVE_16_X", execBase + execVM + " comm:CHARBUF cgroups:BYTEBUF env:BYTEBUF"},
	{232, "SIGNALDELIVER_E", "!spid:PID dpid:PID sig:SIGTYPE"},
	{234, "PROCINFO_E", "!cpu_usr:UINT64 cpu_sys:UINT64"},
	{236, "SYSCALL_GETDENTS_E", "fd:FD"},
	{237, "SYSCALL_GETDENTS_X", "res:ERRNO fd:FD"},
	{238, "SYSCALL_GETDENTS64_E", "fd:FD"},
	{239, "SYSCALL_GETDENTS64_X", "res:ERRNO fd:FD"},
	{240, "SYSCALL_SETNS_E", "fd:FD nstype:FLAGS32"},
	{241, "SYSCALL_SETNS_X", "res:ERRNO fd:FD nstype:FLAGS32"},
	{242, "SYSCALL_FLOCK_E", "fd:FD operation:FLAGS32"},
	{243, "SYSCALL_FLOCK_X", "res:ERRNO fd:FD operation:FLAGS32"},
	{246, "SOCKET_ACCEPT_5_E", ""},
	{247, "SOCKET_ACCEPT_5_X", accept5},
	{248, "SOCKET_ACCEPT4_5_E", "flags:INT32"},
	{249, "SOCKET_ACCEPT4_5_X", accept5},
	{256, "SYSCALL_MOUNT_E", "#1"},
	{257, "SYSCALL_MOUNT_X", "#5"},
	{258, "SYSCALL_UMOUNT_E", "#1"},
	{259, "SYSCALL_UMOUNT_X", "#2"},
	{264, "SYSCALL_ACCESS_E", "#1"},
	{265, "SYSCALL_ACCESS_X", "#3"},
	{272, "CONTAINER_JSON_E", "!json:CHARBUF"},
	{274, "SYSCALL_SETSID_E", ""},
	{275, "SYSCALL_SETSID_X", "res:PID"},
	{276, "SYSCALL_MKDIR_2_E", "mode:UINT32"},
	{277, "SYSCALL_MKDIR_2_X", "res:ERRNO path:FSPATH mode:UINT32"},
	{278, "SYSCALL_RMDIR_2_E", ""},
	{279, "SYSCALL_RMDIR_2_X", "res:ERRNO path:FSPATH"},
	{280, "NOTIFICATION_E", "!id:UINT64 desc:CHARBUF"},
	{282, "SYSCALL_EXECVE_17_E", ""},
	{283, "SYSCALL_EXECVE_17_X", exec17},
	{284, "SYSCALL_UNSHARE_E", "flags:FLAGS32"},
	{285, "SYSCALL_UNSHARE_X", "res:ERRNO flags:FLAGS32"},
	{286, "INFRASTRUCTURE_EVENT_E", "!source:CHARBUF name:CHARBUF description:CHARBUF scope:CHARBUF"},
	{288, "SYSCALL_EXECVE_18_E", "filename:FSPATH"},
	{289, "SYSCALL_EXECVE_18_X", exec17},
	{292, "SYSCALL_EXECVE_19_E", "filename:FSPATH"},
	{293, "SYSCALL_EXECVE_19_X", exec19},
	{294, "SYSCALL_SETPGID_E", "#2"},
	{295, "SYSCALL_SETPGID_X", "#3"},
	{298, "SYSCALL_SECCOMP_E", "#2"},
	{299, "SYSCALL_SECCOMP_X", "#3"},
	{300, "SYSCALL_UNLINK_2_E", ""},
	{301, "SYSCALL_UNLINK_2_X", "res:ERRNO path:FSPATH"},
	{302, "SYSCALL_UNLINKAT_2_E", ""},
	{303, "SYSCALL_UNLINKAT_2_X", "res:ERRNO dirfd:FD name:FSRELPATH flags:FLAGS32"},
	{304, "SYSCALL_MKDIRAT_E", ""},
	{305, "SYSCALL_MKDIRAT_X", "res:ERRNO dirfd:FD path:FSRELPATH mode:UINT32"},
	{306, "SYSCALL_OPENAT_2_E", "dirfd:FD name:FSRELPATH flags:FLAGS32 mode:UINT32"},
	{307, "SYSCALL_OPENAT_2_X", "fd:FD dirfd:FD name:FSRELPATH flags:FLAGS32 mode:UINT32 dev:UINT32 ino:UINT64"},
	{308, "SYSCALL_LINK_2_E", ""},
	{309, "SYSCALL_LINK_2_X", "res:ERRNO oldpath:FSPATH newpath:FSPATH"},
	{310, "SYSCALL_LINKAT_2_E", ""},
	{311, "SYSCALL_LINKAT_2_X", "res:ERRNO olddir:FD oldpath:FSRELPATH newdir:FD newpath:FSRELPATH flags:FLAGS32"},
	{318, "SYSCALL_RENAMEAT2_E", ""},
	{319, "SYSCALL_RENAMEAT2_X", "res:ERRNO olddirfd:FD oldpath:FSRELPATH newdirfd:FD newpath:FSRELPATH flags:FLAGS32"},
	{322, "PLUGINEVENT_E", "!plugin_id:UINT32 event_data:BYTEBUF"},
	{324, "CONTAINER_JSON_2_E", "!json:CHARBUF"},
	{326, "SYSCALL_OPENAT2_E", "dirfd:FD name:FSRELPATH flags:FLAGS32 mode:UINT32 resolve:FLAGS32"},
	{327, "SYSCALL_OPENAT2_X", "fd:FD dirfd:FD name:FSRELPATH flags:FLAGS32 mode:UINT32 resolve:FLAGS32 dev:UINT32 ino:UINT64"},
	{328, "SYSCALL_MPROTECT_E", "#3"},
	{329, "SYSCALL_MPROTECT_X", "#4"},
	{330, "SYSCALL_EXECVEAT_E", "dirfd:FD pathname:FSRELPATH flags:FLAGS32"},
	{331, "SYSCALL_EXECVEAT_X", execAt},
	{334, "SYSCALL_CLONE3_E", ""},
	{335, "SYSCALL_CLONE3_X", clone20},
	{354, "USER_ADDED_E", "!uid:UINT32 gid:UINT32 name:CHARBUF home:CHARBUF shell:CHARBUF container_id:CHARBUF"},
	{356, "USER_DELETED_E", "!uid:UINT32 gid:UINT32 name:CHARBUF home:CHARBUF shell:CHARBUF container_id:CHARBUF"},
	{358, "GROUP_ADDED_E", "!gid:UINT32 name:CHARBUF container_id:CHARBUF"},
	{360, "GROUP_DELETED_E", "!gid:UINT32 name:CHARBUF container_id:CHARBUF"},
	{362, "SYSCALL_DUP2_E", "fd:FD"},
	{363, "SYSCALL_DUP2_X", "res:FD oldfd:FD newfd:FD"},
	{364, "SYSCALL_DUP3_E", "fd:FD"},
	{365, "SYSCALL_DUP3_X", "res:FD oldfd:FD newfd:FD flags:FLAGS32"},
	{366, "SYSCALL_DUP_1_E", "fd:FD"},
	{367, "SYSCALL_DUP_1_X", "res:FD oldfd:FD"},
	{388, "SOCKET_ACCEPT4_6_E", "flags:INT32"},
	{389, "SOCKET_ACCEPT4_6_X", accept5 + " flags:INT32"},
	{392, "SYSCALL_PIPE2_E", ""},
	{393, "SYSCALL_PIPE2_X", "res:ERRNO fd1:FD fd2:FD ino:UINT64 flags:FLAGS32"},
	{402, "ASYNCEVENT_E", "!plugin_id:UINT32 name:CHARBUF data:BYTEBUF"},
}

// eventTable is indexed by event type; built once from eventDefs and never modified.
var eventTable = buildEventTable()

func buildEventTable() []EventInfo {
	var maxCode EventType
	for _, d := range eventDefs {
		maxCode = max(maxCode, d.code)
	}
	t := make([]EventInfo, maxCode+1)
	for _, d := range eventDefs {
		spec := d.params
		ei := EventInfo{Name: d.name, Large: largePayload(d.code)}
		if strings.HasPrefix(spec, "!") {
			ei.Meta = true
			spec = spec[1:]
		}
		for _, f := range strings.Fields(spec) {
			if strings.HasPrefix(f, "#") {
				n, _ := strconv.Atoi(f[1:])
				for range n {
					ei.Params = append(ei.Params, ParamInfo{})
				}
				continue
			}
			name, typ, _ := strings.Cut(f, ":")
			ei.Params = append(ei.Params, ParamInfo{Name: name, Type: paramTypeNames[typ]})
		}
		t[d.code] = ei
	}
	return t
}
