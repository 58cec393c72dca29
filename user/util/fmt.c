// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stdio.h>
#include "util/fmt.h"

const char *fmt_bytes(double bytes, int decimals, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = fabs(bytes);
	unsigned u = 0;
	if (!(v == v))
		v = 0; /* NaN */
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	const char *sign = bytes < 0 ? "-" : "";
	if (u == 0)
		snprintf(buf, len, "%s%.0f B", sign, v);
	else
		snprintf(buf, len, "%s%.*f %s", sign, decimals, v, units[u]);
	return buf;
}

const char *human_bytes(double bytes, char *buf, size_t len)
{
	return fmt_bytes(bytes, 1, buf, len);
}

const char *signed_bytes(int64_t b, char *buf, size_t len)
{
	char tmp[32];
	human_bytes(b < 0 ? -(double)b : (double)b, tmp, sizeof(tmp));
	snprintf(buf, len, "%s%s", b < 0 ? "-" : "+", tmp);
	return buf;
}
