// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Children of a process, from every /proc/PID/stat (see children.h). The
 * per-task "children" files need CONFIG_PROC_CHILDREN; this does not. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include "target/children.h"
#include "target/process.h"

size_t target_children(pid_t parent, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    target_parent((pid_t)atoi(de->d_name)) != parent)
			continue;
		if (n < max)
			out[n] = (pid_t)atoi(de->d_name);
		n++;
	}
	closedir(d);
	return n;
}
