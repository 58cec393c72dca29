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
#include "attach/function_probe.h"
#include "attach/probe_set.h"
#include "attach/x86.h"
#include "attach/skel.h"
#include "settings.h"
#include "python/code_watch.h"
#include "python/detect.h"
#include "python/memory.h"
#include "target/elf_file.h"

/* Whether an instruction ending at seg[end] (at vaddr base + end) may
 * name fn: a call, jmp or jcc to it, a rip-relative operand at it (lea), or
 * a 32-bit immediate or absolute address equal to it (in executables).
 * Code is not decoded from a known instruction boundary here, so every
 * start up to 15 bytes back is tried: a match is only possible. */
static bool names_before(const uint8_t *seg, size_t end, uint64_t base, uint64_t fn)
{
	for (size_t back = 5; back <= 15 && back <= end; back++) {
		struct x86_insn in;
		size_t at = end - back;
		if (x86_decode(seg + at, back, &in) != back)
			continue;
		uint64_t next = base + end;
		bool rel = in.cls == X86_JMP_REL || in.cls == X86_CALL_REL || in.cls == X86_JCC;
		if ((rel && in.imm_len == 4 && next + (uint64_t)in.imm == fn) ||
		    (in.rip_relative && next + (uint64_t)(int64_t)in.disp == fn) ||
		    (in.imm_len == 4 && ((uint64_t)in.imm == fn || (uint32_t)in.imm == fn)) ||
		    (in.disp_len == 4 && !in.rip_relative && (uint64_t)(int64_t)in.disp == fn))
			return true;
	}
	return false;
}

/* Whether any instruction in the segment may name fn: where the four bytes
 * at i hold fn, as a displacement from the end of the instruction or as an
 * absolute value, the instruction they end is decoded. */
static bool names(const uint8_t *seg, size_t len, uint64_t base, uint64_t fn)
{
	for (size_t i = 1; i + 4 <= len; i++) {
		int32_t v;
		memcpy(&v, seg + i, sizeof(v));
		if ((base + i + 4 + (uint64_t)(int64_t)v == fn || (uint64_t)(int64_t)v == fn ||
		     (uint64_t)(uint32_t)v == fn) &&
		    names_before(seg, i + 4, base, fn))
			return true;
	}
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
	const char *label = "PyCode_Type.tp_dealloc";
	uint64_t fn = code_dealloc_vaddr(b, pid);
	if (!fn || !only_indirect(b->path, fn)) {
		probe_set_note(ps, label, b->label, "missing");
		return -1;
	}
	struct probe_module m = {b->elf, b->path, b->label, pid};
	struct probe_spec spec = {.name = label, .prog = skel->progs.lb_py_code_dealloc};
	if (probe_function_at(ps, &m, &spec, fn, 0))
		return -1;
	return 0;
}
