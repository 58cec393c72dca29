/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the BPF programs send to userspace: the ring buffer records and the
 * per-CPU counters. In userspace only user/account/intake.c reads them.
 */
#ifndef LB_RECORDS_H
#define LB_RECORDS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Native frames captured per allocation (the kernel's limit is 127). */
#define LB_MAX_NATIVE 64
/* Python frames walked per allocation, innermost first. */
#define LB_MAX_PY 48
/* Blocks of nested allocator calls carried by one record (struct lb_inner). */
#define LB_MAX_INNER 4

enum lb_event_type {
	LB_EV_ALLOC = 1, /* addr/size became live; old_addr (if set) died */
	LB_EV_FREE = 2,	 /* addr died */
	/* growth mode */
	LB_EV_PAGE = 3,	   /* lb_alloc_event: the page at addr became resident */
	LB_EV_RELEASE = 4, /* lb_range_event: system call nr gave anonymous pages back */
	LB_EV_MOVE = 5,	   /* lb_range_event: mremap is moving a range */
	LB_EV_EXEC = 6,	   /* lb_range_event: the process ran exec */
	LB_EV_EXIT = 7,	   /* lb_range_event: the process exited (-a) */
	/* the traced program's life, header only (sent with a wakeup) */
	LB_EV_NEW_PROGRAM = 16, /* it executed a new program: the probes' image is gone */
	LB_EV_CODE_MAP = 17,	/* it mapped a file with code at addr (mmap PROT_EXEC) */
	LB_EV_EXITING = 18,	/* it called _exit: its memory is still there */
	LB_EV_FORK = 19,	/* --children: it forked a process, h.addr its pid; h.pad 1
				   when the child is held stopped (SIGSTOP) before it runs */
};

enum lb_event_flags {
	LB_F_NATIVE_TRUNC = 1 << 0,   /* native stack filled LB_MAX_NATIVE */
	LB_F_PY_TRUNC = 1 << 1,	      /* more Python frames than LB_MAX_PY */
	LB_F_PY_ERR = 1 << 2,	      /* Python frame walk failed */
	LB_F_KERNEL = 1 << 3,	      /* page record: written first by the kernel (a system call) */
	LB_F_NATIVE_ANON = 1 << 4,    /* native walk reached code in no file (JIT, anonymous) */
	LB_F_NATIVE_STOPPED = 1 << 5, /* native walk stopped: no unwind rule, unreadable stack */
};

/* Common prefix of every record; a free record is this alone. */
struct lb_hdr {
	__u8 type; /* enum lb_event_type */
	__u8 n_native;
	__u8 n_py;
	__u8 flags; /* enum lb_event_flags */
	union {
		__u32 pad;     /* growth mode records: the process (tgid) */
		__u32 n_inner; /* LB_EV_ALLOC: struct lb_inner after the frames */
	};
	__u64 addr;
};

struct lb_free_event {
	struct lb_hdr h;
};

/* One interpreter frame as sent (two words): userspace resolves file, name
 * and line from it. The tag is lb_py_tag() of the code object (settings.h). */
struct lb_py_frame {
	__u64 code;  /* address of the code object */
	__u32 lasti; /* instruction offset in code units */
	__u32 tag;   /* cheap identity of the code object (address reuse guard) */
};

/* A block returned by an allocator call nested in the recorded one (a
 * signal handler's malloc interrupting it, the allocator's own bookkeeping
 * such as obmalloc's arena map) that is not the recorded call's own block:
 * an allocation of its own. Its stack is the record's with `ip`, the inner
 * call's return address, as innermost frame. Four words. */
struct lb_inner {
	__u64 addr; /* the block returned; 0: the inner call only freed `old` */
	__u64 old;  /* realloc: the block it freed, else 0 */
	__u64 size;
	__u64 ip;
};

/* An allocation. As sent, a record ends after its frames: ips[0..n_native)
 * followed directly by the n_py Python frames (struct lb_py_frame, two
 * words each, from words[n_native]) and the n_inner blocks of nested calls
 * (struct lb_inner, four words each, from words[n_native + 2 n_py]), so
 * that it takes LB_ALLOC_LEN bytes of the ring buffer, not sizeof. h.addr
 * is 0 when the recorded call made no block of its own but inner calls
 * did (n_inner > 0). */
struct lb_alloc_event {
	struct lb_hdr h;
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u64 size;
	__u64 old_addr; /* realloc: block that this call freed, else 0 */
	union {
		__u64 ips[LB_MAX_NATIVE];
		__u64 words[LB_MAX_NATIVE + 2 * LB_MAX_PY + 4 * LB_MAX_INNER];
	};
};

#define LB_ALLOC_HEAD 40u /* offsetof(struct lb_alloc_event, ips) */
#define LB_ALLOC_LEN(n_native, n_py, n_inner)                                                      \
	(LB_ALLOC_HEAD + 8u * (n_native) + 16u * (n_py) + 32u * (n_inner))

/* A page record (LB_EV_PAGE) is an lb_alloc_event: addr the page, size its
 * size, old_addr the thread's user stack pointer at the fault, h.pad the
 * process. */

/* Growth mode: a system call that gave pages back (munmap, madvise, brk,
 * mremap, mmap over a mapping) or an mremap moving a range, with its
 * arguments as the kernel got them (h.addr the first, args the next four;
 * a move's new address in args[3]), sent when it happened: pages faulted
 * later are not in it. Exec and exit records carry nothing more. */
struct lb_range_event {
	struct lb_hdr h; /* h.pad: the process */
	__u64 ts_ns;
	__u64 args[4];
	__u32 nr; /* x86_64 system call number */
	__u32 pad;
};

/* Counters kept per CPU in the "counters" map and summed by userspace. */
enum lb_counter {
	LB_C_RB_DROP_ALLOC,  /* alloc records lost: ring buffer full */
	LB_C_RB_DROP_FREE,   /* free records lost: ring buffer full */
	LB_C_THREAD_FULL,    /* per-thread state map full: call not traced */
	LB_C_NEST_OVERFLOW,  /* more than LB_MAX_NEST nested allocator calls */
	LB_C_STACK_ERR,	     /* native stack cut short: the stack words the repair of
				a walk through code without frame pointers needs were
				unreadable */
	LB_C_STACK_TRUNC,    /* native stack hit LB_MAX_NATIVE */
	LB_C_PY_ERR,	     /* Python frame walk failed */
	LB_C_PY_TRUNC,	     /* Python stack hit LB_MAX_PY */
	LB_C_NESTED_IGNORED, /* inner allocator calls that returned the outer call's block */
	LB_C_FILTERED,	     /* outside -z/-Z size bounds */
	/* growth mode */
	LB_C_PAGE_FAULTS,   /* write faults */
	LB_C_PAGE_RECORDS,  /* of which added anonymous pages: records sent */
	LB_C_FILE_FAULTS,   /* faults that added pages of files or shared memory */
	LB_C_RB_DROP_PAGE,  /* page records lost: ring buffer full */
	LB_C_RB_DROP_RANGE, /* given-back ranges lost: ring buffer or task storage full */
	LB_C_RET_UNMATCHED, /* allocator returns whose entry was lost (thread state
			       evicted, a signal handler on an alternate stack
			       above the interrupted call): the block is not seen */
	LB_C_FORK_UNHELD,   /* --children: new processes not stopped before they ran */
	LB_C_FORK_LOST,	    /* --children: new processes not reported (ring buffer full) */
	LB_C_MAX,
};

#endif /* LB_RECORDS_H */
