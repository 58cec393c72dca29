// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The session's unwind tables: one rows array, mapped, and its store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cfi.h"
#include "session/shared_tables.h"
#include "unwind/cfi_store.h"

static int give_up(struct shared_tables *t, const char *why, int err)
{
	fprintf(stderr,
		"leakbpf: warning: cannot %s the unwind tables (%s): native stacks use "
		"frame pointers\n",
		why, strerror(err));
	shared_tables_close(t);
	return -1;
}

int shared_tables_open(struct shared_tables *t, uint32_t capacity, bool verbose)
{
	memset(t, 0, sizeof(*t));
	t->rows_fd = -1;
	if (!capacity)
		capacity = LB_CFI_ROWS_DEFAULT;
	/* as bpf/leakbpf.bpf.c declares cfi_rows, sized for tables */
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	t->rows_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cfi_rows", sizeof(uint32_t),
				    sizeof(struct lb_cfi_row), capacity, &opts);
	if (t->rows_fd < 0)
		return give_up(t, "create", errno);
	size_t bytes = (size_t)capacity * sizeof(struct lb_cfi_row);
	void *rows = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, t->rows_fd, 0);
	if (rows == MAP_FAILED)
		return give_up(t, "map", errno);
	t->rows = rows;
	t->capacity = capacity;
	t->store = cfi_store_new(t->rows, capacity, CFI_STORE_GRACE_NS, verbose);
	if (!t->store)
		return give_up(t, "keep", ENOMEM);
	return 0;
}

void shared_tables_close(struct shared_tables *t)
{
	cfi_store_free(t->store);
	if (t->rows)
		munmap(t->rows, (size_t)t->capacity * sizeof(struct lb_cfi_row));
	if (t->rows_fd >= 0)
		close(t->rows_fd);
	memset(t, 0, sizeof(*t));
	t->rows_fd = -1;
}
