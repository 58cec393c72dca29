// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/utf8.h"

int utf8_seq_len(const char *str, uint32_t *cp_out)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	uint32_t cp;
	int n;

	if (c < 0x80) {
		n = 1;
		cp = c;
		goto done;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
done:
	if (cp_out)
		*cp_out = cp;
	return n;
}

bool utf8_reorders(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}
