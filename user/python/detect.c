// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPython detection. The interpreter lives in a libpython3.X*.so mapping or
 * in the executable itself (Debian's /usr/bin/python3.X). Its version comes
 * from the ELF, never from the user:
 *  - 3.11+ export Py_Version (PY_VERSION_HEX);
 *  - 3.13+ also start _PyRuntime with _Py_DebugOffsets, which describe the
 *    layouts (used instead of the built-in table);
 *  - before 3.11 the exported API tells the minor version (Py_IsNone: 3.10,
 *    PyFrame_GetCode: 3.9, PyCode_NewWithPosOnlyArgs: 3.8) and the micro
 *    version is the PY_VERSION string in .rodata (best effort).
 * Debug and free-threaded builds lay their objects out differently: refused,
 * by ABI flags in the file name ("python3.11d", "libpython3.13t.so") or, for
 * renamed files, by symbols only those builds export.
 */
#include <ctype.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "target/elf_file.h"
#include "python/detect.h"
#include "target/process.h"

#define MIN_MINOR 8
#define MAX_MINOR 13

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* "libpython3.11d.so.1.0" / "python3.13t": minor version and ABI flags
 * (d debug, t free-threaded, m pymalloc before 3.8). Flags only when the
 * version is followed by them alone: "python3.11-test" has none. */
static bool name_version(const char *path, int *minor, char *flags, size_t flagslen)
{
	const char *s = strstr(base_name(path), "python3.");
	size_t n = 0;
	if (!s || !isdigit((unsigned char)s[8]))
		return false;
	*minor = atoi(s + 8);
	s += 8;
	while (isdigit((unsigned char)*s))
		s++;
	while (*s && strchr("dmt", *s) && n + 1 < flagslen)
		flags[n++] = *s++;
	if (*s && *s != '.')
		n = 0;
	flags[n] = '\0';
	return true;
}

static bool has_symbol(struct elf_file *ef, const char *name)
{
	return elf_file_symbol(ef, name, NULL, NULL, NULL) == 0;
}

/* Micro version of 3.minor from the PY_VERSION string ("3.9.18"), which
 * the linker may have merged into the tail of a longer string. The most
 * frequent "3.minor.N\0" wins; -1 when none. */
static int rodata_micro(const char *path, int minor)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	const char *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED)
		return -1;
	char pat[16];
	int plen = snprintf(pat, sizeof(pat), "3.%d.", minor);
	int votes[100] = {0};
	const char *p = data, *end = data + st.st_size;
	while ((p = memmem(p, (size_t)(end - p), pat, (size_t)plen))) {
		const char *q = p + plen;
		bool boundary = p == data || !(isdigit((unsigned char)p[-1]) || p[-1] == '.');
		int micro = 0, digits = 0;
		while (q < end && isdigit((unsigned char)*q) && digits < 3)
			micro = micro * 10 + (*q++ - '0'), digits++;
		if (boundary && digits && q < end && *q == '\0' && micro < 100)
			votes[micro]++;
		p += plen;
	}
	munmap((void *)data, (size_t)st.st_size);
	int best = 0;
	for (int i = 1; i < 100; i++)
		if (votes[i] > votes[best])
			best = i;
	return votes[best] ? best : -1;
}

/* Version from the ELF: 0 when known, -1 when this is not CPython 3.x. */
static int version_from_elf(struct py_build *b)
{
	uint64_t vaddr, v = 0;
	if (elf_file_symbol(b->elf, "Py_Version", &vaddr, NULL, NULL) == 0 &&
	    elf_file_read(b->elf, vaddr, &v, sizeof(uint32_t)) == 0) {
		b->major = (int)((v >> 24) & 0xff);
		b->minor = (int)((v >> 16) & 0xff);
		b->micro = (int)((v >> 8) & 0xff);
		b->micro_known = true;
		return 0;
	}
	b->major = 3;
	if (has_symbol(b->elf, "Py_IsNone"))
		b->minor = 10;
	else if (has_symbol(b->elf, "PyFrame_GetCode"))
		b->minor = 9;
	else if (has_symbol(b->elf, "PyCode_NewWithPosOnlyArgs"))
		b->minor = 8;
	else if (has_symbol(b->elf, "PyRun_SimpleString"))
		b->minor = 7; /* or older: unsupported either way */
	else
		return -1;
	b->micro = rodata_micro(b->path, b->minor);
	b->micro_known = b->micro >= 0;
	return 0;
}

/* The executable mappings of the interpreter's file m. */
static void interpreter_text(const struct lb_target *t, const struct lb_mapping *m,
			     struct py_build *b)
{
	b->ntext = 0;
	for (size_t i = 0; i < t->nmaps && b->ntext < PY_MAX_TEXT; i++) {
		const struct lb_mapping *x = &t->maps[i];
		if (x->inode != m->inode || !x->path || strcmp(x->path, m->path) != 0 ||
		    x->perms[2] != 'x')
			continue;
		b->text[b->ntext][0] = x->start;
		b->text[b->ntext][1] = x->end;
		b->ntext++;
	}
}

/* The libpython3.X*.so mapping; not libpython3.so, the stable-ABI stub
 * that only forwards symbols. */
