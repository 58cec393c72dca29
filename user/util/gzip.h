/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The gzip writer: pprof profiles and snapshots are gzip files. */
#ifndef UTIL_GZIP_H
#define UTIL_GZIP_H

#include <stdio.h>

/* A stream whose bytes are written to `out` gzipped (deflate at `level`,
 * 1-9). fclose() on it ends the gzip member and reports any error of the
 * compression or of writing to `out` (EOF with errno set); `out` itself
 * stays open. NULL with errno set on failure. */
FILE *gzip_open(FILE *out, int level);

#endif
