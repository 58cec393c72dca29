// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/array.h"

int array_reserve(void **items, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	if (size && n > SIZE_MAX / size)
		return -1;
	char *p = realloc(*items, n * size);
	if (!p)
		return -1;
	memset(p + *cap * size, 0, (n - *cap) * size);
	*items = p;
	*cap = n;
	return 0;
}
