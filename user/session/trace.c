// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One tracing session: open the target's image (session/image.c), stream
 * events into its aggregate, print periodic reports, start over when the
 * target executes a new program, and write the final outputs.
 *
 * A command (-c, --) is started by leakbpf, held under ptrace only until
 * tracing is set up, then detached: it runs as without leakbpf, and its
 * exit is noticed through a pidfd (leakbpf is its parent and reaps it). An
 * exec is noticed by the BPF programs, which for a command also hold it
 * stopped until the new program is traced.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "attach/allocators.h"
#include "out/table.h"
#include "python/support.h"
#include "session/held_guard.h"
#include "session/image.h"
#include "session/options.h"
#include "session/outputs.h"
#include "session/report_merge.h"
#include "session/shared_tables.h"
#include "session/trace.h"
#include "snapshot/snapshot.h"
#include "target/children.h"
#include "target/elf_file.h"
#include "target/launch.h"
#include "target/process.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/escape.h"
#include "util/fmt.h"
#include "util/words.h"

/* Records are read at least this often: their Python frames are resolved
 * from the target's memory then, which a process under -p may soon take
 * along when it exits (a command is held at its _exit). */
#define POLL_MS 25

/* Exit status when leakbpf itself fails, with or without a command (a
 * command's own status is passed on only when leakbpf succeeded). */
#define EXIT_OWN_FAILURE 1

/* One traced process: its image, how its end is noticed, its numbers. */
struct tracee {
	struct image *img; /* NULL once none (it failed to attach a new program) */
	pid_t pid;
	pid_t parent; /* the traced process that forked it, else 0 */
	int pidfd;
	bool launched; /* the command (s->launch) */
	bool exited;
	int exit_status;
	unsigned execs;
	uint32_t serial;
	char root[128]; /* "process PID (COMM)", the root frame of its stacks */
};

/* A new process reported by a fork program, to trace once the records
 * are read (held stopped when `held`). */
struct fork_note {
	pid_t pid, parent;
	bool held;
};

struct session {
	const struct options *o;
	struct image *img;     /* the first process's image (single process: the target) */
	struct tracee **procs; /* every process traced (procs[0]: -p's first, or the command) */
	size_t nprocs, capprocs;
	bool several; /* several processes: root frames, merged reports */
	uint32_t serial;
	uint64_t untraced;    /* processes past --max-procs, or that could not be traced */
	uint64_t forgotten;   /* exited processes dropped to make room */
	uint64_t exec_unheld; /* children's execs the BPF programs could not hold */
	struct fork_note *forks;
	size_t nforks, capforks;
	pid_t fork_parent; /* whose records are being read */
	struct held_guard guard;
	bool guarded;
	struct shared_tables tables; /* unwind tables of every process (not -a) */
	struct launch launch;
	struct launch_child child; /* what the command gets back of leakbpf's changes */
	bool launched;
	bool started;		 /* the command was let run */
	struct lb_target allocs; /* allocator modules (libc...) the target mapped so far,
				    and for a command leakbpf's own: a program is held
				    at exec before it maps its libc, one of these */
	struct snapshot_writer *snap;
	int sigfd, epfd, pidfd;
	char kernel[256];
	char *cmdline; /* a command's words, joined for reports */
	bool exited;
	bool exited_itself; /* the command ended on its own, not stopped by us */
	int exit_status;
	bool live; /* stderr is a terminal: show progress */
	bool say;
	unsigned execs;
	uint64_t start_ns;
	pthread_t closer; /* closing the image before the last exec */
	bool closing;
};

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "leakbpf: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
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

/* ---- the event loop's file descriptors ---- */

static void watch_fd(struct session *s, int fd, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	if (fd >= 0 && s->epfd >= 0)
		epoll_ctl(s->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev);
}

static void watch_image(struct session *s, struct image *im, bool on)
{
	watch_fd(s, ring_buffer__epoll_fd(im->rb), on);
}

/* ---- the target's end ---- */

static void mark_exited(struct session *s, struct tracee *t, int status, bool itself)
{
	/* its pidfd stays readable: out of the wait, or the loop would spin */
	if (!t->exited && t->pidfd >= 0)
		watch_fd(s, t->pidfd, false);
	t->exited = true;
	t->exit_status = status;
	if (t->launched || !s->several) {
		s->exited = true;
		s->exited_itself = itself;
		s->exit_status = status;
	}
}

/* A command's wait status as a shell reports it. */
static int shell_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Returns true when t is gone. */
static bool check_tracee(struct session *s, struct tracee *t)
{
	if (t->exited)
		return true;
	if (t->launched) {
		if (!launch_poll_exit(&s->launch))
			return false;
		mark_exited(s, t, shell_status(s->launch.status), true);
		return true;
	}
	if (t->pidfd >= 0) {
		/* exact: readable once that very process exited */
		struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
		if (poll(&p, 1, 0) == 0)
			return false;
	} else if (t->img && !target_gone(&t->img->target)) {
		return false;
	}
	mark_exited(s, t, -1, true);
	return true;
}

