// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Allocation and free probes. Entry probes remember the arguments of each
 * allocator call in progress in a thread; the return probe of the
 * outermost one emits one record with the result and the caller's stack
 * (captured at return, where the instruction pointer is the caller's own
 * return address, so the direct caller of malloc is always the first
 * frame). A nested call's block is kept until its outer call returns: the
 * same block is counted once; another one (a signal handler's malloc, the
 * allocator's own bookkeeping) goes with the outer call's record as an
 * allocation of its own (struct lb_inner).
 *
 * The growth mode (--growth) traces no allocator: it sees page faults and
 * the changes of the RSS counters (its helpers and programs are the last of
 * each part; userspace loads the programs of one mode only).
 *
 * Read top down: the declarations (every setting, every piece of state and
 * every map), the walkers (unwind.bpf.h, python.bpf.h, python_alloc.bpf.h),
 * the entry, return and free helpers, the growth mode's, and last the
 * programs, one call each.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "records.h"
#include "settings.h"
#include "cfi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ==== Declarations ==== */

/* Settings (.rodata), written before load by user/session/bpf_settings.c. */
const volatile __u32 target_tgid = 0;
const volatile __u64 min_size = 0;	    /* -z */
const volatile __u64 max_size = ~0ULL;	    /* -Z */
const volatile bool interp_stacks = false;  /* --native: interpreter stacks too */
const volatile struct lb_py_cfg lb_py = {}; /* the traced CPython; runtime 0: none */
/* Type flags that put two more words before the GC head (3.11: managed
 * dict; 3.12+: managed dict or weakref); 0 before 3.11. */
const volatile __u64 lb_pya_preheader_flags = 0;
/* Growth mode -a: every process but leakbpf (growth_self), and those in
 * growth_skip. */
const volatile bool growth_all = false;
const volatile __u32 growth_self = 0;

/* State (.bss). Written by userspace while tracing (bpf_settings.c): the
 * code ranges' count and the bounds of the code built with frame pointers
 * (most stack words are rejected by these before any search), and whether
 * the code object deallocator is watched. Written by the programs: code
 * objects that died (lb_py_code_dealloc). */
volatile __u32 nranges = 0;
volatile __u64 fp_lo = 0, fp_hi = 0;
volatile __u32 lb_py_code_watch = 0;
volatile __u64 lb_py_code_deaths = 0;
/* Generation of the code ranges and unwind tables: userspace bumps it
 * when it rewrites the ranges, which voids every walk kept by cfi.bpf.h.
 * Changes of the dynamic loader's objects seen by lb_dl_change. */
volatile __u64 cfi_gen = 0;
volatile __u64 dl_changes = 0;

/* The target's life (.bss). Written by userspace: stop the target (SIGSTOP)
 * when it executes a program (-c: leakbpf is its parent and holds it until
 * the new image is traced), after it maps code (while a module such as
 * libpython is awaited), or when it calls _exit (until leakbpf read what
 * only its memory tells: Python names, its modules). Written by the exec
 * program: the image these probes were placed for is gone (they may still
 * fire in the new one, which maps the same libc): every probe is then
 * ignored. */
volatile __u32 hold_exec = 0;
volatile __u32 hold_code = 0;
volatile __u32 hold_exit = 0;
volatile __u32 image_gone = 0;
/* The growth mode's allocation windows (.bss, written by userspace): the
 * allocator probes are being detached; what still fires meanwhile, entries
 * without their returns and returns without their entries, is ignored. */
volatile __u32 probes_muted = 0;
/* --children (.bss, written by userspace): report the target's new
 * processes and hold each stopped until its own probes are in place;
 * report and hold those that share its memory (vfork, posix_spawn) at
 * their exec instead (spawn_at_exec: the exec program is attached). The
 * target is itself such a new process (hold_child): hold it in `held` at
 * its exec until its new program is traced, and at its _exit until
 * userspace read what only its memory tells. */
volatile __u32 follow_forks = 0;
volatile __u32 spawn_at_exec = 0;
volatile __u32 hold_child = 0;

/* Allocator calls that may be in progress at once in one thread. */
#define LB_MAX_NEST 4
/* A call whose entry could not tell its block (an object allocator given a
 * type it cannot size): kept so that its return matches it; its inner
 * blocks are allocations of their own. */
#define LB_K_NONE LB_K_MAX

struct pending {
	__u64 sp; /* stack pointer at entry: identifies the call */
	__u64 size;
	__u64 arg;  /* realloc: old pointer; posix_memalign: out pointer */
	__u64 adj;  /* subtracted from the result: object -> start of its block */
	__u32 kind; /* enum lb_kind */
	__u32 pad;
};

/* A block an inner allocator call returned, kept until the call it is
 * nested in returns: then it is either that call's own block (PyObject
 * allocators over malloc, realloc(NULL) over malloc: accounted once, by the
 * outer call) or an allocation of its own (a signal handler's malloc
 * interrupting malloc, obmalloc's arena map calloc'ed inside an object
 * allocation), sent with the outermost call's record (struct lb_inner). */
struct inner_block {
	__u64 addr; /* 0: the inner call only freed `old` */
	__u64 old;
	__u64 size;
	__u64 ip;     /* the inner call's return address */
	__u32 parent; /* pend[] index of the call it is nested in */
	__u32 used;   /* 0: free slot; LB_INNER_SEND: goes with the record */
};

#define LB_INNER_KEPT 1
#define LB_INNER_SEND 2

struct thread_state {
	__u32 depth;
	__u32 nsend;	   /* inner blocks marked to go with the record being sent */
	__u64 last_ret_sp; /* stack pointer of the last return matched to its call */
	struct pending pend[LB_MAX_NEST];
	struct inner_block inner[LB_MAX_INNER];
};

/* The Python walk's per-thread state (python.bpf.h). 3.11+: a thread's
 * frames live in one data stack, each caller just below its callee, so one
 * read of up to LB_PY_SPAN bytes ending at a frame often holds its callers
 * too; 3.12's C-stack shim frames lie next to the _PyCFrame the walk
 * starts from. The last two reads are kept. A read never leaves the page
 * of the bytes asked for, which is mapped. */
#define LB_PY_SPAN 2048
#define LB_PY_PAGE 4096

/* Code object tags remembered per thread, direct-mapped by address. An
 * entry is used only within the generation it was read in:
 *  - while the code object deallocator is watched (lb_py_code_watch), the
 *    generation is lb_py_code_deaths: an address can hold another code
 *    object only after the one read there died, which starts a new
 *    generation first (the probe runs on entry, before the memory is
 *    freed); a code object cannot die while a frame of the walk uses it;
 *  - otherwise each walk is its own generation: all its frames are alive
 *    together, so an address seen twice in it is the same object.
 * The two kinds never meet: watched generations are even, others odd. */
#define LB_PY_TAGS 128

struct lb_py_tagent {
	__u64 code;
	__u64 gen;
	__u32 tag;
	__u32 pad;
};

/* In task storage, not a per-CPU map: a preempted walk must not find its
 * window overwritten by another task. The walk's counters live here rather
 * than on the stack so that the verifier does not track their values
 * (bpf_loop callbacks are checked until their states repeat). */
struct lb_py_task {
	struct lb_alloc_event rec; /* the record being built (on_return) */
	__u64 tstate;		   /* PyThreadState; 0: none, retried when the first */
	__u64 head;		   /* interpreter's thread list changed or after */
	__u64 stamp_ns;		   /* LB_PY_NEG_TTL_NS */
	__u64 frame;		   /* next frame to visit */
	__u64 lo[2], hi[2];	   /* target bytes [lo, hi) are in buf[k] */
	__u32 newest;		   /* buf[newest] was read last */
	__u32 err;		   /* the walk failed */
	__u64 gen;		   /* generation of this walk's tags */
	__u64 walks;		   /* walks so far (unwatched generations) */
	__u32 n;		   /* frames emitted */
	__u32 pad;
	struct lb_py_tagent tags[LB_PY_TAGS];
	__u8 buf[2][LB_PY_SPAN];
};

/* Allocator calls in progress, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct thread_state);
} threads SEC(".maps");

/* Records to userspace (records.h). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

/* enum lb_counter, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* The target's executable ranges, sorted by lo; nranges of them are valid. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_RANGES);
	__type(key, __u32);
	__type(value, struct lb_range);
} ranges SEC(".maps");

/* Threads of the target in an mmap of code (lb_mmap_enter -> _exit). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} code_maps SEC(".maps");

/* Growth mode, per thread: the fault in progress and its pending page
 * record (sent when the fault makes the anonymous RSS grow); the last
 * system call whose give-back was sent. */
enum lb_fault_state {
	LB_FAULT_NONE = 0,
	LB_FAULT_READ = 1,  /* a fault is in progress: no record */
	LB_FAULT_WRITE = 2, /* a write fault: rec is its pending record */
};

struct lb_growth_task {
	struct lb_alloc_event rec;
	/* the fault's user registers tell its rss_stat from later ones */
	__u64 f_orig_ax, f_ip, f_sp;
	__u32 fault; /* enum lb_fault_state */
	__u32 pad;
	__u64 sent_nr; /* the give-back sent last: nr + 1; 0: none since a page */
	__u64 sent_args[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lb_growth_task);
} lb_growth_tasks SEC(".maps");

/* Growth mode -a: processes traced by an object of their own (a Python
 * process walked with its interpreter's layout, or one that grew), which
 * this one leaves alone. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} growth_skip SEC(".maps");

/* The unwind tables (cfi.h): the rows of every module's table, one slice
 * per module (lb_range.cfi_first), written by userspace through a memory
 * mapping (user/unwind/cfi_store.c). One row unless bpf_settings.c sizes
 * it (LB_CFI_ROWS_DEFAULT) for an object that gets tables. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_cfi_row);
} cfi_rows SEC(".maps");

/* The CFI walk's window of the stack and state, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cfi_scratch);
} cfi_scratch SEC(".maps");

/* Walks kept per call site, per CPU (one unless sized as cfi_rows). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cfi_cache_ent);
} cfi_cache SEC(".maps");

/* Wakes userspace when the dynamic loader's objects changed (the count of
 * changes, 8 bytes), so that new libraries get their tables at once. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} dl_wake SEC(".maps");

/* The Python walk's state, per thread (struct lb_py_task). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lb_py_task);
} lb_py_tasks SEC(".maps");

/* --children: the new processes held stopped (pid -> 1), until userspace
 * continues them. One map for every object of a session (reused by fd),
 * read by leakbpf's guardian, which continues them if leakbpf dies. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} held SEC(".maps");

/* --children: the target's new processes that share its memory (vfork,
 * posix_spawn) and have not executed a program yet (pid -> 1). Such a
 * process runs only until its exec while its parent waits: it is reported
 * and held there, not at its fork, so that its parent does not wait for
 * it to be traced. LRU: one that exits without an exec is forgotten. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} spawned SEC(".maps");

/* Linux 6.13+: a signal to another task (the new child). */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type,
				__u64 value) __ksym __weak;
