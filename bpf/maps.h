//go:build ignore

/* maps.h: the maps of the capture programs and the small helpers that use
 * them directly (filtering, loss accounting, scratch space). Only package
 * bpf's Go code knows these names. */
#pragma once

/* Sizes of the scratch area that variable-length records are built in. A
 * string piece is written at data + (off & SF_OFF_MASK) and is at most
 * SF_PIECE_MAX bytes, so every write stays inside the buffer whatever off
 * the verifier assumes. */
#define SF_OFF_MASK 8191
#define SF_PIECE_MAX 4096
#define SF_SCRATCH_SIZE 16384
#define SF_PATH_DEPTH 32
#define SF_NAME_MAX 256

/* at returns data + (off & SF_OFF_MASK) with the mask done in a way clang
 * cannot drop, so the verifier sees the bound on the register it checks
 * (clang removes a mask it can prove redundant and may bound a copy). */
static __always_inline __u8 *at(__u8 *data, __u64 off)
{
	asm volatile("%[off] &= 8191" : [off] "+r"(off));
	return data + off;
}

/* Every record, in the order the kernel made them (size set by the loader). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* Records that could not be reserved, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* The same losses by process, best effort (an LRU may forget some): user
 * space drains it to tell each process's consumers that a gap exists. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sf_lost_key);
	__type(value, __u64);
} lost_by_proc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_config);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} excluded_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct sf_comm);
	__type(value, __u8);
} excluded_comms SEC(".maps");

/* Processes the producer's filter excluded, by tgid, with the start time
 * of the process (leader_start) so that a reused tgid is not excluded by a
 * stale entry. User space adds a process when its identity is excluded and
 * deletes it when an exec makes it included again or when it exits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} filtered_tgids SEC(".maps");

/* Per-CPU room to build records that carry strings. */
struct sf_scratch {
	__u8 buf[SF_SCRATCH_SIZE];
	__u64 names[SF_PATH_DEPTH]; /* kernel pointers to name strings */
	/* Loop state of the path walks. It lives here, not on the stack, on
	 * purpose: the verifier does not track map values, so a bpf_loop
	 * callback's state converges instead of being re-verified for every
	 * value of the offset. */
	__u32 off;
	__u32 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_scratch);
} scratch SEC(".maps");

static __always_inline struct sf_scratch *get_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

/* skip_tgid reports whether the current task must not be captured: the
 * producer itself, an excluded pid, or an excluded comm. */
static __always_inline bool skip_tgid(__u32 tgid)
{
	__u32 zero = 0;
	struct sf_config *cfg = bpf_map_lookup_elem(&settings, &zero);
	if (!cfg)
		return true;
	if (tgid == cfg->self_tgid)
		return true;
	if (cfg->filter_pids && bpf_map_lookup_elem(&excluded_pids, &tgid))
		return true;
	if (cfg->filter_comms) {
		struct sf_comm c = {};
		bpf_get_current_comm(&c.comm, sizeof(c.comm));
		if (bpf_map_lookup_elem(&excluded_comms, &c))
			return true;
	}
	return false;
}

/* wakeup returns the submit flags of a record. Waking the reader for every
 * record costs the traced task an irq_work and a wakeup (microseconds) when
 * the reader keeps up, so the reader is woken only once wakeup_bytes wait;
 * it also polls on a short timer, which bounds the latency of a quiet
 * system. */
static __always_inline __u64 wakeup(void)
{
	__u32 zero = 0;
	struct sf_config *cfg = bpf_map_lookup_elem(&settings, &zero);
	if (!cfg || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg->wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* count_lost records a record that did not fit in the ring buffer. */
static __always_inline void count_lost(__u32 tgid, __u64 start)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		*n += 1;

	struct sf_lost_key key = {.start = start, .tgid = tgid};
	__u64 *m = bpf_map_lookup_elem(&lost_by_proc, &key);
	if (m) {
		__sync_fetch_and_add(m, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&lost_by_proc, &key, &one, BPF_NOEXIST);
	}
}
