// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One image of the target, opened and closed (see image.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach/skel.h"
#include "python/support.h"
#include "session/attach.h"
#include "session/bpf_settings.h"
#include "session/growth_all.h"
#include "session/image.h"
#include "session/options.h"
#include "session/shared_tables.h"
#include "symbols/symbolizer.h"
#include "util/escape.h"

/* Python frames of a new stack, resolved while their code objects live. */
static void resolve_py_frame(void *py, const struct agg_py_frame *f, struct rm_frame *out)
{
	py_resolve_frame(py, f->code, f->lasti, f->tag, out);
}

static int load_bpf(struct image *im, const struct image_plan *p, char *err, size_t errlen)
{
	const struct options *o = p->o;
	/* unwind tables for the target, when the session has them (not with
	 * -a, which walks every process with its frame pointers) */
	im->unwind_tables = p->tables && p->tables->store;
	im->skel = leakbpf_bpf__open();
	if (!im->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	/* the growth mode attaches no probe but in its allocation windows */
	if (!o->growth || o->alloc_windows)
		probe_set_init(&im->probes, im->skel->obj);
	growth_select_programs(im->skel, o->growth, o->alloc_windows);
	/* tests: a small ring buffer (a power of two, 4096 or more) to see
	 * drops counted */
	const char *rbs = getenv("LEAKBPF_RINGBUF_SIZE");
	uint64_t rb_size = p->extra ? IMAGE_EXTRA_RINGBUF : 0, asked;
	if (rbs && !parse_size(rbs, &asked) && asked >= 4096 && asked <= (1u << 30) &&
	    !(asked & (asked - 1)))
		rb_size = asked;
	struct py_bpf_settings py;
	if (im->py && py_bpf_settings(im->py, &py)) {
		fprintf(stderr, "leakbpf: warning: Python support disabled for this target\n");
		py_close(im->py);
		im->py = NULL;
	}
	struct bpf_load_settings st = {
	    .target_tgid = (uint32_t)im->target.pid,
	    .min_size = o->min_size,
	    .max_size = o->max_size,
	    .interp_stacks = o->native,
	    .py = im->py ? &py : NULL,
	    .growth_all = o->all,
	    .growth_self = (uint32_t)getpid(),
	    .cfi_rows_fd = im->unwind_tables ? p->tables->rows_fd : -1,
	    .ringbuf_bytes = (uint32_t)rb_size,
	    .held_fd = p->held_fd,
	};
	int e = bpf_settings_load(im->skel, &st);
	if (e) {
		snprintf(err, errlen, "cannot share the session's BPF maps: %s", strerror(-e));
		return -1;
	}
	e = leakbpf_bpf__load(im->skel);
	if (e) {
		snprintf(err, errlen,
			 "cannot load the BPF programs: %s (run with -v for the verifier log)",
			 strerror(-e));
		return -1;
	}
	return 0;
}

/* The BPF walk's code ranges, the interpreter's marked. */
static bool update_code_ranges(struct image *im)
{
	size_t n;
	const uint64_t(*interp)[2] = py_interpreter_text(im->py, &n);
	struct walk_ranges r;
	if (!text_ranges_update(&im->tr, &im->target, interp, n, &r))
		return false;
	bpf_settings_ranges(im->skel, &r);
	if (im->o->verbose)
		text_ranges_describe(&im->tr);
	return true;
}

bool image_loader_changed(const struct image *im)
{
	return im->skel->bss->dl_changes != im->dl_seen;
}

void image_refresh_modules(struct image *im)
{
	im->code_maps_seen = im->intake.code_maps;
	im->dl_seen = im->skel->bss->dl_changes;
	if (im->all) {
		growth_all_tick(im->all);
		return;
	}
	/* once the target executed a new program its maps are another's */
	if (image_execed(im) || target_reload_maps(&im->target))
		return;
	/* the symbolizer knows code modules only: re-read when code changed */
	if (update_code_ranges(im))
		symbolizer_refresh(im->sym);
}

static void set_meta(struct image *im, const struct image_plan *p)
{
	struct rm_report *m = &im->builder.meta;
	m->pid = im->target.pid;
	m->comm = im->target.comm;
	m->cmdline = p->cmdline ? p->cmdline : im->target.cmdline;
	m->leakbpf_version = LEAKBPF_VERSION;
	m->kernel = p->kernel;
	m->python = im->py ? py_describe(im->py) : NULL;
	/* the growth mode probes no allocator: nothing to say of one */
	m->allocator_note = im->py && !p->o->growth ? py_allocator_note(im->py) : NULL;
	m->mode = p->o->growth ? RM_MODE_GROWTH : RM_MODE_EXACT;
	m->exit_status = -1;
}

/* A record of the dl_wake ring buffer: it only wakes the poll; the count
 * of changes is in .bss (dl_changes). */
static int dl_woken(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

struct image *image_open(const struct image_plan *p, char *err, size_t errlen)
{
	const struct options *o = p->o;
	struct image *im = calloc(1, sizeof(*im));
	if (!im) {
		target_close(p->target);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	im->target = *p->target;
	memset(p->target, 0, sizeof(*p->target));
	im->ncpus = libbpf_num_possible_cpus();
	im->o = o;
	if (!o->no_python && !o->all) {
		const char *warning = NULL;
		im->py = py_open(&im->target, &warning);
		if (warning) {
			/* it names the target's files */
			char shown[4 * PATH_MAX];
			fprintf(stderr, "leakbpf: warning: %s; tracing native allocations only\n",
				escape_str(warning, NULL, shown, sizeof(shown)));
		}
	}
	if (o->growth && !o->all && growth_init(&im->growth, &im->agg, &im->target)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (p->say)
		fprintf(stderr, "leakbpf: loading BPF programs\n");
	if (load_bpf(im, p, err, errlen))
		goto fail;
	if (agg_init(&im->agg, o->max_tracked, (uint32_t)o->max_stacks,
		     im->py ? resolve_py_frame : NULL, im->py)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	im->intake.agg = &im->agg;
	im->intake.fork = p->fork;
	im->intake.fork_ctx = p->fork_ctx;
	if (o->growth) {
		/* page and range records: to the growth mode */
		im->intake.page = o->all ? growth_all_page : growth_page;
		im->intake.range = o->all ? growth_all_range : growth_range;
		im->intake.growth = &im->growth;
	}
	im->rb =
	    ring_buffer__new(bpf_map__fd(im->skel->maps.events), intake_record, &im->intake, NULL);
	if (!im->rb) {
		snprintf(err, errlen, "cannot open the BPF ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (o->alloc_windows) {
		/* the allocator probes' blocks: samples, not pages */
		alloc_windows_init(&im->windows, o->window_s, o->window_every_s);
		im->windows.verbose = o->verbose;
		im->windows.agg = &im->agg;
		im->windows.probes = &im->probes;
		im->windows.skel = im->skel;
		im->windows.rb = im->rb;
		im->windows.maps = &im->target; /* its maps are re-read */
		im->windows.command_exe = p->command_exe;
		im->windows.py = im->py;
		im->intake.block = alloc_windows_block;
		im->intake.block_freed = alloc_windows_freed;
		im->intake.windows = &im->windows;
	}
	if (o->all) {
		im->all = growth_all_new(o, im->skel, im->rb, &im->intake);
		if (!im->all) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		im->intake.growth = im->all;
	}
	if (im->unwind_tables && text_ranges_tables(&im->tr, p->tables->store)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* the loader's changes wake the poll too (the session acts on them) */
	if (ring_buffer__add(im->rb, bpf_map__fd(im->skel->maps.dl_wake), dl_woken, NULL)) {
		snprintf(err, errlen, "cannot open the BPF ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (!o->all)
		update_code_ranges(im);
	/* a command (leakbpf is its parent) is held where leakbpf must look */
	bpf_settings_hold(im->skel, p->hold, false, p->hold);
	if (p->say)
		fprintf(stderr, "leakbpf: attaching probes to pid %d\n", im->target.pid);
	struct attach_plan plan = {
	    .target = &im->target,
	    .maps = p->alloc_maps ? p->alloc_maps : &im->target,
	    .command_exe = p->command_exe,
	    .py = im->py,
	    .py_alloc_all = o->py_alloc_all,
	};
	char why[256];
	/* new processes first: one forked while the probes go in is held */
	if (p->follow_forks) {
		im->fork_link = bpf_program__attach(im->skel->progs.lb_fork);
		if (!im->fork_link) {
			snprintf(err, errlen, "cannot attach the sched_process_fork tracepoint: %s",
				 strerror(errno));
			goto fail;
		}
		bpf_settings_follow_forks(im->skel, true, false);
	}
	if (o->all) {
		if (growth_all_attach(im->all, err, errlen))
			goto fail;
	} else if (o->growth) {
		if (growth_attach(&im->growth, im->skel, err, errlen))
			goto fail;
	} else {
		if (attach_probes(&plan, im->skel, &im->probes, err, errlen))
			goto fail;
		int watch = process_events_attach(&im->events, im->skel, why, sizeof(why));
		im->watching = watch >= 0;
		if (watch < 0)
			fprintf(stderr,
				"leakbpf: warning: %s: an exec of the target or a module it maps "
				"will only be noticed later, or not at all\n",
				why);
		else if (watch > 0 && o->verbose)
			fprintf(stderr,
				"leakbpf: %s: modules the target maps are seen when its dynamic "
				"loader reports them, or within a second\n",
				why);
		/* execs are seen: a child that shares the target's memory is
		 * taken at its exec, and a child target is held at its own */
		if (im->watching && p->follow_forks)
			bpf_settings_follow_forks(im->skel, true, true);
		bpf_settings_hold_child(im->skel, p->hold_child);
	}
	if (!o->all) {
		if (p->say)
			fprintf(stderr, "leakbpf: reading the target's modules for symbols\n");
		im->sym = symbolizer_new(im->target.pid, why, sizeof(why));
		if (!im->sym) {
			snprintf(err, errlen, "cannot read the target's modules: %s", why);
			goto fail;
		}
	}
	set_meta(im, p);
	im->builder.agg = &im->agg;
	im->builder.sym = im->sym;
	im->builder.py = im->py;
	im->builder.native_all = o->native;
	im->builder.min_age_s = o->min_age_s;
	return im;
fail:
	image_close(im);
	return NULL;
}

void image_close(struct image *im)
{
	if (!im)
		return;
	bpf_link__destroy(im->fork_link);
	ring_buffer__free(im->rb);
	growth_all_free(im->all); /* its objects were read by rb */
	if (im->watching)
		process_events_detach(&im->events);
	probe_set_destroy(&im->probes);
	text_ranges_free(&im->tr);
	leakbpf_bpf__destroy(im->skel);
	symbolizer_free(im->sym);
	report_builder_free(&im->builder);
	if (im->o && im->o->growth && !im->o->all)
		growth_free(&im->growth);
	if (im->o && im->o->alloc_windows)
		alloc_windows_free(&im->windows);
	agg_free(&im->agg);
	py_close(im->py);
	target_close(&im->target);
	free(im);
}

void image_leave_tables(struct image *im)
{
	text_ranges_leave_tables(&im->tr);
}

void image_tick(struct image *im)
{
	if (im->o->alloc_windows && !image_execed(im))
		alloc_windows_tick(&im->windows, im->growth.pages.c.pages_new, false);
}

bool image_execed(const struct image *im)
{
	return im->intake.new_programs || (im->skel && im->skel->bss->image_gone);
}

void image_hold_code(struct image *im, bool hold)
{
	bpf_settings_hold(im->skel, im->skel->bss->hold_exec, hold, im->skel->bss->hold_exit);
}

/* The memory bounds of the Python code cache and of the symbolizer. */
static void bounds_into(const struct image *im, struct rm_drops *d)
{
	uint64_t py_names, py_tables, sym_names, sym_restarts;
	py_bounds(im->py, &py_names, &py_tables);
	symbolizer_bounds(im->sym, &sym_names, &sym_restarts);
	d->names_unkept = py_names + sym_names;
	d->cache_bound = py_tables + sym_restarts;
}

/* The drops and counts the BPF programs keep (and every counter, summed
 * over the objects of -a, into sum). */
static void read_counters(struct image *im, struct rm_drops *d, struct rm_counts *c,
			  uint64_t sum[LB_C_MAX])
{
	memset(sum, 0, LB_C_MAX * sizeof(*sum));
	intake_counters_add(bpf_map__fd(im->skel->maps.counters), im->ncpus, sum);
	if (im->all)
		growth_all_sum_counters(im->all, im->ncpus, sum);
	intake_counters_report(sum, d, c);
	d->unwind_tables_full = text_ranges_tables_full(&im->tr);
}

void image_counters(struct image *im, struct rm_drops *d, struct rm_counts *c)
{
	uint64_t sum[LB_C_MAX];
	read_counters(im, d, c, sum);
	d->addr_table_full = im->agg.addr_table_full;
	d->stack_table_full = im->agg.stack_table_full;
	bounds_into(im, d);
}

void image_trim(struct image *im)
{
	py_trim_names(im->py, &im->agg);
	symbolizer_trim(im->sym);
}

int image_build(struct image *im, size_t limit, bool advance, bool final, bool exited,
		int exit_status, struct built_report *out)
{
	struct rm_drops d;
	struct rm_counts c;
	uint64_t sum[LB_C_MAX];
	read_counters(im, &d, &c, sum);
	im->builder.meta.final = final;
	im->builder.meta.target_exited = exited;
	im->builder.meta.exit_status = exited ? exit_status : -1;
	im->builder.meta.probes = im->probes.probes;
	im->builder.meta.nprobes = im->probes.nprobes;
	if (im->all)
		return growth_all_build(im->all, &im->builder.meta, &d, sum, limit, advance, out);
	/* the last report: an open window's blocks are told apart now */
	if (im->o->alloc_windows && (final || exited))
		alloc_windows_tick(&im->windows, im->growth.pages.c.pages_new, true);
	if (im->o->growth && !exited) {
		growth_read_rss(&im->growth);
		ring_buffer__consume(im->rb); /* every fault that RSS counts */
		growth_check(&im->growth);
	}
	if (im->o->alloc_windows)
		alloc_windows_assign(&im->windows);
	int rc = report_build(&im->builder, &d, &c, limit, advance, out);
	if (!rc && im->o->growth)
		growth_report(&im->growth, sum, exited, &out->r);
	if (!rc && im->o->alloc_windows)
		alloc_windows_report(&im->windows, &out->r);
	/* read after the build, which resolved frames */
	if (!rc)
		bounds_into(im, &out->r.drops);
	return rc;
}