/* bpf_ksym_exists of newer libbpf: a weak kfunc the kernel lacks is 0 */
static __always_inline bool lb_send_signal_task_exists(void)
{
	return &bpf_send_signal_task != 0;
}

#define LB_DECLARATIONS

/* ==== Walkers ==== */

#include "uret.bpf.h"
#include "cfi.bpf.h"
#include "unwind.bpf.h"
#include "python.bpf.h"
#include "python_alloc.bpf.h"

/* ==== Entry, return and free ==== */

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);
	if (v)
		*v += 1;
}

static __always_inline bool in_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

/* A probe hit to account: in the target, whose image is the probed one. */
static __always_inline bool is_target(void)
{
	return in_target() && !image_gone && !probes_muted;
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
	ts->depth = d + 1;
	return 0;
}

static __always_inline int on_entry(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 arg)
{
	return on_entry_adj(ctx, kind, size, arg, 0);
}

/* The call at pend[top] returned block `addr` (freeing `old`): settle the
 * inner blocks nested in it (or left by calls whose return was missed).
 * Its own block is dropped (it accounts it); the others move out to the
 * call around it, or when it is the outermost are marked LB_INNER_SEND
 * (ts->nsend of them) to go with its record. The verifier sees the count
 * only through memory, as an unknown: no state per combination. */
