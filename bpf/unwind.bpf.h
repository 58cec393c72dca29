/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The native stack walk at a return probe: from the unwind tables built
 * from DWARF CFI (cfi.bpf.h) where the first frame's module has one; else a
 * frame-pointer walk, and the repair of stacks whose first frame is in a
 * library built without frame pointers (libc's strdup, libstdc++'s
 * operator new...). Such a function keeps its caller's %rbp on its own
 * stack frame, or in %rbp when it does not use it, so the frame-pointer
 * walk skips or loses its caller. The
 * caller's return address is the first word above %sp that points into
 * code built with frame pointers; the saved %rbp is a word below it
 * pointing just above it. From there the walk goes on as usual.
 *
 * Uses the declarations block of leakbpf.bpf.c rather than parameters: it
 * reads the "ranges" map with nranges, fp_lo and fp_hi (the code ranges
 * userspace keeps current) and interp_stacks. range_flags() is a global
 * function, verified once for all its callers, and a global function
 * cannot take a map as argument. The record to fill is a parameter.
 */
#ifndef UNWIND_BPF_H
#define UNWIND_BPF_H

#ifndef LB_DECLARATIONS
#error "include unwind.bpf.h after the declarations block of leakbpf.bpf.c"
#endif

/* Stack words searched for the return address a no-frame-pointer function
 * hides from the frame-pointer walk. */
#define LB_SCAN_WORDS 96

/* Flags of the range holding addr, or -1 when addr is in no known code.
 * A global function: the verifier checks it once, not at every call. */
__noinline int range_flags(__u64 addr)
{
	__u32 lo = 0, hi = nranges;
	if (hi > LB_MAX_RANGES)
		hi = LB_MAX_RANGES;
	for (int i = 0; i < 10; i++) {
		if (lo >= hi)
			break;
		__u32 mid = (lo + hi) / 2;
		struct lb_range *r = bpf_map_lookup_elem(&ranges, &mid);
		if (!r)
			break;
		if (addr < r->lo)
			hi = mid;
		else if (addr >= r->hi)
			lo = mid + 1;
		else
			return (int)r->flags;
	}
	return -1;
}

static __always_inline bool fp_code(__u64 addr)
{
	if (addr < fp_lo || addr >= fp_hi)
		return false;
	int f = range_flags(addr);
	return f >= 0 && !(f & LB_RANGE_NOFP);
}

/* Whether the instruction before ret calls code without frame pointers
 * (directly, through a PLT stub, or through the GOT): a return address left
 * on the stack by an earlier, finished call to code with frame pointers is
 * stale, not the caller we look for. */
static __always_inline bool calls_nofp(__u64 ret)
{
	__u8 c[6];
	if (bpf_probe_read_user(c, sizeof(c), (void *)(ret - 6)))
		return false;
	if (c[0] == 0xff && c[1] == 0x15)
		return true; /* call *disp32(%rip) (-fno-plt) */
	if (c[1] != 0xe8)
		return false;
	__s32 rel = (__s32)((__u32)c[2] | (__u32)c[3] << 8 | (__u32)c[4] << 16 | (__u32)c[5] << 24);
	__u64 target = ret + (__s64)rel;
	int f = range_flags(target);
	if (f >= 0 && (f & LB_RANGE_NOFP))
		return true;
	__u8 t[8];
	if (bpf_probe_read_user(t, sizeof(t), (void *)target))
		return false;
	/* PLT stub: [endbr64] [bnd] jmp *disp32(%rip) */
	if (t[0] == 0xff && t[1] == 0x25)
		return true;
	if (t[0] == 0xf2 && t[1] == 0xff && t[2] == 0x25)
		return true;
	if (t[0] == 0xf3 && t[1] == 0x0f && t[2] == 0x1e && t[3] == 0xfa)
		return (t[4] == 0xff && t[5] == 0x25) ||
		       (t[4] == 0xf2 && t[5] == 0xff && t[6] == 0x25);
	return false;
}

/* Frame-pointer walk from fp, filling ips[from..]. Returns the new depth. */
static __always_inline long walk_from(struct lb_alloc_event *e, __u64 fp, long from)
{
	long n = from;
	for (int i = 2; i < LB_MAX_NATIVE; i++) {
		if (i < from)
			continue;
		__u64 pair[2];
		if (bpf_probe_read_user(pair, sizeof(pair), (void *)fp))
			break;
		if (range_flags(pair[1]) < 0)
			break;
		e->ips[i & (LB_MAX_NATIVE - 1)] = pair[1];
		n = i + 1;
		if (pair[0] <= fp)
			break;
		fp = pair[0];
	}
	return n;
}

/* Whether bp can be the frame pointer of the function whose return
 * address sits at slot: just above it on the stack, and holding a
 * return address into known code. */
static __always_inline bool frame_ok(__u64 bp, __u64 slot)
{
	__u64 ret;
	if (bp <= slot || bp >= slot + (1 << 20) || (bp & 7))
		return false;
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)(bp + 8)))
		return false;
	return range_flags(ret) >= 0;
}

/* v, as a value the verifier knows nothing about: the search below exits
 * with one of 96 exact indexes, each of which it would otherwise follow
 * through the rest of fix_caller separately. */
__noinline long unknown(long v)
{
	return v;
}

