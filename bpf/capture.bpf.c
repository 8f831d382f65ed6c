//go:build ignore

/* capture.bpf.c: sfstream's syscall capture.
 *
 * Hooks. One raw tracepoint on sys_exit sees every syscall's return with
 * the task's saved user registers (pt_regs): on x86-64 the kernel leaves
 * the argument registers untouched across a syscall, so the exit hook reads
 * the arguments, the result, and the state the call produced (new fd, socket
 * tuple) in one place. That needs no sys_enter hook and no per-thread map of
 * entry arguments: half the programs run per syscall, no map update and
 * delete per call, and no enter/exit pairs broken at attach or by lost
 * records. The one call whose registers and memory do not survive is a
 * successful execve; sched_process_exec records it (with argv read from the
 * new image), and sched_process_exit records every thread's exit.
 *
 * Raw tracepoints rather than syscalls:sys_{enter,exit}_X: one attach point
 * instead of ~110, no tracefs needed (it is often not mounted), and no
 * trace-event buffer is built per call. The cost is that the program runs
 * on every syscall's exit and rejects the uninteresting ones itself (a
 * compare tree on the syscall number; see the benchmark in
 * producer/capture for the measured overhead).
 *
 * Records: events.h. Filtering: maps.h (the producer's own tgid, excluded
 * pids and comms, the tgids its filter excluded). 32-bit (compat) syscalls are not captured. */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "events.h"
#include "maps.h"
#include "task.h"
#include "sock.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Keep every record type in the object's BTF for bpf2go. */
const struct sf_sys_event *unused_sys __attribute__((unused));
const struct sf_sock_event *unused_sock __attribute__((unused));
const struct sf_proc_event *unused_proc __attribute__((unused));
const enum sf_op *unused_op __attribute__((unused));
const enum sf_kind *unused_kind __attribute__((unused));
const enum sf_nr *unused_nr __attribute__((unused));
const enum sf_header_flag *unused_flag __attribute__((unused));

#define SF_AT_FDCWD -100
#define SF_SIGCHLD 17
#define SF_CLONE_VM 0x00000100
#define SF_CLONE_VFORK 0x00004000
#define SF_CLONE_THREAD 0x00010000
#define SF_MAP_ANONYMOUS 0x20
#define SF_F_DUPFD 0
#define SF_F_DUPFD_CLOEXEC 1030
#define SF_O_CREAT_WRONLY_TRUNC 01101 /* creat(2) is open(O_CREAT|O_WRONLY|O_TRUNC) */

/* String limits in proc records; their sum stays below SF_OFF_MASK. */
#define SF_FILENAME_MAX 512
#define SF_EXE_MAX 1024
#define SF_ARGS_MAX 4096
#define SF_CWD_MAX 1024
#define SF_CGROUP_MAX 512

/* Arguments as the syscall saw them. */
struct sf_args {
	unsigned long a[6];
};

static __always_inline void read_args(struct pt_regs *regs, struct sf_args *args)
{
	args->a[0] = regs->di;
	args->a[1] = regs->si;
	args->a[2] = regs->dx;
	args->a[3] = regs->r10;
	args->a[4] = regs->r8;
	args->a[5] = regs->r9;
}

/* emit_fd sends a record without strings: the hot path (read, write,
 * close, ...), reserved in place. */
static __always_inline int emit_fd(struct task_struct *task, __u64 pid_tgid, __u16 nr, __u16 op, long ret,
				   int fd, __u64 flags, int mode, int fd2, int uid)
{
	struct sf_sys_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(pid_tgid >> 32, leader_start(task));
		return 0;
	}
	fill_header(&e->h, task, pid_tgid, SF_KIND_SYS, op, nr);
	e->ret = ret;
	e->flags = flags;
	e->fd = fd;
	e->dirfd = SF_AT_FDCWD;
	e->fd2 = fd2;
	e->mode = mode;
	e->uid = uid;
	e->path_len = 0;
	e->path2_len = 0;
	bpf_ringbuf_submit(e, wakeup());
	return 0;
}