static __noinline void settle_inner(struct thread_state *ts, __u32 top, __u64 addr, __u64 old)
{
	__u32 nsend = 0;
#pragma unroll
	for (__u32 i = 0; i < LB_MAX_INNER; i++) {
		struct inner_block *ib = &ts->inner[i];
		if (ib->used != LB_INNER_KEPT || ib->parent < top)
			continue;
		if ((ib->addr && ib->addr == addr) || (!ib->addr && old && ib->old == old)) {
			ib->used = 0;
			count(LB_C_NESTED_IGNORED);
		} else if (top > 0) {
			ib->parent = top - 1;
		} else {
			ib->used = LB_INNER_SEND;
			nsend++;
		}
	}
	ts->nsend = nsend;
}

/* Keep the result of an inner call until its outer call returns. false
 * when every slot is taken (the caller then sends it at once). */
static __always_inline bool keep_inner(struct thread_state *ts, __u32 top, __u64 addr, __u64 old,
				       __u64 size, __u64 ip)
{
#pragma unroll
	for (__u32 i = 0; i < LB_MAX_INNER; i++) {
		struct inner_block *ib = &ts->inner[i];
		if (ib->used)
			continue;
		ib->addr = addr;
		ib->old = old;
		ib->size = size;
		ib->ip = ip;
		ib->parent = top - 1;
		ib->used = LB_INNER_KEPT;
		return true;
	}
	return false;
}

/* Append the inner blocks marked LB_INNER_SEND after the frames of e
 * (n_native and n_py set); each is filtered by -z/-Z as its own
 * allocation. */
static __noinline void put_inner(struct thread_state *ts, struct lb_alloc_event *e)
{
	__u32 at = e->h.n_native + 2 * e->h.n_py, n = 0;
#pragma unroll
	for (__u32 i = 0; i < LB_MAX_INNER; i++) {
		struct inner_block *ib = &ts->inner[i];
		if (ib->used != LB_INNER_SEND)
			continue;
		ib->used = 0;
		__u64 addr = ib->addr;
		if (addr && (ib->size < min_size || ib->size > max_size)) {
			count(LB_C_FILTERED);
			addr = 0;
			if (!ib->old)
				continue;
		}
		__u32 w = at + 4 * n;
		if (w > LB_MAX_NATIVE + 2 * LB_MAX_PY + 4 * (LB_MAX_INNER - 1))
			break;
		e->words[w] = addr;
		e->words[w + 1] = ib->old;
		e->words[w + 2] = ib->size;
		e->words[w + 3] = ib->ip;
		n++;
	}
	e->h.n_inner = n;
}

/* The stacks of record e: native from regs, Python with the walk's task
 * storage t when there is one; its flags and the counters they touch. */
static __always_inline void capture_stacks(struct pt_regs *regs, struct lb_alloc_event *e,
					   struct lb_py_task *t)
{
	long n = capture_native(regs, e);
	if (n < 0) {
		count(LB_C_STACK_ERR);
		n = -n;
	}
	if (n >= LB_MAX_NATIVE) {
		e->h.flags |= LB_F_NATIVE_TRUNC;
		count(LB_C_STACK_TRUNC);
	}
	e->h.n_native = n;
	if (t) {
		__u32 f = lb_py_collect(t, e);
		e->h.flags |= f;
		if (f & LB_F_PY_TRUNC)
			count(LB_C_PY_TRUNC);
		if (f & LB_F_PY_ERR)
			count(LB_C_PY_ERR);
	}
}

