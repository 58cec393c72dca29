/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Python frames of the calling thread, walked at each traced allocation.
 *
 * The thread's own PyThreadState is found by its thread_id, which CPython
 * sets to pthread_self(), i.e. the thread's fs base: this works while the
 * thread has released the GIL (ctypes calls, I/O in C extensions), where the
 * "current thread state" of the runtime would name another thread.
 *
 * Uses the declarations block of leakbpf.bpf.c rather than parameters: it
 * reads the layout lb_py (.rodata), the code-tag generation lb_py_code_watch
 * and lb_py_code_deaths, and the per-thread state in lb_py_tasks (struct
 * lb_py_task). The layout is read as a global because the verifier then
 * knows its fields as constants and drops the branches of other CPython
 * versions; passed through a bpf_loop context it would be a pointer the
 * verifier knows nothing of. The record to fill is a parameter.
 */
#ifndef PYTHON_BPF_H
#define PYTHON_BPF_H

#ifndef LB_DECLARATIONS
#error "include python.bpf.h after the declarations block of leakbpf.bpf.c"
#endif

/* Frames looked at per walk: C-stack shim frames are skipped, not emitted. */
#define LB_PY_MAX_STEPS (LB_MAX_PY * 2)
/* Thread states looked at when searching for the calling thread's. */
#define LB_PY_MAX_THREADS 64
/* How long a "this thread has no thread state" answer is trusted. */
#define LB_PY_NEG_TTL_NS 200000000ULL
/* PyThreadState bytes read at once for both thread_id and the frame
 * pointer, when they lie this close (3.8-3.13 all do). */
#define LB_PY_TS_SPAN 160

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
	if (lb_py.co_version != LB_PY_NONE) {
		stamp = (__u32)lb_py_w64(win, lb_py.co_version);
	} else if (name) {
		/* the name's hash, and its text while the hash is not computed:
		 * one read (the string's length field comes 8 bytes first), into
		 * the code window's room (the stack of a bpf_loop callback is
		 * small) */
		_Static_assert(LB_PY_STR_WIN <= LB_PY_WIN, "the name fits the window");
		__u64 *s = win;
		if (!bpf_probe_read_user(s, LB_PY_STR_WIN, (void *)(name + lb_py.str_hash - 8))) {
			stamp = (__s64)s[1];
			if (stamp == -1)
				stamp = (__s64)lb_py_name_digest(s, lb_py.str_state_w,
								 lb_py.str_data_w);
		} else if (bpf_probe_read_user(&stamp, sizeof(stamp),
					       (void *)(name + lb_py.str_hash)) ||
			   stamp == -1) {
			stamp = 0; /* near unmapped memory: the hash alone, if any */
		}
	}
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

/* Fill the Python frames (innermost first, after the native ones) and
 * e->h.n_py. Returns the LB_F_PY_* flags of the walk. */
static __always_inline __u32 lb_py_collect(struct lb_py_task *t, struct lb_alloc_event *e)
{
	__u32 flags = 0;
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
	if (!err && t->frame != 0)
		flags |= LB_F_PY_TRUNC;
out:
	if (err)
		flags |= LB_F_PY_ERR;
	return flags;
}

#endif /* PYTHON_BPF_H */
