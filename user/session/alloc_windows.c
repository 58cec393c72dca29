// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The growth mode's allocation windows: open, close, samples, owners. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "account/aggregate.h"
#include "attach/allocators.h"
#include "attach/probe_set.h"
#include "attach/skel.h"
#include "python/support.h"
#include "session/alloc_windows.h"
#include "session/bpf_settings.h"
#include "util/clock.h"

void alloc_windows_init(struct alloc_windows *w, double len_s, double every_s)
{
	memset(w, 0, sizeof(*w));
	samples_init(&w->samples, ALLOC_WINDOWS_MAX_BLOCKS);
	w->len_ns = (uint64_t)(len_s * 1e9);
	w->every_ns = (uint64_t)(every_s * 1e9);
}

void alloc_windows_free(struct alloc_windows *w)
{
	samples_free(&w->samples);
}

/* Attach the allocator probes: 0, or -1 (said once, counted). */
static int open_window(struct alloc_windows *w)
{
	char err[256];
	probe_set_reset(w->probes);
	bpf_settings_mute_probes(w->skel, false);
	int rc =
	    allocators_attach(w->maps, w->command_exe, w->skel, w->probes, err, sizeof(err)) > 0
		? 0
		: -1;
	/* small strings and buffers fill pages too: as many of CPython's
	 * blocks as the build lets probes see. A window costs the target at
	 * most its share of the time, however slow inside. */
	if (!rc && w->py)
		py_attach_window(w->py, w->skel, w->probes, err, sizeof(err));
	if (!rc && probe_set_commit(w->probes) && !w->probes->nattached) {
		snprintf(err, sizeof(err), "%s", w->probes->commit_err);
		rc = -1;
	}
	if (rc) {
		if (!w->failed)
			fprintf(stderr, "leakbpf: warning: allocation window: %s\n", err);
		w->failed++;
		probe_set_detach(w->probes);
	}
	return rc;
}

/* Calls in progress when the probes went keep their entries in the map of
 * calls per thread: without their returns, the next window would take
 * them for outer calls (and count its calls as nested too deep). */
static void forget_calls(struct leakbpf_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.threads);
	uint32_t key;
	/* the map holds 16384 at most: as many deletions end it */
	for (int i = 0; i < 1 << 15 && !bpf_map_get_next_key(fd, NULL, &key); i++)
		bpf_map_delete_elem(fd, &key);
}

static void close_window(struct alloc_windows *w, uint64_t now)
{
	bpf_settings_mute_probes(w->skel, true);
	probe_set_detach(w->probes);
	forget_calls(w->skel);
	uint64_t detached = mono_ns();
	/* every block the probes saw, before the survivors are told */
	ring_buffer__consume(w->rb);
	uint64_t len = now - w->open_ns;
	uint64_t survived = w->samples.survived;
	samples_window_end(&w->samples, now - len / 2);
	w->open_ns = 0;
	w->windows++;
	if (w->verbose)
		fprintf(stderr,
			"leakbpf: allocation window %" PRIu64
			": %.3f s, probes attached in %.1f ms, "
			"detached in %.1f ms, last records read in %.1f ms; %" PRIu64
			" blocks seen, %" PRIu64 " survivors (%" PRIu64 " now)\n",
			w->windows, (double)len / 1e9, (double)w->attach_ns / 1e6,
			(double)(detached - now) / 1e6, (double)(mono_ns() - detached) / 1e6,
			w->seen, w->samples.survived - survived, w->samples.survivors);
}

void alloc_windows_tick(struct alloc_windows *w, uint64_t pages, bool end)
{
	uint64_t now = mono_ns();
	if (w->open_ns) {
		if (end || now - w->open_ns >= w->len_ns) {
			close_window(w, now);
			w->pages_at = pages;
		}
		return;
	}
	if (end || now < w->next_ns || pages < w->pages_at + ALLOC_WINDOWS_MIN_PAGES)
		return;
	w->next_ns = now + w->every_ns;
	if (open_window(w))
		return;
	w->open_ns = now;
	w->attach_ns = mono_ns() - now;
	w->seen = 0;
	if (w->verbose)
		fprintf(stderr, "leakbpf: allocation window %" PRIu64 " open\n", w->windows + 1);
}

void alloc_windows_block(void *ctx, const struct agg_alloc *al)
{
	struct alloc_windows *w = ctx;
	w->seen++;
	if (al->old_addr)
		samples_release(&w->samples, al->old_addr);
	if (!al->addr)
		return;
	uint32_t stack = agg_intern(w->agg, al);
	if (!stack) {					/* the overflow stack */
		samples_release(&w->samples, al->addr); /* counted as stack_table_full */
		return;
	}
	samples_alloc(&w->samples, al->addr, al->size, al->ts_ns, stack,
		      w->agg->stacks[stack].serial);
}

void alloc_windows_freed(void *ctx, uint64_t addr)
{
	struct alloc_windows *w = ctx;
	samples_release(&w->samples, addr);
}

void alloc_windows_assign(struct alloc_windows *w)
{
	/* without memory nothing is given now; a later report tries again */
	page_owners_assign(w->agg, &w->samples, &w->owners);
}

void alloc_windows_report(const struct alloc_windows *w, struct rm_report *r)
{
	struct rm_growth *g = &r->growth;
	g->windows = w->windows;
	g->window_s = (double)w->len_ns / 1e9;
	g->window_every_s = (double)w->every_ns / 1e9;
	g->survivors = w->samples.survivors;
	g->pages_sampled = w->owners.pages_sampled;
	r->drops.samples_unkept = w->samples.unkept;
	r->drops.windows_failed = w->failed;
}