/* An allocation-family call returned with `ret`: emit its record. */
static __always_inline int on_return(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	/* After return sp is entry sp + 8 (the return address was popped). */
	__u64 sp = PT_REGS_SP(ctx) - 8;
	if (!ts || ts->depth == 0) {
		/* A probed function that tail-called another returns right after
		 * it, at the same sp: that block was accounted. Otherwise the
		 * entry was seen (a uretprobe fires only for calls entered after
		 * it was attached, and entry links are made first) and its state
		 * is gone: a signal handler on an alternate stack above this one
		 * dropped it as stale, or the thread's state was evicted. */
		if (!ts || sp != ts->last_ret_sp)
			count(LB_C_RET_UNMATCHED);
		return 0;
	}
	__u32 depth = ts->depth;
	if (depth > LB_MAX_NEST)
		return 0;
	__u32 top = nest_idx(depth - 1);
	/* read in place: the walks below leave little of the stack */
	struct pending *p = &ts->pend[top];
	if (p->sp != sp) {
		/* Not the call we saw enter (its entry was dropped). */
		drop_stale(ts, sp + 1);
		return 0;
	}
	ts->depth = top;
	ts->last_ret_sp = sp;

	/* What the call did: a new block (addr), an old one freed (old). */
	__u64 ret = PT_REGS_RC(ctx);
	__u64 addr = ret ? ret - p->adj : 0;
	__u64 old = 0;
	switch (p->kind) {
	case LB_K_NONE:
		addr = 0;
		break;
	case LB_K_POSIX_MEMALIGN:
		addr = 0;
		if ((int)ret == 0 && bpf_probe_read_user(&addr, sizeof(addr), (void *)p->arg))
			addr = 0;
		break;
	case LB_K_REALLOC:
	case LB_K_REALLOCARRAY:
		/* a failed realloc leaves the old block live */
		if (ret != 0 || p->size == 0)
			old = p->arg;
		break;
	default:
		break;
	}
	settle_inner(ts, top, addr, old);
	if (top > 0) {
		/* nested: its block may be its outer call's own */
		if ((!addr && !old) || keep_inner(ts, top, addr, old, p->size, PT_REGS_IP(ctx)))
			return 0;
		/* no slot left: send it now, with its own stack */
	}
	if (addr && (p->size < min_size || p->size > max_size)) {
		count(LB_C_FILTERED);
		addr = 0;
	}
	bool inner = top == 0 && ts->nsend;
	if (addr == 0 && old == 0 && !inner)
		return 0;

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
	bool alloc = addr || inner;
	e->h.type = alloc ? LB_EV_ALLOC : LB_EV_FREE;
	e->h.n_native = 0;
	e->h.n_py = 0;
	e->h.flags = 0;
	e->h.n_inner = 0;
	e->h.addr = alloc ? addr : old;
	e->ts_ns = bpf_ktime_get_ns();
	e->size = p->size;
	e->old_addr = alloc ? old : 0;
	if (alloc) {
		capture_stacks(ctx, e, t);
		if (inner)
			put_inner(ts, e);
	}
	if (!t) {
		bpf_ringbuf_submit(e, rb_flags());
		return 0;
	}
	__u32 len = LB_ALLOC_LEN(e->h.n_native, e->h.n_py, (__u8)e->h.n_inner);
	if (len > sizeof(*e) || bpf_ringbuf_output(&events, e, len, rb_flags()))
		count(LB_C_RB_DROP_ALLOC);
	return 0;
}

/* Drop an inner block that was freed before its outer call returned: it
 * was never sent, so neither is its free. */
static __always_inline bool inner_freed(struct thread_state *ts, __u64 ptr)
{
#pragma unroll
	for (__u32 i = 0; i < LB_MAX_INNER; i++) {
		struct inner_block *ib = &ts->inner[i];
		if (ib->used == LB_INNER_KEPT && ib->addr == ptr) {
			ib->used = 0;
			return true;
		}
	}
	return false;
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
		if (ts->depth && inner_freed(ts, ptr))
			return 0;
	}
	struct lb_free_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LB_C_RB_DROP_FREE);
		return 0;
	}
	e->h.type = LB_EV_FREE;
	e->h.n_native = 0;
	e->h.n_py = 0;
	e->h.flags = 0;
	e->h.n_inner = 0;
	e->h.addr = ptr;
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

/* An object allocator of the Python type `type` with n items. */
static __always_inline int on_pyobj_alloc(struct pt_regs *ctx, __u64 type, __s64 n)
{
	__u64 size, pre;
	if (!pya_obj_block(type, n, &size, &pre))
		return on_entry(ctx, LB_K_NONE, 0, 0);
	return on_entry_adj(ctx, LB_K_MALLOC, size, 0, pre);
}

/* _PyObject_GC_Resize(op, n): a realloc of op's block. */
static __always_inline int on_pyobj_resize(struct pt_regs *ctx, __u64 op, __s64 n)
{
	__u64 block = op ? op - PYA_GC_HEAD : 0;
	return on_entry_adj(ctx, LB_K_REALLOC, pya_resize_size(op, n), block, PYA_GC_HEAD);
}

