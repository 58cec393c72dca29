/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The traced process as seen through /proc: identity and mappings. */
#ifndef TARGET_H
#define TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lb_mapping {
	uint64_t start, end, offset;
	char perms[5];
	unsigned long inode;
	char *path; /* as printed in /proc/PID/maps (may be "[heap]", "") */
};

struct lb_target {
	pid_t pid;
	uint64_t start_time; /* /proc/PID/stat field 22: tells a reused pid apart */
	char comm[64];
	char *cmdline;	/* space-joined argv */
	char *exe_path; /* readlink of /proc/PID/exe (target's namespace view) */
	struct lb_mapping *maps;
	size_t nmaps;
};

/* The parent process of pid (/proc/PID/stat), or -1 when unreadable. */
pid_t target_parent(pid_t pid);

/* Fill t from /proc/PID. Returns 0, or -1 with a one-line reason in err. */
int target_open(pid_t pid, struct lb_target *t, char *err, size_t errlen);
int target_reload_maps(struct lb_target *t);
void target_close(struct lb_target *t);
bool target_alive(pid_t pid);
/* Whether pid is dead, or dies within ms milliseconds (polled). */
bool target_exits_within(pid_t pid, int ms);
/* Wait up to timeout_ms for pid to be stopped (state T: a SIGSTOP of
 * someone not its parent, read from /proc): 0, or -1 (gone, or not
 * stopped in time). */
int target_wait_stopped(pid_t pid, int timeout_ms);
/* Whether the process t was opened on is gone: exited (or a zombie), or
 * its pid now names another process (another start time). */
bool target_gone(const struct lb_target *t);
/* A pidfd of t's process (readable once it exits), checked to be the
 * process t was opened on; -1 when it is gone or pidfds are missing. */
int target_pidfd(const struct lb_target *t);
/* The start time of pid (clock ticks after boot), 0 when unknown. */
uint64_t target_start_time(pid_t pid);

/* First file-backed mapping whose basename matches the prefix
 * (e.g. "libc.so", "libpython3."), or NULL. */
const struct lb_mapping *target_find_module(const struct lb_target *t, const char *prefix);
/* Mapping of the main executable (matches exe_path), or NULL. */
const struct lb_mapping *target_exe_mapping(const struct lb_target *t);

/* A path in the tracer's namespace that opens the very file the target maps:
 * /proc/PID/map_files/START-END when readable, else /proc/PID/root/PATH. */
int target_file_path(const struct lb_target *t, const struct lb_mapping *m, char *buf, size_t len);

/* Load address of the module that contains mapping m (start of its mapping
 * with file offset 0). */
uint64_t target_module_base(const struct lb_target *t, const struct lb_mapping *m);

/* VmRSS in bytes, 0 if unknown. */
uint64_t target_rss(pid_t pid);
/* A "Field: N kB" line of /proc/PID/status in bytes (VmRSS, RssAnon...),
 * 0 if unknown. */
uint64_t target_status_bytes(pid_t pid, const char *field);

#endif
