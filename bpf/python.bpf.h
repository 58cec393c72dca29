/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Python frames of the calling thread, walked at each traced allocation.
 *
 * The thread's own PyThreadState is found by its thread_id, which CPython
 * sets to pthread_self(), i.e. the thread's fs base: this works while the
 * thread has released the GIL (ctypes calls, I/O in C extensions), where the
 * "current thread state" of the runtime would name another thread.
 *
 * The first part (struct lb_py_cfg, lb_py_tag) is shared with userspace,
 * which includes this file with LB_PY_CFG_ONLY defined.
 */
#ifndef PYTHON_BPF_H
#define PYTHON_BPF_H

/* Bytes of a frame / code object read in one probe read each. */
#define LB_PY_WIN 96
/* Frames looked at per walk: C-stack shim frames are skipped, not emitted. */
#define LB_PY_MAX_STEPS (LB_MAX_PY * 2)
/* Thread states looked at when searching for the calling thread's. */
#define LB_PY_MAX_THREADS 64
/* How long a "this thread has no thread state" answer is trusted. */
#define LB_PY_NEG_TTL_NS 200000000ULL
#define LB_PY_NONE	 0xffff

/* PyTypeObject fields, the same on x86_64 release builds 3.8 to 3.13: after
 * the PyVarObject head (24) come tp_name, tp_basicsize, tp_itemsize,
 * tp_dealloc; tp_flags further on. */
#define LB_PY_TP_BASICSIZE 32 /* tp_itemsize follows */
#define LB_PY_TP_DEALLOC   48
#define LB_PY_TP_FLAGS	   168

enum lb_py_frame_kind {
	LB_PY_FRAME_OBJECT = 1, /* 3.8-3.10: PyFrameObject chain, f_lasti */
	LB_PY_FRAME_INTERP = 2, /* 3.11+: _PyInterpreterFrame chain, instruction pointer */
};

/* Layout of the traced interpreter, set by userspace before load. Frame and
 * code offsets are relative to the start of their read window. */
struct lb_py_cfg {
	__u64 runtime; /* &_PyRuntime in the target; 0: no Python */
	__u16 rt_interp_head;
	__u16 interp_next;
	__u16 interp_threads; /* interp->tstate_head / threads.head */
	__u16 ts_next;
	__u16 ts_thread_id;
	__u16 ts_frame;	    /* tstate->frame / ->cframe / ->current_frame */
	__u16 cframe_frame; /* cframe->current_frame; LB_PY_NONE: no cframe */
	__u16 fr_win;	    /* frame window start */
	__u16 fr_prev;
	__u16 fr_code;
	__u16 fr_instr; /* f_lasti (int) or instruction pointer */
	__u16 fr_owner; /* LB_PY_NONE: no owner byte */
	__u16 co_win;	/* code window start */
	__u16 co_firstlineno;
	__u16 co_name;
	__u16 co_filename;
	__u16 co_code;	  /* co_code_adaptive (absolute offset), 3.11+ */
	__u16 co_version; /* 3.12+: creation counter; LB_PY_NONE: use the name's hash */
	__u16 str_hash;
	__u8 frame_kind;  /* enum lb_py_frame_kind */
	__u8 lasti_shift; /* f_lasti >> lasti_shift = code units */
	__u8 owner_cstack;
	__u8 pad[3];
};

/* Identity of a code object beyond its address: a code object allocated
 * later at the same address gets another tag unless it has the same name,
 * file and first line. `stamp` is co_version (3.12+: a counter CPython
 * gives each new code object) or else the name's str hash (content, where
 * pointers may all be reused); a hash of -1 (not computed yet) counts as 0
 * and userspace accepts both when it checks. */
static __always_inline __u32 lb_py_tag(__u64 name, __u64 filename, __s64 stamp, __u32 firstlineno)
{
	__u64 h = stamp == -1 ? 0 : (__u64)stamp;
	__u64 x = h ^ (name * 0x9e3779b97f4a7c15ULL) ^ (filename << 20) ^ firstlineno;
	return (__u32)(x ^ (x >> 32));
}

#ifndef LB_PY_CFG_ONLY

const volatile struct lb_py_cfg lb_py = {};

/* PyThreadState bytes read at once for both thread_id and the frame
 * pointer, when they lie this close (3.8-3.13 all do). */