/* A free-listed type's constructor: an allocation whether or not the
 * object comes from the free list (when it does not, the GC allocator
 * underneath is a nested call and is not counted twice). */
static __always_inline int on_pyobj_sized_new(struct pt_regs *ctx, __s64 a1, __s64 a2)
{
	__u64 size = pya_sized_new_size(bpf_get_attach_cookie(ctx), a1, a2);
	return size ? on_entry_adj(ctx, LB_K_MALLOC, size, 0, PYA_GC_HEAD)
		    : on_entry(ctx, LB_K_NONE, 0, 0);
}

/* A record of the target's life (header only), sent at once. */
static __always_inline void send_life(__u8 type, __u64 addr)
{
	struct lb_hdr h = {.type = type, .addr = addr};
	if (bpf_ringbuf_output(&events, &h, sizeof(h), BPF_RB_FORCE_WAKEUP))
		count(LB_C_RB_DROP_FREE);
}

/* Fill and send a header-only record reserved in advance (when what
 * follows the reservation must only happen if the record can go out). */
static __always_inline void submit_life(struct lb_hdr *h, __u8 type, __u32 pad, __u64 addr)
{
	h->type = type;
	h->n_native = 0;
	h->n_py = 0;
	h->flags = 0;
	h->pad = pad;
	h->addr = addr;
	bpf_ringbuf_submit(h, BPF_RB_FORCE_WAKEUP);
}

#define LB_SIGSTOP   19
#define LB_PROT_EXEC 4

/* Hold the current process stopped (SIGSTOP) in `held`, which leakbpf's
 * guardian empties if leakbpf dies: false when it cannot be. */
static __always_inline bool hold_current(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;
	if (bpf_map_update_elem(&held, &pid, &one, BPF_ANY))
		return false;
	if (bpf_send_signal(LB_SIGSTOP)) {
		bpf_map_delete_elem(&held, &pid);
		return false;
	}
	return true;
}

/* --children: report a new process pid of the target (LB_EV_FORK), held
 * stopped by hold() when it can be. The record is reserved first: a
 * process that nobody would hear of is never stopped. */
#define LB_HOLD_CHILD	0
#define LB_HOLD_CURRENT 1
static __always_inline void report_new_process(__u32 pid, struct task_struct *child, int how)
{
	struct lb_hdr *h = bpf_ringbuf_reserve(&events, sizeof(*h), 0);
	if (!h) {
		count(LB_C_FORK_LOST);
		return;
	}
	bool held_now;
	if (how == LB_HOLD_CURRENT) {
		held_now = hold_current();
	} else {
		__u8 one = 1;
		held_now = lb_send_signal_task_exists() &&
			   !bpf_map_update_elem(&held, &pid, &one, BPF_ANY);
		if (held_now && bpf_send_signal_task(child, LB_SIGSTOP, PIDTYPE_TGID, 0)) {
			bpf_map_delete_elem(&held, &pid);
			held_now = false;
		}
	}
	if (!held_now)
		count(LB_C_FORK_UNHELD);
	submit_life(h, LB_EV_FORK, held_now, pid);
}

/* --children: a process of the target's that shared its memory (vfork,
 * posix_spawn) executed a program: a new process to trace from now on,
 * held before the program's first instruction. Its parent already runs
 * on (the kernel let it go before this tracepoint). */
static __always_inline int on_spawned_program(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!follow_forks || image_gone || !bpf_map_lookup_elem(&spawned, &pid))
		return 0;
	bpf_map_delete_elem(&spawned, &pid);
	struct task_struct *task = bpf_get_current_task_btf();
	if (BPF_CORE_READ(task, real_parent, tgid) != target_tgid)
		return 0;
	report_new_process(pid, task, LB_HOLD_CURRENT);
	return 0;
}

/* The target executed a program: its probes now describe nothing. A
 * command is held (its parent, leakbpf, waits for it); a process traced
 * through --children too, in `held` as at its fork: once, by the image
 * it leaves (a later exec is the next image's). Held before userspace can
 * hear of the exec, which then finds it in `held` (or counts it unheld). */
static __always_inline int on_new_program(void)
{
	if (!in_target())
		return on_spawned_program();
	if (hold_exec)
		bpf_send_signal(LB_SIGSTOP);
	else if (hold_child && !image_gone)
		hold_current();
	image_gone = 1;
	send_life(LB_EV_NEW_PROGRAM, 0);
	return 0;
}

/* _exit: the process is about to go, its memory still readable. */
static __always_inline int on_exiting(void)
{
	if (!is_target())
		return 0;
	/* reserved first: a process is held only when its record goes out */
	struct lb_hdr *h = bpf_ringbuf_reserve(&events, sizeof(*h), 0);
	if (!h) {
		count(LB_C_RB_DROP_FREE);
		return 0;
	}
	if (hold_exit)
		bpf_send_signal(LB_SIGSTOP);
	else if (hold_child)
		hold_current();
	submit_life(h, LB_EV_EXITING, 0, 0);
	return 0;
}

/* mmap(addr, len, prot, flags, fd, off) of code from a file. */
static __always_inline int on_mmap_enter(__u64 prot, __s64 fd)
{
	if (!in_target() || !(prot & LB_PROT_EXEC) || fd < 0)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;
	bpf_map_update_elem(&code_maps, &tid, &one, BPF_ANY);
	return 0;
}

