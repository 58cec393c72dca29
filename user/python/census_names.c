// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "python/census_names.h"
#include "python/memory.h"

/* Length of the valid UTF-8 sequence at s (1-4) and its code point, or 0. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (n == 0 || n > len || s[0] > 0xf4)
		return 0;
	uint32_t c = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return 0;
	*cp = c;
	return n;
}

/* Code points a terminal could act on, or that reorder text. */
static bool unsafe(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x61c;
}

size_t census_escape(const char *s, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		char tmp[12];
		size_t tn;
		uint32_t c;
		size_t n = utf8_decode(p + i, len - i, &c);
		if (n == 0) {
			tn = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			n = 1;
		} else if (c == '\\') {
			tn = (size_t)snprintf(tmp, sizeof(tmp), "\\\\");
		} else if (unsafe(c)) {
			tn = (size_t)snprintf(tmp, sizeof(tmp), c < 0x80 ? "\\x%02x" : "\\u%04x",
					      (unsigned)c);
		} else {
			memcpy(tmp, p + i, n);
			tn = n;
		}
		if (o + tn >= outlen)
			break;
		memcpy(out + o, tmp, tn);
		o += tn;
		i += n;
	}
	out[o] = '\0';
	return o;
}

const char *census_intern(struct census_heap *h, const char *s)
{
	return strset_add(h->names, s);
}

const char *census_cstr(struct census_heap *h, uint64_t addr, size_t max)
{
	char raw[CENSUS_NAME_MAX + 1], esc[CENSUS_NAME_MAX * 6 + 1];
	if (max > CENSUS_NAME_MAX)
		max = CENSUS_NAME_MAX;
	if (!addr)
		return NULL;
	/* a name may end just before an unmapped page: shrink until readable */
	size_t n = max;
	while (n && read_one(h->t->pid, addr, raw, n, &h->st.reads))
		n = n > 16 ? n / 2 : n - 1;
	if (!n)
		return NULL;
	char *nul = memchr(raw, '\0', n);
	if (!nul)
		return NULL;
	census_escape(raw, (size_t)(nul - raw), esc, sizeof(esc));
	return census_intern(h, esc);
}

const char *census_pystr(struct census_heap *h, uint64_t obj)
{
	char raw[CENSUS_NAME_MAX * 4 + 1], esc[CENSUS_NAME_MAX * 6 + 1];
	uint64_t type;
	/* exact str only: anything else is not laid out as one */
	if (read_one(h->t->pid, obj + 8, &type, sizeof(type), &h->st.reads) ||
	    type != h->t->str_type)
		return NULL;
	int n = py_mem_str(h->t->pid, &h->t->pl, obj, raw, sizeof(raw));
	if (n < 0)
		return NULL;
	census_escape(raw, (size_t)n, esc, sizeof(esc));
	return census_intern(h, esc);
}
