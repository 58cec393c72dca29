// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The dynamic loader's change notification, probed (see dl_watch.h). */
#include <limits.h>
#include <stdlib.h>
#include "attach/function_probe.h"
#include "attach/skel.h"
#include "target/elf_file.h"
#include "target/process.h"
#include "unwind/dl_watch.h"

int dl_watch_attach(const struct lb_target *t, struct leakbpf_bpf *skel, struct probe_set *ps)
{
	const struct lb_mapping *m = target_find_module(t, "ld-linux");
	char path[PATH_MAX], why[256];
	/* LEAKBPF_NO_DL_WATCH=1: only the periodic refresh (to measure it) */
	if (getenv("LEAKBPF_NO_DL_WATCH") || !m || target_file_path(t, m, path, sizeof(path)))
		return -1;
	struct elf_file *ef = elf_file_open(path, why, sizeof(why));
	if (!ef)
		return -1;
	struct probe_module pm = {ef, path, m->path, t->pid};
	struct probe_spec spec = {.name = "_dl_debug_state", .prog = skel->progs.lb_dl_change};
	int err = probe_function(ps, &pm, &spec);
	elf_file_close(ef);
	return err ? -1 : 0;
}
