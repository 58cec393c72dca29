// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The probes a session attached, detached together, and their record. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "attach/probe_set.h"
#include "attach/uprobe_multi.h"
#include "util/array.h"

static char *keep(struct probe_set *ps, const char *s)
{
	if (ARRAY_RESERVE(ps->strings, ps->capstrings, ps->nstrings + 1))
		return NULL;
	char *d = strdup(s ? s : "");
	if (d)
		ps->strings[ps->nstrings++] = d;
	return d;
}

void probe_set_note(struct probe_set *ps, const char *name, const char *module, const char *status)
{
	if (ARRAY_RESERVE(ps->probes, ps->capprobes, ps->nprobes + 1))
		return;
	struct rm_probe *p = &ps->probes[ps->nprobes++];
	p->name = keep(ps, name);
	p->module = keep(ps, module);
	p->status = keep(ps, status);
}

struct probe_pending {
	struct bpf_program *prog;
	const char *path;
	uint64_t off, cookie;
	pid_t pid;
	bool ret;
};

void probe_set_init(struct probe_set *ps, struct bpf_object *obj)
{
	memset(ps, 0, sizeof(*ps));
	/* LEAKBPF_NO_UPROBE_MULTI=1: one perf-event uprobe per probe, as on
	 * kernels before 6.6 (tests cover both paths on one kernel) */
	const char *no = getenv("LEAKBPF_NO_UPROBE_MULTI");
	ps->multi = !(no && *no && strcmp(no, "0")) && umulti_supported();
	struct bpf_program *p;
	if (ps->multi)
		bpf_object__for_each_program(p, obj)
		    /* uprobe programs only: not the tracepoints of process_events.c */
		    if (bpf_program__type(p) == BPF_PROG_TYPE_KPROBE)
			bpf_program__set_expected_attach_type(p, UMULTI_ATTACH_TYPE);
}

static int queue(struct probe_set *ps, const char *path, uint64_t file_off,
		 struct bpf_program *prog, bool retprobe, pid_t pid, uint64_t cookie)
{
	if (ARRAY_RESERVE(ps->pend, ps->cappend, ps->npend + 1))
		return -ENOMEM;
	const char *kept = keep(ps, path);
	if (!kept)
		return -ENOMEM;
	ps->pend[ps->npend++] = (struct probe_pending){prog, kept, file_off, cookie, pid, retprobe};
	ps->nattached++;
	return 0;
}

int probe_attach_offset(struct probe_set *ps, const char *path, uint64_t file_off,
			struct bpf_program *prog, bool retprobe, pid_t pid, uint64_t cookie)
{
	if (ps->multi)
		return queue(ps, path, file_off, prog, retprobe, pid, cookie);
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .bpf_cookie = cookie);
	struct bpf_link *l = bpf_program__attach_uprobe_opts(prog, pid, path, file_off, &opts);
	if (!l)
		return -errno ? -errno : -EINVAL;
	if (ARRAY_RESERVE(ps->links, ps->caplinks, ps->nlinks + 1)) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	ps->links[ps->nlinks++] = l;
	ps->nattached++;
	return 0;
}

/* Entry links first: a return probe then never fires for a call whose
 * entry went unseen (the return program counts such returns as lost). */
