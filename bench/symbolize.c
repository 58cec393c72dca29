// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What resolving code addresses to frames costs (user/symbols/): in the
 * first module of process PID whose path contains NAME, N addresses spread
 * evenly over its code are resolved once (each one new: what a report pays
 * the first time it sees an address, inline frames and demangling
 * included) and once more (from the per-address cache). Prints one
 * markdown table row. Usage: symbolize PID NAME [N]   (root: map_files)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "symbols/symbolizer.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first executable mapping of a file whose path contains name. */
static int find_code(int pid, const char *name, uint64_t *start, uint64_t *end, char *path,
		     size_t len)
{
	char maps[64], line[4096 + 128], perms[8], file[4096];
	FILE *f;
	int found = -1;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	if (!(f = fopen(maps, "r")))
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %4095s", start, end,
			   perms, file) == 4 &&
		    perms[2] == 'x' && strstr(file, name)) {
			snprintf(path, len, "%s", file);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	char err[256], path[4096];
	uint64_t start, end;
	unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 5000;
	struct symbolizer *s;

	if (argc < 3 || !n) {
		fprintf(stderr, "usage: symbolize PID NAME [N]\n");
		return 2;
	}
	if (find_code(atoi(argv[1]), argv[2], &start, &end, path, sizeof(path))) {
		fprintf(stderr, "symbolize: no code of '%s' in pid %s\n", argv[2], argv[1]);
		return 1;
	}
	if (!(s = symbolizer_new(atoi(argv[1]), err, sizeof(err)))) {
		fprintf(stderr, "symbolize: %s\n", err);
		return 1;
	}
	double us[2];
	unsigned long frames = 0;

	for (int pass = 0; pass < 2; pass++) {
		double t0 = now_s();

		for (unsigned i = 0; i < n; i++) /* +1: a return address, not a start */
			frames +=
			    symbolizer_frame_count(s, start + (end - start) / n * i + 1, true);
		us[pass] = (now_s() - t0) / n * 1e6;
	}
	printf("| %s | %u | %.1f | %.2f | %.2f |\n", strrchr(path, '/') + 1, n, us[0], us[1],
	       frames / 2.0 / n);
	symbolizer_free(s);
	return 0;
}