/* Returns true when tracing is over: the target gone, or with several
 * processes every one of them. */
static bool check_target(struct session *s)
{
	if (s->o->all)
		return false; /* every process: none in particular */
	bool all_gone = true;
	for (size_t i = 0; i < s->nprocs; i++)
		if (!check_tracee(s, s->procs[i]))
			all_gone = false;
	return all_gone && !s->nforks;
}

/* ---- reports ---- */

static int build_one(struct tracee *t, size_t limit, bool advance, bool final,
		     struct built_report *out)
{
	int rc = image_build(t->img, limit, advance, final, t->exited, t->exit_status, out);
	if (!rc)
		out->r.execs = t->execs;
	return rc;
}

/* Several processes: each one's report, merged under its root frame. */
static int build_several(struct session *s, size_t limit, bool advance, bool final,
			 struct built_report *out)
{
	struct built_report *each = calloc(s->nprocs, sizeof(*each));
	struct merge_part *parts = calloc(s->nprocs, sizeof(*parts));
	size_t n = 0;
	unsigned execs = 0;
	bool all_exited = true;
	for (size_t i = 0; each && parts && i < s->nprocs; i++) {
		struct tracee *t = s->procs[i];
		if (!t->img || build_one(t, 0, advance, final, &each[n]))
			continue;
		struct rm_report *pr = &each[n].r;
		execs += t->execs;
		all_exited = all_exited && t->exited;
		parts[n] = (struct merge_part){
		    .r = pr,
		    .root = t->root,
		    .serial = t->serial,
		    .proc =
			{
			    .pid = t->pid,
			    .comm = t->img->target.comm,
			    .python = pr->python,
			    .rss_bytes = t->exited ? 0 : pr->rss_bytes,
			    .drops_lost = rm_drops_lost(&pr->drops),
			    .parent = t->parent,
			    .exited = t->exited,
			},
		};
		n++;
	}
	int rc = -1;
	if (n) {
		struct rm_report meta = each[0].r;
		memset(&meta.drops, 0, sizeof(meta.drops));
		meta.drops.procs_untraced = s->untraced;
		meta.drops.procs_forgotten = s->forgotten;
		meta.drops.children_unheld = s->exec_unheld;
		meta.pid = s->procs[0]->pid;
		meta.execs = execs;
		meta.target_exited = all_exited;
		meta.exit_status = s->exited ? s->exit_status : -1;
		meta.elapsed_s = (mono_ns() - s->start_ns) / 1e9;
		rc = report_merge(&meta, parts, n, limit, out);
	}
	for (size_t i = 0; each && i < n; i++)
		report_release(&each[i]);
	free(each);
	free(parts);
	return rc;
}

static int build(struct session *s, size_t limit, bool advance, bool final,
		 struct built_report *out)
{
	if (s->several)
		return build_several(s, limit, advance, final, out);
	return build_one(s->procs[0], limit, advance, final, out);
}

/* --per-process: one table per process (each its own report). */
static void print_per_process(struct session *s, bool advance, bool final)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		struct built_report br;
		if (!s->procs[i]->img || build_one(s->procs[i], s->o->top, advance, final, &br))
			continue;
		report_text_print(&br.r, s->o->top, outputs_table_stream(s->o));
		report_release(&br);
	}
}

static void periodic_report(struct session *s)
{
	if (s->several && s->o->per_process) {
		print_per_process(s, true, false);
		return;
	}
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
	bool per_process = s->several && s->o->per_process;
	/* the files are the merged report: with --per-process the tables come
	 * first, and the merged report's numbers stay the files' */
	if (per_process)
		print_per_process(s, false, true);
	if (build(s, 0, true, true, &br)) {
		fprintf(stderr, "leakbpf: out of memory building the final report\n");
		return -1;
	}
	if (!per_process)
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
	uint64_t malformed = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i]->img)
			malformed += s->procs[i]->img->intake.malformed;
	if (malformed)
		fprintf(stderr, "leakbpf: warning: %" PRIu64 " malformed BPF records ignored\n",
			malformed);
	return err;
}

/* One self-overwriting status line on a terminal: events/s, outstanding
 * bytes, drops. Cleared before anything else is printed. */
