// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * floor: attach the empty programs of floor.bpf.c to a running process at
 * the sites leakbpf probes, print one ready line, and stay attached until
 * the process exits (or SIGINT/SIGTERM). bench/run.sh compares a malloc+free
 * loop under it with the same loop under leakbpf.
 *
 * Sites (-s, comma separated):
 *   malloc      uprobe on malloc+0 (glibc: push %r12, emulated)
 *   malloc-ret  uretprobe on malloc
 *   free        uprobe on free past its "test %rdi,%rdi; je" NULL guard
 *   free0       uprobe on free+0 (the test: single-stepped)
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

#define MAX_LINKS 8

struct site {
	const char *name; /* as given to -s */
	const char *func;
	bool retprobe;
	bool skip_null_guard;
};

static const struct site all_sites[] = {
    {"malloc", "malloc", false, false},
    {"malloc-ret", "malloc", true, false},
    {"free", "free", false, true},
    {"free0", "free", false, false},
};

/* The target's allocator file, opened through /proc so that it is the very
 * file the target maps, whatever the mount namespace. */
struct libc_file {
	char path[PATH_MAX];
	int fd;
	Elf *elf;
};

static int find_libc(pid_t pid, char *path, size_t len)
{
	char maps[64], line[PATH_MAX + 128];
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(maps, "r");
	if (!f)
		return -1;
	int found = -1;
	while (found && fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		int off = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &start, &end, &off) < 2 || !off)
			continue;
		char *file = line + off, *nl = strchr(file, '\n');
		if (nl)
			*nl = '\0';
		const char *base = strrchr(file, '/');
		base = base ? base + 1 : file;
		if (strncmp(base, "libc.so", 7) && strncmp(base, "libc-", 5))
			continue;
		snprintf(path, len, "/proc/%d/map_files/%lx-%lx", (int)pid, start, end);
		found = 0;
	}
	fclose(f);
	if (found) /* static binary: its own malloc */
		snprintf(path, len, "/proc/%d/exe", (int)pid);
	return 0;
}

static int libc_open(struct libc_file *lf, pid_t pid)
{
	if (find_libc(pid, lf->path, sizeof(lf->path))) {
		fprintf(stderr, "floor: cannot read /proc/%d/maps: %s\n", (int)pid,
			strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	lf->fd = open(lf->path, O_RDONLY | O_CLOEXEC);
	if (lf->fd < 0) {
		fprintf(stderr, "floor: open %s: %s\n", lf->path, strerror(errno));
		return -1;
	}
	lf->elf = elf_begin(lf->fd, ELF_C_READ, NULL);
	if (!lf->elf) {
		fprintf(stderr, "floor: %s: %s\n", lf->path, elf_errmsg(-1));
		close(lf->fd);
		return -1;
	}
	return 0;
}

static void libc_close(struct libc_file *lf)
{
	elf_end(lf->elf);
	close(lf->fd);
}

/* Virtual address of a defined function symbol (.symtab, then .dynsym). */
static int symbol_vaddr(Elf *elf, const char *name, uint64_t *vaddr)
{
	static const Elf64_Word types[] = {SHT_SYMTAB, SHT_DYNSYM};
	for (size_t t = 0; t < 2; t++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != types[t] || !sh.sh_entsize)
				continue;
			Elf_Data *d = elf_getdata(scn, NULL);
			for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym s;
				if (!gelf_getsym(d, (int)i, &s) ||
				    GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF)
					continue;
				const char *n = elf_strptr(elf, sh.sh_link, s.st_name);
				if (n && !strcmp(n, name)) {
					*vaddr = s.st_value;
					return 0;
				}
			}
		}
	}
	return -1;
}

