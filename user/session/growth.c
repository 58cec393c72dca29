// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The growth mode of a session: tracepoints, page records, anonymous RSS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach/skel.h"
#include "session/growth.h"
#include "target/process.h"
#include "util/clock.h"
#include "util/search.h"

/* The growth programs are the tracepoint ones (the last of leakbpf.bpf.c)
 * but the fork program, which both modes load (--children). */
static bool is_growth_program(const struct bpf_program *p)
{
	return !strncmp(bpf_program__section_name(p), "tp_btf/", 7) &&
	       strcmp(bpf_program__name(p), "lb_fork");
}

void growth_select_programs(struct leakbpf_bpf *skel, bool growth, bool windows)
{
	struct bpf_program *p;
	bpf_object__for_each_program(p, skel->obj)
	{
		bool load =
		    p == skel->progs.lb_fork ||
		    (is_growth_program(p) ? growth
					  : !growth || (windows && p != skel->progs.lb_libc_exit));
		bpf_program__set_autoload(p, load);
	}
}

int growth_init(struct growth *g, struct aggregate *agg, struct lb_target *target)
{
	memset(g, 0, sizeof(*g));
	g->target = target;
	g->rp.pagemap_fd = g->rp.kpageflags_fd = -1;
	g->thp = target_thp_enabled();
	/* without it, huge pages count as the small page that faulted
	 * (huge_pages stays 0) and pages_check finds nothing */
	resident_probe_open(&g->rp, target->pid);
	return pages_init(&g->pages, agg);
}

void growth_free(struct growth *g)
{
	pages_free(&g->pages);
	resident_probe_close(&g->rp);
}

int growth_attach(struct growth *g, struct leakbpf_bpf *skel, char *err, size_t errlen)
{
	/* before: a page faulted meanwhile is in both the growth and the stacks */
	g->anon_rss_at_attach = target_anon_rss(g->target->pid);
	return growth_attach_programs(skel, err, errlen);
}