/* fix_caller's search for a frame pointer, down from just below the
 * return address found at w[j] (a bpf_loop step: the verifier would
 * otherwise follow each word's outcome through the stack walk after it). */
struct bp_search {
	const __u64 *w;
	__u64 slot;
	long j;
	__u64 bp;
};

static long find_bp_step(__u64 i, void *data)
{
	struct bp_search *st = data;
	long k = st->j - 2 - (long)i;
	if (k < 0 || k >= LB_SCAN_WORDS)
		return 1;
	barrier_var(k);
	__u64 v = st->w[k];
	if (frame_ok(v, st->slot)) {
		st->bp = v;
		return 1;
	}
	return 0;
}

/* ips[0] is in code without frame pointers: find its caller. Uses the
 * (not yet filled) Python frame area of the record as scratch. Returns the
 * new depth, negated when the stack words above %sp could not be read (the
 * stack is shown cut short). A stack that ends where frame pointers end
 * (no caller in code with them, or the caller's frame not found) is not an
 * error: it is all a frame-pointer walk can give. */
static __always_inline long fix_caller(struct pt_regs *ctx, struct lb_alloc_event *e, long n)
{
	__u64 sp = PT_REGS_SP(ctx);
	__u64 *w = &e->words[LB_MAX_NATIVE];
	if (bpf_probe_read_user(w, LB_SCAN_WORDS * 8, (void *)sp))
		return -n;
	int j = -1;
	for (int i = 0; i < LB_SCAN_WORDS; i++) {
		if (fp_code(w[i]) && calls_nofp(w[i])) {
			j = i;
			break;
		}
	}
	j = unknown(j);
	if (j < 0 || j >= LB_SCAN_WORDS)
		return n;
	__u64 ret = w[j];
	__u64 slot = sp + 8 * (__u64)j;
	if (n >= 2 && e->ips[1] == ret)
		return n; /* the walk had it already */
	e->ips[1] = ret;
	/* The caller's frame pointer: saved by the callee just below the
	 * return address (push %rbp first), still in %rbp (callee does not
	 * use it), or saved further down. One walk_from call site: each is a
	 * loop the verifier goes through. */
	__u64 bp = j > 0 ? w[j - 1] : 0;
	if (!(j > 0 && frame_ok(bp, slot))) {
		bp = PT_REGS_FP(ctx);
		if (!frame_ok(bp, slot)) {
			struct bp_search st = {.w = w, .slot = slot, .j = j};
			if (j >= 2)
				bpf_loop(j - 1, find_bp_step, &st, 0);
			bp = st.bp;
			if (!bp)
				return 2;
		}
	}
	return walk_from(e, bp, 2);
}

/* The whole frame-pointer walk in BPF, as bpf_get_stack does it, but
 * stopping at a frame pointer that cannot be one (NULL, small, misaligned,
 * not above the previous) instead of faulting on it: glibc's
 * __libc_start_call_main leaves %rbp = 4, and the kernel's walk paid a page
 * fault on it at every allocation (~0.5 us measured). bpf_loop: the
 * verifier checks the step once. */
struct fpw_state {
	__u64 fp;
	long n;
	struct lb_alloc_event *e;
};

static long fpw_step(__u64 i, void *data)
{
	struct fpw_state *st = data;
	__u64 pair[2];
	if (st->fp < 4096 || (st->fp & 7))
		return 1;
	/* a return address no user code can have: the walk went through code
	 * without frame pointers into data (seen: "/python3" read as one) */
	if (bpf_probe_read_user(pair, sizeof(pair), (void *)st->fp) || pair[1] < 4096 ||
	    pair[1] >= 0x800000000000ULL)
		return 1;
	st->e->ips[(i + 1) & (LB_MAX_NATIVE - 1)] = pair[1];
	st->n = i + 2;
	if (pair[0] <= st->fp)
		return 1;
	st->fp = pair[0];
	return 0;
}

static __always_inline long fp_walk_all(struct pt_regs *ctx, struct lb_alloc_event *e)
{
	struct fpw_state st = {.fp = PT_REGS_FP(ctx), .n = 1, .e = e};
	e->ips[0] = PT_REGS_IP(ctx);
	bpf_loop(LB_MAX_NATIVE - 1, fpw_step, &st, 0);
	return st.n;
}

/* Native stack of the caller at a return probe into e->ips: its depth,
 * negated when the stack is cut short (see fix_caller). From the unwind
 * tables (cfi.bpf.h) whenever the first frame's module has one; with frame
 * pointers and the repair above otherwise. */
static __always_inline long capture_native(struct pt_regs *ctx, struct lb_alloc_event *e)
{
	int f0 = range_flags(PT_REGS_IP(ctx));
	if (f0 >= 0 && (f0 & LB_RANGE_INTERP) && !interp_stacks) {
		/* Merged stacks show no interpreter frames: the caller is enough. */
		e->ips[0] = PT_REGS_IP(ctx);
		return 1;
	}
	long n = cfi_capture(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx), e);
	if (n >= 0)
		return n;
	n = fp_walk_all(ctx, e);
	if (n >= 1 && f0 >= 0 && (f0 & LB_RANGE_NOFP))
		n = fix_caller(ctx, e, n);
	/* uretprobes' trampolines among the return addresses (uret.bpf.h) */
	uret_fix_ips(e, n < 0 ? -n : n, PT_REGS_SP(ctx));
	return n;
}

#endif