static int pending_cmp(const void *a, const void *b)
{
	const struct probe_pending *x = a, *y = b;
	if (x->ret != y->ret)
		return x->ret ? 1 : -1;
	if (x->prog != y->prog)
		return (uintptr_t)x->prog < (uintptr_t)y->prog ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int add_fd(struct probe_set *ps, int fd)
{
	if (ARRAY_RESERVE(ps->mfds, ps->capmfds, ps->nmfds + 1)) {
		close(fd);
		return -ENOMEM;
	}
	ps->mfds[ps->nmfds++] = fd;
	return 0;
}

/* One link for a run of queued probes; when the kernel refuses the run,
 * each probe alone, so one bad offset costs only itself. */
static size_t commit_run(struct probe_set *ps, const struct probe_pending *p, size_t n)
{
	uint64_t *offs = calloc(n, sizeof(*offs)), *cookies = calloc(n, sizeof(*cookies));
	size_t failed = 0;
	int fd = -ENOMEM;
	if (offs && cookies) {
		for (size_t i = 0; i < n; i++) {
			offs[i] = p[i].off;
			cookies[i] = p[i].cookie;
		}
		fd = umulti_attach(bpf_program__fd(p->prog), p->path, offs, cookies, n, p->ret,
				   p->pid);
	}
	if (fd >= 0 && add_fd(ps, fd)) {
		failed = n;
		if (!ps->commit_err[0])
			snprintf(ps->commit_err, sizeof(ps->commit_err), "out of memory");
	} else if (fd < 0) {
		for (size_t i = 0; i < n; i++) {
			int one = umulti_attach(bpf_program__fd(p[i].prog), p[i].path, &p[i].off,
						&p[i].cookie, 1, p[i].ret, p[i].pid);
			if (one < 0 || add_fd(ps, one)) {
				if (!ps->commit_err[0])
					snprintf(ps->commit_err, sizeof(ps->commit_err),
						 "%s at %s+0x%llx: %s",
						 bpf_program__name(p[i].prog), p[i].path,
						 (unsigned long long)p[i].off,
						 strerror(one < 0 ? -one : ENOMEM));
				failed++;
			}
		}
	}
	free(offs);
	free(cookies);
	return failed;
}

size_t probe_set_commit(struct probe_set *ps)
{
	if (!ps->multi || !ps->npend)
		return 0;
	qsort(ps->pend, ps->npend, sizeof(*ps->pend), pending_cmp);
	size_t failed = 0;
	for (size_t i = 0, j; i < ps->npend; i = j) {
		for (j = i + 1; j < ps->npend && !pending_cmp(&ps->pend[i], &ps->pend[j]); j++)
			;
		failed += commit_run(ps, ps->pend + i, j - i);
	}
	ps->nattached -= failed;
	ps->npend = 0;
	return failed;
}

const char *probe_set_site_owner(const struct probe_set *ps, const char *path, uint64_t file_off,
				 const struct bpf_program *prog)
{
	for (size_t i = 0; i < ps->nsites; i++) {
		const struct probe_site *s = &ps->sites[i];
		if (s->file_off == file_off && s->prog == prog && !strcmp(s->path, path))
			return s->func;
	}
	return NULL;
}

void probe_set_site_add(struct probe_set *ps, const char *path, uint64_t file_off,
			const struct bpf_program *prog, const char *func)
{
	if (ARRAY_RESERVE(ps->sites, ps->capsites, ps->nsites + 1))
		return;
	const char *p = keep(ps, path), *f = keep(ps, func);
	if (p && f)
		ps->sites[ps->nsites++] = (struct probe_site){p, file_off, prog, f};
}

struct detach_job {
	struct bpf_link **links;
	int *fds;
	size_t n;
};

static void *detach_some(void *arg)
{
	struct detach_job *j = arg;
	for (size_t i = 0; i < j->n; i++) {
		if (j->links)
			bpf_link__destroy(j->links[i]);
		else
			close(j->fds[i]);
	}
	return NULL;
}

/* Removing a probe (or a uprobe_multi link) waits for a grace period;
 * one after another that is seconds, so they are removed in parallel. */
static void detach_all(struct bpf_link **links, int *fds, size_t n)
{
	enum { MAX_THREADS = 32 };
	pthread_t th[MAX_THREADS];
	bool running[MAX_THREADS] = {false};
	struct detach_job jobs[MAX_THREADS];
	size_t nth = n < MAX_THREADS ? n : MAX_THREADS;
	for (size_t t = 0; t < nth; t++) {
		size_t lo = n * t / nth, hi = n * (t + 1) / nth;
		jobs[t] =
		    (struct detach_job){links ? links + lo : NULL, fds ? fds + lo : NULL, hi - lo};
		running[t] = pthread_create(&th[t], NULL, detach_some, &jobs[t]) == 0;
		if (!running[t])
			detach_some(&jobs[t]);
	}
	for (size_t t = 0; t < nth; t++)
		if (running[t])
			pthread_join(th[t], NULL);
}

void probe_set_detach(struct probe_set *ps)
{
	detach_all(ps->links, NULL, ps->nlinks);
	detach_all(NULL, ps->mfds, ps->nmfds);
	ps->nlinks = ps->nmfds = ps->npend = ps->nattached = 0;
}

void probe_set_reset(struct probe_set *ps)
{
	bool multi = ps->multi;
	probe_set_destroy(ps);
	ps->multi = multi;
}

void probe_set_destroy(struct probe_set *ps)
{
	probe_set_detach(ps);
	for (size_t i = 0; i < ps->nstrings; i++)
		free(ps->strings[i]);
	free(ps->links);
	free(ps->mfds);
	free(ps->pend);
	free(ps->sites);
	free(ps->probes);
	free(ps->strings);
	memset(ps, 0, sizeof(*ps));
}
