// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uprobe_multi links through bpf(BPF_LINK_CREATE) directly: Debian 12's
 * libbpf (1.1) and UAPI headers predate them (Linux 6.6). Everything else,
 * loading included, stays with libbpf; only the link attributes are laid
 * out here, as in the kernel's union bpf_attr (checked against vmlinux/).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "attach/uprobe_multi.h"

#define UMULTI_F_RETURN 1 /* BPF_F_UPROBE_MULTI_RETURN */

/* bpf_attr.link_create for a uprobe_multi link. */
struct umulti_link_create {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t umflags;
	uint32_t pid;
	uint32_t pad;
};

static int link_create(const struct umulti_link_create *a)
{
	/* the kernel takes the attributes as a zero-padded union bpf_attr */
	union {
		struct umulti_link_create lc;
		char bytes[sizeof(union bpf_attr) > sizeof(*a) ? sizeof(union bpf_attr)
							       : sizeof(*a)];
	} attr;
	memset(&attr, 0, sizeof(attr));
	attr.lc = *a;
	long fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : (int)fd;
}

int umulti_attach(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
		  size_t n, bool ret, pid_t pid)
{
	struct umulti_link_create a = {
	    .prog_fd = (uint32_t)prog_fd,
	    .attach_type = UMULTI_ATTACH_TYPE,
	    .path = (uint64_t)(uintptr_t)path,
	    .offsets = (uint64_t)(uintptr_t)offsets,
	    .cookies = (uint64_t)(uintptr_t)cookies,
	    .cnt = (uint32_t)n,
	    .umflags = ret ? UMULTI_F_RETURN : 0,
	    .pid = (uint32_t)pid,
	};
	return link_create(&a);
}

/* A kernel with uprobe_multi looks the path up after checking the
 * program, so a missing path gives ENOENT; older kernels refuse the attach
 * type itself with EINVAL. Nothing gets attached either way. */
bool umulti_supported(void)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = UMULTI_ATTACH_TYPE);
	int prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "lb_umulti_probe", "Dual BSD/GPL", insns,
				 sizeof(insns) / sizeof(insns[0]), &opts);
	if (prog < 0)
		return false;
	uint64_t off = 0, cookie = 0;
	int fd =
	    umulti_attach(prog, "/nonexistent/leakbpf-feature-probe", &off, &cookie, 1, false, 0);
	if (fd >= 0)
		close(fd);
	close(prog);
	return fd == -ENOENT;
}