/* emit_path sends a record with up to two user-space paths. */
static __always_inline int emit_path(struct task_struct *task, __u64 pid_tgid, __u16 nr, __u16 op, long ret,
				     __u64 flags, int mode, int dirfd, const void *path, int dirfd2,
				     const void *path2)
{
	struct sf_scratch *s = get_scratch();
	if (!s)
		return 0;
	struct sf_sys_event *e = (struct sf_sys_event *)s->buf;
	__u8 *data = s->buf + sizeof(*e);

	fill_header(&e->h, task, pid_tgid, SF_KIND_SYS, op, nr);
	e->ret = ret;
	e->flags = flags;
	e->fd = -1;
	e->dirfd = dirfd;
	e->fd2 = dirfd2;
	e->mode = mode;
	e->uid = -1;

	__u32 n1 = put_ustr(data, 0, path, SF_PIECE_MAX);
	__u32 n2 = 0;
	if (path2)
		n2 = put_ustr(data, n1, path2, SF_PIECE_MAX);
	e->path_len = n1;
	e->path2_len = n2;

	__u64 size = sizeof(*e) + n1 + n2;
	barrier_var(size); /* check the register passed, not a copy */
	if (size > SF_SCRATCH_SIZE)
		return 0;
	if (bpf_ringbuf_output(&events, s->buf, size, wakeup()))
		count_lost(pid_tgid >> 32, e->h.start);
	return 0;
}

/* emit_sock sends socket, connect and accept with the tuple of sockfd. */
static __always_inline int emit_sock(struct task_struct *task, __u64 pid_tgid, __u16 nr, __u16 op, long ret,
				     int fd, int sockfd, __u64 flags, int mode)
{
	struct sf_sock_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(pid_tgid >> 32, leader_start(task));
		return 0;
	}
	fill_header(&e->sys.h, task, pid_tgid, SF_KIND_SOCK, op, nr);
	e->sys.ret = ret;
	e->sys.flags = flags;
	e->sys.fd = fd;
	e->sys.dirfd = SF_AT_FDCWD;
	e->sys.fd2 = -1;
	e->sys.mode = mode;
	e->sys.uid = -1;
	e->sys.path_len = 0;
	e->sys.path2_len = 0;
	__builtin_memset(&e->sock, 0, sizeof(e->sock));
	if (sockfd >= 0)
		read_sock(task, sockfd, &e->sock);
	bpf_ringbuf_submit(e, wakeup());
	return 0;
}

/* emit_proc sends a process's attributes: on exec (filename and exe from
 * bprm) and on the child side of clone (exe from the mm). */
static __always_inline int emit_proc(struct task_struct *task, __u64 pid_tgid, __u16 nr, __u16 op,
				     __u16 hflags, __u64 flags, const char *filename, struct file *exe,
				     bool strings)
{
	struct sf_scratch *s = get_scratch();
	if (!s)
		return 0;
	struct sf_proc_event *e = (struct sf_proc_event *)s->buf;
	__u8 *data = s->buf + sizeof(*e);

	fill_header(&e->h, task, pid_tgid, SF_KIND_PROC, op, nr);
	e->h.flags = hflags;
	e->ret = 0;
	e->flags = flags;
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->pstart = leader_start(parent);
	e->uid = BPF_CORE_READ(task, cred, euid.val);
	e->gid = BPF_CORE_READ(task, cred, egid.val);
	e->tty = tty_nr(task);
	e->vpid = vpid(task);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	e->filename_len = 0;
	e->exe_len = 0;
	e->args_len = 0;
	e->cwd_len = 0;
	e->cgroup_len = 0;
	e->pad = 0;

	__u32 off = 0;
	if (strings) {
		bool cut = false;
		__u32 n = put_kstr(data, off, filename, SF_FILENAME_MAX);
		e->filename_len = n;
		off += n;

		n = put_file_path(off, s, exe, SF_EXE_MAX, &cut);
		e->exe_len = n;
		off += n;

		struct mm_struct *mm = BPF_CORE_READ(task, mm);
		unsigned long as = BPF_CORE_READ(mm, arg_start);
		unsigned long ae = BPF_CORE_READ(mm, arg_end);
		__u64 len = ae > as ? ae - as : 0;
		if (len > SF_ARGS_MAX) {
			len = SF_ARGS_MAX;
			cut = true;
		}
		/* A no-op for the values above that bounds the register the
		 * helper gets (clang may check a copy). */
		asm volatile("%[len] &= 0x1fff" : [len] "+r"(len));
		if (len > 0 && off <= SF_OFF_MASK &&
		    bpf_probe_read_user(at(data, off), len, (const void *)as) == 0) {
			*at(data, off + len - 1) = 0;
			e->args_len = len;
			off += len;
		}

		n = put_path(off, s, BPF_CORE_READ(task, fs, pwd.mnt), BPF_CORE_READ(task, fs, pwd.dentry),
			     SF_CWD_MAX, &cut);
		e->cwd_len = n;
		off += n;

		n = put_cgroup(off, s, task, SF_CGROUP_MAX, &cut);
		e->cgroup_len = n;
		off += n;
		if (cut)
			e->h.flags |= SF_F_TRUNCATED;
	}

	__u64 size = sizeof(*e) + off;
	barrier_var(size);
	if (size > SF_SCRATCH_SIZE)
		return 0;
	if (bpf_ringbuf_output(&events, s->buf, size, wakeup()))
		count_lost(pid_tgid >> 32, e->h.start);
	return 0;
}

