/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Line numbers from CPython line tables (pure functions on the raw bytes). */
#ifndef PY_LINETABLE_H
#define PY_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* Source line of the instruction at code-unit offset lasti (negative: the
 * frame has not started; gives firstlineno). kind is enum py_linetable_kind.
 * Returns 0 when the table has no line for that instruction. */
int py_linetable_line(int kind, const uint8_t *tab, size_t len, int firstlineno, int64_t lasti);

#endif
