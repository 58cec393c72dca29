/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Handshake between a test program and the pytest driver (tests/lib/lbtest.py):
 *   program -> "ready PID"          set up and idle, nothing interesting allocated yet
 *   driver  -> one byte on stdin    leakbpf is tracing: go
 *   program -> "leak FUNC N BYTES"  what it left outstanding per function, then
 *              "clean FUNC"         functions that freed everything they allocated,
 *              "done"               then it waits: 'q' on stdin exits with --exit N,
 *                                   EOF exits 0 (the driver died: never linger)
 * With --now there is no handshake: the program runs at once and exits with
 * --exit N (for `leakbpf -c`). Protocol lines are written with write(2) and a
 * stack buffer so that the harness never allocates.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lt {
	int now;       /* --now: no handshake */
	int exit_code; /* --exit N */
	int argc;      /* remaining program-specific arguments */
	char **argv;
};

void lt_init(struct lt *lt, int argc, char **argv);
void lt_ready(const struct lt *lt);
/* Block until the driver says go; returns the byte (or 'g' with --now). */
int lt_wait_go(const struct lt *lt);
void lt_leak(const struct lt *lt, const char *func, size_t count, size_t bytes);
void lt_clean(const struct lt *lt, const char *func);
void lt_done(const struct lt *lt);
/* Wait for the driver to end the program; returns the exit status for main. */
int lt_end(const struct lt *lt);
/* printf-like line on stdout without allocating. */
void lt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Keep a pointer alive in the eyes of the compiler (no dead-store elimination). */
void lt_keep(void *p);

#ifdef __cplusplus
}
#endif

#endif