static void live_line(struct session *s, uint64_t now, uint64_t *last_ns, uint64_t *last_events)
{
	uint64_t events = 0, out_bytes = 0, out_count = 0, lost = 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		struct image *im = s->procs[i]->img;
		if (!im)
			continue;
		struct rm_drops d;
		struct rm_counts c;
		struct agg_totals t;
		image_counters(im, &d, &c);
		agg_totals(&im->agg, &t);
		events += t.allocs + t.frees;
		out_bytes += t.out_bytes;
		out_count += t.out_count;
		lost += rm_drops_lost(&d);
	}
	double dt = (now - *last_ns) / 1e9;
	char b[32];
	fprintf(stderr,
		"\r\033[Kleakbpf: %.0f events/s, %s outstanding in %" PRIu64 " blocks, %" PRIu64
		" drops",
		dt > 0 ? (events - *last_events) / dt : 0,
		human_bytes((double)out_bytes, b, sizeof(b)), out_count,
		lost + s->untraced + s->exec_unheld);
	*last_ns = now;
	*last_events = events < *last_events ? 0 : events;
}

static void live_clear(struct session *s)
{
	if (s->live)
		fputs("\r\033[K", stderr);
}

/* ---- opening an image ---- */

/* The tracing line: pid, command, the mode and what it costs the target,
 * probes, Python. */
static void banner(struct session *s, struct tracee *t)
{
	const struct options *o = s->o;
	struct image *im = t->img;
	char comm[256], py[PATH_MAX + 128];
	const char *name = t->launched && !t->execs ? s->launch.argv[0] : im->target.comm;
	escape_str(name, NULL, comm, sizeof(comm));
	escape_str(im->py ? py_describe(im->py) : "", NULL, py, sizeof(py));
	if (t->parent) {
		fprintf(stderr, "leakbpf: tracing pid %d (%s), child of %d%s%s\n", t->pid, comm,
			t->parent, im->py ? ", " : "", py);
		return;
	}
	if (o->all)
		fprintf(stderr, "leakbpf: tracing every process, growth mode: only page faults are "
				"traced; Ctrl-C to stop\n");
	else if (o->growth && o->alloc_windows)
		fprintf(stderr,
			"leakbpf: tracing pid %d (%s), growth mode%s%s: only page faults are "
			"traced, and every allocation for %.3g s every %.3g s (allocation "
			"windows: allocation-heavy code runs several times slower then); Ctrl-C "
			"to stop\n",
			im->target.pid, comm, im->py ? ", " : "", py, o->window_s,
			o->window_every_s);
	else if (o->growth)
		fprintf(stderr,
			"leakbpf: tracing pid %d (%s), growth mode%s%s: only page faults are "
			"traced; Ctrl-C to stop\n",
			im->target.pid, comm, im->py ? ", " : "", py);
	else
		fprintf(stderr,
			"leakbpf: tracing pid %d (%s): %zu probes%s%s; every allocation is traced: "
			"allocation-heavy code runs several times slower (--growth: near zero "
			"cost); Ctrl-C to stop\n",
			im->target.pid, comm, im->probes.nattached, im->py ? ", " : "", py);
}

/* err, or when the target went away meanwhile, that it did. */
static void say_attach_failed(const struct lb_target *t, const char *err)
{
	if (t->pid && target_gone(t)) {
		char comm[256];
		fprintf(stderr, "leakbpf: process %d (%s) exited while leakbpf was attaching\n",
			t->pid, escape_str(t->comm, NULL, comm, sizeof(comm)));
	} else {
		fprintf(stderr, "leakbpf: %s\n", err);
	}
}

/* Remember the allocator modules t maps (s->allocs, each file once). */
static void remember_allocators(struct session *s, const struct lb_target *t)
{
	for (size_t i = 0; i < t->nmaps; i++) {
		const struct lb_mapping *m = &t->maps[i];
		if (m->offset || m->path[0] != '/' || !allocators_is_module(m->path))
			continue;
		bool known = false;
		for (size_t k = 0; k < s->allocs.nmaps && !known; k++)
			known = s->allocs.maps[k].inode == m->inode &&
				!strcmp(s->allocs.maps[k].path, m->path);
		struct lb_mapping *grown;
		if (known ||
		    !(grown = realloc(s->allocs.maps, (s->allocs.nmaps + 1) * sizeof(*grown))))
			continue;
		s->allocs.maps = grown;
		grown[s->allocs.nmaps] = *m;
		if ((grown[s->allocs.nmaps].path = strdup(m->path)))
			s->allocs.nmaps++;
	}
}

/* t's mappings followed by the allocators remembered. Paths are the
 * originals': free only maps. */
static int merge_maps(struct lb_target *out, const struct lb_target *t,
		      const struct lb_target *more)
{
	*out = *t;
	out->nmaps = t->nmaps + more->nmaps;
	out->maps = calloc(out->nmaps ? out->nmaps : 1, sizeof(*out->maps));
	if (!out->maps)
		return -1;
	memcpy(out->maps, t->maps, t->nmaps * sizeof(*t->maps));
	memcpy(out->maps + t->nmaps, more->maps, more->nmaps * sizeof(*more->maps));
	return 0;
}

