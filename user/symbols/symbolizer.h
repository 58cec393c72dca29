/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Native address -> function, file:line, module (elfutils libdwfl). */
#ifndef SYMBOLIZE_H
#define SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "report/model.h"

struct symbolizer;

/* Report the target's modules from /proc/PID/maps, opening each ELF through
 * the target's own view (/proc/PID/map_files or /proc/PID/root), so that
 * processes in other mount namespaces resolve against their own files. */
struct symbolizer *symbolizer_new(pid_t pid, char *err, size_t errlen);

/* Re-read the target's mappings (new dlopen()s). No-op once it exited. */
void symbolizer_refresh(struct symbolizer *s);

/* Resolve addr. `is_return` marks return addresses (every frame leakbpf
 * captures is one): line lookup then uses addr-1. Fills out->function, file,
 * line, module, offset, address; kind = RM_FRAME_NATIVE. Strings are owned
 * by the symbolizer and live until symbolizer_free(). Never fails: unknown
 * parts are left NULL/0. Results are cached per address. */
void symbolizer_lookup(struct symbolizer *s, uint64_t addr, bool is_return, struct rm_frame *out);

/* Path of the module containing addr, or NULL. */
const char *symbolizer_module_of(struct symbolizer *s, uint64_t addr);

void symbolizer_free(struct symbolizer *s);

#endif
