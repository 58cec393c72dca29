// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Allocation and free probes. Entry probes remember the arguments of the
 * outermost allocator call of a thread; the return probe emits one record
 * with the result and the caller's stack (captured at return, where the
 * instruction pointer is the caller's own return address, so the direct
 * caller of malloc is always the first frame).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leakbpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 target_tgid = 0;
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
const volatile bool capture_stacks = true;

struct pending {
	__u64 sp; /* stack pointer at entry: identifies the call */
	__u64 size;
	__u64 arg; /* realloc: old pointer; posix_memalign: out pointer */
	__u64 adj; /* subtracted from the result: object -> start of its block */
	__u32 kind;
	__u32 src;
};

struct thread_state {
	__u32 depth;
	__u32 pad;
	struct pending pend[LB_MAX_NEST];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct thread_state);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);
	if (v)
		*v += 1;
}

#include "python.bpf.h"
#include "unwind.bpf.h"

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

/* Wake the reader only when the buffer is getting full: saves an irq_work
 * per record; the reader also polls on a short timeout. */
static __always_inline __u64 rb_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail > (8 << 20) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Index into pend[]: the mask is done in asm so the compiler cannot drop
 * it on the strength of earlier checks the verifier does not track. */
static __always_inline __u32 nest_idx(__u32 i)
{
	asm volatile("%[i] &= 3" : [i] "+r"(i));
	return i;
}

/* Drop pending calls that can no longer be in progress: a call whose
 * entry sp is at or below the current sp has returned (or was left by a
 * tail call or longjmp). Keeps a missed return from wedging the thread. */
static __always_inline void drop_stale(struct thread_state *ts, __u64 sp)
{
#pragma unroll
	for (int i = 0; i < LB_MAX_NEST; i++) {
		__u32 d = ts->depth;
		if (d == 0 || d > LB_MAX_NEST)
			break;
		/* LB_MAX_NEST is a power of two: the mask keeps the verifier sure */
		if (ts->pend[nest_idx(d - 1)].sp > sp)
			break;
		ts->depth = d - 1;
	}
}

static __always_inline int on_entry_adj(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 arg,
					__u64 adj)
{
	if (!is_target())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx);
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts) {
		struct thread_state zero = {};
		bpf_map_update_elem(&threads, &tid, &zero, BPF_NOEXIST);
		ts = bpf_map_lookup_elem(&threads, &tid);
		if (!ts) {
			count(LB_C_THREAD_FULL);
			return 0;
		}
	}
	drop_stale(ts, sp);
	__u32 d = ts->depth;
	if (d >= LB_MAX_NEST) {
		count(LB_C_NEST_OVERFLOW);
		return 0;
	}
	d = nest_idx(d);
	ts->pend[d].sp = sp;
	ts->pend[d].size = size;
	ts->pend[d].arg = arg;
	ts->pend[d].adj = adj;
	ts->pend[d].kind = kind;
	ts->pend[d].src = LB_COOKIE_SRC(bpf_get_attach_cookie(ctx));
	ts->depth = d + 1;
	return 0;
}

static __always_inline int on_entry(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 arg)
{
	return on_entry_adj(ctx, kind, size, arg, 0);
}

