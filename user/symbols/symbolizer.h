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

/* The frames of code address addr, root first: the function containing it,
 * then the functions inlined at it (from DWARF), innermost last and marked
 * `inlined`. Each has function (demangled), file, line, module, offset and
 * address, kind = RM_FRAME_NATIVE; file:line is where the frame calls the
 * next one, the innermost's is addr's own line. `is_return` marks return
 * addresses (every frame leakbpf captures is one): lookups then use
 * addr-1. Strings are owned by the symbolizer and live until
 * symbolizer_free(). Never fails: unknown parts are left NULL/0. Results
 * are cached per address, in bounded memory. */
unsigned symbolizer_frame_count(struct symbolizer *s, uint64_t addr, bool is_return);

/* Writes min(count, max) of those frames to out; returns how many. */
unsigned symbolizer_frames(struct symbolizer *s, uint64_t addr, bool is_return,
			   struct rm_frame *out, unsigned max);

/* Between reports (frames of reports point into the symbolizer): when
 * the names of frames have grown past half their bound, start them and
 * the frame cache over. */
void symbolizer_trim(struct symbolizer *s);
/* Frames left unnamed by the names' bound, and caches started over at
 * their bounds (names, frames, inline index): for the drops of reports. */
void symbolizer_bounds(const struct symbolizer *s, uint64_t *names_unkept, uint64_t *restarts);

/* Path of the module containing addr, or NULL. */
const char *symbolizer_module_of(struct symbolizer *s, uint64_t addr);

void symbolizer_free(struct symbolizer *s);

#endif
