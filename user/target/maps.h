/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * /proc/PID/maps, parsed in one place for every reader (target/process.c,
 * symbols/symbolizer.c).
 *
 * The kernel writes the lines but the paths are the target's: a file may be
 * named anything. The kernel escapes only a newline in a path (as the four
 * characters "\012", so one mapping is always one line and no path holds a
 * newline); spaces, other control bytes and a trailing " (deleted)" stand as
 * they are, and a file may itself be named "x\012y" or "x (deleted)". Paths
 * are handed on exactly as printed; readers that show one must escape it.
 * Lines are bounded in length and in number; what does not fit the format
 * is skipped and counted, never guessed at.
 */
#ifndef TARGET_MAPS_H
#define TARGET_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line read: a PATH_MAX path of escaped newlines, and the fields.
 * Longer lines (a path deeper than PATH_MAX) are skipped. */
#define MAPS_LINE_MAX (4 * 4096 + 128)
/* Lines read at most: 16 times the kernel's default vm.max_map_count. */
#define MAPS_LINES_MAX (1u << 20)

/* One mapping: "start-end perms offset major:minor inode   path". */
struct maps_entry {
	uint64_t start, end; /* [start, end), start < end */
	uint64_t offset;     /* file offset of start */
	uint64_t inode;
	unsigned dev_major, dev_minor;
	char perms[5];	  /* "r-xp": read, write, exec, shared or private */
	const char *path; /* as printed: "" (anonymous), "[heap]", "/lib/x.so (deleted)" */
	size_t path_len;
	bool deleted; /* the path ends in " (deleted)" */
};

/* What a read saw besides the mappings. */
struct maps_stats {
	size_t mappings; /* lines handed on */
	size_t bad;	 /* lines not in the format (skipped) */
	size_t overlong; /* lines longer than MAPS_LINE_MAX (skipped) */
	bool truncated;	 /* stopped after MAPS_LINES_MAX lines */
};

/* Called once per mapping, in the order of the text (by address). e and its
 * path are valid during the call only. A non-zero return stops the read. */
typedef int (*maps_fn)(const struct maps_entry *e, void *arg);

/* Parse one NUL-terminated line (without its newline) into e, whose path
 * points into line. 0, or -1 when the line is not a mapping. */
int maps_parse_line(const char *line, struct maps_entry *e);

/* Every mapping of text[0..len) (lines end in '\n'; a last line may not),
 * or of the file open at fd, read to its end. Returns 0 once all is read,
 * fn's non-zero value when it stopped the read, -1 when reading failed or
 * memory ran out. st (may be NULL) gets the counts. */
int maps_parse_text(const char *text, size_t len, maps_fn fn, void *arg, struct maps_stats *st);
int maps_read_fd(int fd, maps_fn fn, void *arg, struct maps_stats *st);

#endif
