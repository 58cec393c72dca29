/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Native stacks from DWARF call-frame information. Userspace turns the CFI
 * of every module the target maps into rows (bpf/cfi.h, user/unwind/) and
 * tells each code range where its rows are; the walk then goes frame by
 * frame: the range holding pc (binary search), the row for pc in that
 * module (binary search), the CFA from the row, the return address at
 * CFA - 8 and the caller's %rbp where the row says, until a frame whose
 * return address is undefined (_start, clone3: the root).
 *
 * Every frame after the first is looked up at its return address - 1 (the
 * call, which may be the last instruction of a function that does not
 * return); the first frame, and the one interrupted by a signal, at their
 * exact address. A module without a table (no CFI, or it did not fit) is
 * unwound with its frame pointer; a first frame in no module with a table
 * is left to the frame-pointer walk (unwind.bpf.h). The walk stops, and
 * says why in the record's flags, at code in no file (JIT, anonymous
 * memory; a uretprobe's trampoline is looked through, see uret.bpf.h), at
 * an address without a usable rule, and at unreadable stack memory.
 *
 * What it costs is reads of the target's stack (~40 ns each), not the
 * table searches: the stack is read a page at a time from %rsp up, at most
 * CFI_WIN_PAGES pages, and frames are read from that copy. And most
 * allocations come from a few call sites with the same stack every time:
 * a walk is kept per CPU by (pc, sp), with where it read each return
 * address and saved register; the next allocation there reads the stack
 * once and, when every word the walk read is unchanged, the walk would
 * find the same frames: it takes the kept ones (a new table generation,
 * cfi_gen, voids them all).
 *
 * Per-CPU scratch and cache are safe from a preempting program: the
 * window has an owner stamp, checked when the walk ends, and a kept walk a
 * sequence count, odd while it is written and checked around its use.
 *
 * Uses the declarations block of leakbpf.bpf.c: the ranges map with
 * nranges, interp_stacks, the cfi_rows, cfi_scratch and cfi_cache maps and
 * cfi_gen. cfi_capture() is what capture_native (unwind.bpf.h) calls.
 */
#ifndef CFI_BPF_H
#define CFI_BPF_H

#ifndef LB_DECLARATIONS
#error "include cfi.bpf.h after the declarations block of leakbpf.bpf.c"
#endif

/* Search steps: enough for 2^24 rows (the array holds LB_CFI_ROWS_DEFAULT)
 * and LB_MAX_RANGES ranges. */
#define CFI_ROW_STEPS	25
#define CFI_RANGE_STEPS 10
/* Stack frames larger than this are taken for a broken walk. */
#define CFI_MAX_FRAME (8 << 20)
/* Above the highest user address. */
#define CFI_USER_END 0x800000000000ULL

enum cfi_stop {
	CFI_ON = 0,
	CFI_ROOT,    /* the outermost frame */
	CFI_ANON,    /* code in no file: JIT or anonymous memory */
	CFI_NO_RULE, /* an address without a usable rule */
	CFI_READ,    /* stack memory unreadable, or a frame where none can be */
	CFI_INTERP,  /* the interpreter: merged stacks keep nothing above it */
	CFI_DEPTH,   /* LB_MAX_NATIVE frames */
};

/* The bpf_loop callbacks' context: pointers only (the state is in s). */
struct cfi_walk {
	struct lb_alloc_event *e;
	struct cfi_scratch *s;
};

