//go:build ignore

/* task.h: what the programs read from task_struct and friends through CO-RE:
 * identity, credentials, tty, pid namespace, paths (dentry walks) and the
 * cgroup path. */
#pragma once

#define SF_TS_COMPAT 0x0002 /* x86 thread_info.status: 32-bit syscall */
#define SF_S_IFMT 00170000
#define SF_S_IFSOCK 0140000

/* kernfs_node's parent was renamed __parent in 6.15. */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline __u64 leader_start(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

/* in_compat_syscall: 32-bit syscalls use other numbers; they are not
 * captured. */
static __always_inline bool in_compat_syscall(struct task_struct *task)
{
	return BPF_CORE_READ(task, thread_info.status) & SF_TS_COMPAT;
}

static __always_inline void fill_header(struct sf_header *h, struct task_struct *task,
					__u64 pid_tgid, __u16 kind, __u16 op, __u16 nr)
{
	h->ts = bpf_ktime_get_boot_ns();
	h->start = leader_start(task);
	h->tid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->kind = kind;
	h->op = op;
	h->nr = nr;
	h->flags = 0;
}

/* fd_file returns the file behind fd in task's table, or NULL. */
static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd < 0)
		return NULL;
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* tty_nr encodes the controlling tty as /proc/<pid>/stat does
 * (new_encode_dev of major, minor_start + index); 0 without one. */
static __always_inline __u32 tty_nr(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	__u32 major = BPF_CORE_READ(tty, driver, major);
	__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* vpid returns the process's tgid in its own (innermost) pid namespace. */
static __always_inline __u32 vpid(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	if (!pid)
		return 0;
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid up = {};
	bpf_probe_read_kernel(&up, sizeof(up), (void *)pid + bpf_core_field_offset(struct pid, numbers) +
							  (__u64)(level & 63) * bpf_core_type_size(struct upid));
	return up.nr;
}

/* put_kstr copies a kernel string to data+off; it returns the bytes
 * written, NUL included, or 0. */
static __always_inline __u32 put_kstr(__u8 *data, __u32 off, const void *src, __u32 max)
{
	if (!src || off > SF_OFF_MASK)
		return 0;
	long n = bpf_probe_read_kernel_str(at(data, off), max, src);
	return n > 0 ? n : 0;
}

static __always_inline __u32 put_ustr(__u8 *data, __u32 off, const void *src, __u32 max)
{
	if (!src || off > SF_OFF_MASK)
		return 0;
	long n = bpf_probe_read_user_str(at(data, off), max, src);
	return n > 0 ? n : 0;
}

/* Path building. A walk collects component names (kernel pointers) from
 * the leaf up into scratch->names; put_names then writes them root first.
 * Both run under bpf_loop so that the verifier checks each body once, and
 * keep their counters in the scratch map (see struct sf_scratch). Strings
 * land in the data area of a proc record. */

struct names_ctx {
	struct sf_scratch *s;
	__u32 limit; /* the offset may not pass this */
	bool cut;
};

static __always_inline __u8 *proc_data(struct sf_scratch *s)
{
	return s->buf + sizeof(struct sf_proc_event);
}

static long put_name_cb(__u32 j, void *arg)
{
	struct names_ctx *c = arg;
	struct sf_scratch *s = c->s;
	__u32 off = s->off;
	if (j >= s->n || j >= SF_PATH_DEPTH)
		return 1;
	if (off + SF_NAME_MAX + 1 > c->limit || off > SF_OFF_MASK) {
		c->cut = true;
		return 1;
	}
	__u8 *data = proc_data(s);
	*at(data, off) = '/';
	off++;
	__u32 i = (s->n - 1 - j) & (SF_PATH_DEPTH - 1);
	long r = bpf_probe_read_kernel_str(at(data, off), SF_NAME_MAX, (const void *)s->names[i]);
	if (r > 1)
		off += r - 1;
	s->off = off;
	return 0;
}

/* put_names writes "/" followed by names[n-1], ..., names[0] joined with
 * "/" (just "/" when n is 0), NUL-terminated, in at most max bytes, at
 * off. It returns the bytes written, NUL included; *cut is set when it
 * truncated. */
static __always_inline __u32 put_names(__u32 off, struct sf_scratch *s, __u32 max, bool *cut)
{
	struct names_ctx c = {.s = s, .limit = off + max - 2};
	s->off = off;
	bpf_loop(SF_PATH_DEPTH, put_name_cb, &c, 0);
	__u32 end = s->off;
	if (end < off || end > off + max - 2)
		end = off;
	__u8 *data = proc_data(s);
	if (end == off)
		*at(data, end++) = '/';
	*at(data, end++) = 0;
	if (c.cut)
		*cut = true;
	return end - off;
}

struct walk_ctx {
	struct sf_scratch *s;
	struct mount *mnt;
	struct dentry *dentry;
	bool cut;
};

/* walk_dentry_cb takes one step up, as prepend_path does: to the parent
 * dentry, or across a mount to its mountpoint, stopping at the top of the
 * mount tree. */
static long walk_dentry_cb(__u32 i, void *arg)
{
	struct walk_ctx *c = arg;
	struct sf_scratch *s = c->s;
	struct mount *mnt = c->mnt;
	struct dentry *dentry = c->dentry;
	struct dentry *mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (dentry != mnt_root || mparent == mnt || !mparent)
			return 1;
		c->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = mparent;
		return 0;
	}
	__u32 n = s->n;
	if (n >= SF_PATH_DEPTH) {
		c->cut = true;
		return 1;
	}
	s->names[n & (SF_PATH_DEPTH - 1)] = (__u64)BPF_CORE_READ(dentry, d_name.name);
	s->n = n + 1;
	c->dentry = parent;
	return 0;
}

