// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor: empty programs for the probe sites leakbpf uses. Their cost is
 * the price of the uprobes themselves (trap, emulation or single-step,
 * return trampoline, BPF dispatch); whatever leakbpf costs beyond it is
 * its own work. Filtering to the target happens at attach time (per-pid
 * uprobes), so the programs do nothing at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("uprobe")
int floor_malloc(void *ctx __attribute__((unused)))
{
	return 0;
}

SEC("uretprobe")
int floor_malloc_ret(void *ctx __attribute__((unused)))
{
	return 0;
}

SEC("uprobe")
int floor_free(void *ctx __attribute__((unused)))
{
	return 0;
}
