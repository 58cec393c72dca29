/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The clocks: monotonic for intervals, wall time for what users read. */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (the clock of bpf_ktime_get_ns). */
uint64_t mono_ns(void);
/* Seconds since the epoch, with microseconds. */
double wall_time_s(void);

#endif
