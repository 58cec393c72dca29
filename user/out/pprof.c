// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The report as a gzipped pprof profile.proto, encoded by hand (the format
 * is a handful of varint and length-delimited fields). Go heap-profile
 * conventions, so `go tool pprof`, Pyroscope and Parca read it as a heap
 * profile: values per sample are [alloc_objects, alloc_space, inuse_objects,
 * inuse_space]; locations are listed leaf first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "out/formats.h"
#include "util/array.h"
#include "util/gzip.h"
#include "util/json.h"
#include "util/intern.h"
#include "util/outfile.h"

/* profile.proto field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUETYPE_TYPE = 1,
	VALUETYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	MAPPING_ID = 1,
	MAPPING_MEMORY_LIMIT = 3,
	MAPPING_FILENAME = 5,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_ADDRESS = 3,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
};

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

struct pb {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void pb_bytes(struct pb *b, const void *src, size_t n)
{
	if (b->oom || ARRAY_RESERVE(b->p, b->cap, b->len + n)) {
		b->oom = true;
		return;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	pb_bytes(b, tmp, n);
}

static void pb_tag(struct pb *b, unsigned field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

/* int64 fields are plain varints of the two's complement; zero is the
 * default and is left out, like protobuf encoders do. */
static void pb_int(struct pb *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	pb_tag(b, field, WIRE_VARINT);
	pb_varint(b, v);
}

/* Append a nested message (or packed field, or string) held in sub. */
static void pb_sub(struct pb *b, unsigned field, const struct pb *sub)
{
	if (sub->oom)
		b->oom = true;
	pb_tag(b, field, WIRE_LEN);
	pb_varint(b, sub->len);
	pb_bytes(b, sub->p, sub->len);
}

struct prof {
	struct pb out;	/* the Profile message */
	struct pb tmp;	/* scratch for one nested message */
	struct pb tmp2; /* scratch for a message nested in tmp */
	struct interner *strings;
	struct interner *functions; /* key: name id, file id */
	struct interner *locations; /* key: every frame field */
	struct interner *mappings;  /* key: module path */
	uint64_t *mapping_limit;    /* per mapping: highest offset + 1 */
	size_t mapping_cap;
};

static uint64_t str_id(struct prof *pf, const char *s)
{
	/* proto3 strings must be UTF-8: protobuf-go (Parca) rejects others */
	char *fixed = s ? utf8_fix(s) : NULL;
	long id;

	if (fixed)
		s = fixed;
	id = interner_add(pf->strings, s ? s : "", s ? strlen(s) : 0, NULL);
	free(fixed);

	if (id < 0) {
		pf->out.oom = true;
		return 0;
	}
	return (uint64_t)id;
}

static void value_type(struct prof *pf, unsigned field, const char *type, const char *unit)
{
	pf->tmp.len = 0;
	pb_int(&pf->tmp, VALUETYPE_TYPE, str_id(pf, type));
	pb_int(&pf->tmp, VALUETYPE_UNIT, str_id(pf, unit));
	pb_sub(&pf->out, field, &pf->tmp);
}

/* Function id (1-based) of frame f, emitting the Function when new. */
static uint64_t function_id(struct prof *pf, const struct rm_frame *f)
{
	char text[512];
	const char *name = f->function;
	uint64_t key[2];
	bool added;
	long idx;

	/* unnamed native code still needs a distinct, readable name */
	if (!name)
		name = f->kind == RM_FRAME_NATIVE ? rm_frame_format(f, text, sizeof(text))
						  : "<unknown>";
	key[0] = str_id(pf, name);
	key[1] = str_id(pf, f->file);
	idx = interner_add(pf->functions, key, sizeof(key), &added);
	if (idx < 0) {
		pf->out.oom = true;
		return 0;
	}
	if (added) {
		pf->tmp.len = 0;
		pb_int(&pf->tmp, FUNCTION_ID, idx + 1);
		pb_int(&pf->tmp, FUNCTION_NAME, key[0]);
		/* pprof simplifies names equal to their system name as C++
		 * ("<module>" would lose its <...>); Python names have none */
		if (f->kind == RM_FRAME_NATIVE)
			pb_int(&pf->tmp, FUNCTION_SYSTEM_NAME, key[0]);
		pb_int(&pf->tmp, FUNCTION_FILENAME, key[1]);
		pb_sub(&pf->out, PROFILE_FUNCTION, &pf->tmp);
	}
	return idx + 1;
}