/* An allocation-family call returned with `ret`: emit its record. */
static __always_inline int on_return(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (!ts || ts->depth == 0)
		return 0;
	/* After return sp is entry sp + 8 (the return address was popped). */
	__u64 sp = PT_REGS_SP(ctx) - 8;
	__u32 depth = ts->depth;
	if (depth > LB_MAX_NEST)
		return 0;
	__u32 top = nest_idx(depth - 1);
	struct pending p = ts->pend[top];
	if (p.sp != sp) {
		/* Not the call we saw enter (its entry was dropped). */
		drop_stale(ts, sp + 1);
		return 0;
	}
	ts->depth = top;
	if (top > 0) {
		/* The outer allocator call accounts this block. */
		count(LB_C_NESTED_IGNORED);
		return 0;
	}

	__u64 ret = PT_REGS_RC(ctx);
	__u64 addr = ret ? ret - p.adj : 0;
	__u64 old = 0;
	switch (p.kind) {
	case LB_K_POSIX_MEMALIGN:
		if ((int)ret != 0)
			return 0;
		if (bpf_probe_read_user(&addr, sizeof(addr), (void *)p.arg))
			return 0;
		break;
	case LB_K_REALLOC:
	case LB_K_REALLOCARRAY:
		if (ret == 0 && p.size != 0)
			return 0; /* failed: the old block is still live */
		old = p.arg;
		break;
	default:
		break;
	}
	if (addr == 0 && old == 0)
		return 0;
	count(LB_C_ALLOC_CALLS);
	if (addr && (p.size < min_size || p.size > max_size)) {
		count(LB_C_FILTERED);
		addr = 0;
		if (old == 0)
			return 0;
	}

	/* Python targets: the record is built in the thread's task storage
	 * and sent at its used length, as a reserved one would take
	 * sizeof(*e) of the ring buffer for the ~10% of it a Python stack
	 * fills (more cache lines touched by both sides, ~40 ns per record
	 * measured). Without Python the reserved record costs less. */
	struct lb_py_task *t = NULL;
	struct lb_alloc_event *e;
	if (lb_py.runtime) {
		t = lb_py_task_get();
		if (!t) {
			count(LB_C_THREAD_FULL);
			return 0;
		}
		e = &t->rec;
	} else {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(LB_C_RB_DROP_ALLOC);
			return 0;
		}
	}
	e->h.type = addr ? LB_EV_ALLOC : LB_EV_FREE;
	e->h.src = p.src;
	e->h.tid = tid;
	e->h.ts_ns = bpf_ktime_get_ns();
	e->h.addr = addr ? addr : old;
	e->h.n_native = 0;
	e->h.n_py = 0;
	e->size = p.size;
	e->old_addr = addr ? old : 0;
	e->flags = 0;
	e->kind = p.kind;
	if (addr && capture_stacks) {
		long n = capture_native(ctx, e);
		if (n < 0) {
			e->flags |= LB_F_NATIVE_ERR;
			count(LB_C_STACK_ERR);
			n = 0;
		}
		if (n >= LB_MAX_NATIVE) {
			e->flags |= LB_F_NATIVE_TRUNC;
			count(LB_C_STACK_TRUNC);
		}
		e->h.n_native = n;
		if (t)
			lb_py_collect(t, e);
	}
	if (!t) {
		bpf_ringbuf_submit(e, rb_flags());
		return 0;
	}
	__u32 len = LB_ALLOC_LEN(e->h.n_native, e->h.n_py);
	if (len > sizeof(*e) || bpf_ringbuf_output(&events, e, len, rb_flags()))
		count(LB_C_RB_DROP_ALLOC);
	return 0;
}

/* Whether ptr is the old block of a realloc in progress. Other frees
 * inside allocator calls are real: CPython 3.8-3.11 run the cyclic GC,
 * which frees objects, inside object allocation. */
static __always_inline bool in_realloc_of(struct thread_state *ts, __u64 ptr)
{
#pragma unroll
	for (__u32 i = 0; i < LB_MAX_NEST; i++) {
		if (i >= ts->depth)
			break;
		struct pending *p = &ts->pend[i];
		if ((p->kind == LB_K_REALLOC || p->kind == LB_K_REALLOCARRAY) && p->arg == ptr)
			return true;
	}
	return false;
}

static __always_inline int on_free(struct pt_regs *ctx, __u64 ptr)
{
	if (!is_target() || ptr == 0)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	if (ts) {
		drop_stale(ts, PT_REGS_SP(ctx));
		if (in_realloc_of(ts, ptr)) {
			/* free inside realloc & co: the outer call accounts it */
			count(LB_C_NESTED_IGNORED);
			return 0;
		}
	}
	count(LB_C_FREE_CALLS);
	struct lb_free_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LB_C_RB_DROP_FREE);
		return 0;
	}
	e->h.type = LB_EV_FREE;
	e->h.src = LB_COOKIE_SRC(bpf_get_attach_cookie(ctx));
	e->h.n_native = 0;
	e->h.n_py = 0;
	e->h.tid = tid;
	e->h.ts_ns = 0; /* no one reads it: saves the clock read */
	e->h.addr = ptr;
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(lb_malloc, __u64 size)
{
	return on_entry(ctx, LB_K_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(lb_calloc, __u64 n, __u64 size)
{
	return on_entry(ctx, LB_K_CALLOC, n * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(lb_realloc, __u64 ptr, __u64 size)
{
	return on_entry(ctx, LB_K_REALLOC, size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(lb_reallocarray, __u64 ptr, __u64 n, __u64 size)
{
	return on_entry(ctx, LB_K_REALLOCARRAY, n * size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(lb_memalign, __u64 align, __u64 size)
{
	return on_entry(ctx, LB_K_MEMALIGN, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(lb_posix_memalign, __u64 out, __u64 align, __u64 size)
{
	return on_entry(ctx, LB_K_POSIX_MEMALIGN, size, out);
}

SEC("uretprobe")
int BPF_KRETPROBE(lb_ret)
{
	return on_return(ctx);
}

SEC("uprobe")
int BPF_KPROBE(lb_free, __u64 ptr)
{
	return on_free(ctx, ptr);
}

#include "python_alloc.bpf.h"
