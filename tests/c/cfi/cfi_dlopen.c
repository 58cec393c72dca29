// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loads a library after leakbpf attached, and leaks through it:
 *   cfi_dlopen PLUGIN       after go: dlopen, print "loaded", wait for a
 *                           second byte (the driver saw leakbpf's table
 *                           for the library), then leak LEAKS blocks
 *   cfi_dlopen PLUGIN --burst MS
 *                           after go: dlopen, then leak one block per
 *                           millisecond for MS ms, block i of 1000 + i
 *                           bytes (how soon after dlopen stacks are
 *                           complete: bench/dlopen-window.sh)
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../harness.h"

#define STEP __attribute__((noinline, noipa))

enum { LEAKS = 5, LEAK_SZ = 136 };

typedef void *(*run_fn)(size_t);

STEP static run_fn load_plugin(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);
	if (!h) {
		lt_say("dlopen failed: %s", dlerror());
		exit(3);
	}
	return (run_fn)dlsym(h, "plugin_run");
}

STEP static void call_plugin(run_fn run, size_t n)
{
	lt_keep(run(n));
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	if (lt.argc < 1)
		return 2;
	int burst_ms = lt.argc >= 3 && !strcmp(lt.argv[1], "--burst") ? atoi(lt.argv[2]) : 0;
	lt_ready(&lt);
	lt_wait_go(&lt);
	run_fn run = load_plugin(lt.argv[0]);
	if (burst_ms > 0) {
		struct timespec ms = {0, 1000000};
		for (int i = 0; i < burst_ms; i++) {
			call_plugin(run, 1000 + (size_t)i);
			nanosleep(&ms, NULL);
		}
		lt_leak(&lt, "plugin_alloc", (size_t)burst_ms,
			(size_t)burst_ms * 1000 + (size_t)burst_ms * (burst_ms - 1) / 2);
	} else {
		lt_say("loaded");
		lt_wait_go(&lt);
		for (int i = 0; i < LEAKS; i++)
			call_plugin(run, LEAK_SZ);
		lt_leak(&lt, "plugin_alloc", LEAKS, LEAKS * LEAK_SZ);
	}
	lt_done(&lt);
	return lt_end(&lt);
}
