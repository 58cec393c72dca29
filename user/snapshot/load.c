// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loading a leakbpf/v1 JSON document (a snapshot, or --json output, gzipped
 * or not) back into a report. Unknown keys are skipped so newer writers of
 * the same schema stay readable; strings are interned, since frames repeat
 * the same function and file names many times. The file may come from
 * anywhere: every size and count is bounded (SNAPSHOT_MAX_*), and only
 * regular files (or standard input) are read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "snapshot/snapshot.h"
#include "util/array.h"
#include "util/json.h"
#include "util/intern.h"

/* The report and everything it points to. */
struct loaded {
	struct rm_report r; /* first: snapshot_report_free() casts back */
	struct interner *strings;
	struct rm_probe *probes;
	size_t probes_cap;
	struct rm_stack *stacks;
	size_t stacks_cap;
	struct rm_process *processes; /* growth -a */
	size_t processes_cap;
	size_t all_frames; /* frames of every stack read so far */
	bool schema_ok;
};

static const char *keep(struct loaded *l, struct jr *jr, const char *s)
{
	size_t len;
	long i;

	if (!s)
		return NULL;
	len = strlen(s);
	if (len > SNAPSHOT_MAX_STRING) {
		jr_fail(jr, "a string of %zu bytes: more than the %u leakbpf reads", len,
			SNAPSHOT_MAX_STRING);
		return NULL;
	}
	i = interner_add(l->strings, s, len, NULL);
	if (i < 0) {
		jr_fail(jr, "out of memory");
		return NULL;
	}
	return interner_key(l->strings, i, NULL);
}

/* Room for one more than the n elements of *items (capacity *cap), at most
 * max of them: false after failing jr with why. */
static bool room(struct jr *jr, void **items, size_t *cap, size_t n, size_t size, size_t max,
		 const char *what)
{
	if (n >= max) {
		jr_fail(jr, "more than %zu %s: more than leakbpf reads", max, what);
		return false;
	}
	if (array_reserve(items, cap, n + 1, size)) {
		jr_fail(jr, "out of memory");
		return false;
	}
	return true;
}

#define ROOM(jr, items, cap, n, max, what)                                                         \
	room(jr, (void **)&(items), &(cap), n, sizeof(*(items)), max, what)

static void read_counts(struct jr *jr, struct rm_counts *c)
{
	const char *k;

	if (!jr_object(jr))
		return;
	while ((k = jr_key(jr))) {
		if (!strcmp(k, "allocs"))
			c->allocs = jr_uint(jr);
		else if (!strcmp(k, "frees"))
			c->frees = jr_uint(jr);
		else if (!strcmp(k, "frees_unknown"))
			c->frees_unknown = jr_uint(jr);
		else if (!strcmp(k, "nested_ignored"))
			c->nested_ignored = jr_uint(jr);
		else if (!strcmp(k, "filtered"))
			c->filtered = jr_uint(jr);
		else
			jr_skip(jr);
	}
}

static void read_drops(struct jr *jr, struct rm_drops *d)
{
	const char *k;

	if (!jr_object(jr))
		return;
	while ((k = jr_key(jr))) {
		size_t i = 0;

		while (i < rm_drop_count && strcmp(k, rm_drop_list[i].key))
			i++;
		if (i < rm_drop_count)
			*rm_drop_field(d, i) = jr_uint(jr);
		else
			jr_skip(jr);
	}
}

