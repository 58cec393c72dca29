// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The target's code ranges for the BPF stack walk, with their unwind tables. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/array.h"
#include "util/fmt.h"
#include "util/hash.h"
#include "target/elf_file.h"
#include "target/process.h"
#include "unwind/cfi_store.h"
#include "unwind/code_ranges.h"

/* Below this share of frame-pointer prologues a module counts as built
 * without frame pointers (distribution libraries: a few percent). */
#define FP_SHARE_MIN 0.5

static bool judge_nofp(struct text_ranges *tr, const struct lb_target *t,
		       const struct lb_mapping *m)
{
	for (size_t i = 0; i < tr->nmods; i++)
		if (tr->mods[i].inode == m->inode && !strcmp(tr->mods[i].path, m->path))
			return tr->mods[i].nofp;
	char path[PATH_MAX], why[256];
	bool nofp = false;
	if (!target_file_path(t, m, path, sizeof(path))) {
		struct elf_file *ef = elf_file_open(path, why, sizeof(why));
		if (ef) {
			double share = elf_file_fp_share(ef);
			nofp = share >= 0 && share < FP_SHARE_MIN;
			elf_file_close(ef);
		}
	}
	char *copy = strdup(m->path);
	if (copy && !ARRAY_RESERVE(tr->mods, tr->capmods, tr->nmods + 1))
		tr->mods[tr->nmods++] = (struct tr_module){copy, m->inode, nofp};
	else
		free(copy);
	return nofp;
}

static bool in_spans(const uint64_t (*spans)[2], size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= spans[i][0] && addr < spans[i][1])
			return true;
	return false;
}

static bool is_code(const struct lb_mapping *m)
{
	return m->perms[2] == 'x' && m->path[0] == '/';
}

int text_ranges_tables(struct text_ranges *tr, struct cfi_store *cfi)
{
	tr->user = cfi_store_join(cfi);
	tr->cfi = tr->user ? cfi : NULL;
	return tr->user ? 0 : -1;
}

void text_ranges_leave_tables(struct text_ranges *tr)
{
	if (tr->cfi)
		cfi_store_leave(tr->cfi, tr->user);
	tr->cfi = NULL;
	tr->user = NULL;
}

void text_ranges_describe(const struct text_ranges *tr)
{
	struct cfi_store_stats st;
	char used[32], cap[32];
	if (!tr->cfi)
		return;
	cfi_store_stats(tr->cfi, &st);
	fprintf(stderr,
		"leakbpf: unwind tables: %zu modules (and %zu idle) for %zu %s, %" PRIu64
		" rows (%s of %s), %.0f ms to build; %zu modules without CFI, %zu did not fit\n",
		st.modules, st.idle, st.users, st.users == 1 ? "process" : "processes",
		st.rows_used,
		human_bytes((double)st.rows_used * sizeof(struct lb_cfi_row), used, sizeof(used)),
		human_bytes((double)st.rows_cap * sizeof(struct lb_cfi_row), cap, sizeof(cap)),
		st.build_ms, st.no_cfi, st.dropped);
}

bool text_ranges_update(struct text_ranges *tr, const struct lb_target *t,
			const uint64_t (*interp)[2], size_t ninterp, struct walk_ranges *out)
{
	/* /proc/PID/maps is sorted by address already */
	uint64_t sig = HASH_SEED;
	for (size_t i = 0; i < t->nmaps; i++) {
		const struct lb_mapping *m = &t->maps[i];
		if (!is_code(m))
			continue;
		uint64_t v[5] = {m->start, m->end, m->offset, m->inode,
				 in_spans(interp, ninterp, m->start)};
		sig = hash_bytes(sig, v, sizeof(v));
	}
	if (sig == tr->signature)
		return false;
	tr->signature = sig;
	struct lb_range *r = out->r;
	uint32_t n = 0;
	uint64_t lo = UINT64_MAX, hi = 0;
	if (tr->cfi)
		cfi_store_begin(tr->cfi, tr->user);
	for (size_t i = 0; i < t->nmaps && n < LB_MAX_RANGES; i++) {
		const struct lb_mapping *m = &t->maps[i];
		if (!is_code(m))
			continue;
		uint32_t flags = judge_nofp(tr, t, m) ? LB_RANGE_NOFP : 0;
		if (in_spans(interp, ninterp, m->start))
			flags = LB_RANGE_INTERP | LB_RANGE_NOFP;
		struct cfi_slice sl = {0};
		if (tr->cfi)
			sl = cfi_store_slice(tr->cfi, tr->user, t, m);
		r[n++] = (struct lb_range){.lo = m->start,
					   .hi = m->end,
					   .flags = flags,
					   .bias = sl.bias,
					   .cfi_first = sl.first,
					   .cfi_count = sl.count};
		if (!(flags & LB_RANGE_NOFP)) {
			lo = m->start < lo ? m->start : lo;
			hi = m->end > hi ? m->end : hi;
		}
	}
	if (tr->cfi)
		cfi_store_end(tr->cfi, tr->user);
	out->n = n;
	out->fp_lo = lo;
	out->fp_hi = hi;
	return true;
}

uint64_t text_ranges_tables_full(const struct text_ranges *tr)
{
	return cfi_user_tables_full(tr->user);
}

void text_ranges_free(struct text_ranges *tr)
{
	for (size_t i = 0; i < tr->nmods; i++)
		free(tr->mods[i].path);
	free(tr->mods);
	text_ranges_leave_tables(tr);
	memset(tr, 0, sizeof(*tr));
}
