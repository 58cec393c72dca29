// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The traced process as seen through /proc. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/array.h"
#include "target/maps.h"
#include "target/process.h"

static void free_maps(struct lb_target *t)
{
	for (size_t i = 0; i < t->nmaps; i++)
		free(t->maps[i].path);
	free(t->maps);
	t->maps = NULL;
	t->nmaps = 0;
}

struct mapping_list {
	struct lb_mapping *maps;
	size_t n, cap;
};

static int add_mapping(const struct maps_entry *e, void *arg)
{
	struct mapping_list *l = arg;
	char *path;

	if (ARRAY_RESERVE(l->maps, l->cap, l->n + 1) || !(path = strdup(e->path)))
		return -1;
	struct lb_mapping *m = &l->maps[l->n++];

	*m = (struct lb_mapping){
	    .start = e->start, .end = e->end, .offset = e->offset, .inode = e->inode, .path = path};
	memcpy(m->perms, e->perms, sizeof(m->perms));
	return 0;
}

int target_reload_maps(struct lb_target *t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct mapping_list l = {0};
	int rc = maps_read_fd(fd, add_mapping, &l, NULL);
	close(fd);
	if (rc || l.n == 0) {
		struct lb_target tmp = {.maps = l.maps, .nmaps = l.n};
		free_maps(&tmp);
		return -1;
	}
	free_maps(t);
	t->maps = l.maps;
	t->nmaps = l.n;
	return 0;
}

static char *read_cmdline(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return strdup("");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; n && i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return strdup(buf);
}

/* /proc/PID/stat into buf; the text after the command's closing ')' (the
 * command may hold anything, ')' included), or NULL. */
static const char *stat_fields(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp + 2 : NULL;
}

pid_t target_parent(pid_t pid)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	int ppid;
	char state;
	/* fields 3 (state) and 4 (parent) */
	return p && sscanf(p, "%c %d", &state, &ppid) == 2 ? (pid_t)ppid : -1;
}

uint64_t target_start_time(pid_t pid)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	/* fields from 3 (state) on; start time is field 22 */
	for (int field = 3; p && field < 22; field++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

int target_open(pid_t pid, struct lb_target *t, char *err, size_t errlen)
{
	char path[64], buf[PATH_MAX];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->start_time = target_start_time(pid);
	bool alive = target_alive(pid);
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "no such process: %d", pid);
		return -1;
	}
	if (!fgets(t->comm, sizeof(t->comm), f))
		t->comm[0] = '\0';
	fclose(f);
	t->comm[strcspn(t->comm, "\n")] = '\0';

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0 && alive && target_gone(t)) {
		snprintf(err, errlen, "process %d exited while leakbpf was attaching", pid);
		return -1;
	}
	if (n < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "process %d is a kernel thread or a zombie", pid);
		else
			snprintf(err, errlen, "cannot read /proc/%d/exe: %s", pid, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	t->exe_path = strdup(buf);
	t->cmdline = read_cmdline(pid);
	if (target_reload_maps(t)) {
		if (alive && target_gone(t))
			snprintf(err, errlen, "process %d exited while leakbpf was attaching", pid);
		else
			snprintf(err, errlen, "cannot read the mappings of process %d", pid);
		target_close(t);
		return -1;
	}
	return 0;
}

void target_close(struct lb_target *t)
{
	free_maps(t);
	free(t->exe_path);
	free(t->cmdline);
	t->exe_path = t->cmdline = NULL;
}

bool target_alive(pid_t pid)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	/* A zombie has no memory left to trace. */
	return p && *p != 'Z' && *p != 'X';
}

int target_wait_stopped(pid_t pid, int timeout_ms)
{
	for (int waited = 0;; waited++) {
		char buf[1024];
		const char *p = stat_fields(pid, buf, sizeof(buf));
		if (!p || *p == 'Z' || *p == 'X')
			return -1;
		if (*p == 'T')
			return 0;
		if (waited >= timeout_ms)
			return -1;
		usleep(1000);
	}
}

bool target_gone(const struct lb_target *t)
{
	return !target_alive(t->pid) || target_start_time(t->pid) != t->start_time;
}

int target_pidfd(const struct lb_target *t)
{
	int fd = pidfd_open(t->pid, 0);
	/* opened after t was: the same process only if its start time is */
	if (fd >= 0 && target_gone(t)) {
		close(fd);
		return -1;
	}
	return fd;
}

bool target_exits_within(pid_t pid, int ms)
{
	for (int waited = 0;; waited += 10) {
		if (!target_alive(pid))
			return true;
		if (waited >= ms)
			return false;
		usleep(10000);
	}
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

const struct lb_mapping *target_find_module(const struct lb_target *t, const char *prefix)
{
	size_t plen = strlen(prefix);
	for (size_t i = 0; i < t->nmaps; i++) {
		const struct lb_mapping *m = &t->maps[i];
		if (m->path[0] != '/')
			continue;
		if (!strncmp(base_name(m->path), prefix, plen))
			return m;
	}
	return NULL;
}

const struct lb_mapping *target_exe_mapping(const struct lb_target *t)
{
	for (size_t i = 0; i < t->nmaps; i++)
		if (t->exe_path && !strcmp(t->maps[i].path, t->exe_path))
			return &t->maps[i];
	return NULL;
}

int target_file_path(const struct lb_target *t, const struct lb_mapping *m, char *buf, size_t len)
{
	/* map_files names the exact inode the target maps, even when the path
	 * is another file (or none) in our mount namespace. */
	snprintf(buf, len, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, t->pid, m->start, m->end);
	if (access(buf, R_OK) == 0)
		return 0;
	if (m->path[0] != '/')
		return -1;
	snprintf(buf, len, "/proc/%d/root%s", t->pid, m->path);
	return access(buf, R_OK) == 0 ? 0 : -1;
}

uint64_t target_module_base(const struct lb_target *t, const struct lb_mapping *m)
{
	uint64_t base = m->start - m->offset;
	for (size_t i = 0; i < t->nmaps; i++) {
		const struct lb_mapping *o = &t->maps[i];
		if (o->inode == m->inode && !strcmp(o->path, m->path) && o->offset == 0)
			return o->start;
	}
	return base;
}

uint64_t target_status_bytes(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	uint64_t kb = 0;
	size_t n = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, " %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

uint64_t target_rss(pid_t pid)
{
	return target_status_bytes(pid, "VmRSS");
}
