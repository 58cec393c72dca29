// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --growth -a: every process, each with its pages, stacks and symbols. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "account/aggregate.h"
#include "attach/skel.h"
#include "python/support.h"
#include "session/bpf_settings.h"
#include "session/growth.h"
#include "session/growth_all.h"
#include "session/options.h"
#include "session/report_build.h"
#include "session/report_merge.h"
#include "symbols/symbolizer.h"
#include "target/process.h"
#include "unwind/code_ranges.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/search.h"

/* One process seen making pages resident. */
struct gproc {
	pid_t pid;
	uint32_t serial;	  /* its stacks' ids: serial << MERGE_ID_BITS | id */
	struct lb_target target;  /* mappings, name */
	struct aggregate agg;	  /* its stacks; blocks are its pages */
	struct growth growth;	  /* its pages */
	struct symbolizer *sym;	  /* made at its first report */
	struct py_support *py;	  /* CPython, when it is one */
	struct leakbpf_bpf *skel; /* its own object (Python walk), or NULL */
	struct text_ranges tr;	  /* its code, for that object's stack walk */
	bool tried_object;

	struct report_builder rb;
	char root[96]; /* "process PID (COMM)", raw as every frame's text */
};

/* A process's anonymous RSS when tracing began. */
struct baseline {
	pid_t pid;
	uint64_t anon;
};

struct growth_all {
	const struct options *o;
	struct leakbpf_bpf *shared;
	struct ring_buffer *rb;
	struct intake *in;
	struct gproc **procs; /* sorted by pid */
	size_t nprocs, capprocs;
	struct baseline *base; /* sorted by pid */
	size_t nbase, capbase;
	pid_t dead_pid; /* the last pid found gone: its records are dropped */
	uint32_t serial;
	struct leakbpf_bpf *objects[GROWTH_ALL_OBJECTS]; /* processes' own */
	unsigned nobjects;
	uint64_t attach_ns, prev_ns;
};

static size_t proc_pos(const struct growth_all *ga, pid_t pid)
{
	return SORTED_LOWER(ga->procs, ga->nprocs, ->pid, pid);
}

static struct gproc *proc_find(const struct growth_all *ga, pid_t pid)
{
	size_t i = proc_pos(ga, pid);
	return i < ga->nprocs && ga->procs[i]->pid == pid ? ga->procs[i] : NULL;
}

static uint64_t baseline_of(const struct growth_all *ga, pid_t pid)
{
	size_t i = SORTED_LOWER(ga->base, ga->nbase, .pid, pid);
	return i < ga->nbase && ga->base[i].pid == pid ? ga->base[i].anon
						       : 0; /* 0: started since */
}

static void resolve_py_frame(void *py, const struct agg_py_frame *f, struct rm_frame *out)
{
	py_resolve_frame(py, f->code, f->lasti, f->tag, out);
}

static void proc_free(struct growth_all *ga, struct gproc *p)
{
	if (p->skel) {
		bpf_settings_skip(ga->shared, (uint32_t)p->pid, false);
		leakbpf_bpf__detach(p->skel); /* destroyed at the end */
	}
	report_builder_free(&p->rb);
	text_ranges_free(&p->tr);
	symbolizer_free(p->sym);
	growth_free(&p->growth);
	agg_free(&p->agg);
	py_close(p->py);
	target_close(&p->target);
	free(p);
}

static void proc_drop(struct growth_all *ga, pid_t pid)
{
	size_t i = proc_pos(ga, pid);
	if (i >= ga->nprocs || ga->procs[i]->pid != pid)
		return;
	proc_free(ga, ga->procs[i]);
	memmove(&ga->procs[i], &ga->procs[i + 1], (ga->nprocs - i - 1) * sizeof(*ga->procs));
	ga->nprocs--;
}

