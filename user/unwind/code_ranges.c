// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The target's code ranges for the BPF stack fix-up. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "util/array.h"
#include "util/hash.h"
#include "target/elf_file.h"
#include "target/process.h"
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

bool text_ranges_update(struct text_ranges *tr, const struct lb_target *t,
			const uint64_t (*interp)[2], size_t ninterp, struct walk_ranges *out)
{
	struct lb_range *r = out->r;
	uint32_t n = 0;
	uint64_t lo = UINT64_MAX, hi = 0;
	uint64_t sig = HASH_SEED;
	/* /proc/PID/maps is sorted by address already */
	for (size_t i = 0; i < t->nmaps && n < LB_MAX_RANGES; i++) {
		const struct lb_mapping *m = &t->maps[i];
		if (m->perms[2] != 'x' || m->path[0] != '/')
			continue;
		uint32_t flags = judge_nofp(tr, t, m) ? LB_RANGE_NOFP : 0;
		if (in_spans(interp, ninterp, m->start))
			flags = LB_RANGE_INTERP | LB_RANGE_NOFP;
		r[n++] = (struct lb_range){.lo = m->start, .hi = m->end, .flags = flags};
		if (!(flags & LB_RANGE_NOFP)) {
			lo = m->start < lo ? m->start : lo;
			hi = m->end > hi ? m->end : hi;
		}
		sig = hash_u64(hash_u64(sig, m->start), flags);
	}
	if (sig == tr->signature)
		return false;
	tr->signature = sig;
	out->n = n;
	out->fp_lo = lo;
	out->fp_hi = hi;
	return true;
}

void text_ranges_free(struct text_ranges *tr)
{
	for (size_t i = 0; i < tr->nmods; i++)
		free(tr->mods[i].path);
	free(tr->mods);
	memset(tr, 0, sizeof(*tr));
}