static __always_inline int on_mmap_exit(__s64 ret)
{
	if (!in_target())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (!bpf_map_lookup_elem(&code_maps, &tid))
		return 0;
	bpf_map_delete_elem(&code_maps, &tid);
	if (ret < 0 && ret > -4096)
		return 0;
	send_life(LB_EV_CODE_MAP, (__u64)ret);
	if (hold_code)
		bpf_send_signal(LB_SIGSTOP);
	return 0;
}

/* --children: the target made a new process. Report it, and stop it
 * before its first instruction (it is not running yet: the signal is
 * pending when it first returns to user space) so that its probes are in
 * place before it allocates. One that shares the target's memory (vfork,
 * posix_spawn: CLONE_VM) is reported at its exec instead. */
static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child)
{
	if (!follow_forks || parent->tgid != target_tgid || child->tgid == parent->tgid)
		return 0;
	__u32 pid = child->tgid;
	__u8 one = 1;
	if (spawn_at_exec && child->mm == parent->mm &&
	    !bpf_map_update_elem(&spawned, &pid, &one, BPF_ANY))
		return 0;
	/* a pid noted before, whose process exited without an exec */
	bpf_map_delete_elem(&spawned, &pid);
	report_new_process(pid, child, LB_HOLD_CHILD);
	return 0;
}

/* The code object deallocator: a code object dies, another one may take
 * its address (python.bpf.h, code tags). */
static __always_inline int on_code_death(void)
{
	if (is_target())
		__sync_fetch_and_add(&lb_py_code_deaths, 1);
	return 0;
}

/* ==== Page faults and give-backs (growth mode) ====
 *
 * A leaking process keeps making new anonymous pages resident; a healthy
 * one at steady state makes none. Every page a process makes resident or
 * gives back changes its RSS counters, and the kernel reports each change
 * (rss_stat) in the task that made it:
 *  - at a fault (page_fault_user, and page_fault_kernel for the user pages
 *    a system call writes), a write fault captures the thread's stack into
 *    its task storage: a pending page record;
 *  - when that fault makes the anonymous RSS grow (rss_stat on
 *    MM_ANONPAGES, same task, same mm, same user registers), the record is
 *    sent. A fault that maps no new anonymous page (a read of the zero
 *    page, a copy-on-write of a page shared with a parent or child, a
 *    spurious or repeated fault, a page of a file) sends nothing; the
 *    record is sent under the page table lock, before a munmap can remove
 *    the page;
 *  - when the anonymous RSS changes outside a fault, in a munmap, madvise,
 *    brk, mremap or mmap (over a mapping) of the process, the call's
 *    arguments are sent once: userspace forgets the pages of the range it
 *    gave back. mremap moving a range changes no counter: the search for
 *    its new place (vm_unmapped_area) sends the move.
 * No system call tracepoint: raw sys_enter/sys_exit would put every system
 * call of every process on the host through the slow path (+120 ns each
 * measured). No bpf_find_vma either (~1.4 us per fault here: it takes the
 * mm lock and releases it through an irq_work): which mapping a page is in
 * (a thread stack, a file) is told by userspace from the record's stack
 * pointer and the target's mappings. Only tracepoints: neither tracefs nor
 * fentry is needed (kernels built without the function tracer refuse
 * fentry). */

/* x86_64 system call numbers, mremap flags, thread_info.status */
#define LB_NR_MMAP	  9
#define LB_NR_MUNMAP	  11
#define LB_NR_BRK	  12
#define LB_NR_MREMAP	  25
#define LB_NR_MADVISE	  28
#define LB_MREMAP_MAYMOVE 1
#define LB_MREMAP_FIXED	  2
#define LB_TS_COMPAT	  0x0002 /* a 32-bit system call */

static __always_inline bool growth_traced(__u32 tgid)
{
	if (tgid == target_tgid)
		return true;
	return growth_all && tgid != growth_self && !bpf_map_lookup_elem(&growth_skip, &tgid);
}

/* The user registers of the current thread: at a user fault the fault's,
 * in a system call (and a kernel fault in one) the call's. */
static __always_inline struct pt_regs *growth_user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline int on_fault(__u64 address, unsigned long error_code, bool kernel)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!growth_traced(tgid))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct lb_growth_task *g =
	    bpf_task_storage_get(&lb_growth_tasks, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!g) {
		count(LB_C_THREAD_FULL);
		return 0;
	}
	struct pt_regs *regs = growth_user_regs();
	g->f_orig_ax = regs->orig_ax;
	g->f_ip = regs->ip;
	g->f_sp = regs->sp;
	/* A read maps the shared zero page or a file's page: no record, but
	 * a file page is counted when rss_stat says so. */
	if (!(error_code & X86_PF_WRITE)) {
		g->fault = LB_FAULT_READ;
		return 0;
	}
	count(LB_C_PAGE_FAULTS);
	struct lb_alloc_event *e = &g->rec;
	e->h.type = LB_EV_PAGE;
	e->h.n_native = 0;
	e->h.n_py = 0;
	e->h.flags = kernel ? LB_F_KERNEL : 0;
	e->h.pad = tgid;
	e->h.addr = address & ~4095ULL;
	e->size = 4096;
	e->old_addr = regs->sp;
	/* the layout in .rodata is the target's (-a: a process's own object) */
	struct lb_py_task *t = NULL;
	if (lb_py.runtime && tgid == target_tgid && !(t = lb_py_task_get()))
		count(LB_C_THREAD_FULL);
	capture_stacks(regs, e, t);
	g->fault = LB_FAULT_WRITE;
	return 0;
}