/* The code ranges of p's object, when its code changed. */
static bool update_ranges(struct gproc *p, struct leakbpf_bpf *skel)
{
	size_t n;
	const uint64_t(*interp)[2] = py_interpreter_text(p->py, &n);
	struct walk_ranges r;
	if (!text_ranges_update(&p->tr, &p->target, interp, n, &r))
		return false;
	bpf_settings_ranges(skel, &r);
	return true;
}

/* An object of the process's own: its code ranges let the native walk
 * find callers in code without frame pointers, and a Python process's
 * layout lets it walk the Python frames. */
static void give_object(struct growth_all *ga, struct gproc *p)
{
	p->tried_object = true;
	struct leakbpf_bpf *skel = leakbpf_bpf__open();
	if (!skel)
		return;
	growth_select_programs(skel, true, false);
	struct py_bpf_settings py;
	bool walk_py = p->py && !py_bpf_settings(p->py, &py);
	struct bpf_load_settings st = {
	    .target_tgid = (uint32_t)p->pid,
	    .max_size = ~0ULL,
	    .interp_stacks = ga->o->native,
	    .py = walk_py ? &py : NULL,
	};
	bpf_settings_load(skel, &st);
	/* one process's records: a smaller ring buffer than the shared one */
	bpf_map__set_max_entries(skel->maps.events, 4 << 20);
	if (leakbpf_bpf__load(skel)) {
		leakbpf_bpf__destroy(skel);
		return;
	}
	/* from here the object lives until the end: the ring buffer reader
	 * keeps its map and has no way to let it go */
	ga->objects[ga->nobjects++] = skel;
	update_ranges(p, skel);
	char err[256];
	if (ring_buffer__add(ga->rb, bpf_map__fd(skel->maps.events), intake_record, ga->in) ||
	    growth_attach_programs(skel, err, sizeof(err))) {
		leakbpf_bpf__detach(skel);
		return;
	}
	bpf_settings_skip(ga->shared, (uint32_t)p->pid, true);
	p->skel = skel;
}

static struct gproc *proc_new(struct growth_all *ga, pid_t pid)
{
	if (pid == ga->dead_pid || pid <= 0)
		return NULL;
	struct gproc *p = calloc(1, sizeof(*p));
	char err[256];
	if (!p || ARRAY_RESERVE(ga->procs, ga->capprocs, ga->nprocs + 1) ||
	    target_open(pid, &p->target, err, sizeof(err))) {
		free(p);
		ga->dead_pid = pid; /* gone already */
		return NULL;
	}
	p->pid = pid;
	p->serial = ga->serial++;
	snprintf(p->root, sizeof(p->root), "process %d (%s)", (int)pid, p->target.comm);
	if (!ga->o->no_python)
		p->py = py_open(&p->target, &(const char *){NULL});
	if (agg_init(&p->agg, ga->o->max_tracked, (uint32_t)ga->o->max_stacks,
		     p->py ? resolve_py_frame : NULL, p->py) ||
	    growth_init(&p->growth, &p->agg, &p->target)) {
		agg_free(&p->agg);
		py_close(p->py);
		target_close(&p->target);
		free(p);
		return NULL;
	}
	p->growth.anon_rss_at_attach = baseline_of(ga, pid);
	p->rb.agg = &p->agg;
	p->rb.py = p->py;
	p->rb.native_all = ga->o->native;
	p->rb.min_age_s = ga->o->min_age_s;
	p->rb.attach_ns = ga->attach_ns;
	p->rb.meta.mode = RM_MODE_GROWTH;
	size_t i = proc_pos(ga, pid);
	memmove(&ga->procs[i + 1], &ga->procs[i], (ga->nprocs - i) * sizeof(*ga->procs));
	ga->procs[i] = p;
	ga->nprocs++;
	return p;
}

