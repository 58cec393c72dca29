/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The processes a process made: /proc/PID/stat's parent field. */
#ifndef TARGET_CHILDREN_H
#define TARGET_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

/* The children of `parent` now (processes, not threads), at most `max` into
 * out. Returns how many there are (may exceed max: the rest were not
 * written). */
size_t target_children(pid_t parent, pid_t *out, size_t max);

#endif
