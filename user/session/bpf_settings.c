// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Settings into the skeleton: .rodata, .bss, the ranges map, and the maps
 * every object of a session shares. */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "attach/skel.h"
#include "python/support.h"
#include "session/bpf_settings.h"
#include "cfi.h"
#include "unwind/code_ranges.h"

int bpf_settings_load(struct leakbpf_bpf *skel, const struct bpf_load_settings *s)
{
	int e = 0;
	skel->rodata->target_tgid = s->target_tgid;
	skel->rodata->min_size = s->min_size;
	skel->rodata->max_size = s->max_size;
	skel->rodata->interp_stacks = s->interp_stacks;
	skel->rodata->growth_all = s->growth_all;
	skel->rodata->growth_self = s->growth_self;
	/* the object holds one row and one kept walk unless it gets tables:
	 * -a's objects, one per process, would take 8 MiB each; the rows are
	 * the session's, one array for every process */
	if (s->cfi_rows_fd > 0) {
		e = bpf_map__reuse_fd(skel->maps.cfi_rows, s->cfi_rows_fd);
		bpf_map__set_max_entries(skel->maps.cfi_cache, CFI_CACHE_SLOTS);
	}
	if (s->ringbuf_bytes)
		bpf_map__set_max_entries(skel->maps.events, s->ringbuf_bytes);
	/* every object of a session holds its children in one map */
	if (!e && s->held_fd > 0)
		e = bpf_map__reuse_fd(skel->maps.held, s->held_fd);
	if (s->py) {
		memcpy((void *)&skel->rodata->lb_py, &s->py->cfg, sizeof(s->py->cfg));
		skel->rodata->lb_pya_preheader_flags = s->py->preheader_flags;
	}
	return e;
}

void bpf_settings_ranges(struct leakbpf_bpf *skel, const struct walk_ranges *r)
{
	int fd = bpf_map__fd(skel->maps.ranges);
	/* shrink first so the programs never search entries being rewritten */
	if (skel->bss->nranges > r->n)
		skel->bss->nranges = r->n;
	for (uint32_t k = 0; k < r->n; k++)
		bpf_map_update_elem(fd, &k, &r->r[k], BPF_ANY);
	skel->bss->nranges = r->n;
	skel->bss->fp_lo = r->fp_lo;
	skel->bss->fp_hi = r->fp_hi;
	/* walks kept by the programs (cfi.bpf.h) may name old ranges or rows */
	__atomic_add_fetch(&skel->bss->cfi_gen, 1, __ATOMIC_SEQ_CST);
}

void bpf_settings_code_watch(struct leakbpf_bpf *skel, bool watched)
{
	skel->bss->lb_py_code_watch = watched;
}

void bpf_settings_hold(struct leakbpf_bpf *skel, bool at_exec, bool at_code, bool at_exit)
{
	skel->bss->hold_exec = at_exec;
	skel->bss->hold_code = at_code;
	skel->bss->hold_exit = at_exit;
}

void bpf_settings_follow_forks(struct leakbpf_bpf *skel, bool follow, bool at_exec)
{
	skel->bss->follow_forks = follow;
	skel->bss->spawn_at_exec = at_exec;
}

void bpf_settings_mute_probes(struct leakbpf_bpf *skel, bool muted)
{
	skel->bss->probes_muted = muted;
}

void bpf_settings_hold_child(struct leakbpf_bpf *skel, bool hold)
{
	skel->bss->hold_child = hold;
}

void bpf_settings_skip(struct leakbpf_bpf *skel, uint32_t tgid, bool skip)
{
	uint8_t one = 1;
	int fd = bpf_map__fd(skel->maps.growth_skip);
	if (skip)
		bpf_map_update_elem(fd, &tgid, &one, BPF_ANY);
	else
		bpf_map_delete_elem(fd, &tgid);
}
