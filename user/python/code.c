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

static void drop_slots(struct py_code_cache *c)
{
	for (size_t i = 0; c->slots && i < PY_CODE_SLOTS; i++) {
		free(c->slots[i].linetable);
		memset(&c->slots[i], 0, sizeof(c->slots[i]));
	}
	c->table_bytes = 0;
}

void py_code_cache_free(struct py_code_cache *c)
{
	drop_slots(c);
	free(c->slots);
	c->slots = NULL;
	interner_clear(&c->strings);
}

void py_code_cache_restart(struct py_code_cache *c, struct interner *names)
{
	drop_slots(c);
	interner_clear(&c->strings);
	c->strings = *names;
	memset(names, 0, sizeof(*names));
}

/* The interner's copy of s, or NULL when names are past their bound. */
static const char *keep_name(struct py_code_cache *c, const char *s)
{
	if (interner_bytes(&c->strings) >= PY_CODE_NAME_BYTES)
		return NULL;
	return interner_str(&c->strings, s);
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
	/* the stamps BPF may have used: co_version; else the name's hash, or
	 * its text while the hash was not computed (it may be by now), or 0
	 * when BPF could only read the hash and found none */
	int64_t stamps[3] = {0, 0, 0};
	if (l->co_version != PY_NONE) {
		uint32_t v;
		memcpy(&v, head + l->co_version, sizeof(v));
		stamps[0] = stamps[1] = v;
	} else if (name) {
		__u64 s[LB_PY_STR_WIN / 8];
		if (!py_mem_read(c->pid, name + l->str_length, s, sizeof(s))) {
			stamps[0] = (int64_t)s[1];
			stamps[1] = (int64_t)lb_py_name_digest(
			    s, (uint32_t)(l->str_state - l->str_length) / 8,
			    (uint32_t)(l->str_ascii_data - l->str_length) / 8);
		}
	}
	bool seen = false;
	for (size_t i = 0; i < 3 && !seen; i++)
		seen = lb_py_tag(name, filename, stamps[i], (uint32_t)firstlineno) == tag;
	if (!seen) {
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
	info->function = keep_name(c, fn);
	info->file = info->function ? keep_name(c, file) : NULL;
	if (!info->function || !info->file) {
		c->names_unkept++;
		info->function = PY_NAME_UNKEPT;
		info->file = NULL;
	}
	info->table_obj = linetable;
	info->linetable_len = py_mem_bytes(c->pid, l, linetable, LINETABLE_MAX, &info->linetable);
	return 0;
}

/* The line of lasti in s, from its kept line table or one read now. */
static int line_of(struct py_code_cache *c, const struct py_code_info *s, int32_t lasti)
{
	const uint8_t *table = s->linetable;
	uint8_t *read = NULL;
	long len = s->linetable_len;
	if (!table && len >= 0)
		len = py_mem_bytes(c->pid, c->l, s->table_obj, LINETABLE_MAX, &read);
	int line = len >= 0 ? py_linetable_line(c->l->linetable, table ? table : read, (size_t)len,
						s->firstlineno, lasti)
			    : s->firstlineno;
	free(read);
	return line;
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
		if (s->linetable)
			c->table_bytes -= (size_t)s->linetable_len;
		free(s->linetable);
		*s = fresh;
		if (s->linetable &&
		    c->table_bytes + (size_t)s->linetable_len > PY_CODE_TABLE_BYTES) {
			/* the line below comes from this copy, then it goes */
			*line = line_of(c, s, lasti);
			free(s->linetable);
			s->linetable = NULL;
			c->tables_unkept++;
			*function = s->function;
			*file = s->file;
			return 0;
		}
		if (s->linetable)
			c->table_bytes += (size_t)s->linetable_len;
	} else {
		c->hits++;
	}
	*function = s->function;
	*file = s->file;
	*line = line_of(c, s, lasti);
	return 0;
}
