// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <string.h>
#include "util/escape.h"
#include "util/utf8.h"

/* The next unit of s as it is written: its text into out[16], the bytes of
 * s it covers as the return value (>= 1 while *s). */
static size_t next_unit(const char *s, const char *also, char out[16], size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	int n = utf8_seq_len(s, &cp);
	bool control = n == 1 && (cp < 0x20 || cp == 0x7f || (also && strchr(also, (int)cp)));
	size_t o = 0;

	if (n == 1 && cp == '\\') {
		memcpy(out, "\\\\", 2);
		*outlen = 2;
		return 1;
	}
	/* C1 controls and bidi formatting are escaped byte by byte, like invalid bytes */
	if (n == 0 || control || (n == 2 && cp >= 0x80 && cp <= 0x9f) || utf8_reorders(cp)) {
		for (int i = 0; i < (n ? n : 1); i++) {
			unsigned char c = (unsigned char)s[i];

			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
		*outlen = o;
		return n ? (size_t)n : 1;
	}
	memcpy(out, s, n);
	*outlen = n;
	return n;
}

void escape_put(FILE *out, const char *s, const char *also)
{
	const char *run; /* bytes copied as they are, written at once */
	char unit[16];
	size_t len, step;

	if (!s)
		s = "(null)";
	for (run = s; *s; s += step) {
		step = next_unit(s, also, unit, &len);
		if (len == step && !memcmp(unit, s, len))
			continue;
		fwrite(run, 1, s - run, out);
		fwrite(unit, 1, len, out);
		run = s + step;
	}
	fwrite(run, 1, s - run, out);
}

const char *escape_str(const char *s, const char *also, char *buf, size_t len)
{
	char unit[16];
	size_t ulen, o = 0;

	if (!len)
		return buf;
	if (!s)
		s = "(null)";
	while (*s) {
		size_t step = next_unit(s, also, unit, &ulen);

		if (o + ulen >= len)
			break;
		memcpy(buf + o, unit, ulen);
		o += ulen;
		s += step;
	}
	buf[o] = '\0';
	return buf;
}