/* File offset of a virtual address (uprobes want file offsets). */
static int vaddr_to_offset(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t n;
	if (elf_getphdrnum(elf, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -1;
}

/* Length of a leading "test %rdi,%rdi; je ..." (free's NULL guard), else 0.
 * Every non-NULL call runs the instruction after it. */
static unsigned null_guard_len(const uint8_t *c)
{
	if (c[0] != 0x48 || c[1] != 0x85 || c[2] != 0xff)
		return 0;
	if (c[3] == 0x74)
		return 5; /* je rel8 */
	if (c[3] == 0x0f && c[4] == 0x84)
		return 9; /* je rel32 */
	return 0;
}

/* Whether the kernel emulates the instruction (no single-step): push reg,
 * nop, endbr64. Informational: printed on the ready line. */
static bool insn_emulated(const uint8_t *c)
{
	if (c[0] >= 0x50 && c[0] <= 0x57)
		return true;
	if (c[0] == 0x41 && c[1] >= 0x50 && c[1] <= 0x57)
		return true;
	if (c[0] == 0x90)
		return true;
	return c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa;
}

static struct bpf_program *site_prog(struct floor_bpf *skel, const struct site *s)
{
	if (s->retprobe)
		return skel->progs.floor_malloc_ret;
	return strcmp(s->func, "free") ? skel->progs.floor_malloc : skel->progs.floor_free;
}

/* Attach one site; appends a description to desc. */
static struct bpf_link *attach_site(struct floor_bpf *skel, struct libc_file *lf, pid_t pid,
				    const struct site *s, char *desc, size_t desclen)
{
	uint64_t vaddr, off;
	uint8_t code[16];
	if (symbol_vaddr(lf->elf, s->func, &vaddr) || vaddr_to_offset(lf->elf, vaddr, &off)) {
		fprintf(stderr, "floor: %s: no function %s\n", lf->path, s->func);
		return NULL;
	}
	if (pread(lf->fd, code, sizeof(code), (off_t)off) != (ssize_t)sizeof(code)) {
		fprintf(stderr, "floor: %s: cannot read %s\n", lf->path, s->func);
		return NULL;
	}
	unsigned skip = s->skip_null_guard ? null_guard_len(code) : 0;
	struct bpf_link *l =
	    bpf_program__attach_uprobe(site_prog(skel, s), s->retprobe, pid, lf->path, off + skip);
	if (!l) {
		fprintf(stderr, "floor: attach %s: %s\n", s->name, strerror(errno));
		return NULL;
	}
	size_t used = strlen(desc);
	const char *sep = used ? ", " : "";
	if (s->retprobe)
		snprintf(desc + used, desclen - used, "%s%s return (uretprobe)", sep, s->func);
	else
		snprintf(desc + used, desclen - used, "%s%s+%u (%s)", sep, s->func, skip,
			 insn_emulated(code + skip) ? "emulated" : "single-stepped");
	return l;
}

/* Wait until the target exits or we are told to stop. */
static void wait_target(pid_t pid)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct pollfd fds[2] = {
	    {.fd = signalfd(-1, &set, SFD_CLOEXEC), .events = POLLIN},
	    {.fd = (int)syscall(SYS_pidfd_open, pid, 0), .events = POLLIN},
	};
	while (poll(fds, 2, -1) < 0 && errno == EINTR)
		;
	close(fds[0].fd);
	if (fds[1].fd >= 0)
		close(fds[1].fd);
}

static int parse_sites(char *arg, const struct site **out, size_t *n)
{
	*n = 0;
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		size_t i;
		for (i = 0; i < sizeof(all_sites) / sizeof(all_sites[0]); i++)
			if (!strcmp(tok, all_sites[i].name))
				break;
		if (i == sizeof(all_sites) / sizeof(all_sites[0]) || *n == MAX_LINKS) {
			fprintf(stderr, "floor: unknown site %s\n", tok);
			return -1;
		}
		out[(*n)++] = &all_sites[i];
	}
	return *n ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: floor -p PID [-s SITES]\n"
			"  SITES: comma list of malloc, malloc-ret, free, free0\n"
			"         (default malloc,malloc-ret,free: the sites leakbpf uses)\n");
	return 2;
}

int main(int argc, char **argv)
{
	char default_sites[] = "malloc,malloc-ret,free";
	char *sites_arg = default_sites, *end;
	const struct site *sites[MAX_LINKS];
	struct bpf_link *links[MAX_LINKS] = {0};
	size_t nsites;
	pid_t pid = 0;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "p:s:h")) != -1) {
		switch (c) {
		case 'p':
			pid = (pid_t)strtol(optarg, &end, 10);
			if (*end || pid <= 0)
				return usage();
			break;
		case 's':
			sites_arg = optarg;
			break;
		default:
			return usage();
		}
	}
	if (!pid || optind != argc || parse_sites(sites_arg, sites, &nsites))
		return usage();

	struct libc_file lf;
	if (libc_open(&lf, pid))
		return 1;
	struct floor_bpf *skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: loading BPF programs: %s\n", strerror(errno));
		goto out_elf;
	}
	char desc[512] = "";
	for (size_t i = 0; i < nsites; i++) {
		links[i] = attach_site(skel, &lf, pid, sites[i], desc, sizeof(desc));
		if (!links[i])
			goto out;
	}
	fprintf(stderr, "floor: tracing pid %d: %s\n", (int)pid, desc);
	wait_target(pid);
	ret = 0;
out:
	for (size_t i = 0; i < nsites; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
out_elf:
	libc_close(&lf);
	return ret;
}
