/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records shared by the BPF programs and the userspace loader. */
#ifndef LEAKBPF_H
#define LEAKBPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Native frames captured per allocation (the kernel's limit is 127). */
#define LB_MAX_NATIVE 64
/* Python frames walked per allocation, innermost first. */
#define LB_MAX_PY 48
/* Allocator calls that may be in progress at once in one thread. */
#define LB_MAX_NEST 4

enum lb_event_type {
	LB_EV_ALLOC = 1, /* addr/size became live; old_addr (if set) died */
	LB_EV_FREE = 2,	 /* addr died */
};

/* Which allocator family produced the event (bpf cookie low byte). */
enum lb_src {
	LB_SRC_LIBC = 0,
	LB_SRC_PYMALLOC = 1, /* PyObject_Malloc family */
	LB_SRC_PYOBJ = 2,    /* type-slot entry points (tp_alloc/tp_free) */
	LB_SRC_MAX,
};

/* How each probed function passes its arguments (bpf cookie byte 1). */
enum lb_kind {
	LB_K_MALLOC = 0,	 /* (size) -> ptr */
	LB_K_CALLOC = 1,	 /* (n, size) -> ptr */
	LB_K_REALLOC = 2,	 /* (ptr, size) -> ptr */
	LB_K_REALLOCARRAY = 3,	 /* (ptr, n, size) -> ptr */
	LB_K_MEMALIGN = 4,	 /* (align, size) -> ptr */
	LB_K_POSIX_MEMALIGN = 5, /* (ptr *out, align, size) -> int */
	LB_K_FREE = 6,		 /* (ptr) */
	LB_K_MAX,
};

#define LB_COOKIE(src, kind) ((unsigned long long)(src) | ((unsigned long long)(kind) << 8))
#define LB_COOKIE_SRC(c)     ((c)&0xff)
#define LB_COOKIE_KIND(c)    (((c) >> 8) & 0xff)

enum lb_event_flags {
	LB_F_NATIVE_TRUNC = 1 << 0, /* native stack filled LB_MAX_NATIVE */
	LB_F_NATIVE_ERR = 1 << 1,   /* native stack could not be read */
	LB_F_PY_TRUNC = 1 << 2,	    /* more Python frames than LB_MAX_PY */
	LB_F_PY_ERR = 1 << 3,	    /* Python frame walk failed */
	LB_F_CALLER_ADDED = 1 << 4, /* return address from *sp was inserted */
};

/* One interpreter frame: userspace resolves file/name/line from it. */
struct lb_py_frame {
	__u64 code;  /* address of the code object */
	__u32 lasti; /* instruction offset in code units */
	__u32 tag;   /* cheap identity of the code object (address reuse guard) */
};

/* Common prefix of every ring buffer record. */
struct lb_hdr {
	__u8 type; /* enum lb_event_type */
	__u8 src;  /* enum lb_src */
	__u8 n_native;
	__u8 n_py;
	__u32 tid;
	__u64 ts_ns; /* bpf_ktime_get_ns(); 0 in free records (unused) */
	__u64 addr;
};

struct lb_free_event {
	struct lb_hdr h;
};

/* An allocation. As sent, a record ends after its frames: ips[0..n_native)
 * followed directly by the n_py Python frames (words[n_native..]), so that
 * it takes LB_ALLOC_LEN bytes of the ring buffer, not sizeof; the reader
 * moves the Python frames to py[]. */
struct lb_alloc_event {
	struct lb_hdr h;
	__u64 size;
	__u64 old_addr; /* realloc: block that this call freed, else 0 */
	__u32 flags;	/* enum lb_event_flags */
	__u32 kind;	/* enum lb_kind */
	union {
		struct {
			__u64 ips[LB_MAX_NATIVE];
			struct lb_py_frame py[LB_MAX_PY];
		};
		__u64 words[LB_MAX_NATIVE + 2 * LB_MAX_PY];
	};
};

#define LB_ALLOC_HEAD		     48u /* offsetof(struct lb_alloc_event, ips) */
#define LB_ALLOC_LEN(n_native, n_py) (LB_ALLOC_HEAD + 8u * (n_native) + 16u * (n_py))

/* Executable ranges of the target, sorted, for the stack fix-up below. */
#define LB_MAX_RANGES 128
/* Stack words searched for the return address a no-frame-pointer function
 * hides from the frame-pointer walk. */
#define LB_SCAN_WORDS 96

enum lb_range_flags {
	LB_RANGE_NOFP = 1 << 0,	  /* module built without frame pointers */
	LB_RANGE_INTERP = 1 << 1, /* the Python interpreter */
};

struct lb_range {
	__u64 lo, hi;
	__u32 flags;
	__u32 pad;
};

/* Counters kept per CPU in the "counters" map and summed by userspace. */
enum lb_counter {
	LB_C_ALLOC_CALLS,    /* allocator returns seen (outermost calls) */
	LB_C_FREE_CALLS,     /* frees seen (outermost calls) */
	LB_C_RB_DROP_ALLOC,  /* alloc records lost: ring buffer full */
	LB_C_RB_DROP_FREE,   /* free records lost: ring buffer full */
	LB_C_THREAD_FULL,    /* per-thread state map full: call not traced */
	LB_C_NEST_OVERFLOW,  /* more than LB_MAX_NEST nested allocator calls */
	LB_C_STACK_ERR,	     /* native stack capture failed */
	LB_C_STACK_TRUNC,    /* native stack hit LB_MAX_NATIVE */
	LB_C_PY_ERR,	     /* Python frame walk failed */
	LB_C_PY_TRUNC,	     /* Python stack hit LB_MAX_PY */
	LB_C_NESTED_IGNORED, /* inner allocator calls (accounted by the outer) */
	LB_C_FILTERED,	     /* outside -z/-Z size bounds */
	LB_C_MAX,
};

#endif /* LEAKBPF_H */