struct growth_all *growth_all_new(const struct options *o, struct leakbpf_bpf *shared,
				  struct ring_buffer *rb, struct intake *in)
{
	struct growth_all *ga = calloc(1, sizeof(*ga));
	if (!ga)
		return NULL;
	ga->o = o;
	ga->shared = shared;
	ga->rb = rb;
	ga->in = in;
	return ga;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct baseline *)a)->pid, y = ((const struct baseline *)b)->pid;
	return x < y ? -1 : x > y;
}

int growth_all_attach(struct growth_all *ga, char *err, size_t errlen)
{
	/* every process's anonymous RSS first, as growth_attach does for one */
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		if (ARRAY_RESERVE(ga->base, ga->capbase, ga->nbase + 1))
			break;
		ga->base[ga->nbase++] = (struct baseline){pid, target_anon_rss(pid)};
	}
	if (d)
		closedir(d);
	qsort(ga->base, ga->nbase, sizeof(*ga->base), by_pid);
	ga->attach_ns = mono_ns();
	return growth_attach_programs(ga->shared, err, errlen);
}

void growth_all_free(struct growth_all *ga)
{
	if (!ga)
		return;
	for (size_t i = 0; i < ga->nprocs; i++)
		proc_free(ga, ga->procs[i]);
	for (unsigned i = 0; i < ga->nobjects; i++)
		leakbpf_bpf__destroy(ga->objects[i]);
	free(ga->procs);
	free(ga->base);
	free(ga);
}

void growth_all_page(void *ctx, struct intake_event *ev)
{
	struct growth_all *ga = ctx;
	pid_t pid = (pid_t)ev->tgid;
	struct gproc *p = proc_find(ga, pid);
	if (!p)
		p = proc_new(ga, pid);
	if (p)
		growth_page(&p->growth, ev);
}

void growth_all_range(void *ctx, const struct intake_range *r)
{
	struct growth_all *ga = ctx;
	if (r->type == LB_EV_EXIT || r->type == LB_EV_EXEC) {
		/* gone, or a new program: its next page makes it anew */
		proc_drop(ga, (pid_t)r->tgid);
		return;
	}
	struct gproc *p = proc_find(ga, (pid_t)r->tgid);
	if (p)
		growth_range(&p->growth, r);
}

/* Python processes, and any that grew by GROWTH_ALL_OBJECT_BYTES, while
 * there are objects left: each adds its programs to every fault on the
 * host (they look at the process first). */
static bool wants_object(const struct growth_all *ga, const struct gproc *p)
{
	if (p->skel || p->tried_object || ga->nobjects >= GROWTH_ALL_OBJECTS)
		return false;
	uint64_t held = p->agg.blocks.used * PAGES_SIZE;
	return p->py || held >= GROWTH_ALL_OBJECT_BYTES;
}

void growth_all_tick(struct growth_all *ga)
{
	for (size_t i = ga->nprocs; i-- > 0;) {
		struct gproc *p = ga->procs[i];
		if (!target_alive(p->pid)) {
			proc_drop(ga, p->pid);
			continue;
		}
		/* here, not at its first page: records are being read then, and
		 * the reader cannot take a new ring buffer while it reads */
		if (wants_object(ga, p))
			give_object(ga, p);
		if (target_reload_maps(&p->target))
			continue;
		if (p->skel && update_ranges(p, p->skel) && p->sym)
			symbolizer_refresh(p->sym);
	}
}

void growth_all_sum_counters(struct growth_all *ga, int ncpus, uint64_t *sum)
{
	for (unsigned i = 0; i < ga->nobjects; i++)
		intake_counters_add(bpf_map__fd(ga->objects[i]->maps.counters), ncpus, sum);
}

static int by_recent_growth(const void *pa, const void *pb)
{
	const struct rm_process *a = pa, *b = pb;
	if (a->recent_bytes != b->recent_bytes)
		return a->recent_bytes < b->recent_bytes ? 1 : -1;
	if (a->out_bytes != b->out_bytes)
		return a->out_bytes < b->out_bytes ? 1 : -1;
	return a->pid - b->pid;
}

