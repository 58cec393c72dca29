/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Resident memory of the target for the growth mode: its anonymous RSS, and
 * the size of the page that backs an address (huge pages count by their
 * size), from /proc and sysfs. */
#ifndef TARGET_RESIDENT_H
#define TARGET_RESIDENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* RssAnon of /proc/PID/status in bytes; 0 when unknown. */
uint64_t target_anon_rss(pid_t pid);

/* Whether the kernel may back anonymous memory with transparent huge pages
 * (enabled=always or madvise, for some size). */
bool target_thp_enabled(void);

/* Finds the huge pages behind addresses of one process. */
struct resident_probe {
	pid_t pid;
	int pagemap_fd;	   /* /proc/PID/pagemap (PFNs need root) */
	int kpageflags_fd; /* /proc/kpageflags */
};

int resident_probe_open(struct resident_probe *rp, pid_t pid);
void resident_probe_close(struct resident_probe *rp);

/* Whether the n pages from page number `first` are resident (present in
 * memory, not swapped out) into out[]: 0, or -1 when pagemap cannot be
 * read (the process exited). */
int resident_pages(struct resident_probe *rp, uint64_t first, size_t n, bool *out);

/* The transparent huge page (a large anonymous folio) that maps addr now:
 * its size and *start, or 0 when addr is backed by a small page or
 * nothing (or cannot be read). One pagemap and one kpageflags read when it
 * is a small page. */
uint64_t resident_thp_at(struct resident_probe *rp, uint64_t addr, uint64_t *start);

#endif