/* ---- a process held while its image opens ---- */

/* Wait up to timeout_ms for a process held by the session to be stopped:
 * the command through waitpid (leakbpf is its parent), any other through
 * /proc. 0 once it is. */
static int wait_stopped(struct session *s, pid_t pid, int timeout_ms)
{
	if (s->launched && pid == s->launch.pid)
		return launch_wait_stopped(&s->launch, timeout_ms);
	return target_wait_stopped(pid, timeout_ms);
}

/* Wait until the new program of t has mapped a module whose name starts
 * with prefix (libpython): up to timeout_ms. A process `held` (the
 * command; a child held at its exec) is held when this returns: the BPF
 * programs of `im`, the image it left, stop it after each mapping of code
 * when their tracepoints are there; else leakbpf lets it run, looks every
 * millisecond (the loader maps every library before it runs any of their
 * code) and stops it once the module is there. A process not held (-p)
 * runs on meanwhile, and im's records are read. */
static void await_module(struct session *s, struct image *im, struct lb_target *t, bool held,
			 const char *prefix, int timeout_ms)
{
	uint64_t give_up = mono_ns() + (uint64_t)timeout_ms * 1000000;
	bool hold = held && im && im->events.mmap_exit;
	if (hold)
		image_hold_code(im, true);
	while (!target_reload_maps(t) && !target_find_module(t, prefix) && mono_ns() < give_up) {
		if (held) {
			kill(t->pid, SIGCONT);
			usleep(1000);
			if (hold && wait_stopped(s, t->pid, timeout_ms))
				break;
		} else if (im) {
			ring_buffer__poll(im->rb, 20);
		} else {
			break;
		}
	}
	if (hold)
		image_hold_code(im, false);
	else if (held && !kill(t->pid, SIGSTOP))
		wait_stopped(s, t->pid, timeout_ms);
}

/* A fork program's record (struct intake's fork callback): noted, traced
 * once the records are read. A held process is never left stopped. */
static void fork_seen(void *ctx, uint32_t pid, bool held)
{
	struct session *s = ctx;
	if (ARRAY_RESERVE(s->forks, s->capforks, s->nforks + 1)) {
		s->untraced++;
		if (held)
			held_guard_release(&s->guard, (pid_t)pid);
		return;
	}
	s->forks[s->nforks++] = (struct fork_note){(pid_t)pid, s->fork_parent, held};
}

/* Open the image of lt (taken) for tracee tr. Its allocators are those it
 * maps, and when it is held at exec before its loader ran, those of the
 * programs before. */
static int open_image(struct session *s, struct tracee *tr, struct lb_target *lt)
{
	char err[512];
	struct lb_target kept = {.pid = lt->pid, .start_time = lt->start_time};
	memcpy(kept.comm, lt->comm, sizeof(kept.comm));
	struct lb_target both;
	if (merge_maps(&both, lt, &s->allocs)) {
		target_close(lt);
		return fail("%s", "out of memory");
	}
	bool launched = tr->launched;
	struct image_plan plan = {
	    .o = s->o,
	    .target = lt,
	    .alloc_maps = &both,
	    .command_exe = launched && !tr->execs ? s->launch.exe : NULL,
	    .launched = launched,
	    .hold = launched,
	    .hold_child = tr->parent != 0,
	    .say = s->say && !tr->parent,
	    .cmdline = tr->execs || !launched ? NULL : s->cmdline,
	    .kernel = s->kernel,
	    .follow_forks = s->o->children,
	    .held_fd = s->guarded ? s->guard.map_fd : -1,
	    .extra = s->nprocs > 1 || tr->parent,
	    .tables = &s->tables,
	    .fork = fork_seen,
	    .fork_ctx = s,
	};
	struct image *im = image_open(&plan, err, sizeof(err));
	free(both.maps);
	if (!im) {
		say_attach_failed(&kept, err);
		return -1;
	}
	/* the image before, if any, is closed by the caller: once the new
	 * one is traced, so that a held command waits for no teardown */
	tr->img = im;
	if (tr == s->procs[0])
		s->img = im;
	/* raw, as every frame's text: the outputs escape it */
	snprintf(tr->root, sizeof(tr->root), "process %d (%s)", (int)tr->pid, im->target.comm);
	remember_allocators(s, &im->target);
	watch_image(s, im, true);
	im->builder.attach_ns = mono_ns();
	im->builder.rss_attach = im->builder.rss_prev = target_rss(im->target.pid);
	return 0;
}

