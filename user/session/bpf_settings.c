// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Settings into the skeleton: .rodata, .bss and the ranges map. */
#include <string.h>
#include <bpf/bpf.h>
#include "attach/skel.h"
#include "python/support.h"
#include "session/bpf_settings.h"
#include "unwind/code_ranges.h"

void bpf_settings_load(struct leakbpf_bpf *skel, const struct bpf_load_settings *s)
{
	skel->rodata->target_tgid = s->target_tgid;
	skel->rodata->min_size = s->min_size;
	skel->rodata->max_size = s->max_size;
	skel->rodata->interp_stacks = s->interp_stacks;
	skel->rodata->growth_all = s->growth_all;
	skel->rodata->growth_self = s->growth_self;
	if (s->py) {
		memcpy((void *)&skel->rodata->lb_py, &s->py->cfg, sizeof(s->py->cfg));
		skel->rodata->lb_pya_preheader_flags = s->py->preheader_flags;
	}
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
}

void bpf_settings_code_watch(struct leakbpf_bpf *skel, bool watched)
{
	skel->bss->lb_py_code_watch = watched;
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
