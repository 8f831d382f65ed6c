//go:build ignore

/* events.h: the records that cross the ring buffer, and the enums that give
 * them meaning. bpf2go generates the Go form of every type here (-type in
 * gen.go); never mirror them by hand.
 *
 * Every record starts with struct sf_header. Its kind says which struct it
 * is; strings follow the fixed part, each NUL-terminated, with their lengths
 * (NUL included, 0 when absent) in the fixed part. */
#pragma once

/* What a record reports. The numbers are raw.Op's (internal/raw/op.go): the
 * Go side checks that they agree. */
enum sf_op {
	SF_OP_CLONE = 1,
	SF_OP_EXEC = 2,
	SF_OP_EXIT = 3,
	SF_OP_SETUID = 4,
	SF_OP_SETNS = 5,
	SF_OP_OPEN = 10,
	SF_OP_CLOSE = 11,
	SF_OP_DUP = 12,
	SF_OP_PIPE = 13,
	SF_OP_SOCKET = 14,
	SF_OP_CONNECT = 15,
	SF_OP_ACCEPT = 16,
	SF_OP_READ = 17,
	SF_OP_WRITE = 18,
	SF_OP_SHUTDOWN = 19,
	SF_OP_MMAP = 20,
	SF_OP_CHDIR = 21,
	SF_OP_MKDIR = 30,
	SF_OP_RMDIR = 31,
	SF_OP_UNLINK = 32,
	SF_OP_LINK = 33,
	SF_OP_SYMLINK = 34,
	SF_OP_RENAME = 35,
};

/* Which struct a record is. */
enum sf_kind {
	SF_KIND_SYS = 1,  /* struct sf_sys_event, then path and path2 */
	SF_KIND_SOCK = 2, /* struct sf_sock_event */
	SF_KIND_PROC = 3, /* struct sf_proc_event, then its strings */
};

/* x86-64 syscall numbers of the calls captured (sf_header.nr). The Go side
 * checks them against golang.org/x/sys/unix. */
enum sf_nr {
	SF_NR_READ = 0,
	SF_NR_WRITE = 1,
	SF_NR_OPEN = 2,
	SF_NR_CLOSE = 3,
	SF_NR_MMAP = 9,
	SF_NR_PREAD64 = 17,
	SF_NR_PWRITE64 = 18,
	SF_NR_READV = 19,
	SF_NR_WRITEV = 20,
	SF_NR_PIPE = 22,
	SF_NR_DUP = 32,
	SF_NR_DUP2 = 33,
	SF_NR_SOCKET = 41,
	SF_NR_CONNECT = 42,
	SF_NR_ACCEPT = 43,
	SF_NR_SENDTO = 44,
	SF_NR_RECVFROM = 45,
	SF_NR_SENDMSG = 46,
	SF_NR_RECVMSG = 47,
	SF_NR_SHUTDOWN = 48,
	SF_NR_SOCKETPAIR = 53,
	SF_NR_CLONE = 56,
	SF_NR_FORK = 57,
	SF_NR_VFORK = 58,
	SF_NR_EXECVE = 59,
	SF_NR_FCNTL = 72,
	SF_NR_CHDIR = 80,
	SF_NR_FCHDIR = 81,
	SF_NR_RENAME = 82,
	SF_NR_MKDIR = 83,
	SF_NR_RMDIR = 84,
	SF_NR_CREAT = 85,
	SF_NR_LINK = 86,
	SF_NR_UNLINK = 87,
	SF_NR_SYMLINK = 88,
	SF_NR_SETUID = 105,
	SF_NR_SETRESUID = 117,
	SF_NR_OPENAT = 257,
	SF_NR_MKDIRAT = 258,
	SF_NR_UNLINKAT = 263,
	SF_NR_RENAMEAT = 264,
	SF_NR_LINKAT = 265,
	SF_NR_SYMLINKAT = 266,
	SF_NR_ACCEPT4 = 288,
	SF_NR_DUP3 = 292,
	SF_NR_PIPE2 = 293,
	SF_NR_PREADV = 295,
	SF_NR_PWRITEV = 296,
	SF_NR_RECVMMSG = 299,
	SF_NR_SENDMMSG = 307,
	SF_NR_SETNS = 308,
	SF_NR_RENAMEAT2 = 316,
	SF_NR_EXECVEAT = 322,
	SF_NR_PREADV2 = 327,
	SF_NR_PWRITEV2 = 328,
	SF_NR_CLONE3 = 435,
	SF_NR_OPENAT2 = 437,
};