/* A new entry of s->procs (not yet traced), or NULL: out of memory. */
static struct tracee *new_tracee(struct session *s, pid_t pid, pid_t parent)
{
	struct tracee *t = calloc(1, sizeof(*t));
	if (!t || ARRAY_RESERVE(s->procs, s->capprocs, s->nprocs + 1)) {
		free(t);
		return NULL;
	}
	t->pid = pid;
	t->parent = parent;
	t->pidfd = -1;
	t->exit_status = -1;
	t->serial = s->serial++;
	s->procs[s->nprocs++] = t;
	return t;
}

static void tracee_free(struct session *s, struct tracee *t)
{
	if (t->img) {
		watch_image(s, t->img, false);
		image_close(t->img);
	}
	if (t->pidfd >= 0) {
		watch_fd(s, t->pidfd, false);
		close(t->pidfd);
	}
	free(t);
}

/* Drop the last entry of s->procs (its attach failed). */
static void drop_last(struct session *s)
{
	tracee_free(s, s->procs[--s->nprocs]);
}

static struct tracee *find_tracee(const struct session *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i]->pid == pid && !s->procs[i]->exited)
			return s->procs[i];
	return NULL;
}

/* Room for one more process under --max-procs: an exited one goes (the
 * oldest, counted), or none is free. */
static bool make_room(struct session *s)
{
	size_t live = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		live += !s->procs[i]->exited;
	if (s->nprocs < s->o->max_procs)
		return true;
	if (live >= s->o->max_procs)
		return false;
	for (size_t i = 1; i < s->nprocs; i++)
		if (s->procs[i]->exited) {
			tracee_free(s, s->procs[i]);
			memmove(&s->procs[i], &s->procs[i + 1],
				(s->nprocs - i - 1) * sizeof(*s->procs));
			s->nprocs--;
			s->forgotten++;
			return true;
		}
	return false;
}

/* Trace process pid (running, or held at its fork or at its first exec:
 * continued once its probes are in place, or when it cannot be traced). */
static void add_process(struct session *s, pid_t pid, pid_t parent, bool held)
{
	if (find_tracee(s, pid)) {
		if (held)
			held_guard_release(&s->guard, pid);
		return;
	}
	char err[512];
	struct lb_target lt;
	struct tracee *t = make_room(s) ? new_tracee(s, pid, parent) : NULL;
	if (!t) {
		s->untraced++;
	} else if (target_open(pid, &lt, err, sizeof(err))) {
		drop_last(s); /* gone already: nothing to trace */
	} else {
		t->pidfd = target_pidfd(&lt);
		/* held at its exec (vfork), its loader has not run yet */
		if (held && !s->o->no_python && !target_find_module(&lt, "libpython") &&
		    needs_libpython(lt.exe_path))
			await_module(s, NULL, &lt, true, "libpython", 5000);
		if (open_image(s, t, &lt)) {
			drop_last(s);
			s->untraced++;
		} else {
			watch_fd(s, t->pidfd, true);
			live_clear(s);
			banner(s, t);
		}
	}
	if (held)
		held_guard_release(&s->guard, pid);
}

/* The processes forked meanwhile, then (--children at attach) the
 * children of every process traced, theirs in turn. */
static void add_forks(struct session *s)
{
	while (s->nforks) {
		struct fork_note f = s->forks[--s->nforks];
		add_process(s, f.pid, f.parent, f.held);
	}
}

static void add_children(struct session *s)
{
	pid_t kids[256];
	for (size_t i = 0; i < s->nprocs; i++) {
		pid_t parent = s->procs[i]->pid;
		size_t n = target_children(parent, kids, 256);
		if (n > 256) {
			s->untraced += n - 256;
			n = 256;
		}
		for (size_t k = 0; k < n; k++)
			if (kids[k] != getpid())
				add_process(s, kids[k], parent, false);
		add_forks(s);
	}
}

