// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A session's one entry into attaching. The steps, each its own file:
 *  1. the malloc family of every allocator the target maps
 *     (attach/allocators.c);
 *  2. for CPython, the code-object watch (python/code_watch.c) and the
 *     object allocator probes (python/alloc_probes.c);
 *  3. the dynamic loader's change notification (unwind/dl_watch.c), so that
 *     libraries loaded later get their unwind tables at once;
 *  4. the commit that creates the uprobe_multi links (attach/probe_set.c).
 * Each probed function goes through attach/function_probe.c, which places
 * it with attach/placement.c (on attach/x86.c's decoder).
 */
#include <stdio.h>
#include "attach/allocators.h"
#include "attach/probe_set.h"
#include "attach/skel.h"
#include "python/support.h"
#include "session/attach.h"
#include "session/bpf_settings.h"
#include "target/process.h"
#include "unwind/dl_watch.h"

int attach_probes(const struct attach_plan *p, struct leakbpf_bpf *skel, struct probe_set *ps,
		  char *err, size_t errlen)
{
	if (allocators_attach(p->maps, p->command_exe, skel, ps, err, errlen) <= 0)
		return -1;
	bool code_watch = false;
	int perr =
	    p->py ? py_attach(p->py, skel, ps, p->py_alloc_all, &code_watch, err, errlen) : 0;
	if (perr == -2)
		return -1; /* --py-alloc all on a build without it */
	if (perr)
		fprintf(stderr, "leakbpf: warning: Python allocator probes failed: Python object "
				"allocations are not traced\n");
	/* libraries loaded later get unwind tables at once (without it, at
	 * the next periodic refresh) */
	dl_watch_attach(p->maps, skel, ps);
	/* a probe that failed here may be the code-object watch, which lets
	 * BPF keep code tags across walks: without it, tags stay per walk */
	size_t failed = probe_set_commit(ps);
	bpf_settings_code_watch(skel, code_watch && !failed);
	/* a target that exited meanwhile takes its files along: the session
	 * says so. Probes fail with ESRCH as soon as it drops its mappings, a
	 * moment before /proc shows it dead: give it that moment. */
	if (failed && target_exits_within(p->target->pid, 500)) {
		snprintf(err, errlen, "probes failed: %s", ps->commit_err);
		return -1;
	}
	if (!ps->nattached) {
		snprintf(err, errlen, "no probe could be attached (%s)", ps->commit_err);
		return -1;
	}
	if (failed)
		fprintf(stderr,
			"leakbpf: warning: %zu probes could not be attached (the first: %s)\n",
			failed, ps->commit_err);
	return 0;
}
