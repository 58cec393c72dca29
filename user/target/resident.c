// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Anonymous RSS and huge pages of the target, from /proc and sysfs. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "target/process.h"
#include "target/resident.h"

#define PAGE_SHIFT 12
#define PMD_SIZE   (2ULL << 20)
/* /proc/PID/pagemap: bit 63 present, bits 0-54 the PFN */
#define PM_PRESENT (1ULL << 63)
#define PM_PFN	   ((1ULL << 55) - 1)
/* /proc/kpageflags (include/uapi/linux/kernel-page-flags.h) */
#define KPF_COMPOUND_HEAD (1ULL << 15)
#define KPF_THP		  (1ULL << 22)

uint64_t target_anon_rss(pid_t pid)
{
	return target_status_bytes(pid, "RssAnon");
}

/* "always [madvise] never": the bracketed word. */
static void sysfs_choice(const char *path, char *word, size_t len)
{
	char buf[128] = "";
	word[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;
		if (a && b && (size_t)(b - a) < len) {
			memcpy(word, a + 1, (size_t)(b - a - 1));
			word[b - a - 1] = '\0';
		}
	}
	fclose(f);
}

static bool thp_on(const char *word)
{
	return !strcmp(word, "always") || !strcmp(word, "madvise");
}

bool target_thp_enabled(void)
{
	static const char dir[] = "/sys/kernel/mm/transparent_hugepage";
	char top[16], word[16], path[512];
	snprintf(path, sizeof(path), "%s/enabled", dir);
	sysfs_choice(path, top, sizeof(top));
	bool on = thp_on(top);
	/* per-size settings (6.8+), "inherit" following the top one */
	DIR *d = opendir(dir);
	struct dirent *de;
	while (!on && d && (de = readdir(d))) {
		if (strncmp(de->d_name, "hugepages-", 10))
			continue;
		snprintf(path, sizeof(path), "%s/%s/enabled", dir, de->d_name);
		sysfs_choice(path, word, sizeof(word));
		on = thp_on(!strcmp(word, "inherit") ? top : word);
	}
	if (d)
		closedir(d);
	return on;
}

int resident_probe_open(struct resident_probe *rp, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	rp->pid = pid;
	rp->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	rp->kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	return rp->pagemap_fd >= 0 && rp->kpageflags_fd >= 0 ? 0 : -1;
}

void resident_probe_close(struct resident_probe *rp)
{
	if (rp->pagemap_fd >= 0)
		close(rp->pagemap_fd);
	if (rp->kpageflags_fd >= 0)
		close(rp->kpageflags_fd);
	rp->pagemap_fd = rp->kpageflags_fd = -1;
}

int resident_pages(struct resident_probe *rp, uint64_t first, size_t n, bool *out)
{
	uint64_t pm[512];
	while (n) {
		size_t k = n < 512 ? n : 512;
		if (rp->pagemap_fd < 0 ||
		    pread(rp->pagemap_fd, pm, k * 8, (off_t)(first * 8)) != (ssize_t)(k * 8))
			return -1;
		for (size_t i = 0; i < k; i++)
			out[i] = pm[i] & PM_PRESENT;
		first += k;
		out += k;
		n -= k;
	}
	return 0;
}

static uint64_t kpageflags(struct resident_probe *rp, uint64_t pfn)
{
	uint64_t flags = 0;
	if (pread(rp->kpageflags_fd, &flags, sizeof(flags), (off_t)(pfn * 8)) != sizeof(flags))
		return 0;
	return flags;
}

uint64_t resident_thp_at(struct resident_probe *rp, uint64_t addr, uint64_t *start)
{
	uint64_t pm[PMD_SIZE >> PAGE_SHIFT];
	uint64_t base = addr & ~(PMD_SIZE - 1), one;
	if (rp->pagemap_fd < 0 || rp->kpageflags_fd < 0)
		return 0;
	/* the common case first: a small page */
	if (pread(rp->pagemap_fd, &one, sizeof(one), (off_t)((addr >> PAGE_SHIFT) * 8)) !=
		sizeof(one) ||
	    !(one & PM_PRESENT) || !(one & PM_PFN) || !(kpageflags(rp, one & PM_PFN) & KPF_THP))
		return 0;
	if (pread(rp->pagemap_fd, pm, sizeof(pm), (off_t)((base >> PAGE_SHIFT) * 8)) != sizeof(pm))
		return 0;
	size_t at = (addr - base) >> PAGE_SHIFT;
	if (!(pm[at] & PM_PRESENT) || !(pm[at] & PM_PFN))
		return 0;
	/* the largest naturally aligned block around addr that is one folio:
	 * present, contiguous frames, its first a THP head */
	for (size_t n = PMD_SIZE >> PAGE_SHIFT; n >= 4; n /= 2) {
		size_t first = at & ~(n - 1);
		uint64_t pfn0 = pm[first] & PM_PFN;
		bool one = pm[first] & PM_PRESENT;
		for (size_t i = 1; one && i < n; i++)
			one = (pm[first + i] & PM_PRESENT) && (pm[first + i] & PM_PFN) == pfn0 + i;
		if (!one)
			continue;
		uint64_t f = kpageflags(rp, pfn0);
		if ((f & KPF_THP) && (f & KPF_COMPOUND_HEAD)) {
			*start = base + ((uint64_t)first << PAGE_SHIFT);
			return (uint64_t)n << PAGE_SHIFT;
		}
	}
	return 0;
}