static void read_growth(struct jr *jr, struct rm_growth *g)
{
	const char *k;

	if (!jr_object(jr))
		return;
	while ((k = jr_key(jr))) {
#define FIELD(f)                                                                                   \
	if (!strcmp(k, #f)) {                                                                      \
		g->f = jr_uint(jr);                                                                \
		continue;                                                                          \
	}
		FIELD(write_faults);
		FIELD(pages_resident);
		FIELD(pages_known);
		FIELD(pages_released);
		FIELD(pages_moved);
		FIELD(pages_gone);
		FIELD(file_faults);
		FIELD(huge_pages);
		FIELD(thread_stack_bytes);
		FIELD(anon_rss);
		FIELD(anon_rss_at_attach);
		FIELD(windows);
		FIELD(survivors);
		FIELD(pages_sampled);
#undef FIELD
		if (!strcmp(k, "window_s")) {
			g->window_s = jr_double(jr);
			continue;
		}
		if (!strcmp(k, "window_every_s")) {
			g->window_every_s = jr_double(jr);
			continue;
		}
		jr_skip(jr);
	}
}

static void read_probes(struct jr *jr, struct loaded *l)
{
	const char *k;

	if (!jr_array(jr))
		return;
	while (jr_next(jr)) {
		if (!ROOM(jr, l->probes, l->probes_cap, l->r.nprobes, SNAPSHOT_MAX_PROBES,
			  "probes"))
			break;
		struct rm_probe *p = &l->probes[l->r.nprobes++];
		if (!jr_object(jr))
			return;
		while ((k = jr_key(jr))) {
			if (!strcmp(k, "name"))
				p->name = keep(l, jr, jr_string(jr));
			else if (!strcmp(k, "module"))
				p->module = keep(l, jr, jr_string(jr));
			else if (!strcmp(k, "status"))
				p->status = keep(l, jr, jr_string(jr));
			else
				jr_skip(jr);
		}
	}
	l->r.probes = l->probes;
}

static void read_processes(struct jr *jr, struct loaded *l)
{
	const char *k;

	if (!jr_array(jr))
		return;
	while (jr_next(jr)) {
		if (!ROOM(jr, l->processes, l->processes_cap, l->r.nprocesses, SNAPSHOT_MAX_PROBES,
			  "processes"))
			break;
		struct rm_process *p = &l->processes[l->r.nprocesses++];
		if (!jr_object(jr))
			return;
		while ((k = jr_key(jr))) {
			if (!strcmp(k, "pid"))
				p->pid = (int)jr_int(jr);
			else if (!strcmp(k, "comm"))
				p->comm = keep(l, jr, jr_string(jr));
			else if (!strcmp(k, "python"))
				p->python = keep(l, jr, jr_string(jr));
			else if (!strcmp(k, "outstanding_bytes"))
				p->out_bytes = jr_uint(jr);
			else if (!strcmp(k, "outstanding_count"))
				p->out_count = jr_uint(jr);
			else if (!strcmp(k, "recent_bytes"))
				p->recent_bytes = jr_uint(jr);
			else if (!strcmp(k, "anon_rss"))
				p->anon_rss = jr_uint(jr);
			else if (!strcmp(k, "anon_rss_at_attach"))
				p->anon_rss_at_attach = jr_uint(jr);
			else if (!strcmp(k, "rss_bytes"))
				p->rss_bytes = jr_uint(jr);
			else if (!strcmp(k, "drops_lost"))
				p->drops_lost = jr_uint(jr);
			else if (!strcmp(k, "parent"))
				p->parent = (int)jr_int(jr);
			else if (!strcmp(k, "exited"))
				p->exited = jr_bool(jr);
			else
				jr_skip(jr);
		}
	}
	l->r.processes = l->processes;
}

static void read_memory(struct jr *jr, struct rm_report *r, bool rss)
{
	const char *k;

	if (!jr_object(jr))
		return;
	while ((k = jr_key(jr))) {
		if (rss && !strcmp(k, "bytes"))
			r->rss_bytes = jr_uint(jr);
		else if (rss && !strcmp(k, "growth_bytes"))
			r->rss_growth_bytes = jr_int(jr);
		else if (rss && !strcmp(k, "at_attach"))
			r->rss_at_attach = jr_uint(jr);
		else if (!rss && !strcmp(k, "outstanding_bytes"))
			r->out_bytes = jr_uint(jr);
		else if (!rss && !strcmp(k, "outstanding_count"))
			r->out_count = jr_uint(jr);
		else if (!rss && !strcmp(k, "growth_bytes"))
			r->growth_bytes = jr_int(jr);
		else
			jr_skip(jr);
	}
}

static void read_frame(struct jr *jr, struct loaded *l, struct rm_frame *f)
{
	const char *k, *kind;

	memset(f, 0, sizeof(*f));
	if (!jr_object(jr))
		return;
	while ((k = jr_key(jr))) {
		if (!strcmp(k, "function")) {
			f->function = keep(l, jr, jr_string(jr));
		} else if (!strcmp(k, "file")) {
			f->file = keep(l, jr, jr_string(jr));
		} else if (!strcmp(k, "line")) {
			f->line = (int)jr_int(jr);
		} else if (!strcmp(k, "module")) {
			f->module = keep(l, jr, jr_string(jr));
		} else if (!strcmp(k, "offset")) {
			f->offset = jr_uint(jr);
		} else if (!strcmp(k, "inlined")) {
			f->inlined = jr_bool(jr);
		} else if (!strcmp(k, "kind")) {
			kind = jr_string(jr);
			f->kind =
			    kind && !strcmp(kind, "python") ? RM_FRAME_PYTHON : RM_FRAME_NATIVE;
		} else {
			jr_skip(jr); /* "text" is derived from the rest */
		}
	}
}

static void read_frames(struct jr *jr, struct loaded *l, struct rm_stack *s)
{
	struct rm_frame *frames = NULL;
	size_t cap = 0;

	if (!jr_array(jr))
		return;
	while (jr_next(jr)) {
		if (!ROOM(jr, frames, cap, s->nframes, SNAPSHOT_MAX_FRAMES, "frames in a stack"))
			break;
		if (l->all_frames >= SNAPSHOT_MAX_ALL_FRAMES) {
			jr_fail(jr, "more than %u frames in all: more than leakbpf reads",
				SNAPSHOT_MAX_ALL_FRAMES);
			break;
		}
		l->all_frames++;
		read_frame(jr, l, &frames[s->nframes++]);
	}
	s->frames = frames;
}

static uint32_t read_flags(struct jr *jr)
{
	uint32_t flags = 0;
	const char *f;

	if (!jr_array(jr))
		return 0;
	while (jr_next(jr)) {
		f = jr_string(jr);
		if (!f)
			continue;
		if (!strcmp(f, "native_truncated"))
			flags |= RM_STACK_NATIVE_TRUNC;
		else if (!strcmp(f, "python_truncated"))
			flags |= RM_STACK_PY_TRUNC;
		else if (!strcmp(f, "python_missing"))
			flags |= RM_STACK_PY_MISSING;
		else if (!strcmp(f, "other_stacks"))
			flags |= RM_STACK_OTHERS;
		else if (!strcmp(f, "thread_stack"))
			flags |= RM_STACK_THREAD;
		else if (!strcmp(f, "sampled"))
			flags |= RM_STACK_SAMPLED;
	}
	return flags;
}

static void read_stack(struct jr *jr, struct loaded *l, struct rm_stack *s)
{
	const char *k;

	if (!jr_object(jr))
		return;
	while ((k = jr_key(jr))) {
		if (!strcmp(k, "id"))
			s->id = (uint32_t)jr_uint(jr);
		else if (!strcmp(k, "outstanding_bytes"))
			s->out_bytes = jr_uint(jr);
		else if (!strcmp(k, "outstanding_count"))
			s->out_count = jr_uint(jr);
		else if (!strcmp(k, "allocated_bytes"))
			s->alloc_bytes = jr_uint(jr);
		else if (!strcmp(k, "allocated_count"))
			s->alloc_count = jr_uint(jr);
		else if (!strcmp(k, "growth_bytes"))
			s->growth_bytes = jr_int(jr);
		else if (!strcmp(k, "growth_count"))
			s->growth_count = jr_int(jr);
		else if (!strcmp(k, "first_seen_s"))
			s->first_seen_s = jr_double(jr);
		else if (!strcmp(k, "last_seen_s"))
			s->last_seen_s = jr_double(jr);
		else if (!strcmp(k, "flags"))
			s->flags = read_flags(jr);
		else if (!strcmp(k, "frames") && !s->frames)
			read_frames(jr, l, s);
		else
			jr_skip(jr);
	}
}

static void read_stacks(struct jr *jr, struct loaded *l)
{
	if (!jr_array(jr))
		return;
	while (jr_next(jr)) {
		if (!ROOM(jr, l->stacks, l->stacks_cap, l->r.nstacks, SNAPSHOT_MAX_STACKS,
			  "stacks"))
			break;
		read_stack(jr, l, &l->stacks[l->r.nstacks++]);
	}
	l->r.stacks = l->stacks;
}

/* Top-level keys that are plain values; false when k is not one. */
static bool read_meta(struct jr *jr, struct loaded *l, const char *k)
{
	struct rm_report *r = &l->r;

	if (!strcmp(k, "schema")) {
		const char *s = jr_string(jr);

		l->schema_ok = s && !strcmp(s, "leakbpf/v1");
		if (!l->schema_ok && !jr_failed(jr))
			jr_fail(jr, "schema is %s, not leakbpf/v1", s ? s : "null");
	} else if (!strcmp(k, "mode")) {
		const char *m = jr_string(jr);
		r->mode = m && !strcmp(m, "growth") ? RM_MODE_GROWTH : RM_MODE_EXACT;
	} else if (!strcmp(k, "leakbpf_version")) {
		r->leakbpf_version = keep(l, jr, jr_string(jr));
	} else if (!strcmp(k, "pid")) {
		r->pid = (int)jr_int(jr);
	} else if (!strcmp(k, "comm")) {
		r->comm = keep(l, jr, jr_string(jr));
	} else if (!strcmp(k, "cmdline")) {
		r->cmdline = keep(l, jr, jr_string(jr));
	} else if (!strcmp(k, "kernel")) {
		r->kernel = keep(l, jr, jr_string(jr));
	} else if (!strcmp(k, "python")) {
		r->python = keep(l, jr, jr_string(jr));
	} else if (!strcmp(k, "allocator_note")) {
		r->allocator_note = keep(l, jr, jr_string(jr));
	} else if (!strcmp(k, "time")) {
		r->unix_time = jr_double(jr);
	} else if (!strcmp(k, "elapsed_s")) {
		r->elapsed_s = jr_double(jr);
	} else if (!strcmp(k, "interval_s")) {
		r->interval_s = jr_double(jr);
	} else if (!strcmp(k, "min_age_s")) {
		r->min_age_s = jr_double(jr);
	} else if (!strcmp(k, "final")) {
		r->final = jr_bool(jr);
	} else if (!strcmp(k, "target_exited")) {
		r->target_exited = jr_bool(jr);
	} else if (!strcmp(k, "exit_status")) {
		r->exit_status = jr_null(jr) ? -1 : (int)jr_int(jr);
	} else if (!strcmp(k, "execs")) {
		r->execs = (unsigned)jr_uint(jr);
	} else if (!strcmp(k, "other_stacks")) {
		r->other_stacks = jr_uint(jr);
	} else {
		return false;
	}
	return true;
}

static void read_report(struct jr *jr, struct loaded *l)
{
	const char *k;

	if (!jr_object(jr))
		return;
	while ((k = jr_key(jr))) {
		if (read_meta(jr, l, k))
			continue;
		if (!strcmp(k, "counts"))
			read_counts(jr, &l->r.counts);
		else if (!strcmp(k, "drops"))
			read_drops(jr, &l->r.drops);
		else if (!strcmp(k, "growth"))
			read_growth(jr, &l->r.growth);
		else if (!strcmp(k, "probes") && !l->probes)
			read_probes(jr, l);
		else if (!strcmp(k, "rss"))
			read_memory(jr, &l->r, true);
		else if (!strcmp(k, "totals"))
			read_memory(jr, &l->r, false);
		else if (!strcmp(k, "stacks") && !l->stacks)
			read_stacks(jr, l);
		else if (!strcmp(k, "processes") && !l->processes)
			read_processes(jr, l);
		else
			jr_skip(jr);
	}
	jr_end(jr);
	if (!jr_failed(jr) && !l->schema_ok)
		jr_fail(jr, "no \"schema\": not a leakbpf JSON file");
}

/* The input as a descriptor: a regular file, or standard input for "-".
 * Anything else (/dev/zero, a FIFO nobody writes) could be read forever. */
static int open_input(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (!strcmp(path, "-"))
		return dup(STDIN_FILENO);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > SNAPSHOT_MAX_INPUT) {
		snprintf(err, errlen, "%s: %.0f MiB, more than the %u MiB leakbpf reads", path,
			 st.st_size / 1048576.0, SNAPSHOT_MAX_INPUT >> 20);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* The whole file, decompressed when gzipped (zlib reads plain files too),
 * at most SNAPSHOT_MAX_INPUT bytes read and SNAPSHOT_MAX_TEXT bytes of
 * text: a gzip bomb stops there. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open_input(path, err, errlen);
	gzFile gz;
	char *buf = NULL;
	size_t cap = 0;
	int n;

	*len = 0;
	if (fd < 0)
		return NULL;
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	for (;;) {
		if (cap - *len < 65536) {
			size_t want = cap ? cap * 2 : 1 << 20;

			/* one byte over the limit tells a long text from one at it */
			if (want > (size_t)SNAPSHOT_MAX_TEXT + 65536)
				want = (size_t)SNAPSHOT_MAX_TEXT + 65536;
			char *b = want > cap ? realloc(buf, want) : NULL;

			if (!b) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = b;
			cap = want;
		}
		n = gzread(gz, buf + *len, (unsigned)(cap - *len));
		if (n < 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);

			snprintf(err, errlen, "%s: %s", path,
				 zerr == Z_ERRNO ? strerror(errno) : msg);
			goto fail;
		}
		if (n == 0)
			break;
		*len += n;
		if (*len > SNAPSHOT_MAX_TEXT) {
			snprintf(err, errlen,
				 "%s: more than %u MiB of JSON: more than leakbpf reads", path,
				 SNAPSHOT_MAX_TEXT >> 20);
			goto fail;
		}
		/* empty gzip members make no text: bound what is read too */
		if (gzoffset(gz) > (z_off_t)SNAPSHOT_MAX_INPUT) {
			snprintf(err, errlen, "%s: more than %u MiB read: more than leakbpf reads",
				 path, SNAPSHOT_MAX_INPUT >> 20);
			goto fail;
		}
	}
	gzclose(gz);
	return buf;
fail:
	gzclose(gz);
	free(buf);
	return NULL;
}

struct rm_report *snapshot_load(const char *path, char *err, size_t errlen)
{
	struct loaded *l;
	struct jr jr;
	size_t len;
	char *buf = read_all(path, &len, err, errlen);

	if (!buf)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->strings = interner_new())) {
		free(l);
		free(buf);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	l->r.exit_status = -1;
	jr_init(&jr, buf, len);
	read_report(&jr, l);
	free(buf);
	if (jr_failed(&jr)) {
		snprintf(err, errlen, "%s: %s", path, jr.err);
		jr_fini(&jr);
		snapshot_report_free(&l->r);
		return NULL;
	}
	jr_fini(&jr);
	return &l->r;
}

void snapshot_report_free(struct rm_report *r)
{
	struct loaded *l = (struct loaded *)r;

	if (!r)
		return;
	for (size_t i = 0; i < l->r.nstacks; i++)
		free((void *)l->stacks[i].frames);
	free(l->stacks);
	free(l->probes);
	free(l->processes);
	interner_free(l->strings);
	free(l);
}