static __always_inline __u64 clone_flags(__u16 nr, struct sf_args *a)
{
	__u64 flags = 0;
	switch (nr) {
	case SF_NR_CLONE:
		return a->a[0];
	case SF_NR_FORK:
		return SF_SIGCHLD;
	case SF_NR_VFORK:
		return SF_CLONE_VFORK | SF_CLONE_VM | SF_SIGCHLD;
	case SF_NR_CLONE3:
		/* struct clone_args starts with its flags. */
		bpf_probe_read_user(&flags, sizeof(flags), (const void *)a->a[0]);
		return flags;
	}
	return 0;
}

static __always_inline int on_clone(struct task_struct *task, __u64 pid_tgid, __u16 nr, long ret,
				    struct sf_args *a)
{
	__u64 flags = clone_flags(nr, a);
	if (ret != 0)
		return emit_fd(task, pid_tgid, nr, SF_OP_CLONE, ret, -1, flags, 0, -1, -1);
	/* The child's first return to user space. */
	bool thread = flags & SF_CLONE_THREAD;
	struct file *exe = NULL;
	if (!thread)
		exe = BPF_CORE_READ(task, mm, exe_file);
	return emit_proc(task, pid_tgid, nr, SF_OP_CLONE, thread ? SF_F_THREAD : 0, flags, NULL, exe, !thread);
}

static __always_inline int on_pipe(struct task_struct *task, __u64 pid_tgid, __u16 nr, long ret,
				   const void *ufds, __u64 flags, int mode)
{
	int fds[2] = {-1, -1};
	if (ret == 0)
		bpf_probe_read_user(fds, sizeof(fds), ufds);
	return emit_fd(task, pid_tgid, nr, SF_OP_PIPE, ret, fds[0], flags, mode, fds[1], -1);
}

static __always_inline int on_openat2(struct task_struct *task, __u64 pid_tgid, long ret, struct sf_args *a)
{
	struct open_how how = {};
	bpf_probe_read_user(&how, sizeof(how), (const void *)a->a[2]);
	return emit_path(task, pid_tgid, SF_NR_OPENAT2, SF_OP_OPEN, ret, how.flags, how.mode, a->a[0],
			 (const void *)a->a[1], SF_AT_FDCWD, NULL);
}

/* dispatch turns one syscall exit into a record, or nothing. regs is a copy
 * on the stack. */