/* -c / --: start the command held at exec and open its first image. */
static int start_command(struct session *s)
{
	const struct options *o = s->o;
	char err[512];
	int e = launch_start(&s->launch, o->command_argv, &s->child, err, sizeof(err));
	struct tracee *t = new_tracee(s, s->launch.pid, 0);
	if (e || !t) {
		fail("%s", e ? err : "out of memory");
		if (e == -ENOENT)
			mark_exited(s, t ? t : &(struct tracee){0}, 127, true); /* "not found" */
		return -1;
	}
	t->pid = s->launch.pid;
	t->launched = true;
	s->launched = true;
	/* Before exec the child maps our own libc: the one the command will
	 * load (same mount namespace). Remember where it is. */
	struct lb_target pre;
	if (target_open(s->launch.pid, &pre, err, sizeof(err))) {
		fail("%s", err);
		return -1;
	}
	remember_allocators(s, &pre);
	target_close(&pre);
	launch_release(&s->launch);
	if (launch_wait_exec(&s->launch)) {
		mark_exited(s, t, shell_status(s->launch.status), true);
		return -1; /* the child said why */
	}
	/* A Python linked to libpython*.so: hold it once the loader mapped
	 * libpython, before any Python code runs, so that the interpreter is
	 * found and traced from the start. */
	if (!o->no_python && needs_libpython(s->launch.exe))
		launch_run_until_mapped(&s->launch, "libpython", 1000);
	struct lb_target lt;
	if (target_open(s->launch.pid, &lt, err, sizeof(err))) {
		fail("%s", err);
		return -1;
	}
	if (open_image(s, t, &lt))
		return -1;
	s->pidfd = target_pidfd(&t->img->target);
	watch_fd(s, s->pidfd, true);
	banner(s, t);
	/* library code ranges and symbols complete before main() */
	bool at_entry = !launch_run_to_entry(&s->launch);
	if (at_entry)
		image_refresh_modules(t->img);
	/* from here the command runs as without leakbpf */
	if (launch_detach(&s->launch, at_entry) && !s->launch.exited) {
		fail("%s", "cannot let the command run on its own (ptrace detach failed)");
		return -1;
	}
	s->started = true;
	return 0;
}

/* -a (growth mode): every process, none in particular. */
static int open_all(struct session *s)
{
	struct lb_target lt = {0};
	snprintf(lt.comm, sizeof(lt.comm), "every process");
	struct tracee *t = new_tracee(s, 0, 0);
	if (!t || open_image(s, t, &lt))
		return -1;
	banner(s, t);
	return 0;
}

/* -p: open the running processes. */
static int open_processes(struct session *s)
{
	char err[512];
	for (unsigned i = 0; i < s->o->npids; i++) {
		struct lb_target lt;
		if (target_open(s->o->pids[i], &lt, err, sizeof(err))) {
			fail("%s", err);
			return -1;
		}
		if (target_gone(&lt)) {
			fprintf(stderr, "leakbpf: process %d has exited (zombie)\n", lt.pid);
			target_close(&lt);
			return -1;
		}
		struct tracee *t = new_tracee(s, lt.pid, 0);
		if (!t) {
			target_close(&lt);
			return fail("%s", "out of memory");
		}
		t->pidfd = target_pidfd(&lt);
		if (open_image(s, t, &lt))
			return -1;
		watch_fd(s, t->pidfd, true);
		banner(s, t);
	}
	return 0;
}

/* ---- exec: the next image ---- */

static void *close_image(void *im)
{
	image_close(im);
	return NULL;
}

/* Close an image the target left, away from the loop: its teardown (probes
 * and links detached one grace period each) takes a few tenths of a
 * second, in which the new program starts and maps its libraries. */
static void retire_image(struct session *s, struct tracee *tr, struct image *old)
{
	/* its last records: processes it saw forked (held) before the new
	 * image's fork program was in place */
	s->fork_parent = tr->pid;
	ring_buffer__consume(old->rb);
	if (s->closing)
		pthread_join(s->closer, NULL);
	image_leave_tables(old); /* its programs are inert since the exec */
	s->closing = !pthread_create(&s->closer, NULL, close_image, old);
	if (!s->closing)
		image_close(old);
}

/* A process executed a new program: what was traced is gone with the old
 * image. Open one for the new program (tracing starts over) and say so.
 * The command is held meanwhile (leakbpf is its parent), and so is a child
 * traced through --children (the BPF programs put it in the session's map
 * of held processes, or could not: counted); a process under -p runs on.
 * Returns 0 to go on tracing, -1 when it is not traced any more (said). */