#define LB_PY_TS_SPAN 160
/* 3.11+: a thread's frames live in one data stack, each caller just below
 * its callee, so one read of up to this many bytes ending at a frame often
 * holds its callers too; 3.12's C-stack shim frames lie next to the
 * _PyCFrame the walk starts from. The last two reads are kept. A read
 * never leaves the page of the bytes asked for, which is mapped. */
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

/* Bumped by the probe on the code object deallocator. */
volatile __u64 lb_py_code_deaths = 0;
/* Set by userspace once that probe is attached. */
volatile __u32 lb_py_code_watch = 0;

struct lb_py_tagent {
	__u64 code;
	__u64 gen;
	__u32 tag;
	__u32 pad;
};

/* Per-thread state: the thread state found for the thread, and the walk in
 * progress. In task storage, not a per-CPU map: a preempted walk must not
 * find its window overwritten by another task. The walk's counters live
 * here rather than on the stack so that the verifier does not track their
 * values (bpf_loop callbacks are checked until their states repeat). */
struct lb_py_task {
	struct lb_alloc_event rec; /* the record being built (leakbpf.bpf.c) */
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

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lb_py_task);
} lb_py_tasks SEC(".maps");

static __always_inline __u64 lb_py_read_ptr(__u64 addr, int *err)
{
	__u64 v = 0;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		*err = 1;
	return v;
}

/* Field at byte offset off of a window read into w (LB_PY_WIN bytes). */
static __always_inline __u64 lb_py_w64(const __u64 *w, __u32 off)
{
	__u32 i = off / 8;
	if (i >= LB_PY_WIN / 8)
		return 0;
	return w[i] >> ((off & 7) * 8);
}

/* thread_id and the frame pointer (tstate->frame / cframe / current_frame)
 * of a thread state. */
static __always_inline int lb_py_ts_read(__u64 ts, __u64 *id, __u64 *frame)
{
	__u32 a = lb_py.ts_thread_id, b = lb_py.ts_frame;
	__u32 lo = (a < b ? a : b) & ~7U, hi = a < b ? b : a;
	int err = 0;
	if (hi + 8 - lo <= LB_PY_TS_SPAN && !(a & 7) && !(b & 7)) {
		__u64 w[LB_PY_TS_SPAN / 8];
		if (bpf_probe_read_user(w, sizeof(w), (void *)(ts + lo)))
			return -1;
		__u32 ia = (a - lo) / 8, ib = (b - lo) / 8;
		if (ia >= LB_PY_TS_SPAN / 8 || ib >= LB_PY_TS_SPAN / 8)
			return -1;
		*id = w[ia];
		*frame = w[ib];
		return 0;
	}
	*id = lb_py_read_ptr(ts + a, &err);
	*frame = lb_py_read_ptr(ts + b, &err);
	return err ? -1 : 0;
}

struct lb_py_find {
	__u64 interp;
	__u64 ts;
	__u64 want; /* fs base of the calling thread */
	__u64 found;
	int err;
};

/* One step through runtime -> interpreters -> thread states. */
static long lb_py_find_step(__u32 i, void *arg)
{
	struct lb_py_find *f = arg;
	(void)i;
	if (f->ts == 0) {
		f->interp = lb_py_read_ptr(f->interp + lb_py.interp_next, &f->err);
		if (f->interp == 0 || f->err)
			return 1;
		f->ts = lb_py_read_ptr(f->interp + lb_py.interp_threads, &f->err);
		return f->err;
	}
	__u64 id = lb_py_read_ptr(f->ts + lb_py.ts_thread_id, &f->err);
	if (f->err)
		return 1;
	if (id == f->want) {
		f->found = f->ts;
		return 1;
	}
	f->ts = lb_py_read_ptr(f->ts + lb_py.ts_next, &f->err);
	return f->err;
}

/* Thread list head of the first interpreter: changes when a thread state
 * is added (CPython inserts new ones at the head). */
static __always_inline __u64 lb_py_first_head(__u64 *interp, int *err)
{
	*interp = lb_py_read_ptr(lb_py.runtime + lb_py.rt_interp_head, err);
	if (*interp == 0 || *err)
		return 0;
	return lb_py_read_ptr(*interp + lb_py.interp_threads, err);
}

/* The calling thread's PyThreadState (0 when it has none) and its frame
 * pointer. The remembered one costs one read to confirm. */