/* sf_header.flags */
enum sf_header_flag {
	SF_F_GROUP_DEAD = 1, /* exit: the last thread of the process exited */
	SF_F_THREAD = 2,     /* clone: the new task is a thread (CLONE_THREAD) */
	SF_F_TRUNCATED = 4,  /* a string did not fit and was cut */
};

/* The common head of every record. */
struct sf_header {
	__u64 ts;    /* CLOCK_BOOTTIME ns when the record was made */
	__u64 start; /* thread-group leader's start_boottime, ns: the process identity */
	__u32 tid;   /* host thread id */
	__u32 tgid;  /* host process id */
	__u16 kind;  /* enum sf_kind */
	__u16 op;    /* enum sf_op */
	__u16 nr;    /* syscall number, 0 for records made on sched events */
	__u16 flags; /* enum sf_header_flag bits */
};

/* A syscall: numbers, then path (path_len bytes) and path2 (path2_len bytes). */
struct sf_sys_event {
	struct sf_header h;
	__s64 ret;
	__u64 flags;    /* open/clone/mmap/... flags, as raw.Event.Flags */
	__s32 fd;       /* the fd operated on, -1 if none */
	__s32 dirfd;    /* dirfd of path, -100 (AT_FDCWD) if none */
	__s32 fd2;      /* dirfd of path2, or the second fd of pipe/socketpair */
	__s32 mode;     /* open/mkdir mode, mmap prot, socket domain */
	__s32 uid;      /* setuid/setresuid: requested uid, else -1 */
	__u16 path_len;
	__u16 path2_len;
};

/* A socket's addresses, read from struct sock. Ports in host order,
 * addresses in network order (the first 4 bytes for AF_INET). */
struct sf_sock {
	__u16 family;
	__u16 proto;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 path_len; /* bytes of path used (AF_UNIX; abstract names start with NUL) */
	char path[108];
	__u16 pad;
};

/* socket, connect, accept: the syscall and the socket's tuple after it. */
struct sf_sock_event {
	struct sf_sys_event sys;
	struct sf_sock sock;
};

/* exec (made on sched_process_exec) and the child side of clone: the
 * process's attributes, then its strings in this order: filename (exec
 * only), exe, args (argv, NUL-separated), cwd, cgroup path. A thread's clone
 * record carries no strings. */
struct sf_proc_event {
	struct sf_header h;
	__s64 ret;
	__u64 flags;  /* clone flags */
	__u64 pstart; /* parent's leader start_boottime, ns */
	__u32 ppid;   /* parent's host tgid */
	__u32 uid;    /* effective uid */
	__u32 gid;    /* effective gid */
	__u32 tty;    /* controlling tty, encoded as in /proc/<pid>/stat */
	__u32 vpid;   /* tgid in the process's own pid namespace */
	__u16 filename_len;
	__u16 exe_len;
	__u16 args_len;
	__u16 cwd_len;
	__u16 cgroup_len;
	__u16 pad;
	char comm[16];
};

/* The loader's settings (map settings, one entry). */
struct sf_config {
	__u32 self_tgid;    /* never capture this process (the producer) */
	__u32 filter_pids;  /* non-zero: consult excluded_pids */
	__u32 filter_comms; /* non-zero: consult excluded_comms */
	__u32 wakeup_bytes; /* wake the reader once this much data waits */
	__u32 filter_tgids; /* non-zero: consult filtered_tgids */
};

/* Key of excluded_comms: a task comm, NUL-padded. */
struct sf_comm {
	char comm[16];
};

/* Key of lost_by_proc: the process whose record could not be reserved. */
struct sf_lost_key {
	__u64 start;
	__u32 tgid;
	__u32 pad;
};