static int next_image(struct session *s, struct tracee *tr)
{
	const struct options *o = s->o;
	pid_t pid = tr->pid;
	char err[512], exe[PATH_MAX], shown[PATH_MAX];
	if (tr->launched && launch_wait_stopped(&s->launch, 2000)) {
		if (check_tracee(s, tr))
			return -1;
	}
	bool held = false;
	if (tr->parent) {
		held = held_guard_holds(&s->guard, pid);
		if (held)
			target_wait_stopped(pid, 2000);
		else
			s->exec_unheld++;
	}
	struct image *old = tr->img;
	struct lb_target t;
	if (target_open(pid, &t, err, sizeof(err))) {
		if (!check_tracee(s, tr)) {
			fail("%s", err);
			goto lost;
		}
		if (held) /* it exited: its report stays */
			held_guard_release(&s->guard, pid);
		return -1;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	live_clear(s);
	fprintf(stderr,
		"leakbpf: pid %d executed %s after %.1f s: tracing starts over for the new program "
		"(the old one's blocks went with it)\n",
		pid, escape_str(t.exe_path, NULL, shown, sizeof(shown)),
		(mono_ns() - s->start_ns) / 1e9);
	if (!o->no_python && needs_libpython(exe))
		await_module(s, old, &t, tr->launched || held, "libpython", 5000);
	remember_allocators(s, &old->target);
	watch_image(s, old, false);
	tr->execs++;
	/* the old image's probes are inert (image_gone) and may stay until
	 * the new ones are in place */
	if (open_image(s, tr, &t))
		goto lost;
	banner(s, tr);
	if (tr->launched)
		kill(pid, SIGCONT);
	else if (held)
		held_guard_release(&s->guard, pid);
	retire_image(s, tr, old);
	return 0;
lost:
	/* not traced any more: no image to serve (and never held) */
	watch_image(s, old, false);
	tr->img = NULL;
	if (tr == s->procs[0])
		s->img = NULL;
	image_close(old);
	if (tr->launched) {
		/* never let the command run untraced */
		kill(pid, SIGKILL);
		launch_poll_exit(&s->launch);
	} else if (held) {
		held_guard_release(&s->guard, pid);
	}
	return -1;
}

/* ---- the loop ---- */

static bool consume(struct session *s)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		struct tracee *t = s->procs[i];
		if (!t->img)
			continue;
		s->fork_parent = t->pid;
		int n = ring_buffer__consume(t->img->rb);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "leakbpf: reading events failed: %s\n", strerror(-n));
			return false;
		}
	}
	return true;
}

/* The target called _exit. A command is held there (it stops itself, see
 * bpf/leakbpf.bpf.c hold_exit), and so is a child traced through
 * --children (in the map of held processes): read what only its memory
 * tells, the Python frames of the records still pending and the modules
 * it mapped last, then let it exit. A process under -p is not held: its
 * records are read at once all the same. */
static void serve_exit(struct session *s, struct tracee *t)
{
	t->img->exiting_seen = t->img->intake.exiting;
	bool held = t->parent && held_guard_holds(&s->guard, t->pid);
	if (!held && (!t->launched || s->launch.exited))
		return;
	wait_stopped(s, t->pid, 1000);
	consume(s);
	image_refresh_modules(t->img);
	if (held)
		held_guard_release(&s->guard, t->pid);
	else
		kill(s->launch.pid, SIGCONT);
}

/* What each process's records told: a new program, its exit, new code.
 * false when tracing must stop (the one target could not be followed). */
static bool serve_processes(struct session *s)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		struct tracee *t = s->procs[i];
		if (!t->img)
			continue;
		if (!t->exited && image_execed(t->img)) {
			if (next_image(s, t) && !s->several)
				return false;
			continue;
		}
		if (t->img->intake.exiting != t->img->exiting_seen)
			serve_exit(s, t);
		/* new modules (a mapping of code, the loader's change): their
		 * symbols and unwind tables now, not at the next refresh */
		if (t->img->intake.code_maps != t->img->code_maps_seen ||
		    image_loader_changed(t->img))
			image_refresh_modules(t->img);
		image_trim(t->img);
		image_tick(t->img);
	}
	add_forks(s);
	return true;
}

static void refresh_all(struct session *s)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i]->img && !s->procs[i]->exited)
			image_refresh_modules(s->procs[i]->img);
}

