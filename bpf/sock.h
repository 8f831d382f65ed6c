//go:build ignore

/* sock.h: a socket's tuple, read from the struct sock behind an fd. */
#pragma once

#define SF_AF_UNIX 1
#define SF_AF_INET 2
#define SF_AF_INET6 10

static __always_inline struct sock *fd_sock(struct task_struct *task, int fd)
{
	struct file *f = fd_file(task, fd);
	if (!f)
		return NULL;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & SF_S_IFMT) != SF_S_IFSOCK)
		return NULL;
	struct socket *so = BPF_CORE_READ(f, private_data);
	if (!so)
		return NULL;
	return BPF_CORE_READ(so, sk);
}

static __always_inline void read_unix_path(struct sock *sk, struct sf_sock *out)
{
	struct unix_sock *us = (struct unix_sock *)sk;
	struct unix_address *addr = BPF_CORE_READ(us, addr);
	if (!addr) {
		/* An unbound client: the name is its peer's (the server's). */
		struct sock *peer = BPF_CORE_READ(us, peer);
		if (peer)
			addr = BPF_CORE_READ((struct unix_sock *)peer, addr);
	}
	if (!addr)
		return;
	int alen = BPF_CORE_READ(addr, len) - (int)sizeof(__kernel_sa_family_t);
	if (alen <= 0)
		return;
	__u64 len = alen;
	if (len > sizeof(out->path))
		len = sizeof(out->path);
	barrier_var(len); /* keep the check below on the register passed */
	if (len > sizeof(out->path))
		return;
	if (bpf_probe_read_kernel(out->path, len, &addr->name[0].sun_path) == 0)
		out->path_len = len;
}

/* read_sock fills out with fd's family, protocol and addresses; it leaves
 * out zeroed when fd is not a socket. */
static __always_inline void read_sock(struct task_struct *task, int fd, struct sf_sock *out)
{
	struct sock *sk = fd_sock(task, fd);
	if (!sk)
		return;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	out->family = family;
	out->proto = BPF_CORE_READ(sk, sk_protocol);
	switch (family) {
	case SF_AF_INET:
		/* The size read is that of *dst: point at 4 bytes, not 1. */
		BPF_CORE_READ_INTO((__u32 *)out->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)out->raddr, sk, __sk_common.skc_daddr);
		break;
	case SF_AF_INET6:
		BPF_CORE_READ_INTO(&out->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&out->raddr, sk, __sk_common.skc_v6_daddr);
		break;
	case SF_AF_UNIX:
		read_unix_path(sk, out);
		return;
	default:
		return;
	}
	out->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	out->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}
