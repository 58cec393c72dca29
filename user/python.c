// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* STUB: Python support not built yet. */
#include <stddef.h>
#include "python.h"

struct py_support *py_open(const struct lb_target *t, const char **warning)
{
	(void)t;
	*warning = NULL;
	return NULL;
}
int py_before_load(struct py_support *py, struct leakbpf_bpf *skel)
{
	(void)py;
	(void)skel;
	return 0;
}
int py_attach(struct py_support *py, struct leakbpf_bpf *skel, struct probe_set *ps)
{
	(void)py;
	(void)skel;
	(void)ps;
	return 0;
}
int py_resolve_frame(struct py_support *py, const struct lb_py_frame *f, struct rm_frame *out)
{
	(void)py;
	(void)f;
	(void)out;
	return -1;
}
bool py_is_interpreter_addr(struct py_support *py, uint64_t addr)
{
	(void)py;
	(void)addr;
	return false;
}
const char *py_describe(struct py_support *py)
{
	(void)py;
	return NULL;
}
const char *py_allocator_note(struct py_support *py)
{
	(void)py;
	return NULL;
}
void py_close(struct py_support *py)
{
	(void)py;
}