static __always_inline bool growth_syscall(long nr)
{
	return nr == LB_NR_MUNMAP || nr == LB_NR_MADVISE || nr == LB_NR_BRK || nr == LB_NR_MREMAP ||
	       nr == LB_NR_MMAP;
}

/* A give-back (LB_EV_RELEASE: system call nr with its arguments), a move
 * (LB_EV_MOVE), an exec or an exit. */
static __always_inline void growth_send(__u8 type, __u32 nr, const __u64 *args, __u32 tgid)
{
	struct lb_range_event *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(LB_C_RB_DROP_RANGE);
		return;
	}
	r->h.type = type;
	r->h.n_native = 0;
	r->h.n_py = 0;
	r->h.flags = 0;
	r->h.pad = tgid;
	r->h.addr = args[0];
	r->ts_ns = bpf_ktime_get_ns();
	r->args[0] = args[1];
	r->args[1] = args[2];
	r->args[2] = args[3];
	r->args[3] = args[4];
	r->nr = nr;
	r->pad = 0;
	bpf_ringbuf_submit(r, rb_flags());
}

/* The anonymous RSS changed in a system call of the process: a give-back,
 * sent once per call, not once per page table the call empties. */
static __always_inline void on_syscall_change(struct task_struct *task, struct lb_growth_task *g,
					      struct pt_regs *regs, __u32 tgid)
{
	long nr = regs->orig_ax;
	if (!growth_syscall(nr) || (task->thread_info.status & LB_TS_COMPAT))
		return;
	__u64 args[5] = {regs->di, regs->si, regs->dx, regs->r10, regs->r8};
	if (g && g->sent_nr == (__u64)nr + 1 && g->sent_args[0] == args[0] &&
	    g->sent_args[1] == args[1] && g->sent_args[2] == args[2] && g->sent_args[3] == args[3])
		return;
	if (!g)
		g = bpf_task_storage_get(&lb_growth_tasks, task, NULL,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (g) {
		g->sent_nr = nr + 1;
		g->sent_args[0] = args[0];
		g->sent_args[1] = args[1];
		g->sent_args[2] = args[2];
		g->sent_args[3] = args[3];
	}
	growth_send(LB_EV_RELEASE, nr, args, tgid);
}

/* The RSS of a traced process changed in one of its tasks: the end of a
 * fault of ours (send or count it), or a give-back. */
static __always_inline int on_rss_change(struct mm_struct *mm, int member)
{
	if (member != MM_ANONPAGES && member != MM_FILEPAGES && member != MM_SHMEMPAGES)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!growth_traced(tgid))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->mm != mm)
		return 0;
	struct lb_growth_task *g = bpf_task_storage_get(&lb_growth_tasks, task, NULL, 0);
	struct pt_regs *regs = growth_user_regs();
	if (g && g->fault != LB_FAULT_NONE) {
		/* the fault's own change, unless the thread has gone on since
		 * (a fault that changed nothing: a copy-on-write after fork) */
		if (regs->orig_ax == g->f_orig_ax && regs->ip == g->f_ip && regs->sp == g->f_sp) {
			__u32 fault = g->fault;
			g->fault = LB_FAULT_NONE;
			if (member != MM_ANONPAGES) {
				count(LB_C_FILE_FAULTS);
			} else if (fault == LB_FAULT_WRITE) {
				struct lb_alloc_event *e = &g->rec;
				e->ts_ns = bpf_ktime_get_ns();
				__u32 len = LB_ALLOC_LEN(e->h.n_native, e->h.n_py, 0);
				if (len > sizeof(*e) ||
				    bpf_ringbuf_output(&events, e, len, rb_flags()))
					count(LB_C_RB_DROP_PAGE);
				else
					count(LB_C_PAGE_RECORDS);
				g->sent_nr = 0; /* the next give-back is news */
			}
			return 0;
		}
		g->fault = LB_FAULT_NONE;
	}
	if (member == MM_ANONPAGES)
		on_syscall_change(task, g, regs, tgid);
	return 0;
}

/* mremap looking for a new place for a range it moves: the pages will go
 * there, without changing the RSS. */
static __always_inline int on_new_area(unsigned long addr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!growth_traced(tgid) || (addr & 4095))
		return 0; /* not ours, or an error */
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = growth_user_regs();
	if (regs->orig_ax != LB_NR_MREMAP || (task->thread_info.status & LB_TS_COMPAT) ||
	    !(regs->r10 & LB_MREMAP_MAYMOVE) || (regs->r10 & LB_MREMAP_FIXED))
		return 0;
	/* old address, old length, new length, flags, new address */
	__u64 args[5] = {regs->di, regs->si, regs->dx, regs->r10, addr};
	growth_send(LB_EV_MOVE, LB_NR_MREMAP, args, tgid);
	return 0;
}

/* exec: every page of the old address space is gone; exit (-a, the last
 * thread): the process is. */