static __always_inline int dispatch(struct pt_regs *regs, __u16 nr, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (skip_tgid(pid_tgid >> 32))
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (in_compat_syscall(task) || filtered(pid_tgid >> 32, task))
		return 0;

	struct sf_args a;
	read_args(regs, &a);
	int fd = (int)a.a[0];

	switch (nr) {
	case SF_NR_READ:
	case SF_NR_PREAD64:
	case SF_NR_READV:
	case SF_NR_PREADV:
	case SF_NR_PREADV2:
	case SF_NR_RECVFROM:
	case SF_NR_RECVMSG:
	case SF_NR_RECVMMSG:
		return emit_fd(task, pid_tgid, nr, SF_OP_READ, ret, fd, 0, 0, -1, -1);
	case SF_NR_WRITE:
	case SF_NR_PWRITE64:
	case SF_NR_WRITEV:
	case SF_NR_PWRITEV:
	case SF_NR_PWRITEV2:
	case SF_NR_SENDTO:
	case SF_NR_SENDMSG:
	case SF_NR_SENDMMSG:
		return emit_fd(task, pid_tgid, nr, SF_OP_WRITE, ret, fd, 0, 0, -1, -1);
	case SF_NR_CLOSE:
		return emit_fd(task, pid_tgid, nr, SF_OP_CLOSE, ret, fd, 0, 0, -1, -1);
	case SF_NR_SHUTDOWN:
		return emit_fd(task, pid_tgid, nr, SF_OP_SHUTDOWN, ret, fd, a.a[1], 0, -1, -1);
	case SF_NR_DUP:
	case SF_NR_DUP2:
		return emit_fd(task, pid_tgid, nr, SF_OP_DUP, ret, fd, 0, 0, -1, -1);
	case SF_NR_DUP3:
		return emit_fd(task, pid_tgid, nr, SF_OP_DUP, ret, fd, a.a[2], 0, -1, -1);
	case SF_NR_FCNTL:
		if (a.a[1] != SF_F_DUPFD && a.a[1] != SF_F_DUPFD_CLOEXEC)
			return 0;
		return emit_fd(task, pid_tgid, nr, SF_OP_DUP, ret, fd, a.a[1], 0, -1, -1);
	case SF_NR_MMAP:
		if ((int)a.a[4] < 0 || (a.a[3] & SF_MAP_ANONYMOUS))
			return 0;
		return emit_fd(task, pid_tgid, nr, SF_OP_MMAP, ret, (int)a.a[4], a.a[3], (int)a.a[2], -1, -1);
	case SF_NR_SETNS:
		return emit_fd(task, pid_tgid, nr, SF_OP_SETNS, ret, fd, a.a[1], 0, -1, -1);
	case SF_NR_FCHDIR:
		return emit_fd(task, pid_tgid, nr, SF_OP_CHDIR, ret, fd, 0, 0, -1, -1);
	case SF_NR_SETUID:
		return emit_fd(task, pid_tgid, nr, SF_OP_SETUID, ret, -1, 0, 0, -1, (int)a.a[0]);
	case SF_NR_SETRESUID:
		return emit_fd(task, pid_tgid, nr, SF_OP_SETUID, ret, -1, 1, 0, -1, (int)a.a[0]);
	case SF_NR_PIPE:
		return on_pipe(task, pid_tgid, nr, ret, (const void *)a.a[0], 0, 0);
	case SF_NR_PIPE2:
		return on_pipe(task, pid_tgid, nr, ret, (const void *)a.a[0], a.a[1], 0);
	case SF_NR_SOCKETPAIR:
		return on_pipe(task, pid_tgid, nr, ret, (const void *)a.a[3], a.a[1], (int)a.a[0]);
	case SF_NR_SOCKET:
		return emit_sock(task, pid_tgid, nr, SF_OP_SOCKET, ret, -1, (int)ret, a.a[1], (int)a.a[0]);
	case SF_NR_CONNECT:
		return emit_sock(task, pid_tgid, nr, SF_OP_CONNECT, ret, fd, fd, 0, 0);
	case SF_NR_ACCEPT:
		return emit_sock(task, pid_tgid, nr, SF_OP_ACCEPT, ret, fd, (int)ret, 0, 0);
	case SF_NR_ACCEPT4:
		return emit_sock(task, pid_tgid, nr, SF_OP_ACCEPT, ret, fd, (int)ret, a.a[3], 0);
	case SF_NR_CLONE:
	case SF_NR_FORK:
	case SF_NR_VFORK:
	case SF_NR_CLONE3:
		return on_clone(task, pid_tgid, nr, ret, &a);
	case SF_NR_EXECVE:
		if (ret == 0)
			return 0; /* recorded by sched_process_exec */
		return emit_path(task, pid_tgid, nr, SF_OP_EXEC, ret, 0, 0, SF_AT_FDCWD, (const void *)a.a[0],
				 SF_AT_FDCWD, NULL);
	case SF_NR_EXECVEAT:
		if (ret == 0)
			return 0;
		return emit_path(task, pid_tgid, nr, SF_OP_EXEC, ret, a.a[4], 0, fd, (const void *)a.a[1],
				 SF_AT_FDCWD, NULL);
	case SF_NR_OPEN:
		return emit_path(task, pid_tgid, nr, SF_OP_OPEN, ret, a.a[1], a.a[2], SF_AT_FDCWD,
				 (const void *)a.a[0], SF_AT_FDCWD, NULL);
	case SF_NR_CREAT:
		return emit_path(task, pid_tgid, nr, SF_OP_OPEN, ret, SF_O_CREAT_WRONLY_TRUNC, a.a[1],
				 SF_AT_FDCWD, (const void *)a.a[0], SF_AT_FDCWD, NULL);
	case SF_NR_OPENAT:
		return emit_path(task, pid_tgid, nr, SF_OP_OPEN, ret, a.a[2], a.a[3], fd, (const void *)a.a[1],
				 SF_AT_FDCWD, NULL);
	case SF_NR_OPENAT2:
		return on_openat2(task, pid_tgid, ret, &a);
	case SF_NR_CHDIR:
		return emit_path(task, pid_tgid, nr, SF_OP_CHDIR, ret, 0, 0, SF_AT_FDCWD, (const void *)a.a[0],
				 SF_AT_FDCWD, NULL);
	case SF_NR_MKDIR:
		return emit_path(task, pid_tgid, nr, SF_OP_MKDIR, ret, 0, a.a[1], SF_AT_FDCWD,
				 (const void *)a.a[0], SF_AT_FDCWD, NULL);
	case SF_NR_MKDIRAT:
		return emit_path(task, pid_tgid, nr, SF_OP_MKDIR, ret, 0, a.a[2], fd, (const void *)a.a[1],
				 SF_AT_FDCWD, NULL);
	case SF_NR_RMDIR:
		return emit_path(task, pid_tgid, nr, SF_OP_RMDIR, ret, 0, 0, SF_AT_FDCWD, (const void *)a.a[0],
				 SF_AT_FDCWD, NULL);
	case SF_NR_UNLINK:
		return emit_path(task, pid_tgid, nr, SF_OP_UNLINK, ret, 0, 0, SF_AT_FDCWD,
				 (const void *)a.a[0], SF_AT_FDCWD, NULL);
	case SF_NR_UNLINKAT:
		return emit_path(task, pid_tgid, nr, SF_OP_UNLINK, ret, a.a[2], 0, fd, (const void *)a.a[1],
				 SF_AT_FDCWD, NULL);
	case SF_NR_LINK:
		return emit_path(task, pid_tgid, nr, SF_OP_LINK, ret, 0, 0, SF_AT_FDCWD, (const void *)a.a[0],
				 SF_AT_FDCWD, (const void *)a.a[1]);
	case SF_NR_LINKAT:
		return emit_path(task, pid_tgid, nr, SF_OP_LINK, ret, a.a[4], 0, fd, (const void *)a.a[1],
				 (int)a.a[2], (const void *)a.a[3]);
	case SF_NR_SYMLINK:
		return emit_path(task, pid_tgid, nr, SF_OP_SYMLINK, ret, 0, 0, SF_AT_FDCWD,
				 (const void *)a.a[0], SF_AT_FDCWD, (const void *)a.a[1]);
	case SF_NR_SYMLINKAT:
		return emit_path(task, pid_tgid, nr, SF_OP_SYMLINK, ret, 0, 0, SF_AT_FDCWD,
				 (const void *)a.a[0], (int)a.a[1], (const void *)a.a[2]);
	case SF_NR_RENAME:
		return emit_path(task, pid_tgid, nr, SF_OP_RENAME, ret, 0, 0, SF_AT_FDCWD,
				 (const void *)a.a[0], SF_AT_FDCWD, (const void *)a.a[1]);
	case SF_NR_RENAMEAT:
		return emit_path(task, pid_tgid, nr, SF_OP_RENAME, ret, 0, 0, fd, (const void *)a.a[1],
				 (int)a.a[2], (const void *)a.a[3]);
	case SF_NR_RENAMEAT2:
		return emit_path(task, pid_tgid, nr, SF_OP_RENAME, ret, a.a[4], 0, fd, (const void *)a.a[1],
				 (int)a.a[2], (const void *)a.a[3]);
	}
	return 0;
}