static __always_inline __u64 lb_py_thread_state(struct lb_py_task *t, __u64 fsbase, __u64 *frame,
						int *err)
{
	__u64 id = 0;
	if (t->tstate && !lb_py_ts_read(t->tstate, &id, frame) && id == fsbase)
		return t->tstate;
	__u64 now = bpf_ktime_get_ns();
	struct lb_py_find f = {.want = fsbase};
	__u64 head = lb_py_first_head(&f.interp, err);
	if (*err || f.interp == 0)
		return 0;
	if (t->tstate == 0 && t->head == head && now - t->stamp_ns < LB_PY_NEG_TTL_NS)
		return 0;
	f.ts = head;
	bpf_loop(LB_PY_MAX_THREADS, lb_py_find_step, &f, 0);
	if (f.err) {
		*err = 1;
		return 0;
	}
	t->tstate = f.found;
	t->head = head;
	t->stamp_ns = now;
	if (f.found && (lb_py_ts_read(f.found, &id, frame) || id != fsbase)) {
		*err = 1;
		return 0;
	}
	return f.found;
}

struct lb_py_walk {
	struct lb_alloc_event *e;
	struct lb_py_task *t;
	__u32 native; /* e->h.n_native */
};

/* Tag of the code object at `code`: two probe reads (one before 3.12). */
static __always_inline __u32 lb_py_code_tag(__u64 code, int *err)
{
	__u64 win[LB_PY_WIN / 8];
	if (bpf_probe_read_user(win, sizeof(win), (void *)(code + lb_py.co_win))) {
		*err = 1;
		return 0;
	}
	__u64 name = lb_py_w64(win, lb_py.co_name);
	__u64 filename = lb_py_w64(win, lb_py.co_filename);
	__u32 firstlineno = (__u32)lb_py_w64(win, lb_py.co_firstlineno);
	__s64 stamp = 0;
	if (lb_py.co_version != LB_PY_NONE)
		stamp = (__u32)lb_py_w64(win, lb_py.co_version);
	else if (name &&
		 bpf_probe_read_user(&stamp, sizeof(stamp), (void *)(name + lb_py.str_hash)))
		stamp = 0;
	return lb_py_tag(name, filename, stamp, firstlineno);
}

/* The LB_PY_WIN bytes at `at` (a frame's fields): from one of the last two
 * reads when it covered them, else read in place of the older one. On
 * 3.11+ a read takes the bytes below them in the same page too (callers'
 * frames); with `around`, bytes on both sides (C stack locals). Returns
 * them, NULL when unreadable. */
static __always_inline const __u64 *lb_py_win(struct lb_py_task *w, __u64 at, bool around)
{
	__u32 k;
	__u64 off;
	if (at >= w->lo[0] && at + LB_PY_WIN <= w->hi[0]) {
		k = 0;
		off = at - w->lo[0];
	} else if (at >= w->lo[1] && at + LB_PY_WIN <= w->hi[1]) {
		k = 1;
		off = at - w->lo[1];
	} else {
		k = (w->newest ^ 1) & 1;
		__u64 end = at + LB_PY_WIN;
		__u64 lo = at;
		__u64 page = at & ~(__u64)(LB_PY_PAGE - 1);
		if (around) {
			lo = at - LB_PY_SPAN / 2;
			if (lo < page || lo > at)
				lo = page;
			__u64 top = lo + LB_PY_SPAN;
			if (top > page + LB_PY_PAGE)
				top = page + LB_PY_PAGE;
			if (top > end)
				end = top;
		} else if (lb_py.frame_kind == LB_PY_FRAME_INTERP) {
			lo = end - LB_PY_SPAN;
			if (lo < page || lo > at)
				lo = page;
		}
		__u64 len = end - lo;
		if (len > LB_PY_SPAN || len < LB_PY_WIN)
			return NULL;
		if (bpf_probe_read_user(w->buf[k], len, (void *)lo))
			return NULL;
		w->lo[k] = lo;
		w->hi[k] = end;
		w->newest = k;
		off = at - lo;
	}
	if (off > LB_PY_SPAN - LB_PY_WIN)
		return NULL;
	return (const __u64 *)(w->buf[k] + off);
}