/* Mapping id (1-based) of a native frame's module, 0 for none. Mappings
 * are emitted at the end, once their extent is known. */
static uint64_t mapping_id(struct prof *pf, const struct rm_frame *f)
{
	long idx;

	if (f->kind != RM_FRAME_NATIVE || !f->module)
		return 0;
	idx = interner_add(pf->mappings, f->module, strlen(f->module), NULL);
	if (idx < 0) {
		pf->out.oom = true;
		return 0;
	}
	if (ARRAY_RESERVE(pf->mapping_limit, pf->mapping_cap, (size_t)idx + 1)) {
		pf->out.oom = true;
		return 0;
	}
	if (f->offset + 1 > pf->mapping_limit[idx])
		pf->mapping_limit[idx] = f->offset + 1;
	return idx + 1;
}

/* Frames per Location at most: a function and those inlined into it. */
#define LOCATION_MAX_LINES 64

/* Location id (1-based) of frames f[0..n), emitting the Location when new:
 * one address, a function f[0] and the functions inlined into it there
 * (f[1..n), innermost last), one Line each, innermost first as pprof
 * wants them. */
static uint64_t location_id(struct prof *pf, const struct rm_frame *f, unsigned n)
{
	uint64_t key[6 * LOCATION_MAX_LINES];
	bool added;
	long idx;

	memset(key, 0, sizeof(key));
	for (unsigned i = 0; i < n; i++) {
		uint64_t *k = &key[6 * i];

		k[0] = f[i].kind;
		k[1] = str_id(pf, f[i].module);
		k[2] = f[i].kind == RM_FRAME_NATIVE ? f[i].offset : 0;
		k[3] = str_id(pf, f[i].function);
		k[4] = str_id(pf, f[i].file);
		k[5] = (uint64_t)(int64_t)f[i].line;
	}
	idx = interner_add(pf->locations, key, 6 * n * sizeof(key[0]), &added);
	if (idx < 0) {
		pf->out.oom = true;
		return 0;
	}
	if (added) {
		uint64_t fid[LOCATION_MAX_LINES], mid = mapping_id(pf, &f[0]);

		/* before tmp is filled: a new Function is written through it */
		for (unsigned i = 0; i < n; i++)
			fid[i] = function_id(pf, &f[i]);
		pf->tmp.len = 0;
		pb_int(&pf->tmp, LOCATION_ID, idx + 1);
		pb_int(&pf->tmp, LOCATION_MAPPING_ID, mid);
		/* module-relative: the same in live reports and snapshots */
		pb_int(&pf->tmp, LOCATION_ADDRESS, mid ? f[0].offset : 0);
		for (unsigned i = n; i-- > 0;) {
			pf->tmp2.len = 0;
			pb_int(&pf->tmp2, LINE_FUNCTION_ID, fid[i]);
			pb_int(&pf->tmp2, LINE_LINE, f[i].line > 0 ? (uint64_t)f[i].line : 0);
			pb_sub(&pf->tmp, LOCATION_LINE, &pf->tmp2);
		}
		pb_sub(&pf->out, PROFILE_LOCATION, &pf->tmp);
	}
	return idx + 1;
}

/* pprof takes mapping 1 as the main binary ("File:" in its reports): the
 * module named like the process (comm is its name, cut to 15 bytes). */
static void main_mapping_first(struct prof *pf, const struct rm_report *r)
{
	size_t clen = r->comm ? strlen(r->comm) : 0;

	for (size_t i = 0; clen && i < r->nstacks; i++) {
		for (unsigned k = 0; k < r->stacks[i].nframes; k++) {
			const struct rm_frame *f = &r->stacks[i].frames[k];
			const char *base = f->module ? strrchr(f->module, '/') : NULL;

			base = base ? base + 1 : f->module;
			if (f->kind == RM_FRAME_NATIVE && base && !strncmp(base, r->comm, clen)) {
				mapping_id(pf, f);
				return;
			}
		}
	}
}

