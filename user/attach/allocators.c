// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Finding the target's malloc implementations and probing them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "util/escape.h"
#include "attach/allocators.h"
#include "attach/function_probe.h"
#include "attach/skel.h"
#include "settings.h"
#include "target/elf_file.h"
#include "target/process.h"

/* Shared objects that carry a malloc of their own. */
static const char *const alloc_modules[] = {
    "libc.so", "libc-", "ld-musl-", "libc.musl", "libjemalloc", "libtcmalloc", "libmimalloc",
};

bool allocators_is_module(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t k = 0; k < sizeof(alloc_modules) / sizeof(alloc_modules[0]); k++)
		if (!strncmp(base, alloc_modules[k], strlen(alloc_modules[k])))
			return true;
	return false;
}

struct fn {
	const char *name;
	enum lb_kind kind;
	unsigned nargs; /* argument registers its entry program reads */
};

static const struct fn alloc_fns[] = {
    {"malloc", LB_K_MALLOC, 1},
    {"calloc", LB_K_CALLOC, 2},
    {"realloc", LB_K_REALLOC, 2},
    {"reallocarray", LB_K_REALLOCARRAY, 3},
    {"posix_memalign", LB_K_POSIX_MEMALIGN, 3},
    {"aligned_alloc", LB_K_MEMALIGN, 2},
    {"memalign", LB_K_MEMALIGN, 2},
    {"valloc", LB_K_MALLOC, 1},
    {"pvalloc", LB_K_MALLOC, 1},
    {"free", LB_K_FREE, 1},
    /* not an allocator: the process is about to exit (bpf/leakbpf.bpf.c) */
    {"_exit", LB_K_EXIT, 0},
};

static struct bpf_program *entry_prog(struct leakbpf_bpf *skel, enum lb_kind k)
{
	switch (k) {
	case LB_K_MALLOC:
		return skel->progs.lb_malloc;
	case LB_K_CALLOC:
		return skel->progs.lb_calloc;
	case LB_K_REALLOC:
		return skel->progs.lb_realloc;
	case LB_K_REALLOCARRAY:
		return skel->progs.lb_reallocarray;
	case LB_K_MEMALIGN:
		return skel->progs.lb_memalign;
	case LB_K_POSIX_MEMALIGN:
		return skel->progs.lb_posix_memalign;
	case LB_K_FREE:
		return skel->progs.lb_free;
	case LB_K_EXIT:
		return skel->progs.lb_libc_exit;
	default:
		return NULL;
	}
}

/* Probe every malloc-family function of one ELF. Returns how many attached. */
static int attach_module(const struct probe_module *m, struct leakbpf_bpf *skel,
			 struct probe_set *ps)
{
	int ok = 0;
	for (size_t i = 0; i < sizeof(alloc_fns) / sizeof(alloc_fns[0]); i++) {
		const struct fn *f = &alloc_fns[i];
		/* a program the object did not load (the growth mode's windows
		 * leave _exit's out) */
		if (!bpf_program__autoload(entry_prog(skel, f->kind)))
			continue;
		bool is_free = f->kind == LB_K_FREE;
		bool no_return = is_free || f->kind == LB_K_EXIT;
		struct probe_spec spec = {
		    .name = f->name,
		    .prog = entry_prog(skel, f->kind),
		    .ret_prog = no_return ? NULL : skel->progs.lb_ret,
		    .cookie = LB_COOKIE(LB_SRC_LIBC, f->kind),
		    .nargs = f->nargs,
		    .null_guard = is_free, /* free(NULL) does nothing */
		};
		int err = probe_function(ps, m, &spec);
		if (!err)
			ok++;
		else if (err == -ESRCH)
			return -ESRCH; /* the target is gone */
		else if (err != -ENOENT) {
			char label[PATH_MAX];
			fprintf(stderr, "leakbpf: warning: cannot probe %s in %s: %s\n", f->name,
				escape_str(m->label, NULL, label, sizeof(label)), strerror(-err));
		}
	}
	return ok;
}

static bool defines_malloc(struct elf_file *ef)
{
	uint64_t v;
	return elf_file_symbol(ef, "malloc", &v, NULL, NULL) == 0 &&
	       elf_file_symbol(ef, "free", &v, NULL, NULL) == 0;
}

int allocators_attach(const struct lb_target *t, const char *extra_exe, struct leakbpf_bpf *skel,
		      struct probe_set *ps, char *err, size_t errlen)
{
	char path[PATH_MAX], why[256];
	int modules = 0;
	unsigned long seen[16];
	size_t nseen = 0;

	for (size_t i = 0; i < t->nmaps; i++) {
		const struct lb_mapping *m = &t->maps[i];
		const char *base = strrchr(m->path, '/');
		if (!base || m->offset != 0)
			continue;
		bool wanted = allocators_is_module(m->path);
		bool is_exe = t->exe_path && !strcmp(m->path, t->exe_path);
		if (!wanted && !is_exe)
			continue;
		bool dup = false;
		for (size_t k = 0; k < nseen; k++)
			dup |= seen[k] == m->inode;
		if (dup || target_file_path(t, m, path, sizeof(path)))
			continue;
		struct elf_file *ef = elf_file_open(path, why, sizeof(why));
		if (!ef) {
			char shown[sizeof(why) * 4];
			/* the reason names the target's file */
			fprintf(stderr, "leakbpf: warning: %s\n",
				escape_str(why, NULL, shown, sizeof(shown)));
			continue;
		}
		if (wanted || defines_malloc(ef)) {
			if (nseen < 16)
				seen[nseen++] = m->inode;
			struct probe_module pm = {ef, path, m->path, t->pid};
			int n = attach_module(&pm, skel, ps);
			if (n == -ESRCH) {
				elf_file_close(ef);
				snprintf(err, errlen,
					 "process %d exited while leakbpf was attaching", t->pid);
				return -1;
			}
			if (n > 0)
				modules++;
		}
		elf_file_close(ef);
	}
	if (extra_exe) {
		struct elf_file *ef = elf_file_open(extra_exe, why, sizeof(why));
		struct probe_module pm = {ef, extra_exe, extra_exe, t->pid};
		if (ef && defines_malloc(ef) && attach_module(&pm, skel, ps) > 0)
			modules++;
		elf_file_close(ef);
	}
	if (!modules)
		snprintf(err, errlen,
			 "no allocator found in process %d: no libc/musl/jemalloc/tcmalloc mapping "
			 "and no malloc in the executable (stripped static binary?)",
			 t->pid);
	return modules;
}