static const struct lb_mapping *find_libpython(const struct lb_target *t)
{
	for (size_t i = 0; i < t->nmaps; i++) {
		const char *p = t->maps[i].path;
		if (!p || p[0] != '/')
			continue;
		const char *b = base_name(p);
		if (strncmp(b, "libpython3.", 11) == 0 && isdigit((unsigned char)b[11]))
			return &t->maps[i];
	}
	return NULL;
}

static enum py_detect_result unsupported(struct py_build *b, char *warn, size_t warnlen,
					 const char *why)
{
	char ver[32] = "";
	if (b->major)
		snprintf(ver, sizeof(ver), " %d.%d", b->major, b->minor);
	snprintf(warn, warnlen, "CPython%s in %s: %s; no Python frames", ver, b->label, why);
	elf_file_close(b->elf);
	b->elf = NULL;
	return PY_DETECT_UNSUPPORTED;
}

/* 3.13+: the layout comes from the _Py_DebugOffsets in _PyRuntime's
 * initial data (the ELF file holds it, so this works before startup). */
static int debug_offsets_layout(struct py_build *b, uint64_t rt_vaddr, uint64_t rt_size, char *why,
				size_t whylen)
{
	uint8_t buf[PY_DEBUG_OFFSETS_SIZE];
	if (elf_file_read(b->elf, rt_vaddr, buf, sizeof(buf))) {
		snprintf(why, whylen, "cannot read _Py_DebugOffsets from the ELF");
		return -1;
	}
	if (py_layout_from_debug_offsets(buf, sizeof(buf), rt_size, b->major, b->minor, &b->layout,
					 why, whylen))
		return -1;
	b->debug_offsets = true;
	return 0;
}

enum py_detect_result py_detect(const struct lb_target *t, struct py_build *b, char *warn,
				size_t warnlen)
{
	char err[200], flags[16] = "", why[256];
	int name_minor = -1;
	memset(b, 0, sizeof(*b));
	warn[0] = '\0';
	const struct lb_mapping *m = find_libpython(t);
	b->shared = m != NULL;
	if (!m)
		m = target_exe_mapping(t);
	if (!m || !m->path)
		return PY_DETECT_NONE;
	snprintf(b->label, sizeof(b->label), "%s", m->path);
	if (target_file_path(t, m, b->path, sizeof(b->path)))
		return PY_DETECT_NONE;
	b->elf = elf_file_open(b->path, err, sizeof(err));
	if (!b->elf) {
		if (!b->shared)
			return PY_DETECT_NONE;
		snprintf(why, sizeof(why), "cannot open it: %s", err);
		return unsupported(b, warn, warnlen, why);
	}
	bool named = name_version(b->label, &name_minor, flags, sizeof(flags));

	/* no file offset: _PyRuntime is in .bss before 3.11 */
	uint64_t rt_vaddr, rt_size;
	if (elf_file_symbol(b->elf, "_PyRuntime", &rt_vaddr, &rt_size, NULL)) {
		if (!b->shared && !named) {
			elf_file_close(b->elf);
			b->elf = NULL;
			return PY_DETECT_NONE; /* not Python at all */
		}
		return unsupported(
		    b, warn, warnlen,
		    "no _PyRuntime symbol (Python 3.6 or older, libpython not loaded yet, "
		    "or not CPython)");
	}
	if (version_from_elf(b)) {
		elf_file_close(b->elf);
		b->elf = NULL;
		return PY_DETECT_NONE;
	}
	if (strchr(flags, 'd') || has_symbol(b->elf, "_Py_NegativeRefcount") ||
	    has_symbol(b->elf, "_Py_RefTotal"))
		return unsupported(b, warn, warnlen, "debug build (different object layouts)");
	if (strchr(flags, 't') || has_symbol(b->elf, "_Py_DecRefShared"))
		/* 3.13t takes PyMem and object memory from its own mimalloc
		 * (mmap), never from the probed malloc: say so. */
		return unsupported(b, warn, warnlen,
				   "free-threaded build (different object layouts; Python objects "
				   "come from CPython's built-in mimalloc, not traced)");
	if (b->major != 3 || b->minor < MIN_MINOR || b->minor > MAX_MINOR) {
		snprintf(why, sizeof(why), "version not supported (3.%d to 3.%d are)", MIN_MINOR,
			 MAX_MINOR);
		return unsupported(b, warn, warnlen, why);
	}
	if (named && name_minor != b->minor) {
		snprintf(why, sizeof(why), "file name says 3.%d but the ELF says 3.%d", name_minor,
			 b->minor);
		return unsupported(b, warn, warnlen, why);
	}
	if (b->minor >= 13) {
		if (debug_offsets_layout(b, rt_vaddr, rt_size, why, sizeof(why)))
			return unsupported(b, warn, warnlen, why);
	} else {
		b->layout = *py_layout_find(b->major, b->minor);
	}
	uint64_t bias = elf_file_type(b->elf) == ET_DYN ? target_module_base(t, m) : 0;
	b->runtime = bias + rt_vaddr;
	interpreter_text(t, m, b);
	return PY_DETECT_OK;
}