static void run_loop(struct session *s)
{
	const struct options *o = s->o;
	uint64_t start = mono_ns(), next_report = start + (uint64_t)(o->interval_s * 1e9);
	uint64_t next_check = start, next_refresh = start;
	uint64_t end = o->duration_s > 0 ? start + (uint64_t)(o->duration_s * 1e9) : 0;
	long reports = 0;
	uint64_t live_ns = start, live_events = 0, next_live = start + 1000000000ULL;

	for (;;) {
		/* Records are submitted without wakeups (cheaper for the target),
		 * so the wait is mostly a sleep: the target's exec, its mapping
		 * of code, its exit and our signals wake it at once. */
		struct epoll_event evs[4];
		epoll_wait(s->epfd, evs, 4, POLL_MS);
		if (!consume(s) || got_signal(s))
			break;
		if (!serve_processes(s))
			return;
		uint64_t now = mono_ns();
		if (now >= next_check) {
			if (check_target(s))
				break;
			/* a pidfd or waitpid is cheap; /proc less so */
			next_check = now + (s->launched || s->several || s->procs[0]->pidfd >= 0
						? 0
						: 200000000ULL);
		}
		if (end && now >= end)
			break;
		if (now >= next_refresh) {
			refresh_all(s);
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
	consume(s);
	add_forks(s);
	live_clear(s);
}

/* A command still running when tracing ended (duration, COUNT, signal):
 * it belongs to this run, like under timeout(1): ask it to stop, and keep
 * watching so its last frees and its exit make the final report. */
static void stop_command(struct session *s)
{
	struct tracee *t = s->procs[0];
	pid_t pid = s->launch.pid;
	kill(pid, SIGTERM);
	kill(pid, SIGCONT); /* a held command takes SIGTERM once continued */
	uint64_t give_up = mono_ns() + 2000000000ULL;
	while (!s->launch.exited && mono_ns() < give_up) {
		struct epoll_event ev;
		epoll_wait(s->epfd, &ev, 1, 10);
		consume(s);
		if (t->img && t->img->intake.exiting != t->img->exiting_seen)
			serve_exit(s, t);
		launch_poll_exit(&s->launch);
	}
	if (!s->launch.exited) {
		kill(pid, SIGKILL);
		waitpid(pid, &s->launch.status, __WALL);
		s->launch.exited = true;
	}
	consume(s);
	add_forks(s);
	mark_exited(s, t, shell_status(s->launch.status), false);
}

static void session_close(struct session *s)
{
	if (s->closing)
		pthread_join(s->closer, NULL);
	/* processes noted but not traced must not stay held */
	add_forks(s);
	for (size_t i = 0; i < s->nprocs; i++)
		tracee_free(s, s->procs[i]);
	free(s->procs);
	free(s->forks);
	if (s->guarded)
		held_guard_stop(&s->guard);
	shared_tables_close(&s->tables); /* after every image */
	if (s->snap)
		snapshot_writer_free(s->snap);
	target_close(&s->allocs);
	if (s->launched) {
		if (!s->launch.exited) {
			/* never let the command run untraced after a failed attach */
			kill(s->launch.pid, SIGKILL);
			waitpid(s->launch.pid, NULL, __WALL);
		}
		launch_free(&s->launch);
	}
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->cmdline);
}

int trace_run(const struct options *o)
{
	struct session s = {.o = o, .sigfd = -1, .epfd = -1, .pidfd = -1};
	char err[512];
	int rc = 1;

	libbpf_set_print(o->verbose ? libbpf_verbose : libbpf_quiet);
	s.live = isatty(STDERR_FILENO);
	s.say = o->verbose || s.live;
	s.several = o->children || o->npids > 1;
	s.guard.map_fd = s.guard.pipe_w = s.guard.pid = -1;
	s.tables.rows_fd = -1;
	struct utsname u;
	if (!uname(&u))
		snprintf(s.kernel, sizeof(s.kernel), "%s %s", u.sysname, u.release);
	if (o->command_argv) {
		s.cmdline = o->command ? strdup(o->command) : words_join(o->command_argv);
		if (!s.cmdline)
			return fail("%s", "out of memory");
	}
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s.epfd < 0) {
		free(s.cmdline);
		return fail("epoll: %s", strerror(errno));
	}
	/* Each module of the target keeps its file open for symbolization. A
	 * command gets its own limit and signal mask back (launch.c). */
	s.child.envp = o->command_env;
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		s.child.nofile = rl;
		s.child.restore_nofile = true;
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigprocmask(SIG_SETMASK, NULL, &s.child.mask);
	s.child.restore_mask = true;
	if (setup_signals(&s)) {
		fail("cannot set up signal handling: %s", strerror(errno));
		goto out;
	}
	watch_fd(&s, s.sigfd, true);
	s.start_ns = mono_ns();
	/* before any process can be held at its fork */
	if (o->children) {
		if (held_guard_start(&s.guard, err, sizeof(err))) {
			fail("%s", err);
			goto out;
		}
		s.guarded = true;
	}
	/* one store of unwind tables for every process traced; -a walks every
	 * process with the frame pointers it has; LEAKBPF_NO_CFI=1 as well
	 * (to compare) */
	if (!o->all && !getenv("LEAKBPF_NO_CFI"))
		shared_tables_open(&s.tables, 0, o->verbose);
	if (o->all ? open_all(&s) : o->command_argv ? start_command(&s) : open_processes(&s)) {
		/* the command ran and ended, or never ran: its status */
		if (s.exited && s.exit_status > 0)
			rc = s.exit_status;
		goto out;
	}
	if (o->children)
		add_children(&s);
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
	run_loop(&s);
	if (!s.img && !s.several) {
		rc = s.launched ? EXIT_OWN_FAILURE : 1;
		goto out;
	}
	if (s.launched && !s.exited)
		stop_command(&s);
	bool ok = final_report(&s) == 0;
	if (!s.launched)
		rc = ok ? 0 : 1;
	else if (!ok)
		rc = EXIT_OWN_FAILURE;
	else
		rc = s.exited_itself && s.exit_status >= 0 ? s.exit_status : 0;
out:
	session_close(&s);
	return rc;
}
