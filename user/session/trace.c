// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One tracing session: attach to the target, stream events into the
 * aggregate, print periodic reports, and write the final outputs.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach/skel.h"
#include "account/aggregate.h"
#include "account/intake.h"
#include "target/elf_file.h"
#include "target/launch.h"
#include "session/bpf_settings.h"
#include "session/options.h"
#include "session/outputs.h"
#include "attach/probe_set.h"
#include "python/support.h"
#include "session/attach.h"
#include "session/growth.h"
#include "session/growth_all.h"
#include "session/report_build.h"
#include "out/table.h"
#include "snapshot/snapshot.h"
#include "symbols/symbolizer.h"
#include "target/process.h"
#include "unwind/code_ranges.h"
#include "session/trace.h"
#include "util/clock.h"
#include "util/fmt.h"

struct session {
	const struct options *o;
	struct lb_target target;
	struct launch launch;
	bool launched;
	struct lb_target pre_exec; /* -c: the child before exec (our own maps) */
	struct leakbpf_bpf *skel;
	struct probe_set probes;
	struct py_support *py;
	struct aggregate agg;
	struct intake intake;
	struct symbolizer *sym;
	struct ring_buffer *rb;
	struct report_builder rb_builder;
	struct snapshot_writer *snap;
	int sigfd;
	int ncpus;
	char kernel[256];
	bool exited;
	int exit_status;
	bool live;    /* stderr is a terminal: show progress */
	bool started; /* -c: the command was let run */
	struct text_ranges tr;
	struct growth growth;	     /* --growth */
	struct growth_all *all;	     /* --growth -a */
	bool unwind_tables;	     /* stacks from CFI (not for -a: frame pointers) */
	struct lb_cfi_row *cfi_rows; /* the unwind tables' rows, mapped */
	uint32_t cfi_cap;
	uint64_t dl_seen; /* dynamic loader changes already acted on */
};

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "leakbpf: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

/* Python frames of a new stack, resolved while their code objects live. */
static void resolve_py_frame(void *py, const struct agg_py_frame *f, struct rm_frame *out)
{
	py_resolve_frame(py, f->code, f->lasti, f->tag, out);
}

/* The drops and counts the BPF programs keep (and every counter, summed
 * over the objects of -a, into sum). */
static void read_counters(struct session *s, struct rm_drops *d, struct rm_counts *c,
			  uint64_t sum[LB_C_MAX])
{
	memset(sum, 0, LB_C_MAX * sizeof(*sum));
	intake_counters_add(bpf_map__fd(s->skel->maps.counters), s->ncpus, sum);
	if (s->all)
		growth_all_sum_counters(s->all, s->ncpus, sum);
	intake_counters_report(sum, d, c);
	d->unwind_tables_full = text_ranges_tables_full(&s->tr);
}

static int build(struct session *s, size_t limit, bool advance, bool final,
		 struct built_report *out)
{
	struct rm_drops d;
	struct rm_counts c;
	uint64_t sum[LB_C_MAX];
	read_counters(s, &d, &c, sum);
	s->rb_builder.meta.final = final;
	s->rb_builder.meta.target_exited = s->exited;
	s->rb_builder.meta.exit_status = s->exited ? s->exit_status : -1;
	s->rb_builder.meta.probes = s->probes.probes;
	s->rb_builder.meta.nprobes = s->probes.nprobes;
	if (s->all)
		return growth_all_build(s->all, &s->rb_builder.meta, &d, sum, limit, advance, out);
	if (s->o->growth && !s->exited)
		growth_check(&s->growth);
	int err = report_build(&s->rb_builder, &d, &c, limit, advance, out);
	if (!err && s->o->growth)
		growth_report(&s->growth, sum, s->exited, &out->r);
	return err;
}

static int setup_signals(struct session *s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return s->sigfd < 0 ? -1 : 0;
}