/* interesting is the cheap first test every syscall exit goes through. */
static __always_inline bool interesting(long nr)
{
	switch (nr) {
	case SF_NR_READ ... SF_NR_CLOSE:
	case SF_NR_MMAP:
	case SF_NR_PREAD64 ... SF_NR_WRITEV:
	case SF_NR_PIPE:
	case SF_NR_DUP:
	case SF_NR_DUP2:
	case SF_NR_SOCKET ... SF_NR_SHUTDOWN:
	case SF_NR_SOCKETPAIR:
	case SF_NR_CLONE ... SF_NR_EXECVE:
	case SF_NR_FCNTL:
	case SF_NR_CHDIR ... SF_NR_SYMLINK:
	case SF_NR_SETUID:
	case SF_NR_SETRESUID:
	case SF_NR_OPENAT:
	case SF_NR_MKDIRAT:
	case SF_NR_UNLINKAT ... SF_NR_SYMLINKAT:
	case SF_NR_ACCEPT4:
	case SF_NR_DUP3:
	case SF_NR_PIPE2:
	case SF_NR_PREADV:
	case SF_NR_PWRITEV:
	case SF_NR_RECVMMSG:
	case SF_NR_SENDMMSG:
	case SF_NR_SETNS:
	case SF_NR_RENAMEAT2:
	case SF_NR_EXECVEAT:
	case SF_NR_PREADV2:
	case SF_NR_PWRITEV2:
	case SF_NR_CLONE3:
	case SF_NR_OPENAT2:
		return true;
	}
	return false;
}