static void write_sample(struct prof *pf, const struct rm_stack *s)
{
	struct pb ids = {0}, vals = {0};

	/* pprof lists the leaf first; inlined frames join their caller's
	 * location */
	for (unsigned i = s->nframes; i-- > 0;) {
		unsigned g = i;

		while (g > 0 && s->frames[g].inlined && i - g + 1 < LOCATION_MAX_LINES)
			g--;
		pb_varint(&ids, location_id(pf, &s->frames[g], i - g + 1));
		i = g;
	}
	pb_varint(&vals, s->alloc_count);
	pb_varint(&vals, s->alloc_bytes);
	pb_varint(&vals, s->out_count);
	pb_varint(&vals, s->out_bytes);
	pf->tmp.len = 0;
	pb_sub(&pf->tmp, SAMPLE_LOCATION_ID, &ids);
	pb_sub(&pf->tmp, SAMPLE_VALUE, &vals);
	pb_sub(&pf->out, PROFILE_SAMPLE, &pf->tmp);
	free(ids.p);
	free(vals.p);
}

static void write_mappings(struct prof *pf)
{
	for (size_t i = 0; i < interner_count(pf->mappings); i++) {
		const char *path = interner_key(pf->mappings, i, NULL);

		pf->tmp.len = 0;
		pb_int(&pf->tmp, MAPPING_ID, i + 1);
		pb_int(&pf->tmp, MAPPING_MEMORY_LIMIT, pf->mapping_limit[i]);
		pb_int(&pf->tmp, MAPPING_FILENAME, str_id(pf, path));
		/* already symbolized: tools must not try again */
		pb_int(&pf->tmp, MAPPING_HAS_FUNCTIONS, 1);
		pb_int(&pf->tmp, MAPPING_HAS_FILENAMES, 1);
		pb_int(&pf->tmp, MAPPING_HAS_LINE_NUMBERS, 1);
		pb_sub(&pf->out, PROFILE_MAPPING, &pf->tmp);
	}
}

static void write_header(struct prof *pf, const struct rm_report *r)
{
	char comment[256];

	str_id(pf, ""); /* string 0 must be "" */
	value_type(pf, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(pf, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(pf, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(pf, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	value_type(pf, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb_int(&pf->out, PROFILE_PERIOD, 1); /* every allocation is traced */
	pb_int(&pf->out, PROFILE_DEFAULT_SAMPLE_TYPE, str_id(pf, "inuse_space"));
	if (r->unix_time > 0)
		pb_int(&pf->out, PROFILE_TIME_NANOS, (uint64_t)(r->unix_time * 1e9));
	if (r->elapsed_s > 0)
		pb_int(&pf->out, PROFILE_DURATION_NANOS, (uint64_t)(r->elapsed_s * 1e9));
	snprintf(comment, sizeof(comment), "leakbpf %s pid %d (%s)",
		 r->leakbpf_version ? r->leakbpf_version : "?", r->pid, r->comm ? r->comm : "?");
	pb_int(&pf->out, PROFILE_COMMENT, str_id(pf, comment));
	if (r->cmdline)
		pb_int(&pf->out, PROFILE_COMMENT, str_id(pf, r->cmdline));
}

static void write_strings(struct prof *pf)
{
	for (size_t i = 0; i < interner_count(pf->strings); i++) {
		size_t len;
		const char *s = interner_key(pf->strings, i, &len);

		pb_tag(&pf->out, PROFILE_STRING_TABLE, WIRE_LEN);
		pb_varint(&pf->out, len);
		pb_bytes(&pf->out, s, len);
	}
}

int pprof_write(const struct rm_report *r, FILE *out)
{
	struct prof pf;
	int rc = -1;

	memset(&pf, 0, sizeof(pf));
	pf.strings = interner_new();
	pf.functions = interner_new();
	pf.locations = interner_new();
	pf.mappings = interner_new();
	if (!pf.strings || !pf.functions || !pf.locations || !pf.mappings) {
		errno = ENOMEM;
		goto out;
	}
	write_header(&pf, r);
	main_mapping_first(&pf, r);
	for (size_t i = 0; i < r->nstacks; i++)
		write_sample(&pf, &r->stacks[i]);
	write_mappings(&pf);
	write_strings(&pf); /* last: every other part added strings */
	if (pf.out.oom || pf.tmp.oom || pf.tmp2.oom) {
		errno = ENOMEM;
		goto out;
	}
	FILE *gz = gzip_open(out, 6);
	if (!gz)
		goto out;
	if ((fwrite(pf.out.p, 1, pf.out.len, gz) != pf.out.len) | fclose(gz))
		goto out;
	rc = stream_finish(out);
out:
	free(pf.out.p);
	free(pf.tmp.p);
	free(pf.tmp2.p);
	free(pf.mapping_limit);
	interner_free(pf.strings);
	interner_free(pf.functions);
	interner_free(pf.locations);
	interner_free(pf.mappings);
	return rc;
}
