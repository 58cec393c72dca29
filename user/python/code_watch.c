// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The code object deallocator, found from PyCode_Type's tp_dealloc slot in
 * the interpreter's ELF file: in an executable the slot holds its address;
 * in a shared library (or PIE) the linker leaves the link-time address
 * there for the loader to relocate. It is confirmed by the `code_dealloc`
 * symbol, or else by the slot in the running target (not usable while
 * the loader is still mapping libpython: -c stops the interpreter then,
 * but pyenv-style builds keep their symbols). Every code object dies
 * through that slot (the type cannot be subclassed), so a probe on the
 * function's entry sees each one before its memory is freed, provided no
 * code calls the function or a copy of it directly: a compiler may turn
 * an indirect call into "if (slot == code_dealloc) <inlined body>" (PGO's
 * indirect call promotion). Such code names the function's address, so
 * the executable segments are searched for it first.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include "target/elf_file.h"
#include "python/bpf_cfg.h"
#include "leakbpf.skel.h"
#include "attach/probe_set.h"
#include "python/code_watch.h"
#include "python/detect.h"
#include "python/memory.h"

/* Whether the instruction ending with the 4 bytes at seg[i] (at vaddr
 * base + i) may name fn: call, jmp or jcc rel32 and lea with a rip-relative
 * target; mov or cmp with a 32-bit immediate (absolute, in executables).
 * Bytes are not decoded as instructions: a match is only possible. */
static bool names_at(const uint8_t *seg, size_t i, uint64_t base, uint64_t fn)
{
	int32_t v;
	memcpy(&v, seg + i, sizeof(v));
	uint8_t b1 = seg[i - 1], b2 = seg[i - 2];
	if (base + i + 4 + (int64_t)v == fn &&
	    (b1 == 0xe8 || b1 == 0xe9 || (b2 == 0x0f && (b1 & 0xf0) == 0x80) ||
	     (b2 == 0x8d && (b1 & 0xc7) == 0x05)))
		return true;
	return (uint64_t)(int64_t)v == fn &&
	       ((b1 & 0xf8) == 0xb8 || b1 == 0x3d || ((b2 == 0x81 || b2 == 0xc7) && b1 >= 0xc0));
}

/* Whether any instruction in the segment may name fn. */
static bool names(const uint8_t *seg, size_t len, uint64_t base, uint64_t fn)
{
	for (size_t i = 2; i + 4 <= len; i++)
		if (names_at(seg, i, base, fn))
			return true;
	return false;
}

/* Whether the executable segments of the ELF at path are free of direct
 * references to fn (false when they cannot be read). */
static bool only_indirect(const char *path, uint64_t fn)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t n = 0;
	bool ok = elf && !elf_getphdrnum(elf, &n);
	for (size_t i = 0; ok && i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph)) {
			ok = false;
			break;
		}
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		uint8_t *seg = malloc(ph.p_filesz ? ph.p_filesz : 1);
		ok = seg &&
		     pread(fd, seg, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz &&
		     !names(seg, ph.p_filesz, ph.p_vaddr, fn);
		free(seg);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

/* Virtual address of code_dealloc in the ELF, 0 when not found for sure. */
static uint64_t code_dealloc_vaddr(const struct py_build *b, pid_t pid)
{
	uint64_t type, fn = 0, sym, off, rt, live = 0;
	if (elf_file_symbol(b->elf, "PyCode_Type", &type, NULL, NULL) ||
	    elf_file_read(b->elf, type + LB_PY_TP_DEALLOC, &fn, sizeof(fn)) || !fn ||
	    elf_file_offset(b->elf, fn, &off))
		return 0;
	if (!elf_file_symbol(b->elf, "code_dealloc", &sym, NULL, NULL))
		return sym == fn ? fn : 0;
	/* No symbol to confirm it: the running target's slot must agree.
	 * Load bias: where _PyRuntime is against where the ELF puts it. */
	if (elf_file_symbol(b->elf, "_PyRuntime", &rt, NULL, NULL))
		return 0;
	uint64_t bias = b->runtime - rt;
	if (py_mem_read(pid, bias + type + LB_PY_TP_DEALLOC, &live, sizeof(live)) ||
	    live != bias + fn)
		return 0;
	return fn;
}

int py_codewatch_attach(const struct py_build *b, pid_t pid, struct leakbpf_bpf *skel,
			struct probe_set *ps)
{
	uint64_t fn = code_dealloc_vaddr(b, pid), off;
	if (!fn || elf_file_offset(b->elf, fn, &off) || !only_indirect(b->path, fn)) {
		probe_set_note(ps, "PyCode_Type.tp_dealloc", b->label, "missing");
		return -1;
	}
	uint8_t code[16] = {0};
	bool emulated = !elf_file_read(b->elf, fn, code, sizeof(code)) &&
			probe_insn_emulated(code, sizeof(code));
	int err =
	    probe_attach_offset(ps, b->path, off, skel->progs.lb_py_code_dealloc, false, pid, 0);
	if (err) {
		probe_set_note(ps, "PyCode_Type.tp_dealloc", b->label, "failed");
		return -1;
	}
	probe_set_note(ps, "PyCode_Type.tp_dealloc", b->label,
		       emulated ? "ok" : "ok (single-stepped)");
	skel->bss->lb_py_code_watch = 1;
	return 0;
}
