// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Children of a process, from every /proc/PID/stat (see children.h). The
 * per-task "children" files need CONFIG_PROC_CHILDREN; this does not. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "target/children.h"

/* The parent field of /proc/PID/stat: after the command's last ')' (a
 * command may hold parentheses and spaces). -1 when unreadable. */
static pid_t parent_of(const char *pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	int ppid;
	char state;
	if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	return (pid_t)ppid;
}

size_t target_children(pid_t parent, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) || parent_of(de->d_name) != parent)
			continue;
		if (n < max)
			out[n] = (pid_t)atoi(de->d_name);
		n++;
	}
	closedir(d);
	return n;
}
