/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probing one function of a target's ELF file: at the site placement.c
 * chooses, with an entry program and maybe a return program, recorded in
 * the probe set with how it went. */
#ifndef ATTACH_FUNCTION_PROBE_H
#define ATTACH_FUNCTION_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct elf_file;
struct probe_set;

/* One ELF file of the target whose functions get probes. */
struct probe_module {
	struct elf_file *elf; /* opened at path */
	const char *path;     /* tracer-side path that resolves to the target's file */
	const char *label;    /* the file's path as the target sees it, for reports */
	pid_t pid;	      /* the process the probes fire for */
};

/* One function to probe, and what runs there. */
struct probe_spec {
	const char *name;	      /* the symbol; for probe_function_at, a label */
	struct bpf_program *prog;     /* at entry */
	struct bpf_program *ret_prog; /* at return, or NULL */
	uint64_t cookie;	      /* the BPF attach cookie of both */
	unsigned nargs;		      /* argument registers prog reads */
	bool null_guard;	      /* a NULL first argument is a no-op (free) */
};

/* Probe the function s->name of m (.symtab, else .dynsym). One probe per
 * address and program: an alias of a function already probed is only
 * recorded. Returns 0 when attached (or queued: probe_set_commit), -ENOENT
 * when the symbol is missing, -errno else; the outcome is recorded. */
int probe_function(struct probe_set *ps, const struct probe_module *m, const struct probe_spec *s);

/* The same for the function at vaddr of m (size 0 when unknown), found
 * some other way (a type slot): -ENOENT when vaddr is not code. */
int probe_function_at(struct probe_set *ps, const struct probe_module *m,
		      const struct probe_spec *s, uint64_t vaddr, uint64_t size);

#endif
