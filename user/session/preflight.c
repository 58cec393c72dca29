// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Privileges and kernel features, checked up front for clear errors. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "session/preflight.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT	  38
#define CAP_BPF_BIT	  39

static uint64_t effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long caps = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static bool has(uint64_t caps, int bit)
{
	return caps & (1ULL << bit);
}

int preflight_check(char *err, size_t errlen)
{
	uint64_t caps = effective_caps();
	/* SYS_ADMIN: map_files and other processes' /proc entries; BPF+PERFMON
	 * (or SYS_ADMIN alone on older kernels) for the programs and uprobes. */
	if (!has(caps, CAP_SYS_ADMIN_BIT) || !(has(caps, CAP_BPF_BIT) || geteuid() == 0) ||
	    !(has(caps, CAP_PERFMON_BIT) || has(caps, CAP_SYS_ADMIN_BIT))) {
		snprintf(err, errlen,
			 "needs root (CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON): run it as root or "
			 "with sudo");
		return -1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux): needs a kernel built "
			 "with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)");
		return -1;
	}
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK)) {
		snprintf(err, errlen, "this kernel has no uprobes (CONFIG_UPROBE_EVENTS)");
		return -1;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		snprintf(err, errlen, "this kernel has no BPF ring buffer (needs Linux 5.8+)");
		return -1;
	}
	return 0;
}
