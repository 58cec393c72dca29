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
 * keeping at most `keep` (>= 1) of the files this writer made. NULL with a
 * one-line reason in err on failure. */
struct snapshot_writer *snapshot_writer_new(const char *dir, double every_s, unsigned keep,
					    char *err, size_t errlen);

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
 * report owning all its strings. NULL with a one-line reason in err. */
struct rm_report *snapshot_load(const char *path, char *err, size_t errlen);
void snapshot_report_free(struct rm_report *r);

#endif