/* Bytes of p's pages made resident in the last `window_ns` and still held. */
static uint64_t recent_bytes(struct gproc *p, uint64_t window_ns)
{
	uint64_t now = mono_ns(), total = 0, older = 0;
	uint64_t *ob = calloc(p->agg.nstacks ? p->agg.nstacks : 1, 2 * sizeof(uint64_t));
	if (!ob)
		return 0;
	agg_outstanding_older(&p->agg, now > window_ns ? now - window_ns : 0, ob,
			      ob + p->agg.nstacks);
	for (uint32_t i = 0; i < p->agg.nstacks; i++) {
		if (p->agg.stacks[i].used)
			total += p->agg.stacks[i].out_bytes;
		older += ob[i];
	}
	free(ob);
	return total > older ? total - older : 0;
}

int growth_all_build(struct growth_all *ga, const struct rm_report *meta,
		     const struct rm_drops *drops, const uint64_t *counters, size_t limit,
		     bool advance, struct built_report *out)
{
	memset(out, 0, sizeof(*out));
	struct built_report *each = calloc(ga->nprocs ? ga->nprocs : 1, sizeof(*each));
	struct merge_part *parts = calloc(ga->nprocs ? ga->nprocs : 1, sizeof(*parts));
	if (!each || !parts) {
		free(each);
		free(parts);
		return -1;
	}
	struct rm_drops none = {0};
	struct rm_counts nothing = {0};
	uint64_t zero[LB_C_MAX] = {0};
	size_t nparts = 0;
	uint64_t window = (uint64_t)(ga->o->interval_s * 1e9);
	/* every RSS first, then every fault it counts (see growth_read_rss) */
	for (size_t i = 0; i < ga->nprocs; i++)
		growth_read_rss(&ga->procs[i]->growth);
	ring_buffer__consume(ga->rb);
	for (size_t i = 0; i < ga->nprocs; i++) {
		struct gproc *p = ga->procs[i];
		char err[256];
		if (!p->sym && !(p->sym = symbolizer_new(p->pid, err, sizeof(err))))
			continue; /* gone meanwhile */
		p->rb.sym = p->sym;
		growth_check(&p->growth);
		if (report_build(&p->rb, &none, &nothing, 0, advance, &each[i]))
			continue;
		growth_report(&p->growth, zero, false, &each[i].r);
		const struct rm_report *pr = &each[i].r;
		if (!pr->nstacks)
			continue;
		parts[nparts++] = (struct merge_part){
		    .r = pr,
		    .root = p->root,
		    .serial = p->serial,
		    .proc =
			{
			    .pid = p->pid,
			    .comm = p->target.comm,
			    .python = p->skel && p->py ? py_describe(p->py) : NULL,
			    .recent_bytes = recent_bytes(p, window),
			    .anon_rss = pr->growth.anon_rss,
			    .anon_rss_at_attach = pr->growth.anon_rss_at_attach,
			},
		};
	}
	struct rm_report m = *meta;
	m.drops = *drops;
	int err = report_merge(&m, parts, nparts, limit, out);
	for (size_t i = 0; i < ga->nprocs; i++)
		report_release(&each[i]);
	free(each);
	free(parts);
	if (err)
		return -1;
	struct rm_report *r = &out->r;
	qsort((struct rm_process *)r->processes, r->nprocesses, sizeof(*r->processes),
	      by_recent_growth);
	uint64_t now = mono_ns();
	r->mode = RM_MODE_GROWTH;
	r->pid = 0;
	r->unix_time = wall_time_s();
	r->elapsed_s = (now - ga->attach_ns) / 1e9;
	r->interval_s = (now - (ga->prev_ns ? ga->prev_ns : ga->attach_ns)) / 1e9;
	if (advance)
		ga->prev_ns = now;
	r->growth.write_faults = counters[LB_C_PAGE_FAULTS];
	r->growth.file_faults += counters[LB_C_FILE_FAULTS];
	return 0;
}
