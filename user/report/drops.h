/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The drop counters: everything leakbpf lost or could not see, listed once.
 * The struct, the table line, the JSON keys (snapshots read them back), the
 * SVG header and the live status line all come from this list, so a new
 * counter is one line here.
 *
 *   X(field, what the table says, kind)
 *
 * `field` is the struct rm_drops member and the JSON key. RM_DROP_LOST
 * counts events or blocks that are missing from the numbers (the live
 * status line sums those); RM_DROP_STACK counts stacks shown incomplete;
 * RM_DROP_BOUND counts times a memory bound was reached where nothing was
 * lost (a cache started over: work done again).
 */
#ifndef REPORT_DROPS_H
#define REPORT_DROPS_H

#include <stddef.h>
#include <stdint.h>

enum rm_drop_kind { RM_DROP_LOST, RM_DROP_STACK, RM_DROP_BOUND };

#define RM_DROPS(X)                                                                                \
	X(ringbuf_alloc, "alloc events lost (ring buffer full)", RM_DROP_LOST)                     \
	X(ringbuf_free, "free events lost (ring buffer full)", RM_DROP_LOST)                       \
	X(thread_map_full, "calls untraced (thread map full)", RM_DROP_LOST)                       \
	X(nest_overflow, "nested calls too deep", RM_DROP_LOST)                                    \
	X(returns_unmatched, "returns without their entry", RM_DROP_LOST)                          \
	X(stack_errors, "native stacks unreadable", RM_DROP_STACK)                                 \
	X(stacks_truncated, "native stacks truncated", RM_DROP_STACK)                              \
	X(py_errors, "python stacks unreadable", RM_DROP_STACK)                                    \
	X(py_truncated, "python stacks truncated", RM_DROP_STACK)                                  \
	X(names_unkept, "frames unnamed (names memory bound)", RM_DROP_STACK)                      \
	X(addr_table_full, "blocks untracked (address table full)", RM_DROP_LOST)                  \
	X(stack_table_full, "stacks merged (stack table full)", RM_DROP_LOST)                      \
	X(ringbuf_page, "page records lost (ring buffer full)", RM_DROP_LOST)                      \
	X(ringbuf_range, "given-back ranges lost (their pages stay counted)", RM_DROP_LOST)        \
	X(unwind_tables_full, "modules unwound with frame pointers (unwind tables full)",          \
	  RM_DROP_STACK)                                                                           \
	X(procs_untraced, "processes not traced (--max-procs reached, or lost)", RM_DROP_LOST)     \
	X(procs_forgotten, "exited processes left out (room for new ones, --max-procs)",           \
	  RM_DROP_LOST)                                                                            \
	X(children_unheld, "new processes or programs that ran before their probes", RM_DROP_LOST) \
	X(samples_unkept, "window blocks not sampled (sample table full)", RM_DROP_LOST)           \
	X(windows_failed, "allocation windows without probes (attach failed)", RM_DROP_LOST)       \
	X(cache_bound, "cache restarts at a memory bound (nothing lost)", RM_DROP_BOUND)

/* Everything that was lost or not seen. Shown in every report. */
struct rm_drops {
#define RM_DROP_FIELD(field, text, kind) uint64_t field;
	RM_DROPS(RM_DROP_FIELD)
#undef RM_DROP_FIELD
};

struct rm_drop_info {
	const char *key;  /* field name, JSON key */
	const char *text; /* for people */
	enum rm_drop_kind kind;
	size_t offset; /* in struct rm_drops */
};

extern const struct rm_drop_info rm_drop_list[];
extern const size_t rm_drop_count;

static inline uint64_t *rm_drop_field(struct rm_drops *d, size_t i)
{
	return (uint64_t *)((char *)d + rm_drop_list[i].offset);
}

static inline uint64_t rm_drop_value(const struct rm_drops *d, size_t i)
{
	return *(const uint64_t *)((const char *)d + rm_drop_list[i].offset);
}

/* Events and blocks missing from the numbers (the RM_DROP_LOST counters). */
uint64_t rm_drops_lost(const struct rm_drops *d);

#endif
