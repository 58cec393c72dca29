// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The exec and mmap programs (see process_events.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "attach/process_events.h"
#include "attach/skel.h"

int process_events_attach(struct process_events *pe, struct leakbpf_bpf *skel, char *err,
			  size_t errlen)
{
	memset(pe, 0, sizeof(*pe));
	pe->exec = bpf_program__attach(skel->progs.lb_new_program);
	if (!pe->exec) {
		snprintf(err, errlen, "cannot attach the exec tracepoint: %s", strerror(errno));
		return -1;
	}
	pe->mmap_enter = bpf_program__attach(skel->progs.lb_mmap_enter);
	pe->mmap_exit = pe->mmap_enter ? bpf_program__attach(skel->progs.lb_mmap_exit) : NULL;
	if (pe->mmap_exit)
		return 0;
	snprintf(err, errlen, "cannot attach the mmap tracepoints (%s%s)", strerror(errno),
		 access("/sys/kernel/tracing/events", F_OK) ? ": tracefs is not mounted" : "");
	bpf_link__destroy(pe->mmap_enter);
	pe->mmap_enter = NULL;
	return 1;
}

void process_events_detach(struct process_events *pe)
{
	bpf_link__destroy(pe->exec);
	bpf_link__destroy(pe->mmap_enter);
	bpf_link__destroy(pe->mmap_exit);
	memset(pe, 0, sizeof(*pe));
}
