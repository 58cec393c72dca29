/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What userspace gives the BPF programs: how each probe passes its
 * arguments (attach cookies), the target's code ranges, and the layout of
 * the traced CPython. user/session/bpf_settings.c writes them into the
 * skeleton; the variables themselves are declared at the top of
 * leakbpf.bpf.c.
 */
#ifndef LB_SETTINGS_H
#define LB_SETTINGS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- probes ---- */

/* Which allocator family a probe is on (attach cookie, low byte). */
enum lb_src {
	LB_SRC_LIBC = 0,
	LB_SRC_PYMALLOC = 1, /* PyObject_Malloc family */
	LB_SRC_PYOBJ = 2,    /* type-slot entry points (tp_alloc/tp_free) */
	LB_SRC_MAX,
};

/* How each probed function passes its arguments: the entry program that
 * takes it (attach cookie, byte 1). */
enum lb_kind {
	LB_K_MALLOC = 0,	 /* (size) -> ptr */
	LB_K_CALLOC = 1,	 /* (n, size) -> ptr */
	LB_K_REALLOC = 2,	 /* (ptr, size) -> ptr */
	LB_K_REALLOCARRAY = 3,	 /* (ptr, n, size) -> ptr */
	LB_K_MEMALIGN = 4,	 /* (align, size) -> ptr */
	LB_K_POSIX_MEMALIGN = 5, /* (ptr *out, align, size) -> int */
	LB_K_FREE = 6,		 /* (ptr) */
	LB_K_EXIT = 7,		 /* _exit(status): the process is about to exit */
	LB_K_MAX,
};

/* The low 16 bits of a cookie name the probe (no program reads them); the
 * free-list constructor probe carries its type's layout above them. */
#define LB_COOKIE(src, kind) ((unsigned long long)(src) | ((unsigned long long)(kind) << 8))

/* ---- code ranges (the native stack walk) ---- */

/* Executable ranges of the target, sorted by lo, in the "ranges" map
 * (Python processes with many extension modules map hundreds). */
#define LB_MAX_RANGES 512

enum lb_range_flags {
	LB_RANGE_NOFP = 1 << 0,	  /* module built without frame pointers */
	LB_RANGE_INTERP = 1 << 1, /* the Python interpreter */
};

struct lb_range {
	__u64 lo, hi;
	__u32 flags;
	__u32 pad;
	__u64 bias;		    /* module address (CFI rows, cfi.h) = address - bias */
	__u32 cfi_first, cfi_count; /* its rows in cfi_rows; count 0: frame pointers */
};

/* ---- the traced CPython (the Python frame walk) ---- */

/* Bytes of a frame / code object read in one probe read each: every field
 * the walk reads lies in such a window. */
#define LB_PY_WIN  96
#define LB_PY_NONE 0xffff

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
	__u8 str_state_w; /* 3.8-3.11 names: words from the str's length field to */
	__u8 str_data_w;  /* its state, and to a compact ASCII string's text */
	__u8 pad;
};

/* Bytes of a name (str) read from its length field on: the length, the
 * hash, the state and the first 32 bytes of a compact ASCII string's text
 * (3.8-3.11). */
#define LB_PY_STR_WIN 64

/* A name's text as a number, for a name whose hash is not computed yet
 * (CodeType.replace with a name built at runtime): its length and first 32
 * bytes of text (bytes past its length masked: they are not the string's);
 * only the length when the string is not compact ASCII. w holds
 * LB_PY_STR_WIN bytes from the length field. */
static __always_inline __u64 lb_py_name_digest(const __u64 *w, __u32 state_w, __u32 data_w)
{
	__u64 len = w[0];
	__u64 d = len * 0x9e3779b97f4a7c15ULL;
	if (state_w >= LB_PY_STR_WIN / 8 || data_w + 4 > LB_PY_STR_WIN / 8 ||
	    ((w[state_w & 7] >> 5) & 3) != 3)
		return d ^ 1;
#ifdef __bpf__
#pragma unroll
#endif
	for (__u32 k = 0; k < 4; k++) {
		__u64 word = w[(data_w + k) & 7];
		if (len <= 8 * k)
			word = 0;
		else if (len < 8 * (k + 1))
			word &= (1ULL << (8 * (len - 8 * k))) - 1;
		d = (d ^ word) * 0xff51afd7ed558ccdULL;
		d ^= d >> 33;
	}
	return d;
}

/* Identity of a code object beyond its address (the tag of struct
 * lb_py_frame), computed by the walk and checked by userspace: a code
 * object allocated later at the same address gets another tag unless it
 * has the same name, file and first line. `stamp` is co_version (3.12+: a
 * counter CPython gives each new code object) or else the name's str hash
 * (content, where pointers may all be reused), or while that hash is not
 * computed (-1) lb_py_name_digest of the name; userspace accepts either
 * when it checks, as the hash may have been computed since. */
static __always_inline __u32 lb_py_tag(__u64 name, __u64 filename, __s64 stamp, __u32 firstlineno)
{
	__u64 x = (__u64)stamp ^ (name * 0x9e3779b97f4a7c15ULL) ^ (filename << 20) ^ firstlineno;
	return (__u32)(x ^ (x >> 32));
}

#endif /* LB_SETTINGS_H */