static bool got_signal(struct session *s)
{
	struct signalfd_siginfo si;
	return read(s->sigfd, &si, sizeof(si)) == sizeof(si);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int libbpf_verbose(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool needs_libpython(const char *exe)
{
	char why[256];
	struct elf_file *ef = elf_file_open(exe, why, sizeof(why));
	bool needs = ef && elf_file_needs(ef, "libpython");
	elf_file_close(ef);
	return needs;
}

static int open_target(struct session *s, char *err, size_t errlen)
{
	const struct options *o = s->o;
	if (o->all) {
		/* every process: none in particular */
		snprintf(s->target.comm, sizeof(s->target.comm), "every process");
		return 0;
	}
	if (o->command) {
		if (launch_start(&s->launch, o->command, err, errlen))
			return -1;
		s->launched = true;
		/* Before exec the child maps our own libc: the one the command
		 * will load (same mount namespace). Remember where it is. */
		if (target_open(s->launch.pid, &s->pre_exec, err, errlen))
			return -1;
		launch_release(&s->launch);
		if (launch_wait_exec(&s->launch)) {
			snprintf(err, errlen, "%s did not start", o->command);
			return -1;
		}
		/* A Python linked to libpython*.so: hold it once the loader
		 * mapped libpython, before any Python code runs, so that the
		 * interpreter is found and traced from the start. */
		if (!o->no_python && needs_libpython(s->launch.exe))
			launch_run_until_mapped(&s->launch, "libpython", 1000);
		return target_open(s->launch.pid, &s->target, err, errlen);
	}
	if (target_open(o->pid, &s->target, err, errlen))
		return -1;
	if (!target_alive(o->pid)) {
		snprintf(err, errlen, "process %d has exited (zombie)", o->pid);
		return -1;
	}
	return 0;
}

static int load_bpf(struct session *s)
{
	const struct options *o = s->o;
	/* unwind tables for the target; -a traces every process with the
	 * frame pointers they have; LEAKBPF_NO_CFI=1 as well (to compare) */
	s->unwind_tables = !o->all && !getenv("LEAKBPF_NO_CFI");
	s->skel = leakbpf_bpf__open();
	if (!s->skel)
		return fail("cannot open the BPF object: %s", strerror(errno));
	/* the growth mode attaches no probe (and probe_set_init would give its
	 * tracepoint programs the uprobe_multi attach type) */
	if (o->growth)
		memset(&s->probes, 0, sizeof(s->probes));
	else
		probe_set_init(&s->probes, s->skel->obj);
	growth_select_programs(s->skel, o->growth);
	/* tests: a small ring buffer (a power of two, 4096 or more) to see
	 * drops counted */
	const char *rbs = getenv("LEAKBPF_RINGBUF_SIZE");
	uint64_t rb_size;
	if (rbs && !parse_size(rbs, &rb_size) && rb_size >= 4096 && !(rb_size & (rb_size - 1)))
		bpf_map__set_max_entries(s->skel->maps.events, (uint32_t)rb_size);
	struct py_bpf_settings py;
	if (s->py && py_bpf_settings(s->py, &py)) {
		fprintf(stderr, "leakbpf: warning: Python support disabled for this target\n");
		py_close(s->py);
		s->py = NULL;
	}
	struct bpf_load_settings st = {
	    .target_tgid = (uint32_t)s->target.pid,
	    .min_size = o->min_size,
	    .max_size = o->max_size,
	    .interp_stacks = o->native,
	    .py = s->py ? &py : NULL,
	    .growth_all = o->all,
	    .growth_self = (uint32_t)getpid(),
	    .unwind_tables = s->unwind_tables,
	};
	bpf_settings_load(s->skel, &st);
	int err = leakbpf_bpf__load(s->skel);
	if (err)
		return fail("cannot load the BPF programs: %s (run with -v for the verifier log)",
			    strerror(-err));
	return 0;
}

static void set_meta(struct session *s)
{
	struct utsname u;
	if (!uname(&u))
		snprintf(s->kernel, sizeof(s->kernel), "%s %s", u.sysname, u.release);
	struct rm_report *m = &s->rb_builder.meta;
	m->pid = s->target.pid;
	m->comm = s->target.comm;
	m->cmdline = s->o->command ? s->o->command : s->target.cmdline;
	m->leakbpf_version = LEAKBPF_VERSION;
	m->kernel = s->kernel;
	m->python = s->py ? py_describe(s->py) : NULL;
	/* the growth mode probes no allocator: nothing to say of one */
	m->allocator_note = s->py && !s->o->growth ? py_allocator_note(s->py) : NULL;
	m->mode = s->o->growth ? RM_MODE_GROWTH : RM_MODE_EXACT;
	m->exit_status = -1;
}

/* The BPF walk's code ranges, the interpreter's marked. */
static bool update_code_ranges(struct session *s)
{
	size_t n;
	const uint64_t(*interp)[2] = py_interpreter_text(s->py, &n);
	struct walk_ranges r;
	if (!text_ranges_update(&s->tr, &s->target, interp, n, &r))
		return false;
	bpf_settings_ranges(s->skel, &r);
	if (s->o->verbose)
		text_ranges_describe(&s->tr);
	return true;
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

/* Keep what is known of the target's modules current while it lives:
 * symbols for after it exits, code ranges for the BPF stack fix-up. */
static void refresh_modules(struct session *s)
{
	if (s->all) {
		growth_all_tick(s->all);
		return;
	}
	if (s->exited || target_reload_maps(&s->target))
		return;
	/* the symbolizer knows code modules only: re-read when code changed */
	if (update_code_ranges(s))
		symbolizer_refresh(s->sym);
}

/* The -c command passed exec: look at its new image. */
static void on_exec(struct session *s)
{
	char *comm = s->launch.exe ? strrchr(s->launch.exe, '/') : NULL;
	if (comm)
		snprintf(s->target.comm, sizeof(s->target.comm), "%s", comm + 1);
	refresh_modules(s);
}

static void mark_exited(struct session *s, int status)
{
	s->exited = true;
	s->exit_status = status;
}

/* Returns true when the target is gone. */
static bool check_target(struct session *s)
{
	if (s->all)
		return false;
	if (!s->launched) {
		if (target_alive(s->target.pid))
			return false;
		mark_exited(s, -1);
		return true;
	}
	for (;;) {
		switch (launch_poll(&s->launch)) {
		case LAUNCH_NOTHING:
			return false;
		case LAUNCH_EXECED:
			on_exec(s);
			break;
		case LAUNCH_EXITING:
			/* Last chance to read its mappings and pending events. */
			ring_buffer__consume(s->rb);
			refresh_modules(s);
			launch_resume(&s->launch);
			break;
		case LAUNCH_EXITED: {
			int st = s->launch.status;
			mark_exited(s, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			return true;
		}
		}
	}
}

static void periodic_report(struct session *s)
{
	struct built_report br;
	if (build(s, s->o->top, true, false, &br))
		return;
	report_text_print(&br.r, s->o->top, outputs_table_stream(s->o));
	report_release(&br);
}

static void snapshot_warn(struct snapshot_writer *w)
{
	const char *last = snapshot_writer_last_path(w);
	fprintf(stderr, "leakbpf: warning: writing a snapshot failed: %s (last written: %s)\n",
		strerror(errno), last ? last : "none");
}

static void snapshot_tick(struct session *s)
{
	struct built_report br;
	if (!s->snap || build(s, 0, false, false, &br))
		return;
	if (snapshot_writer_tick(s->snap, &br.r) < 0)
		snapshot_warn(s->snap);
	report_release(&br);
}

static int final_report(struct session *s)
{
	struct built_report br;
	if (build(s, 0, true, true, &br)) {
		fprintf(stderr, "leakbpf: out of memory building the final report\n");
		return -1;
	}
	report_text_print(&br.r, s->o->top, outputs_table_stream(s->o));
	int err = outputs_write(s->o, &br.r);
	if (s->snap) {
		if (snapshot_writer_write(s->snap, &br.r) < 0)
			snapshot_warn(s->snap);
		char line[512];
		snapshot_writer_describe(s->snap, line, sizeof(line));
		fprintf(stderr, "leakbpf: %s\n", line);
	}
	report_release(&br);
	/* records the intake could not decode: none unless the BPF programs
	 * and the intake disagree, but never a silent loss */
	if (s->intake.malformed)
		fprintf(stderr, "leakbpf: warning: %" PRIu64 " malformed BPF records ignored\n",
			s->intake.malformed);
	return err;
}

/* One self-overwriting status line on a terminal: events/s, outstanding
 * bytes, drops. Cleared before anything else is printed. */
static void live_line(struct session *s, uint64_t now, uint64_t *last_ns, uint64_t *last_events)
{
	struct rm_drops d;
	struct rm_counts c;
	struct agg_totals t;
	uint64_t sum[LB_C_MAX];
	read_counters(s, &d, &c, sum);
	agg_totals(&s->agg, &t);
	uint64_t events = t.allocs + t.frees;
	double dt = (now - *last_ns) / 1e9;
	d.addr_table_full = t.addr_table_full;
	d.stack_table_full = t.stack_table_full;
	uint64_t drops = rm_drops_lost(&d);
	char b[32];
	fprintf(stderr,
		"\r\033[Kleakbpf: %.0f events/s, %s outstanding in %" PRIu64 " blocks, %" PRIu64
		" drops",
		dt > 0 ? (events - *last_events) / dt : 0,
		human_bytes((double)t.out_bytes, b, sizeof(b)), t.out_count, drops);
	*last_ns = now;
	*last_events = events;
}

static void live_clear(struct session *s)
{
	if (s->live)
		fputs("\r\033[K", stderr);
}

static void run_loop(struct session *s)
{
	const struct options *o = s->o;
	uint64_t start = mono_ns(), next_report = start + (uint64_t)(o->interval_s * 1e9);
	uint64_t next_check = start, next_refresh = start;
	uint64_t end = o->duration_s > 0 ? start + (uint64_t)(o->duration_s * 1e9) : 0;
	long reports = 0;
	/* -c: notice exec/exit events quickly; -p: a slower liveness check */
	int poll_ms = s->launched ? 10 : 100;
	uint64_t live_ns = start, live_events = 0, next_live = start + 1000000000ULL;

	for (;;) {
		/* Records are submitted without wakeups (cheaper for the target),
		 * so the poll is mostly a sleep: consume after it either way. */
		int n = ring_buffer__poll(s->rb, poll_ms);
		if (n >= 0)
			n = ring_buffer__consume(s->rb);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "leakbpf: reading events failed: %s\n", strerror(-n));
			break;
		}
		if (got_signal(s))
			break;
		/* the loader changed its objects: new libraries get their
		 * unwind tables now, not at the next refresh */
		if (s->skel->bss->dl_changes != s->dl_seen) {
			s->dl_seen = s->skel->bss->dl_changes;
			refresh_modules(s);
		}
		uint64_t now = mono_ns();
		if (now >= next_check) {
			if (check_target(s))
				break;
			next_check = now + (s->launched ? 0 : 200000000ULL);
		}
		if (end && now >= end)
			break;
		if (now >= next_refresh) {
			refresh_modules(s);
			/* often at first, while a starting program loads libraries */
			next_refresh =
			    now + (now - start < 2000000000ULL ? 100000000ULL : 1000000000ULL);
		}
		if (now >= next_report) {
			next_report += (uint64_t)(o->interval_s * 1e9);
			reports++;
			if (o->count && reports >= o->count)
				break;
			if (!o->quiet) {
				live_clear(s);
				periodic_report(s);
			}
		}
		if (s->live && now >= next_live) {
			live_line(s, now, &live_ns, &live_events);
			next_live = now + 1000000000ULL;
		}
		if (s->snap && snapshot_writer_due(s->snap))
			snapshot_tick(s);
	}
	ring_buffer__consume(s->rb);
	live_clear(s);
}

/* -c: tracing ended (duration, COUNT, signal) before the command did. The
 * command belongs to this run, like under timeout(1): ask it to stop, and
 * keep watching so its last frees and its exit make the final report. */
static void stop_command(struct session *s)
{
	kill(s->launch.pid, SIGTERM);
	uint64_t give_up = mono_ns() + 2000000000ULL;
	while (!s->exited && mono_ns() < give_up) {
		ring_buffer__poll(s->rb, 10);
		ring_buffer__consume(s->rb);
		check_target(s);
	}
	if (!s->exited) {
		kill(s->launch.pid, SIGKILL);
		launch_detach(&s->launch);
	}
	ring_buffer__consume(s->rb);
}

static void session_close(struct session *s)
{
	ring_buffer__free(s->rb);
	growth_all_free(s->all); /* its objects were read by rb */
	probe_set_destroy(&s->probes);
	text_ranges_free(&s->tr);
	bpf_settings_unmap_rows(s->cfi_rows, s->cfi_cap);
	leakbpf_bpf__destroy(s->skel);
	if (s->snap)
		snapshot_writer_free(s->snap);
	symbolizer_free(s->sym);
	report_builder_free(&s->rb_builder);
	if (s->o->growth && !s->o->all)
		growth_free(&s->growth);
	agg_free(&s->agg);
	py_close(s->py);
	target_close(&s->target);
	if (s->launched) {
		target_close(&s->pre_exec);
		if (!s->launch.exited && !s->started) {
			/* never let the command run untraced after a failed attach */
			kill(s->launch.pid, SIGKILL);
			waitpid(s->launch.pid, NULL, __WALL);
		}
		launch_free(&s->launch);
	}
	if (s->sigfd >= 0)
		close(s->sigfd);
}

int trace_run(const struct options *o)
{
	struct session s = {.o = o, .sigfd = -1};
	char err[512];
	int rc = 1;

	libbpf_set_print(o->verbose ? libbpf_verbose : libbpf_quiet);
	s.live = isatty(STDERR_FILENO);
	bool say = o->verbose || s.live;
	s.ncpus = libbpf_num_possible_cpus();
	if (open_target(&s, err, sizeof(err))) {
		fail("%s", err);
		goto out;
	}
	/* Each module of the target keeps its file open for symbolization.
	 * Raised after the -c fork, so the command keeps its own limit. */
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* after fork: the -c child must not inherit blocked signals */
	if (setup_signals(&s)) {
		fail("cannot set up signal handling: %s", strerror(errno));
		goto out;
	}
	if (!o->no_python && !o->all) {
		const char *warning = NULL;
		s.py = py_open(&s.target, &warning);
		if (warning)
			fprintf(stderr, "leakbpf: warning: %s; tracing native allocations only\n",
				warning);
	}
	if (o->growth && !o->all && growth_init(&s.growth, &s.agg, &s.target)) {
		fail("%s", "out of memory");
		goto out;
	}
	if (say)
		fprintf(stderr, "leakbpf: loading BPF programs\n");
	if (load_bpf(&s))
		goto out;
	if (agg_init(&s.agg, o->max_tracked, (uint32_t)o->max_stacks,
		     s.py ? resolve_py_frame : NULL, s.py)) {
		fail("%s", "out of memory");
		goto out;
	}
	s.intake.agg = &s.agg;
	if (o->growth) {
		/* page and range records: to the growth mode */
		s.intake.page = o->all ? growth_all_page : growth_page;
		s.intake.range = o->all ? growth_all_range : growth_range;
		s.intake.growth = &s.growth;
	}
	s.rb = ring_buffer__new(bpf_map__fd(s.skel->maps.events), intake_record, &s.intake, NULL);
	if (!s.rb) {
		fail("cannot open the BPF ring buffer: %s", strerror(errno));
		goto out;
	}
	if (o->all) {
		s.all = growth_all_new(o, s.skel, s.rb, &s.intake);
		if (!s.all) {
			fail("%s", "out of memory");
			goto out;
		}
		s.intake.growth = s.all;
	}
	if (s.unwind_tables) {
		s.cfi_rows = bpf_settings_map_rows(s.skel, &s.cfi_cap);
		if (s.cfi_rows && text_ranges_tables(&s.tr, s.cfi_rows, s.cfi_cap, o->verbose)) {
			fail("%s", "out of memory");
			goto out;
		}
	}
	/* the loader's changes wake the poll too (run_loop acts on them) */
	if (ring_buffer__add(s.rb, bpf_map__fd(s.skel->maps.dl_wake), dl_woken, NULL)) {
		fail("cannot open the BPF ring buffer: %s", strerror(errno));
		goto out;
	}
	update_code_ranges(&s);
	if (say)
		fprintf(stderr, "leakbpf: attaching probes to pid %d\n", s.target.pid);
	struct attach_plan plan = {
	    .target = &s.target,
	    .maps = s.launched ? &s.pre_exec : &s.target,
	    .command_exe = s.launched ? s.launch.exe : NULL,
	    .launched = s.launched,
	    .py = s.py,
	    .py_alloc_all = o->py_alloc_all,
	};
	if (o->all) {
		if (growth_all_attach(s.all, err, sizeof(err))) {
			fail("%s", err);
			goto out;
		}
	} else if (o->growth) {
		if (growth_attach(&s.growth, s.skel, err, sizeof(err))) {
			fail("%s", err);
			goto out;
		}
	} else if (attach_probes(&plan, s.skel, &s.probes)) {
		goto out;
	}
	if (say)
		fprintf(stderr, "leakbpf: reading the target's modules for symbols\n");
	s.sym = o->all ? NULL : symbolizer_new(s.target.pid, err, sizeof(err));
	if (!s.sym && !o->all) {
		fail("cannot read the target's modules: %s", err);
		goto out;
	}
	if (o->snapshot_dir) {
		s.snap = snapshot_writer_new(o->snapshot_dir, o->snapshot_every_s, o->snapshot_keep,
					     o->output_stacks, err, sizeof(err));
		if (!s.snap) {
			fail("%s", err);
			goto out;
		}
		char line[512];
		snapshot_writer_describe(s.snap, line, sizeof(line));
		fprintf(stderr, "leakbpf: %s\n", line);
	}
	set_meta(&s);
	s.rb_builder.agg = &s.agg;
	s.rb_builder.sym = s.sym;
	s.rb_builder.py = s.py;
	s.rb_builder.native_all = o->native;
	s.rb_builder.min_age_s = o->min_age_s;
	s.rb_builder.attach_ns = mono_ns();
	s.rb_builder.rss_attach = s.rb_builder.rss_prev = target_rss(s.target.pid);

	/* the banner names the mode and what it costs the target */
	if (o->all)
		fprintf(stderr, "leakbpf: tracing every process, growth mode: only page faults are "
				"traced; Ctrl-C to stop\n");
	else if (o->growth)
		fprintf(stderr,
			"leakbpf: tracing pid %d (%s), growth mode%s%s: only page faults are "
			"traced; Ctrl-C to stop\n",
			s.target.pid, s.launched ? s.launch.argv[0] : s.target.comm,
			s.py ? ", " : "", s.py ? py_describe(s.py) : "");
	else
		fprintf(stderr,
			"leakbpf: tracing pid %d (%s): %zu probes%s%s; every allocation is traced: "
			"allocation-heavy code runs several times slower (--growth: near zero "
			"cost); Ctrl-C to stop\n",
			s.target.pid, s.launched ? s.launch.argv[0] : s.target.comm,
			s.probes.nattached, s.py ? ", " : "", s.py ? py_describe(s.py) : "");
	if (s.launched) {
		/* library code ranges and symbols complete before main() */
		if (!launch_run_to_entry(&s.launch))
			refresh_modules(&s);
		launch_continue(&s.launch);
		s.started = true;
	}
	run_loop(&s);
	if (s.launched && !s.exited)
		stop_command(&s);
	rc = final_report(&s) ? 1 : 0;
out:
	session_close(&s);
	return rc;
}