static __always_inline int on_process_end(struct task_struct *p, __u8 type)
{
	if (!growth_traced(p->tgid))
		return 0;
	if (type == LB_EV_EXIT && (!growth_all || p->signal->live.counter != 0))
		return 0;
	__u64 args[5] = {};
	growth_send(type, 0, args, p->tgid);
	return 0;
}

/* The dynamic loader changed its list of objects (dlopen, dlclose): wake
 * userspace to read the target's mappings and build the new libraries'
 * unwind tables now (user/unwind/dl_watch.h). */
static __always_inline int on_dl_change(void)
{
	if (!is_target())
		return 0;
	__u64 n = __sync_fetch_and_add(&dl_changes, 1) + 1;
	bpf_ringbuf_output(&dl_wake, &n, sizeof(n), BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* ==== Programs ==== */

/* libc's allocators; also the exported PyObject_* / PyMem_* functions. */

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

/* The return of every allocation-family probe above and below. */
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

/* pymalloc internals, (void *ctx, ...): builds where pymalloc's fast path
 * is not inlined into its callers (userspace picks the set per build, see
 * user/python/alloc_probes.c). */

SEC("uprobe")
int BPF_KPROBE(lb_pym_malloc, void *actx, __u64 size)
{
	return on_entry(ctx, LB_K_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(lb_pym_calloc, void *actx, __u64 n, __u64 size)
{
	return on_entry(ctx, LB_K_CALLOC, n * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(lb_pym_realloc, void *actx, __u64 ptr, __u64 size)
{
	return on_entry(ctx, LB_K_REALLOC, size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(lb_pym_free, void *actx, __u64 ptr)
{
	return on_free(ctx, ptr);
}

/* Type-slot entry points (tp_alloc / tp_free and the GC allocators, object
 * pointers), called through pointers: LTO builds that inline pymalloc. */

/* PyType_GenericAlloc(type, nitems): one spare item (sentinel). */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_generic_alloc, __u64 type, __s64 nitems)
{
	return on_pyobj_alloc(ctx, type, nitems + 1);
}

/* _PyObject_GC_New(type) */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_new, __u64 type)
{
	return on_pyobj_alloc(ctx, type, 0);
}

/* _PyObject_GC_NewVar(type, nitems) */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_newvar, __u64 type, __s64 nitems)
{
	return on_pyobj_alloc(ctx, type, nitems);
}

/* _PyObject_GC_Resize(op, nitems) */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_resize, __u64 op, __s64 nitems)
{
	return on_pyobj_resize(ctx, op, nitems);
}

/* The constructors of dict, list and tuple (free lists). */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_sized_new, __s64 a1, __s64 a2)
{
	return on_pyobj_sized_new(ctx, a1, a2);
}

/* PyObject_GC_Del(op) */
SEC("uprobe")
int BPF_KPROBE(lb_pyo_gc_del, __u64 op)
{
	return on_free(ctx, pya_gc_block(op));
}

/* Entry of PyCode_Type.tp_dealloc (user/python/code_watch.c). */
SEC("uprobe")
int BPF_KPROBE(lb_py_code_dealloc)
{
	return on_code_death();
}

/* The dynamic loader's _dl_debug_state (user/unwind/dl_watch.c). */
SEC("uprobe")
int BPF_KPROBE(lb_dl_change)
{
	return on_dl_change();
}

/* Growth mode (userspace loads these, and none of the above, with
 * --growth). */

SEC("tp_btf/page_fault_user")
int BPF_PROG(lb_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return on_fault(address, error_code, false);
}

/* The kernel writing a user page first (read(2) into a new buffer). */
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(lb_fault_kernel, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return address >> 63 ? 0 : on_fault(address, error_code, true);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(lb_rss_stat, struct mm_struct *mm, int member)
{
	return on_rss_change(mm, member);
}

SEC("tp_btf/vm_unmapped_area")
int BPF_PROG(lb_new_area, unsigned long addr, struct vm_unmapped_area_info *info)
{
	return on_new_area(addr);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(lb_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_process_end(p, LB_EV_EXEC);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(lb_exit, struct task_struct *p)
{
	return on_process_end(p, LB_EV_EXIT);
}

/* --children, both modes (user/session/image.c attaches it). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(lb_fork, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

/* libc's _exit (user/attach/allocators.c probes it with the malloc family). */
SEC("uprobe")
int BPF_KPROBE(lb_libc_exit)
{
	return on_exiting();
}

/* The target's life: exec, and mmap of code (user/attach/process_events.c).
 * The exec's is a raw tracepoint: it needs no tracefs. The mmap ones are
 * the system call's tracepoints, which can only be attached with tracefs
 * mounted (no raw tracepoint of one system call; raw sys_enter/sys_exit
 * would slow every system call on the host): without them, a module the
 * target maps is seen through the loader's _dl_debug_state (dlopen) or
 * the periodic refresh. */

SEC("raw_tp/sched_process_exec")
int lb_new_program(void *ctx)
{
	return on_new_program();
}

SEC("tp/syscalls/sys_enter_mmap")
int lb_mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_mmap_enter(ctx->args[2], (__s64)ctx->args[4]);
}

SEC("tp/syscalls/sys_exit_mmap")
int lb_mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_mmap_exit(ctx->ret);
}