/* Visit one frame: emit it unless it is a C-stack shim; stop at the end. */
static long lb_py_frame_step(__u32 i, void *arg)
{
	struct lb_py_task *w = ((struct lb_py_walk *)arg)->t;
	(void)i;
	if (w->frame == 0)
		return 1;
	const __u64 *win = lb_py_win(w, w->frame + lb_py.fr_win, false);
	if (!win) {
		w->err = 1;
		return 1;
	}
	__u64 code = lb_py_w64(win, lb_py.fr_code);
	__u64 instr = lb_py_w64(win, lb_py.fr_instr);
	w->frame = lb_py_w64(win, lb_py.fr_prev);
	if (lb_py.fr_owner != LB_PY_NONE &&
	    (__u8)lb_py_w64(win, lb_py.fr_owner) == lb_py.owner_cstack)
		return 0;
	if (code == 0)
		return 0;
	__u32 n = w->n;
	if (n >= LB_MAX_PY)
		return 1;

	__s32 lasti;
	if (lb_py.frame_kind == LB_PY_FRAME_INTERP) {
		__u64 first = code + lb_py.co_code;
		lasti = instr < first ? -1 : (__s32)((instr - first) >> 1);
	} else {
		lasti = (__s32)instr;
		lasti = lasti < 0 ? -1 : lasti >> lb_py.lasti_shift;
	}
	__u32 slot = (__u32)((code >> 4) ^ (code >> 9)) % LB_PY_TAGS;
	struct lb_py_tagent *te = &w->tags[slot];
	__u32 tag = te->tag;
	if (te->code != code || te->gen != w->gen) {
		int err = 0;
		tag = lb_py_code_tag(code, &err);
		if (err) {
			w->err = 1;
			return 1;
		}
		te->code = code;
		te->gen = w->gen;
		te->tag = tag;
	}

	/* packed after the native frames (see struct lb_alloc_event) */
	__u32 at = ((struct lb_py_walk *)arg)->native + 2 * n;
	if (at + 1 >= LB_MAX_NATIVE + 2 * LB_MAX_PY)
		return 1;
	struct lb_alloc_event *e = ((struct lb_py_walk *)arg)->e;
	e->words[at] = code;
	e->words[at + 1] = (__u32)lasti | (__u64)tag << 32;
	w->n = n + 1;
	return 0;
}

/* The calling thread's task storage, created on first use. */
static __always_inline struct lb_py_task *lb_py_task_get(void)
{
	return bpf_task_storage_get(&lb_py_tasks, bpf_get_current_task_btf(), NULL,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/* Fill the Python frames (innermost first, after the native ones),
 * e->h.n_py and the LB_F_PY_* flags. */
static __always_inline void lb_py_collect(struct lb_py_task *t, struct lb_alloc_event *e)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fsbase = task->thread.fsbase;
	int err = 0;
	__u64 frame = 0;
	__u64 ts = lb_py_thread_state(t, fsbase, &frame, &err);
	if (ts == 0)
		goto out;
	t->lo[0] = t->hi[0] = t->lo[1] = t->hi[1] = 0;
	if (frame && lb_py.cframe_frame != LB_PY_NONE) {
		/* 3.11/3.12: the frame pointer is in a _PyCFrame, a local of the
		 * innermost eval loop, next to its entry frame (3.12: a C-stack
		 * shim the walk meets): both usually come from one read. */
		const __u64 *cf = lb_py_win(t, frame + lb_py.cframe_frame, true);
		frame = cf ? cf[0] : 0;
		if (!cf)
			err = 1;
	}
	if (err || frame == 0)
		goto out;

	t->frame = frame;
	t->n = 0;
	t->err = 0;
	t->gen = lb_py_code_watch ? lb_py_code_deaths << 1 : (++t->walks << 1) | 1;
	__u32 native = e->h.n_native;
	if (native > LB_MAX_NATIVE)
		goto out;
	struct lb_py_walk w = {.e = e, .t = t, .native = native};
	bpf_loop(LB_PY_MAX_STEPS, lb_py_frame_step, &w, 0);
	__u32 n = t->n;
	e->h.n_py = n < LB_MAX_PY ? n : LB_MAX_PY;
	err = t->err;
	if (!err && t->frame != 0) {
		e->flags |= LB_F_PY_TRUNC;
		count(LB_C_PY_TRUNC);
	}
out:
	if (err) {
		e->flags |= LB_F_PY_ERR;
		count(LB_C_PY_ERR);
	}
}

/* Entry of the code object deallocator (user/py_codewatch.c): the object
 * dies, another one may take its address. */
SEC("uprobe")
int BPF_KPROBE(lb_py_code_dealloc)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&lb_py_code_deaths, 1);
	return 0;
}

#endif /* LB_PY_CFG_ONLY */
#endif /* PYTHON_BPF_H */
