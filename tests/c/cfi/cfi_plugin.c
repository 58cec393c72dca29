// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A library cfi_dlopen loads after leakbpf attached; it leaks. Built
 * without frame pointers. */
#include <stdlib.h>

#define STEP __attribute__((noinline, noipa))

void plugin_keep(void *p);

STEP static void *plugin_alloc(size_t n)
{
	void *p = malloc(n);
	plugin_keep(p);
	return p;
}

STEP static void *plugin_work(size_t n)
{
	void *p = plugin_alloc(n);
	plugin_keep(p);
	return p;
}

STEP void *plugin_run(size_t n)
{
	void *p = plugin_work(n);
	plugin_keep(p);
	return p;
}

void plugin_keep(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}
