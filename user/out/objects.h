/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The report of `leakbpf objects`: a census of a CPython heap by type, the
 * containers that hold what grows, the cycles nothing can reach, and the
 * collector's state, as rendered by the table (objects_table.c) and JSON
 * (objects_json.c). Every string in it is already escaped for printing.
 */
#ifndef OUT_OBJECTS_H
#define OUT_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct obj_type_row {
	const char *type;
	uint64_t count, bytes;
	int64_t count_growth, bytes_growth; /* since the first census */
	int64_t count_delta, bytes_delta;   /* since the previous one */
};

#define OBJ_ITEM_TYPES 4

struct obj_holder {
	const char *path;      /* "__main__._REGISTRY", or "?" with no path found */
	const char *container; /* its type */
	uint64_t addr;
	uint64_t items;
	int64_t items_growth;	/* since the first census (all of it when new) */
	int64_t items_delta;	/* since the previous one */
	bool new_container;	/* not there (or too small to keep) at the first census */
	uint64_t growing_items; /* items of the types that grow */
	struct {
		const char *type;
		uint64_t count;
	} item_types[OBJ_ITEM_TYPES];
	size_t nitem_types;
};

struct obj_unreachable_type {
	const char *type;
	uint64_t count, bytes;
};

struct obj_unreachable {
	bool computed;
	const char *why_not; /* when not computed */
	uint64_t count, bytes;
	uint64_t candidates; /* before the second look at them */
	struct obj_unreachable_type *types;
	size_t ntypes;
};

struct obj_gc {
	bool known, enabled, collecting;
	int thresholds[3], counts[3];
	uint64_t objects[4]; /* per list: generations 0-2, permanent */
};

/* One census, as kept for the whole run. */
struct obj_census {
	double time;	   /* wall clock, seconds since the epoch */
	double duration_s; /* wall time of the census */
	double cpu_s;	   /* leakbpf's CPU time during it */
	double paused_s;   /* how long the target was stopped (--pause), else 0 */
	uint64_t rss;	   /* target RSS after it */
	uint64_t objects, gc_objects, bytes;
	uint64_t torn, retries, invalid, truncated, lists_cut;
	uint64_t bytes_read, syscalls;
	uint64_t mem_bytes; /* leakbpf's own memory for it */
};

struct obj_report {
	int pid;
	const char *comm, *cmdline, *python, *leakbpf_version;
	double interval_s;
	bool final;
	bool paused; /* --pause */
	/* every census so far (the last is this report's) */
	struct obj_census *censuses;
	size_t ncensuses;
	uint64_t censuses_dropped; /* beyond the ones kept */
	/* this census, by type, ranked by growth (by bytes at the first) */
	struct obj_type_row *types;
	size_t ntypes;
	uint64_t count, bytes;
	int64_t count_growth, bytes_growth, bytes_delta;
	struct obj_holder *holders;
	size_t nholders;
	struct obj_unreachable unreachable;
	struct obj_gc gc;
	/* RSS growth against the Python heap's since the first census */
	int64_t rss_growth;
	bool native_growth; /* RSS grows while the Python heap does not */
	/* what could not be read (this census) */
	uint64_t torn, retries, invalid, truncated, lists_cut, opaque_gc, bad_types;
	uint64_t max_objects;
};

/* The table of one census; `top` type rows. 0, or -1 on a write error. */
int objects_table_write(const struct obj_report *r, FILE *out, unsigned top);

/* The JSON document (schema leakbpf/objects/v1, doc/json-schema.md). 0, or
 * -1 on a write error. */
int objects_json_write(const struct obj_report *r, FILE *out);

#endif
