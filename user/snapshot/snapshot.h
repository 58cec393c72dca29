/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Snapshots for long runs: a bounded series of gzipped JSON reports
 * (schema leakbpf/v1, doc/json-schema.md) written while tracing, and loading
 * one back into a report for `leakbpf diff` and `leakbpf report`.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "report/model.h"

struct snapshot_writer;

/* Write a snapshot every `every_s` seconds into `dir` (created if missing),
 * keeping at most `keep` (>= 1) of the files this writer made, each with at
 * most `max_stacks` stacks (0: all; the others summed, report/bound.h).
 * Files are written as util/outfile.h writes them. NULL with a one-line
 * reason in err on failure. */
struct snapshot_writer *snapshot_writer_new(const char *dir, double every_s, unsigned keep,
					    size_t max_stacks, char *err, size_t errlen);

/* Whether snapshots can be written into dir (created if missing): the
 * check made before tracing starts. 0, or -1 with a reason in err. */
int snapshot_dir_check(const char *dir, char *err, size_t errlen);

/* True when `every_s` has passed since the last snapshot (or since
 * snapshot_writer_new), so callers can build a report only when needed. */
bool snapshot_writer_due(const struct snapshot_writer *w);

/* When due, write DIR/leakbpf-<pid>-<seq>-<unixtime>.json.gz and delete the
 * oldest files beyond `keep`. Returns 1 when written, 0 when not due, -1 with
 * errno set on error (the series goes on at the next tick). */
int snapshot_writer_tick(struct snapshot_writer *w, const struct rm_report *r);

/* Write one now regardless of the period (the final report). 1 or -1. */
int snapshot_writer_write(struct snapshot_writer *w, const struct rm_report *r);

/* Path of the last snapshot written, or NULL. */
const char *snapshot_writer_last_path(const struct snapshot_writer *w);

/* Worst-case disk use: keep * largest snapshot written so far (bytes). */
uint64_t snapshot_writer_bound(const struct snapshot_writer *w);

/* One line for users: where, how often, how many, and the bound above. */
void snapshot_writer_describe(const struct snapshot_writer *w, char *buf, size_t len);

void snapshot_writer_free(struct snapshot_writer *w);

/* Load a snapshot (gzipped or plain leakbpf/v1 JSON; "-" is stdin) into a
 * report owning all its strings. The input is untrusted: its size, its
 * decompressed size and its counts are bounded (SNAPSHOT_MAX_*). NULL with
 * a one-line reason in err. */
struct rm_report *snapshot_load(const char *path, char *err, size_t errlen);

/* What snapshot_load reads at most. leakbpf writes far less: by default
 * 1,001 stacks (--output-stacks) of at most 112 frames (LB_MAX_NATIVE +
 * LB_MAX_PY) and their inlined callers, a few MiB of JSON. */
#define SNAPSHOT_MAX_INPUT	(256u << 20) /* bytes read, compressed or not */
#define SNAPSHOT_MAX_TEXT	(256u << 20) /* bytes of JSON, decompressed */
#define SNAPSHOT_MAX_STACKS	(1u << 20)   /* stacks */
#define SNAPSHOT_MAX_FRAMES	4096	     /* frames of one stack */
#define SNAPSHOT_MAX_ALL_FRAMES (4u << 20)   /* frames of all stacks */
#define SNAPSHOT_MAX_PROBES	65536	     /* probes */
#define SNAPSHOT_MAX_STRING	(1u << 20)   /* bytes of one string */
void snapshot_report_free(struct rm_report *r);

#endif