static __always_inline __u64 cfi_mix(__u64 h, __u64 v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* Index of the range holding pc, or -1. Global functions are verified
 * once, not at every call site. */
__noinline int cfi_range_of(__u64 pc)
{
	__u32 lo = 0, hi = nranges;
	if (hi > LB_MAX_RANGES)
		hi = LB_MAX_RANGES;
	for (int i = 0; i < CFI_RANGE_STEPS && lo < hi; i++) {
		__u32 mid = (lo + hi) / 2;
		struct lb_range *r = bpf_map_lookup_elem(&ranges, &mid);
		if (!r)
			return -1;
		if (pc < r->lo)
			hi = mid;
		else if (pc >= r->hi)
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}

/* Index of the last row at or below module address a among rows
 * [first, first + count), or -1. */
__noinline long cfi_row_of(__u32 first, __u32 count, __u64 a)
{
	__u32 lo = first, hi = first + count;
	if (a > 0xffffffffULL || hi < lo)
		return -1;
	for (int i = 0; i < CFI_ROW_STEPS && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;
		struct lb_cfi_row *row = bpf_map_lookup_elem(&cfi_rows, &mid);
		if (!row)
			return -1;
		if (row->pc <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo != hi || lo == first)
		return -1;
	return (long)lo - 1;
}

static __always_inline long cfi_stop(struct cfi_scratch *s, __u8 why)
{
	s->stop = why;
	return 1;
}

/* The window: the stack from sp0 up, a page at a time as the walk needs
 * it (a read never crosses a page, so it never faults at the top of the
 * stack). Page 0 holds [sp0, the end of its page) from word 0; page k the
 * k-th page above, from word 512 k. Word of addr, or -1 outside. */
static __always_inline long cfi_win_word(__u64 sp0, __u64 addr)
{
	if (addr < sp0 || (addr & 7))
		return -1;
	__u64 k = (addr - (sp0 & ~4095ULL)) >> 12;
	if (k >= CFI_WIN_PAGES)
		return -1;
	return k ? (long)(k * 512 + ((addr & 4095) >> 3)) : (long)((addr - sp0) >> 3);
}

/* Read the first `bytes` of window page k. */
static __always_inline int cfi_win_read(struct cfi_scratch *s, __u32 k, __u32 bytes)
{
	k &= CFI_WIN_PAGES - 1;
	__u64 src = k ? (s->sp0 & ~4095ULL) + k * 4096ULL : s->sp0;
	__u32 room = k ? 4096 : 4096 - (s->sp0 & 4095);
	if (bytes > room)
		bytes = room;
	/* the compiler knows the bound, the verifier must see it */
	barrier_var(bytes);
	if (bytes > 4096)
		bytes = 4096;
	return bpf_probe_read_user(&s->win[k * 512], bytes, (void *)src);
}

/* A word of the stack at addr: from the window, else read alone. The walk
 * is kept for its call site only if every word came from the window (the
 * check reads the window again); return addresses are noted by the
 * caller, other words here. */
static __always_inline int cfi_read(struct cfi_scratch *s, __u64 addr, __u64 *val, bool is_ra)
{
	long w = cfi_win_word(s->sp0, addr);
	if (w >= 0) {
		__u32 at = w, bit = 1u << (at >> 9);
		if (!((s->win_ok | s->win_bad) & bit)) {
			if (cfi_win_read(s, at >> 9, 4096))
				s->win_bad |= bit;
			else
				s->win_ok |= bit;
		}
		if (s->win_ok & bit) {
			*val = s->win[at & (CFI_WIN_WORDS - 1)];
			if (at + 1 > s->span)
				s->span = at + 1;
			if (!is_ra) {
				__u32 k = s->nrd;
				if (k < CFI_CACHE_READS) {
					s->rd_at[k] = at;
					s->rd_val[k] = *val;
				}
				s->nrd = k + 1;
			}
			return 0;
		}
	}
	s->cacheable = 0;
	return bpf_probe_read_user(val, sizeof(*val), (void *)addr);
}

/* Move to the caller: its frame ends at cfa, its return address was at
 * ra_at (noted for the cache). */
static __always_inline long cfi_to_caller(struct cfi_scratch *s, __u64 cfa, __u64 ra, __u64 ra_at,
					  __u64 bp, bool bp_ok, bool bp_read, bool guess)
{
	if (ra == 0)
		return cfi_stop(s, CFI_ROOT); /* a zeroed return address ends some stacks */
	__u32 n = s->n;			      /* the frame ra makes */
	if (n < LB_MAX_NATIVE)
		s->ra_at[n & (LB_MAX_NATIVE - 1)] = cfi_win_word(s->sp0, ra_at);
	s->pc = ra;
	s->ra_slot = ra_at;
	s->sp = cfa;
	s->bp = bp;
	s->bp_ok = bp_ok;
	if (bp_read)
		s->bp_reg = 0;
	s->exact = 0;
	s->guess = guess;
	return 0;
}

/* The register %rbp is used while the walk still has it: the kept walk
 * depends on it. */
static __always_inline void cfi_uses_bp(struct cfi_scratch *s)
{
	if (s->bp_reg)
		s->use_bp = 1;
}

/* A module without a table: the frame pointer's frame (saved %rbp, return
 * address). */
static __always_inline long cfi_fp_step(struct cfi_scratch *s)
{
	__u64 bp, ra;
	if (!s->bp_ok || s->bp < s->sp || s->bp - s->sp > CFI_MAX_FRAME || (s->bp & 7))
		return cfi_stop(s, CFI_NO_RULE);
	cfi_uses_bp(s);
	if (cfi_read(s, s->bp, &bp, false) || cfi_read(s, s->bp + 8, &ra, true))
		return cfi_stop(s, CFI_READ);
	return cfi_to_caller(s, s->bp + 16, ra, s->bp + 8, bp, true, true, true);
}

/* The kernel's signal frame: the interrupted registers. */
static __always_inline long cfi_signal_step(struct cfi_scratch *s)
{
	__u64 bp, sp, pc;
	if (cfi_read(s, s->sp + LB_SIGFRAME_RBP, &bp, false) ||
	    cfi_read(s, s->sp + LB_SIGFRAME_RSP, &sp, false) ||
	    cfi_read(s, s->sp + LB_SIGFRAME_RIP, &pc, true))
		return cfi_stop(s, CFI_READ);
	if (cfi_to_caller(s, sp, pc, s->sp + LB_SIGFRAME_RIP, bp, true, true, false))
		return 1;
	s->exact = 1; /* the interrupted instruction itself */
	return 0;
}

static __always_inline long cfi_row_step(struct cfi_scratch *s, const struct lb_cfi_row *row)
{
	__u8 kind = row->kind;
	__s64 off = row->off;
	__u64 cfa = 0;
	if (kind & LB_CFI_OFF_X8)
		off *= 8;
	switch (LB_CFI_RULE(kind)) {
	case LB_CFA_RSP:
		cfa = s->sp + off;
		break;
	case LB_CFA_RBP:
		if (!s->bp_ok)
			return cfi_stop(s, CFI_NO_RULE);
		cfi_uses_bp(s);
		cfa = s->bp + off;
		break;
	case LB_CFA_PLT:
		cfa = s->sp + 8 + ((s->pc & 15) >= (__u64)off ? 8 : 0);
		break;
	case LB_CFA_RBP_DEREF:
		if (!s->bp_ok)
			return cfi_stop(s, CFI_NO_RULE);
		cfi_uses_bp(s);
		if (cfi_read(s, s->bp + off, &cfa, false))
			return cfi_stop(s, CFI_READ);
		break;
	case LB_CFA_SIGNAL:
		return cfi_signal_step(s);
	case LB_CFA_ROOT:
		return cfi_stop(s, CFI_ROOT);
	default:
		return cfi_stop(s, CFI_NO_RULE);
	}
	/* the caller's frame is above this one */
	if (cfa <= s->sp || cfa - s->sp > CFI_MAX_FRAME)
		return cfi_stop(s, CFI_READ);
	__u64 ra, bp = s->bp;
	bool bp_ok = s->bp_ok, bp_read = false;
	__s64 bp_at = (__s64)row->rbp_off * 8;
	switch (LB_CFI_RBP(kind)) {
	case LB_RBP_CFA:
		if (cfi_read(s, cfa + bp_at, &bp, false))
			return cfi_stop(s, CFI_READ);
		bp_ok = bp_read = true;
		break;
	case LB_RBP_RBP:
		cfi_uses_bp(s);
		if (!bp_ok || cfi_read(s, s->bp + bp_at, &bp, false))
			bp_ok = false;
		bp_read = true;
		break;
	case LB_RBP_LOST:
		bp_ok = false;
		bp_read = true;
		break;
	default:
		break;
	}
	if (cfi_read(s, cfa - 8, &ra, true))
		return cfi_stop(s, CFI_READ);
	return cfi_to_caller(s, cfa, ra, cfa - 8, bp, bp_ok, bp_read, false);
}

/* The range of pc: the previous frame's when it holds pc (frames of one
 * module follow each other), else searched. */
static __always_inline struct lb_range *cfi_range(struct cfi_scratch *s)
{
	__u32 k = s->last;
	struct lb_range *r = bpf_map_lookup_elem(&ranges, &k);
	if (r && s->pc >= r->lo && s->pc < r->hi)
		return r;
	int ri = cfi_range_of(s->pc);
	if (ri < 0)
		return NULL;
	k = ri;
	s->last = k;
	return bpf_map_lookup_elem(&ranges, &k);
}

/* pc is in no known code: when it is a return probe's trampoline (as a
 * return address, or where a signal stopped the thread on its way
 * through), take the return address it hides (uret.bpf.h). Read from the
 * kernel, not the stack: the walk is not kept. */
static __always_inline bool cfi_uret(struct cfi_scratch *s)
{
	__u64 tramp = uret_trampoline(), orig = 0, slot = s->ra_slot;
	if (!tramp)
		return false;
	if (!s->exact) {
		if (s->pc != tramp)
			return false;
		orig = uret_orig(slot, s->nuret);
	} else if (s->pc - tramp < 64) {
		slot = uret_tramp_slot(s->pc, s->sp);
		if (slot & 1) {
			slot &= ~1ULL;
			if (cfi_read(s, slot, &orig, true))
				orig = 0;
		} else if (slot) {
			orig = uret_orig(slot, s->nuret);
		}
		/* from here the frame of the function it returns to */
		if (orig) {
			s->sp = slot + 8;
			s->exact = 0;
		}
	}
	if (!orig)
		return false;
	s->pc = orig;
	s->ra_slot = slot;
	s->nuret++;
	s->cacheable = 0;
	return true;
}

/* One frame: record pc, find its rule, move to the caller. */
static long cfi_step(__u64 i, void *data)
{
	struct cfi_walk *w = data;
	struct cfi_scratch *s = w->s;
	__u32 n = s->n;
	if (n >= LB_MAX_NATIVE)
		return cfi_stop(s, CFI_DEPTH);
	if (s->pc < 4096 || s->pc >= CFI_USER_END)
		return cfi_stop(s, s->guess ? CFI_READ : CFI_NO_RULE);
	struct lb_range *r = cfi_range(s);
	if (!r && n > 0 && cfi_uret(s))
		r = cfi_range(s);
	if (!r && s->guess)
		return cfi_stop(s, CFI_READ); /* a frame-pointer step found no frame */
	w->e->ips[n & (LB_MAX_NATIVE - 1)] = s->pc;
	s->n = n + 1;
	if (!r)
		return cfi_stop(s, CFI_ANON);
	if (n > 0 && (r->flags & LB_RANGE_INTERP) && !interp_stacks)
		return cfi_stop(s, CFI_INTERP);
	if (!r->cfi_count)
		return cfi_fp_step(s);
	long row_i = cfi_row_of(r->cfi_first, r->cfi_count, s->pc - r->bias - (s->exact ? 0 : 1));
	__u32 k = row_i;
	struct lb_cfi_row *row = row_i >= 0 ? bpf_map_lookup_elem(&cfi_rows, &k) : NULL;
	if (!row)
		return cfi_stop(s, CFI_NO_RULE);
	return cfi_row_step(s, row);
}

/* ---- the walks kept per call site ---- */

static __always_inline __u32 cfi_slot(__u64 pc, __u64 sp)
{
	return (__u32)(cfi_mix(pc, sp) >> 40) & (CFI_CACHE_SLOTS - 1);
}

/* Read again the first span words of the window, as a kept walk used
 * them. 0, or -1 when a page cannot be read. */
static __always_inline int cfi_win_reread(struct cfi_scratch *s, __u32 span)
{
#pragma unroll
	for (__u32 k = 0; k < CFI_WIN_PAGES; k++) {
		if (span <= k * 512)
			break;
		__u32 words = span - k * 512;
		if (cfi_win_read(s, k, (words > 512 ? 512 : words) * 8))
			return -1;
	}
	return 0;
}

/* Where a walk starts: the registers at the probe, in process tgid. */
struct cfi_regs {
	__u64 pc, sp, bp, tgid;
	__u64 stamp; /* the window's owner stamp for this walk */
};

/* The kept walk of this call site, when every word it read is unchanged:
 * its frame count, or -1. Its frames are copied into the record as they
 * are checked; a walk kept meanwhile by a program that preempted this one
 * changes the entry's sequence, and the check fails. */
static __always_inline long cfi_kept(struct cfi_scratch *s, const struct cfi_regs *at,
				     struct lb_alloc_event *e, const struct cfi_cache_ent *c,
				     __u64 gen)
{
	__u64 seq = c->seq;
	barrier();
	__u64 shape = c->shape;
	__u32 n = shape & 0xff, nrd = (shape >> 8) & 0xff, span = (shape >> 16) & 0xffff;
	__u32 flags = (shape >> 32) & 0xff;
	bool use_bp = (shape >> 40) & 1;
	if ((seq & 1) || c->pc != at->pc || c->sp != at->sp || c->gen != gen ||
	    c->tgid != at->tgid || (use_bp && c->bp != at->bp) || !n)
		return -1;
	if (n > LB_MAX_NATIVE || nrd > CFI_CACHE_READS || span >= CFI_WIN_WORDS)
		return -1;
	s->sp0 = at->sp;
	if (cfi_win_reread(s, span))
		return -1;
	for (__u32 i = 0; i < LB_MAX_NATIVE; i++) {
		if (i >= n)
			break;
		__u64 v = c->ips[i];
		if (i > 0 && s->win[c->ra_at[i] & (CFI_WIN_WORDS - 1)] != v)
			return -1;
		e->ips[i] = v;
	}
	for (__u32 i = 0; i < CFI_CACHE_READS; i++) {
		if (i >= nrd)
			break;
		if (s->win[c->rd_at[i] & (CFI_WIN_WORDS - 1)] != c->rd_val[i])
			return -1;
	}
	barrier();
	if (c->seq != seq || s->owner != at->stamp)
		return -1;
	e->h.flags |= flags;
	return n;
}

/* Keep a finished walk for its call site: only one whose every word came
 * from the window and whose end does not depend on a failed read. The
 * sequence is odd while the entry is written: a program preempting this
 * one neither uses nor writes it then. */
static __always_inline void cfi_keep(struct cfi_scratch *s, const struct cfi_regs *at,
				     const struct lb_alloc_event *e, struct cfi_cache_ent *c,
				     __u64 gen, __u32 flags)
{
	__u32 n = s->n, nrd = s->nrd, span = s->span;
	__u64 seq = c->seq;
	if ((seq & 1) || !s->cacheable || s->stop == CFI_READ || !n || n > LB_MAX_NATIVE ||
	    nrd > CFI_CACHE_READS || span >= CFI_WIN_WORDS || s->owner != at->stamp)
		return;
	c->seq = seq + 1;
	barrier();
	__u64 use_bp = s->use_bp ? 1 : 0;
	for (__u32 i = 0; i < LB_MAX_NATIVE; i++) {
		if (i >= n)
			break;
		c->ips[i] = e->ips[i];
		c->ra_at[i] = i ? s->ra_at[i] : 0;
	}
	for (__u32 i = 0; i < CFI_CACHE_READS; i++) {
		if (i >= nrd)
			break;
		c->rd_at[i] = s->rd_at[i];
		c->rd_val[i] = s->rd_val[i];
	}
	c->pc = at->pc;
	c->sp = at->sp;
	c->tgid = at->tgid;
	c->bp = use_bp ? at->bp : 0;
	c->gen = gen;
	c->shape = n | nrd << 8 | span << 16 | (__u64)flags << 32 | use_bp << 40;
	barrier();
	c->seq = seq + 2;
}

/* The stack from the registers at a probe, into e->ips. Returns the number
 * of frames, or -1 when the first frame is in no module with a table (the
 * caller then uses the frame-pointer walk and its repair). A global function: the
 * verifier checks it once, not once per path of the program that calls it. */
__noinline long cfi_capture(__u64 pc, __u64 sp, __u64 bp, struct lb_alloc_event *e)
{
	__u32 zero = 0;
	struct cfi_scratch *s = bpf_map_lookup_elem(&cfi_scratch, &zero);
	if (!s || !e)
		return -1;
	struct cfi_regs at = {
	    .pc = pc, .sp = sp, .bp = bp, .tgid = bpf_get_current_pid_tgid() >> 32};
	/* own the window: a program preempting this one changes the stamp */
	at.stamp = ++s->owner;
	__u64 gen = cfi_gen;
	__u32 slot = cfi_slot(pc, sp);
	struct cfi_cache_ent *c = bpf_map_lookup_elem(&cfi_cache, &slot);
	/* a kept walk of this generation started in a module with a table */
	if (c) {
		long n = cfi_kept(s, &at, e, c, gen);
		if (n > 0)
			return n;
	}
	s->pc = pc;
	s->last = 0;
	/* a first frame in no known code (JIT code, or a process whose code
	 * this object does not know) is left to the frame-pointer walk */
	struct lb_range *r = cfi_range(s);
	if (!r || !r->cfi_count)
		return -1;
	s->pc = pc;
	s->sp = sp;
	s->bp = bp;
	s->sp0 = sp;
	s->n = 0;
	s->exact = 1;
	s->bp_ok = 1;
	s->bp_reg = 1;
	s->guess = 0;
	s->stop = CFI_ON;
	s->span = 0;
	s->nrd = 0;
	s->use_bp = 0;
	s->nuret = 0;
	s->ra_slot = 0;
	s->cacheable = 1;
	s->win_ok = 0;
	s->win_bad = 0;
	struct cfi_walk w = {.e = e, .s = s};
	bpf_loop(LB_MAX_NATIVE + 1, cfi_step, &w, 0);
	__u32 n = s->n, flags = 0;
	if (s->stop == CFI_ANON)
		flags = LB_F_NATIVE_ANON;
	else if (s->stop == CFI_NO_RULE || s->stop == CFI_READ)
		flags = LB_F_NATIVE_STOPPED;
	if (s->owner != at.stamp) {
		/* preempted by another walk on this CPU: its state is not ours */
		n = 1;
		e->ips[0] = pc;
		flags = LB_F_NATIVE_STOPPED;
	} else if (c) {
		cfi_keep(s, &at, e, c, gen, flags);
	}
	e->h.flags |= flags;
	return n > LB_MAX_NATIVE ? LB_MAX_NATIVE : n;
}

#endif
