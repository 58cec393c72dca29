// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * C++ demangling with libiberty's demangler (Debian's libiberty-dev, the
 * code behind c++filt and libstdc++'s __cxa_demangle), through its callback
 * interface: it allocates nothing on the heap and hands the text over piece
 * by piece, so the output can be bounded while it is produced. The name
 * comes from the target's files and may be hostile: output stops at the
 * caller's bound (a longjmp out of the callback; the demangler keeps all its
 * state on the stack, so nothing is left behind), and overlong mangled input
 * is not demangled at all (the demangler's stack use grows with it).
 */
#include <libiberty/demangle.h>
#include <setjmp.h>
#include <stdbool.h>
#include <string.h>
#include "symbols/demangle.h"

/* ~72 bytes of the demangler's stack per byte of input: 8 KiB -> ~600 KiB. */
#define MANGLED_MAX 8192

struct sink {
	char *buf;
	size_t room; /* bytes that may still be written, NUL excluded */
	size_t used;
	bool cut;
	jmp_buf stop;
};

static void sink_put(const char *s, size_t n, void *opaque)
{
	struct sink *k = opaque;

	if (n > k->room) {
		memcpy(k->buf + k->used, s, k->room);
		k->used += k->room;
		k->room = 0;
		k->cut = true;
		longjmp(k->stop, 1);
	}
	memcpy(k->buf + k->used, s, n);
	k->used += n;
	k->room -= n;
}

/* setjmp lives here, apart from the sink, so that the sink's fields are
 * well defined after the jump (they are not locals of this function). */
static bool run_demangler(const char *raw, struct sink *k)
{
	if (setjmp(k->stop))
		return true; /* cut at the bound: what fits is kept */
	return cplus_demangle_v3_callback(raw, DMGL_PARAMS | DMGL_ANSI, sink_put, k) != 0;
}

/* End a cut name with "...", on a UTF-8 character boundary. */
static void mark_cut(char *buf, size_t used)
{
	size_t end = used >= 3 ? used - 3 : 0;

	while (end > 0 && ((unsigned char)buf[end] & 0xc0) == 0x80)
		end--;
	memcpy(buf + end, "...", 4);
}

const char *demangle_name(const char *raw, char *buf, size_t len)
{
	if (!buf || len < 4)
		return buf;
	buf[0] = '\0';
	if (!raw)
		return buf;
	/* A symbol version ("__libc_start_main@@GLIBC_2.34") is not part of
	 * the name people know, and the demangler refuses it. */
	char unversioned[MANGLED_MAX + 1];
	size_t base = strcspn(raw, "@");
	if (raw[base] == '@' && base > 0 && base <= MANGLED_MAX) {
		memcpy(unversioned, raw, base);
		unversioned[base] = '\0';
		raw = unversioned;
	}
	size_t rawlen = strnlen(raw, MANGLED_MAX + 1);

	if (rawlen <= MANGLED_MAX && (!strncmp(raw, "_Z", 2) || !strncmp(raw, "_GLOBAL_", 8))) {
		struct sink k = {.buf = buf, .room = len - 1};

		if (run_demangler(raw, &k) && k.used) {
			buf[k.used] = '\0';
			if (k.cut)
				mark_cut(buf, k.used);
			return buf;
		}
	}
	/* Not mangled, or not demangled: the name as it is, bounded. */
	rawlen = strnlen(raw, len);
	if (rawlen < len) {
		memcpy(buf, raw, rawlen + 1);
		return buf;
	}
	memcpy(buf, raw, len - 1);
	buf[len - 1] = '\0';
	mark_cut(buf, len - 1);
	return buf;
}
