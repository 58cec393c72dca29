// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Code object resolution. A slot is keyed by (address, tag): a code object
 * freed and replaced by another at the same address gets another tag (see
 * lb_py_tag), so it never inherits the old object's names. Before filling
 * a slot the tag is recomputed from the live object: a frame whose code
 * object died since the event is reported as unknown, not as whatever now
 * occupies its address.
 */
#include <stdlib.h>
#include <string.h>
#include "util/hash.h"
#include "settings.h"
#include "python/code.h"
#include "python/linetable.h"
#include "python/memory.h"

/* Line tables larger than this are not read (real ones are a few KiB). */
#define LINETABLE_MAX (1 << 20)
/* Bytes of a code object read in one go (all fields used lie below). */
#define CODE_HEAD      160
#define NAME_MAX_BYTES 512
#define FILE_MAX_BYTES 1024

int py_code_cache_init(struct py_code_cache *c, pid_t pid, const struct py_layout *l)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->l = l;
	c->slots = calloc(PY_CODE_SLOTS, sizeof(*c->slots));
	return c->slots ? 0 : -1;
}

void py_code_cache_free(struct py_code_cache *c)
{
	if (c->slots)
		for (size_t i = 0; i < PY_CODE_SLOTS; i++)
			free(c->slots[i].linetable);
	free(c->slots);
	c->slots = NULL;
	interner_clear(&c->strings);
}

static size_t slot_of(uint64_t code, uint32_t tag)
{
	return hash_mix64(hash_mix64(code) ^ tag) & (PY_CODE_SLOTS - 1);
}

static uint64_t field64(const uint8_t *head, uint16_t off)
{
	uint64_t v = 0;
	if (off != PY_NONE && off + 8 <= CODE_HEAD)
		memcpy(&v, head + off, 8);
	return v;
}

/* Read the live code object into info; -1 when unreadable or not the one
 * BPF saw (tag mismatch). */
static int load(struct py_code_cache *c, uint64_t code, uint32_t tag, struct py_code_info *info)
{
	const struct py_layout *l = c->l;
	uint8_t head[CODE_HEAD];
	if (py_mem_read(c->pid, code, head, sizeof(head)))
		return -1;
	uint64_t name = field64(head, l->co_name);
	uint64_t filename = field64(head, l->co_filename);
	uint64_t qualname = field64(head, l->co_qualname);
	uint64_t linetable = field64(head, l->co_linetable);
	int32_t firstlineno;
	memcpy(&firstlineno, head + l->co_firstlineno, sizeof(firstlineno));
	/* the same stamp as BPF: co_version, else the name's hash */
	int64_t stamp = 0;
	if (l->co_version != PY_NONE) {
		uint32_t v;
		memcpy(&v, head + l->co_version, sizeof(v));
		stamp = v;
	} else if (name && py_mem_read(c->pid, name + l->str_hash, &stamp, sizeof(stamp))) {
		stamp = 0;
	}
	/* BPF may have seen the name's hash before it was computed (-1). */
	if (lb_py_tag(name, filename, stamp, (uint32_t)firstlineno) != tag &&
	    lb_py_tag(name, filename, -1, (uint32_t)firstlineno) != tag) {
		c->stale++;
		return -1;
	}

	char fn[NAME_MAX_BYTES], file[FILE_MAX_BYTES];
	if ((!qualname || py_mem_str(c->pid, l, qualname, fn, sizeof(fn)) < 0) &&
	    py_mem_str(c->pid, l, name, fn, sizeof(fn)) < 0)
		return -1;
	if (py_mem_str(c->pid, l, filename, file, sizeof(file)) < 0)
		strcpy(file, "?");
	memset(info, 0, sizeof(*info));
	info->code = code;
	info->tag = tag;
	info->firstlineno = firstlineno;
	info->function = interner_str(&c->strings, fn);
	info->file = interner_str(&c->strings, file);
	if (!info->function || !info->file)
		return -1;
	info->linetable_len = py_mem_bytes(c->pid, l, linetable, LINETABLE_MAX, &info->linetable);
	return 0;
}

int py_code_resolve(struct py_code_cache *c, uint64_t code, uint32_t tag, int32_t lasti,
		    const char **function, const char **file, int *line)
{
	struct py_code_info *s = &c->slots[slot_of(code, tag)];
	if (s->code != code || s->tag != tag || !s->function) {
		struct py_code_info fresh;
		c->misses++;
		if (load(c, code, tag, &fresh))
			return -1;
		free(s->linetable);
		*s = fresh;
	} else {
		c->hits++;
	}
	*function = s->function;
	*file = s->file;
	*line = s->linetable_len >= 0
		    ? py_linetable_line(c->l->linetable, s->linetable, (size_t)s->linetable_len,
					s->firstlineno, lasti)
		    : s->firstlineno;
	return 0;
}
