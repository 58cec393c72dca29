/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where the probes on a function go: the cheapest instruction to probe
 * that still sees every call as it was made (placement.c says why). */
#ifndef ATTACH_PLACEMENT_H
#define ATTACH_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct x86_insn;

/* What the probes on one function need. */
struct placement_need {
	unsigned nargs;	 /* argument registers the entry program reads, in call order
			    (%rdi %rsi %rdx %rcx %r8 %r9) */
	bool ret;	 /* a return probe goes with the entry probe */
	bool null_guard; /* a NULL first argument does nothing worth tracing: the
			    function's NULL check may be skipped (not with ret) */
};

struct placement {
	unsigned entry;	      /* the entry probe's offset from the function's start */
	unsigned ret;	      /* the return probe's offset (ret only) */
	bool emulated;	      /* the kernel emulates the instruction at entry */
	bool past_null_guard; /* entry lies past "test %rdi,%rdi; je" */
};

/* Choose from code, the function's first len bytes (all of it when it is
 * shorter). The function's start is the answer when nothing better is
 * found. */
struct placement placement_choose(const uint8_t *code, size_t len,
				  const struct placement_need *need);

/* Whether the kernel emulates the instruction (a probe there is not
 * single-stepped): push %reg, the nops, endbr64, jmp/call rel, jcc. */
bool placement_emulated(const struct x86_insn *in);

/* The probe's status for reports: "ok", "ok (single-stepped)",
 * "ok (at +9, past the NULL check)", "ok (at +4)". */
void placement_describe(const struct placement *p, char *buf, size_t len);

#endif
