/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Numbers as people read them. */
#ifndef UTIL_FMT_H
#define UTIL_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "12.3 KiB" (binary units; `decimals` digits after the point above 1 KiB,
 * "512 B" below; negative values keep their sign) into buf. */
const char *fmt_bytes(double bytes, int decimals, char *buf, size_t len);
/* The same with one decimal: the table, the status line, `leakbpf diff`. */
const char *human_bytes(double bytes, char *buf, size_t len);
/* "+1.5 KiB" or "-200 B". */
const char *signed_bytes(int64_t bytes, char *buf, size_t len);

#endif
