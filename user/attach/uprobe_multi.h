/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* uprobe_multi links (Linux 6.6+): many offsets of one file in one link,
 * removed with one grace period instead of one per probe. */
#ifndef UPROBE_MULTI_H
#define UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* bpf_attach_type of programs attached through uprobe_multi links. */
#define UMULTI_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI */

/* Whether the running kernel creates uprobe_multi links. */
bool umulti_supported(void);

/* Attach prog_fd (loaded with UMULTI_ATTACH_TYPE) at n offsets of the file
 * at path, as return probes with `ret`, for process pid. Returns the link
 * fd, or -errno. */
int umulti_attach(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
		  size_t n, bool ret, pid_t pid);

#endif
