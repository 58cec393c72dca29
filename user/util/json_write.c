// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Writing JSON strings and numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util/json.h"
#include "util/utf8.h"

char *utf8_fix(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t bad = 0, n = 0;
	char *out;

	for (const unsigned char *q = p; *q;) {
		int k = utf8_seq_len((const char *)q, NULL);

		bad += !k;
		q += k ? k : 1;
	}
	if (!bad)
		return NULL;
	out = malloc(strlen(s) + 2 * bad + 1); /* each bad byte grows to 3 */
	if (!out)
		return NULL;
	while (*p) {
		int k = utf8_seq_len((const char *)p, NULL);

		if (k) {
			memcpy(out + n, p, k);
			n += k;
			p += k;
		} else {
			memcpy(out + n, "\xef\xbf\xbd", 3);
			n += 3;
			p++;
		}
	}
	out[n] = '\0';
	return out;
}

void json_put_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	putc('"', out);
	while (*p) {
		unsigned char c = *p;
		int n;

		if (c == '"' || c == '\\') {
			putc('\\', out);
			putc(c, out);
			p++;
		} else if (c < 0x20) {
			fprintf(out, "\\u%04x", c);
			p++;
		} else if ((n = utf8_seq_len((const char *)p, NULL)) > 0) {
			fwrite(p, 1, n, out);
			p += n;
		} else {
			fputs("\xef\xbf\xbd", out); /* U+FFFD for one bad byte */
			p++;
		}
	}
	putc('"', out);
}

void json_put_double(FILE *out, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		fputs("0", out);
		return;
	}
	/* %.15g reads back exactly for most values and stays short; otherwise
	 * %.17g always does. Exact reading back keeps report->JSON idempotent. */
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, out);
	/* keep it a float for readers that type numbers by their text */
	if (!strpbrk(buf, ".e"))
		fputs(".0", out);
}
