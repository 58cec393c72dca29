// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probing one function of a target's ELF file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "attach/function_probe.h"
#include "attach/placement.h"
#include "attach/probe_set.h"
#include "target/elf_file.h"

/* Bytes of a function's start read to place its probes: compilers put a
 * few short instructions before the first push, well within this. */
#define CODE_READ 64

int probe_function_at(struct probe_set *ps, const struct probe_module *m,
		      const struct probe_spec *s, uint64_t vaddr, uint64_t size)
{
	uint64_t off;
	char status[160];
	if (elf_file_code_offset(m->elf, vaddr, &off)) {
		probe_set_note(ps, s->name, m->label, "missing");
		return -ENOENT;
	}
	const char *alias = probe_set_site_owner(ps, m->path, off, s->prog);
	if (alias) {
		/* one probe per address, or each call would be seen twice */
		snprintf(status, sizeof(status), "ok (same address as %s)", alias);
		probe_set_note(ps, s->name, m->label, status);
		return 0;
	}
	uint8_t code[CODE_READ] = {0};
	size_t n = size && size < sizeof(code) ? size : sizeof(code);
	struct placement_need need = {s->nargs, s->ret_prog != NULL, s->null_guard};
	struct placement at = {0};
	/* unreadable: the first byte, as single-stepped */
	if (!elf_file_read(m->elf, vaddr, code, n))
		at = placement_choose(code, n, &need);
	int err =
	    probe_attach_offset(ps, m->path, off + at.entry, s->prog, false, m->pid, s->cookie);
	if (!err && s->ret_prog)
		err = probe_attach_offset(ps, m->path, off + at.ret, s->ret_prog, true, m->pid,
					  s->cookie);
	if (err) {
		snprintf(status, sizeof(status), "failed: %s", strerror(-err));
		probe_set_note(ps, s->name, m->label, status);
		return err;
	}
	probe_set_site_add(ps, m->path, off, s->prog, s->name);
	placement_describe(&at, status, sizeof(status));
	probe_set_note(ps, s->name, m->label, status);
	return 0;
}

int probe_function(struct probe_set *ps, const struct probe_module *m, const struct probe_spec *s)
{
	uint64_t vaddr, size;
	if (elf_file_symbol(m->elf, s->name, &vaddr, &size, NULL)) {
		probe_set_note(ps, s->name, m->label, "missing");
		return -ENOENT;
	}
	return probe_function_at(ps, m, s, vaddr, size);
}
