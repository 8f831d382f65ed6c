// Package raw defines the raw syscall records that producers send to sysflow.raw and
// processors read: the Go form of schemas/raw.avsc, its operation codes and its codec.
//
// A Kafka record holds one Batch: events of one process (one OID), in capture order, keyed by
// the process key. Op numbers are part of the wire contract: never renumber or reuse one.
package raw

// Op is what a raw event records. The numbers are stable wire values.
type Op int32

// Operation codes. Exit-time values (ret, fds) are always filled in; failed calls are
// recorded with their negative return value.
const (
	OpUnknown Op = 0

	// Process lifecycle.
	OpClone  Op = 1 // clone/fork/vfork/clone3; flags = clone flags; ret = child tid (parent side) or 0 (child side: proc set, fds = the inherited fd table when the source knows it)
	OpExec   Op = 2 // execve/execveat; path = filename; proc = post-exec attributes
	OpExit   Op = 3 // thread exit; ret = exit code in wait-status form; tid == hpid for the main thread
	OpSetuid Op = 4 // setuid/setresuid (and 32-bit forms); uid = requested uid; path = its user name ("" for setresuid, "<NA>" unknown); flags 1 for setresuid; proc = attributes after the call, if known
	OpSetns  Op = 5 // setns; fd = namespace fd; flags = nstype

	// File descriptors.
	OpOpen     Op = 10 // open/openat/openat2/creat; dirfd, path, flags (O_*), mode; ret = new fd; O_DIRECTORY marks a directory
	OpClose    Op = 11 // close; fd
	OpDup      Op = 12 // dup/dup2/dup3/fcntl(F_DUPFD*); fd = old fd; ret = new fd
	OpPipe     Op = 13 // pipe/pipe2/socketpair; fds = the two new fds
	OpSocket   Op = 14 // socket; mode = domain, flags = type; proto in sock; ret = new fd
	OpConnect  Op = 15 // connect; fd; sock = local/remote tuple after the call
	OpAccept   Op = 16 // accept/accept4; fd = listening fd; ret = new fd; sock = tuple of the new fd
	OpRead     Op = 17 // read/pread/readv/preadv/recv/recvfrom/recvmsg/recvmmsg; fd; ret = bytes (or messages)
	OpWrite    Op = 18 // write/pwrite/writev/pwritev/send/sendto/sendmsg/sendmmsg; fd; ret = bytes (or messages)
	OpShutdown Op = 19 // shutdown; fd; flags = how
	OpMmap     Op = 20 // file-backed mmap; fd; flags = mmap flags; mode = prot
	OpChdir    Op = 21 // chdir (path) or fchdir (fd)

	// Path operations (FileEvents).
	OpMkdir   Op = 30 // mkdir/mkdirat; dirfd, path, mode
	OpRmdir   Op = 31 // rmdir; path
	OpUnlink  Op = 32 // unlink/unlinkat; dirfd, path; flags = AT_REMOVEDIR when set
	OpLink    Op = 33 // link/linkat; dirfd/path = old, dirfd2/path2 = new
	OpSymlink Op = 34 // symlink/symlinkat; path = target (verbatim), dirfd2/path2 = link path
	OpRename  Op = 35 // rename/renameat/renameat2; dirfd/path = old, dirfd2/path2 = new

	// Records that are not syscalls.
	OpSnapshot  Op = 50 // a process (tid == hpid) or thread known before capture; proc and fds set
	OpDrop      Op = 51 // events were lost upstream of this point; ret = count lost (may be an estimate); flags = where (DropKernel, DropQueue, DropFilter; 0 unspecified)
	OpEnd       Op = 52 // the capture ended for good (end of a replay, producer shutdown): truncate flows
	OpContainer Op = 53 // a container's metadata changed (the runtime answered, or the container restarted): proc.container holds all of it, the other proc fields are empty

	// OpDrop, OpEnd and OpContainer concern a whole exporter, not one process: producers send
	// them to every partition of sysflow.raw, in batches of their own with hpid 0.
)

var opNames = map[Op]string{
	OpClone: "CLONE", OpExec: "EXEC", OpExit: "EXIT", OpSetuid: "SETUID", OpSetns: "SETNS",
	OpOpen: "OPEN", OpClose: "CLOSE", OpDup: "DUP", OpPipe: "PIPE", OpSocket: "SOCKET",
	OpConnect: "CONNECT", OpAccept: "ACCEPT", OpRead: "READ", OpWrite: "WRITE",
	OpShutdown: "SHUTDOWN", OpMmap: "MMAP", OpChdir: "CHDIR",
	OpMkdir: "MKDIR", OpRmdir: "RMDIR", OpUnlink: "UNLINK", OpLink: "LINK",
	OpSymlink: "SYMLINK", OpRename: "RENAME",
	OpSnapshot: "SNAPSHOT", OpDrop: "DROP", OpEnd: "END", OpContainer: "CONTAINER",
}

// String returns the operation's name, or OP(<n>) for a code this build does not know.
func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return "OP(" + itoa(int64(o)) + ")"
}

// Known reports whether o is an operation code this build understands.
func (o Op) Known() bool { return o >= 0 && int(o) < len(knownOps) && knownOps[o] }

// knownOps is opNames as a table: Known runs once per event.
var knownOps = func() (t [64]bool) {
	for op := range opNames {
		t[op] = true
	}
	return t
}()

// FD kinds (FD.Kind).
const (
	FDUnknown = 0
	FDFile    = 1
	FDDir     = 2
	FDIPv4    = 3
	FDIPv6    = 4
	FDUnix    = 5
	FDPipe    = 6
	FDOther   = 7
)

// Special values.
const (
	AtFDCWD = -100 // dirfd meaning the current working directory
	NoFD    = -1
)

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
