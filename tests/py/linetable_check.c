// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Drives user/python/linetable.c for tests/test_python_core.py. Input lines:
 *   KIND FIRSTLINENO HEXTABLE LASTI...
 * Output: one line per input with the line of each LASTI (code units).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "python/linetable.h"

int main(void)
{
	static char buf[1 << 22];
	static unsigned char tab[1 << 21];
	while (fgets(buf, sizeof(buf), stdin)) {
		char *save = NULL;
		char *tok = strtok_r(buf, " \n", &save);
		if (!tok)
			continue;
		int kind = atoi(tok);
		int first = atoi(strtok_r(NULL, " \n", &save));
		char *hex = strtok_r(NULL, " \n", &save);
		size_t n = 0;
		if (strcmp(hex, "-") != 0)
			for (; hex[2 * n] && hex[2 * n + 1] && n < sizeof(tab); n++)
				sscanf(hex + 2 * n, "%2hhx", &tab[n]);
		const char *sep = "";
		while ((tok = strtok_r(NULL, " \n", &save))) {
			printf("%s%d", sep, py_linetable_line(kind, tab, n, first, atoll(tok)));
			sep = " ";
		}
		printf("\n");
	}
	return 0;
}