/* put_path writes the path of (mnt, dentry) as d_path would from the root
 * of its mount namespace (what readlink of /proc/<pid>/cwd shows). */
static __always_inline __u32 put_path(__u32 off, struct sf_scratch *s, struct vfsmount *vfsmnt,
				      struct dentry *dentry, __u32 max, bool *cut)
{
	if (!vfsmnt || !dentry || off > SF_OFF_MASK)
		return 0;
	struct walk_ctx c = {
		.s = s,
		.mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.dentry = dentry,
	};
	s->n = 0;
	bpf_loop(SF_PATH_DEPTH * 2, walk_dentry_cb, &c, 0);
	if (c.cut)
		*cut = true;
	return put_names(off, s, max, cut);
}

static __always_inline __u32 put_file_path(__u32 off, struct sf_scratch *s, struct file *f, __u32 max,
					   bool *cut)
{
	if (!f)
		return 0;
	return put_path(off, s, BPF_CORE_READ(f, f_path.mnt), BPF_CORE_READ(f, f_path.dentry), max, cut);
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
}

struct kn_walk_ctx {
	struct sf_scratch *s;
	struct kernfs_node *kn;
	bool cut;
};

static long walk_kn_cb(__u32 i, void *arg)
{
	struct kn_walk_ctx *c = arg;
	struct sf_scratch *s = c->s;
	struct kernfs_node *kn = c->kn; /* a local: c is not a kernel type */
	if (!kn)
		return 1;
	struct kernfs_node *parent = kn_parent(kn);
	if (!parent)
		return 1; /* the hierarchy's root has no name of its own */
	__u32 n = s->n;
	if (n >= SF_PATH_DEPTH) {
		c->cut = true;
		return 1;
	}
	s->names[n & (SF_PATH_DEPTH - 1)] = (__u64)BPF_CORE_READ(kn, name);
	s->n = n + 1;
	c->kn = parent;
	return 0;
}

/* put_cgroup writes the task's cgroup path: in the unified (v2) hierarchy,
 * or, when that is the root, in the v1 memory hierarchy. */
static __always_inline __u32 put_cgroup(__u32 off, struct sf_scratch *s, struct task_struct *task, __u32 max,
					bool *cut)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	if (kn && !kn_parent(kn) && bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
		int count = bpf_core_enum_value(enum cgroup_subsys_id, CGROUP_SUBSYS_COUNT);
		struct cgroup_subsys_state *css = NULL;
		struct css_set *cset = BPF_CORE_READ(task, cgroups);
		if (id >= 0 && id < count && id < 16)
			bpf_probe_read_kernel(&css, sizeof(css), &cset->subsys[id]);
		if (css)
			kn = BPF_CORE_READ(css, cgroup, kn);
	}
	if (off > SF_OFF_MASK)
		return 0;
	struct kn_walk_ctx c = {.s = s, .kn = kn};
	s->n = 0;
	bpf_loop(SF_PATH_DEPTH + 1, walk_kn_cb, &c, 0);
	if (c.cut)
		*cut = true;
	return put_names(off, s, max, cut);
}

/* filtered reports whether the producer's filter excluded the current
 * process (tgid, task): its syscalls and thread exits are not recorded.
 * Its exec and its last exit still are, so that user space can judge the
 * new image and forget the process. */
static __always_inline bool filtered(__u32 tgid, struct task_struct *task)
{
	__u32 zero = 0;
	struct sf_config *cfg = bpf_map_lookup_elem(&settings, &zero);
	if (!cfg || !cfg->filter_tgids)
		return false;
	__u64 *start = bpf_map_lookup_elem(&filtered_tgids, &tgid);
	return start && *start == leader_start(task);
}