int growth_attach_programs(struct leakbpf_bpf *skel, char *err, size_t errlen)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} progs[] = {
	    {skel->progs.lb_rss_stat, &skel->links.lb_rss_stat},
	    {skel->progs.lb_new_area, &skel->links.lb_new_area},
	    {skel->progs.lb_exec, &skel->links.lb_exec},
	    {skel->progs.lb_exit, &skel->links.lb_exit},
	    {skel->progs.lb_fault_kernel, &skel->links.lb_fault_kernel},
	    {skel->progs.lb_fault_user, &skel->links.lb_fault_user},
	};
	/* the record senders first, the fault programs last: a pending
	 * record always finds its sender attached */
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		*progs[i].link = bpf_program__attach(progs[i].prog);
		if (!*progs[i].link) {
			snprintf(err, errlen, "cannot attach the %s tracepoint: %s",
				 bpf_program__section_name(progs[i].prog) + 7, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The target's mapping that holds addr (its mappings are sorted). */
static const struct lb_mapping *mapping_of(const struct lb_target *t, uint64_t addr)
{
	size_t i = SORTED_UPPER(t->maps, t->nmaps, .start, addr);
	return i && addr < t->maps[i - 1].end ? &t->maps[i - 1] : NULL;
}

void growth_page(void *ctx, struct intake_event *ev)
{
	struct growth *g = ctx;
	uint64_t addr = ev->alloc.addr, size = PAGES_SIZE, sp = ev->sp;
	const struct lb_mapping *m = mapping_of(g->target, addr);
	uint64_t now = mono_ns();
	/* a mapping newer than the list: read it again, at most every 10 ms */
	if (!m && now - g->maps_read_ns > 10000000ULL && !target_reload_maps(g->target)) {
		g->maps_read_ns = now;
		m = mapping_of(g->target, addr);
	}
	if (m && m->inode) {
		/* a private file mapping's page, written: the file's (counted apart) */
		g->file_pages++;
		return;
	}
	/* a thread's stack: the mapping its stack pointer is in */
	if (m && ((sp >= m->start && sp < m->end) || !strcmp(m->path, "[stack]")))
		ev->alloc.flags |= RM_STACK_THREAD;
	uint64_t start, huge = g->thp ? resident_thp_at(&g->rp, addr, &start) : 0;
	if (huge) {
		size = huge;
		addr = start;
		g->huge_pages++;
	}
	pages_fault(&g->pages, &ev->alloc, addr, size);
}

/* x86_64 system call numbers of bpf/growth.bpf.h's give-backs */
enum { NR_MMAP = 9, NR_MUNMAP = 11, NR_BRK = 12, NR_MREMAP = 25, NR_MADVISE = 28 };
#define MREMAP_FIXED_FLAG 2

static uint64_t page_up(uint64_t v)
{
	return (v + PAGES_SIZE - 1) & ~(PAGES_SIZE - 1);
}

/* brk shrank to new_brk: the heap above it is gone, up to the next mapping
 * (the heap's own end may have moved since the mappings were read). */
static void release_heap_above(struct growth *g, uint64_t new_brk, uint64_t before)
{
	uint64_t lo = page_up(new_brk), hi = 1ULL << 47;
	const struct lb_target *t = g->target;
	for (size_t i = 0; i < t->nmaps; i++)
		if (t->maps[i].start >= lo &&
		    (!t->maps[i].path || strcmp(t->maps[i].path, "[heap]"))) {
			hi = t->maps[i].start;
			break;
		}
	pages_release(&g->pages, lo, hi, before);
}

/* mremap of [old, old + old_len) to [to, to + new_len): what was at the
 * destination goes, the pages follow, and the tail that did not fit goes. */
static void moved(struct growth *g, uint64_t old, uint64_t old_len, uint64_t to, uint64_t new_len,
		  uint64_t before)
{
	uint64_t keep = old_len < new_len ? old_len : new_len;
	pages_release(&g->pages, to, to + new_len, before);
	pages_move(&g->pages, old, old + keep, to, before);
	pages_release(&g->pages, old + keep, old + old_len, before);
}

void growth_range(void *ctx, const struct intake_range *r)
{
	struct growth *g = ctx;
	uint64_t a0 = r->args[0], before = r->ts_ns;
	uint64_t len = page_up(r->args[1]), len2 = page_up(r->args[2]);
	if (len > (1ULL << 56) || len2 > (1ULL << 56))
		return; /* not a range a call could have taken */
	if (r->type == LB_EV_EXEC || r->type == LB_EV_EXIT) {
		pages_clear(&g->pages);
		return;
	}
	if (r->type == LB_EV_MOVE) {
		/* mremap(old, old_len, new_len, flags, new address) */
		moved(g, a0, len, r->args[4], len2, before);
		return;
	}
	switch (r->nr) {
	case NR_MUNMAP:
	case NR_MADVISE:
	case NR_MMAP: /* over a mapping (MAP_FIXED): what was there is gone */
		pages_release(&g->pages, a0, a0 + len, before);
		break;
	case NR_BRK:
		release_heap_above(g, a0, before);
		break;
	case NR_MREMAP:
		if (r->args[3] & MREMAP_FIXED_FLAG) /* emptied its destination */
			moved(g, a0, len, r->args[4], len2, before);
		else if (len2 < len) /* shrunk in place */
			pages_release(&g->pages, a0 + len2, a0 + len, before);
		break;
	}
}

static int pages_here(void *ctx, uint64_t first, size_t n, bool *out)
{
	return resident_pages(ctx, first, n, out);
}

void growth_read_rss(struct growth *g)
{
	g->anon_rss = target_anon_rss(g->target->pid);
	g->rss_read = true;
}

void growth_check(struct growth *g)
{
	pages_check(&g->pages, pages_here, &g->rp);
}

void growth_report(const struct growth *g, const uint64_t *counters, bool exited,
		   struct rm_report *r)
{
	struct rm_growth *gr = &r->growth;
	r->mode = RM_MODE_GROWTH;
	gr->write_faults = counters[LB_C_PAGE_FAULTS];
	gr->file_faults = counters[LB_C_FILE_FAULTS] + g->file_pages;
	gr->pages_resident = g->pages.c.pages_new;
	gr->pages_known = g->pages.c.pages_known;
	gr->pages_released = g->pages.c.pages_released;
	gr->pages_moved = g->pages.c.pages_moved;
	gr->pages_gone = g->pages.c.pages_gone;
	gr->huge_pages = g->huge_pages;
	gr->anon_rss_at_attach = g->anon_rss_at_attach;
	/* a process -a first saw while the ring buffer was read: now */
	gr->anon_rss = exited ? 0 : g->rss_read ? g->anon_rss : target_anon_rss(g->target->pid);
	r->drops.ringbuf_page = counters[LB_C_RB_DROP_PAGE];
	r->drops.ringbuf_range = counters[LB_C_RB_DROP_RANGE];
}
