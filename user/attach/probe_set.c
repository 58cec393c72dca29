// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Attaching uprobes where they are cheap, and keeping a record of them. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "target/elf_file.h"
#include "attach/probe_set.h"
#include "attach/uprobe_multi.h"

bool probe_insn_emulated(const uint8_t *c, size_t len)
{
	if (len < 1)
		return false;
	/* push %reg, push %r8-15 */
	if (c[0] >= 0x50 && c[0] <= 0x57)
		return true;
	if (len >= 2 && c[0] == 0x41 && c[1] >= 0x50 && c[1] <= 0x57)
		return true;
	/* endbr64 */
	if (len >= 4 && c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		return true;
	/* nop, 66 nop, 0f 1f /0 multi-byte nops */
	if (c[0] == 0x90 || (len >= 2 && c[0] == 0x66 && c[1] == 0x90))
		return true;
	if (len >= 2 && c[0] == 0x0f && c[1] == 0x1f)
		return true;
	if (len >= 3 && c[0] == 0x66 && c[1] == 0x0f && c[2] == 0x1f)
		return true;
	/* call rel32, jmp rel32/rel8, jcc rel8/rel32 */
	if (c[0] == 0xe8 || c[0] == 0xe9 || c[0] == 0xeb || (c[0] >= 0x70 && c[0] <= 0x7f))
		return true;
	if (len >= 2 && c[0] == 0x0f && c[1] >= 0x80 && c[1] <= 0x8f)
		return true;
	return false;
}

unsigned probe_entry_skip(const uint8_t *c, size_t len, bool allow_null_guard_skip, bool *emulated)
{
	unsigned off = 0;
	/* "test %rdi,%rdi; je L" guards free-like functions against NULL:
	 * the instruction after it sees every non-NULL call, and the NULL
	 * path does nothing worth tracing. */
	if (allow_null_guard_skip && len >= 5 && c[0] == 0x48 && c[1] == 0x85 && c[2] == 0xff) {
		unsigned j = 0;
		if (c[3] == 0x74)
			j = 5;
		else if (len >= 9 && c[3] == 0x0f && c[4] == 0x84)
			j = 9;
		if (j && probe_insn_emulated(c + j, len - j))
			off = j;
	}
	*emulated = probe_insn_emulated(c + off, len - off);
	return off;
}

static char *keep(struct probe_set *ps, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		return NULL;
	char **n = realloc(ps->strings, (ps->nstrings + 1) * sizeof(*n));
	if (!n) {
		free(d);
		return NULL;
	}
	ps->strings = n;
	ps->strings[ps->nstrings++] = d;
	return d;
}

void probe_set_note(struct probe_set *ps, const char *name, const char *module, const char *status)
{
	if (ps->nprobes == ps->capprobes) {
		size_t cap = ps->capprobes ? ps->capprobes * 2 : 16;
		struct rm_probe *n = realloc(ps->probes, cap * sizeof(*n));
		if (!n)
			return;
		ps->probes = n;
		ps->capprobes = cap;
	}
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
		    bpf_program__set_expected_attach_type(p, UMULTI_ATTACH_TYPE);
}

static int queue(struct probe_set *ps, const char *path, uint64_t file_off,
		 struct bpf_program *prog, bool retprobe, pid_t pid, uint64_t cookie)
{
	if (ps->npend == ps->cappend) {
		size_t cap = ps->cappend ? ps->cappend * 2 : 32;
		struct probe_pending *n = realloc(ps->pend, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ps->pend = n;
		ps->cappend = cap;
	}
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
	if (ps->nlinks == ps->caplinks) {
		size_t cap = ps->caplinks ? ps->caplinks * 2 : 32;
		struct bpf_link **n = realloc(ps->links, cap * sizeof(*n));
		if (!n) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		ps->links = n;
		ps->caplinks = cap;
	}
	ps->links[ps->nlinks++] = l;
	ps->nattached++;
	return 0;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct probe_pending *x = a, *y = b;
	if (x->prog != y->prog)
		return (uintptr_t)x->prog < (uintptr_t)y->prog ? -1 : 1;
	if (x->ret != y->ret)
		return x->ret ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int add_fd(struct probe_set *ps, int fd)
{
	if (ps->nmfds == ps->capmfds) {
		size_t cap = ps->capmfds ? ps->capmfds * 2 : 16;
		int *n = realloc(ps->mfds, cap * sizeof(*n));
		if (!n) {
			close(fd);
			return -ENOMEM;
		}
		ps->mfds = n;
		ps->capmfds = cap;
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

/* Name of the function already probed at path+off (an alias such as
 * memalign/aligned_alloc), or NULL. */
static const char *site_taken(const struct probe_set *ps, const char *path, uint64_t off)
{
	for (size_t i = 0; i < ps->nsites; i++)
		if (ps->sites[i].file_off == off && !strcmp(ps->sites[i].path, path))
			return ps->sites[i].func;
	return NULL;
}

static void site_add(struct probe_set *ps, const char *path, uint64_t off, const char *func)
{
	if (ps->nsites == ps->capsites) {
		size_t cap = ps->capsites ? ps->capsites * 2 : 16;
		struct probe_site *n = realloc(ps->sites, cap * sizeof(*n));
		if (!n)
			return;
		ps->sites = n;
		ps->capsites = cap;
	}
	ps->sites[ps->nsites++] = (struct probe_site){keep(ps, path), off, keep(ps, func)};
}

int probe_function(struct probe_set *ps, struct elf_file *ef, const char *path,
		   const char *module_label, const char *func, struct bpf_program *prog,
		   struct bpf_program *ret_prog, pid_t pid, uint64_t cookie, bool null_guard_skip)
{
	uint64_t vaddr, size, off;
	char status[160];
	if (elf_file_symbol(ef, func, &vaddr, &size, &off)) {
		probe_set_note(ps, func, module_label, "missing");
		return -ENOENT;
	}
	const char *alias = site_taken(ps, path, off);
	if (alias) {
		/* one probe per address, or each call would be seen twice */
		snprintf(status, sizeof(status), "ok (same address as %s)", alias);
		probe_set_note(ps, func, module_label, status);
		return 0;
	}
	uint8_t code[16] = {0};
	bool emulated = false;
	unsigned skip = 0;
	if (!elf_file_read(ef, vaddr, code, sizeof(code)))
		skip =
		    probe_entry_skip(code, sizeof(code), null_guard_skip && !ret_prog, &emulated);
	int err = probe_attach_offset(ps, path, off + skip, prog, false, pid, cookie);
	if (!err && ret_prog)
		err = probe_attach_offset(ps, path, off, ret_prog, true, pid, cookie);
	if (err) {
		snprintf(status, sizeof(status), "failed: %s", strerror(-err));
		probe_set_note(ps, func, module_label, status);
		return err;
	}
	site_add(ps, path, off, func);
	if (skip)
		snprintf(status, sizeof(status), "ok (at +%u, past the NULL check)", skip);
	else
		snprintf(status, sizeof(status), "ok%s", emulated ? "" : " (single-stepped)");
	probe_set_note(ps, func, module_label, status);
	return 0;
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

void probe_set_destroy(struct probe_set *ps)
{
	detach_all(ps->links, NULL, ps->nlinks);
	detach_all(NULL, ps->mfds, ps->nmfds);
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