SEC("raw_tracepoint/sys_exit")
int sf_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	/* One copy of the saved registers: the syscall number and all six
	 * arguments for the price of one helper call. */
	struct pt_regs regs;
	if (bpf_probe_read_kernel(&regs, sizeof(regs), (void *)ctx->args[0]))
		return 0;
	long nr = regs.orig_ax;
	if (!interesting(nr))
		return 0;
	return dispatch(&regs, (__u16)nr, (long)ctx->args[1]);
}

/* sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm):
 * the new image is in place; current is p. */
SEC("raw_tracepoint/sched_process_exec")
int sf_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (skip_tgid(pid_tgid >> 32))
		return 0;
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	const char *filename = BPF_CORE_READ(bprm, filename);
	struct file *exe = BPF_CORE_READ(bprm, file);
	return emit_proc(task, pid_tgid, 0, SF_OP_EXEC, 0, 0, filename, exe, true);
}

/* sched_process_exit(struct task_struct *p, ...): every thread's exit;
 * exit_code is already in wait-status form. */
SEC("raw_tracepoint/sched_process_exit")
int sf_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (skip_tgid(pid_tgid >> 32))
		return 0;
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	bool group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
	if (!group_dead && filtered(pid_tgid >> 32, task))
		return 0;
	struct sf_sys_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(pid_tgid >> 32, leader_start(task));
		return 0;
	}
	fill_header(&e->h, task, pid_tgid, SF_KIND_SYS, SF_OP_EXIT, 0);
	if (group_dead)
		e->h.flags |= SF_F_GROUP_DEAD;
	e->ret = BPF_CORE_READ(task, exit_code);
	e->flags = 0;
	e->fd = -1;
	e->dirfd = SF_AT_FDCWD;
	e->fd2 = -1;
	e->mode = 0;
	e->uid = -1;
	e->path_len = 0;
	e->path2_len = 0;
	bpf_ringbuf_submit(e, wakeup());
	return 0;
}
