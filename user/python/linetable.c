// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPython line tables, one decoder per format:
 *  - 3.8/3.9 co_lnotab: (byte offset increment, signed line increment)
 *    pairs; the line of offset A is the sum of the increments whose
 *    cumulative offset is <= A (Objects/lnotab_notes.txt).
 *  - 3.10 co_linetable: (range length in bytes, signed line delta) pairs
 *    covering the code back to back; delta -128 means "no line".
 *  - 3.11+ location table (PEP 657): entries of one header byte
 *    (1 code:4 length-1:3) and a form-dependent payload of 6-bit varints.
 */
#include <stdbool.h>
#include "python/linetable.h"
#include "python/layout.h"

static int lnotab_line(const uint8_t *tab, size_t len, int firstlineno, int64_t byte_off)
{
	int line = firstlineno;
	int64_t addr = 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		addr += tab[i];
		if (addr > byte_off)
			break;
		line += (int8_t)tab[i + 1];
	}
	return line;
}

static int linetable310_line(const uint8_t *tab, size_t len, int firstlineno, int64_t byte_off)
{
	int line = firstlineno;
	int64_t start = 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		int64_t end = start + tab[i];
		int8_t delta = (int8_t)tab[i + 1];
		if (delta != -128)
			line += delta;
		if (byte_off >= start && byte_off < end)
			return delta == -128 ? 0 : line;
		start = end;
	}
	return 0;
}

/* Unsigned varint of 6-bit groups, bit 6 set on all but the last. */
static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	unsigned shift = 0;
	while (*p < end) {
		uint8_t b = *(*p)++;
		if (shift < 64)
			v |= (uint64_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			break;
	}
	return v;
}

static int64_t svarint(const uint8_t **p, const uint8_t *end)
{
	uint64_t u = varint(p, end);
	return (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
}

enum {
	LOC_ONE_LINE0 = 10, /* 10..12: line delta 0..2, two column bytes */
	LOC_NO_COLUMNS = 13,
	LOC_LONG = 14,
	LOC_NONE = 15,
};

static int locations_line(const uint8_t *tab, size_t len, int firstlineno, int64_t lasti)
{
	const uint8_t *p = tab, *end = tab + len;
	int64_t line = firstlineno, addr = 0;
	while (p < end) {
		uint8_t h = *p++;
		if (!(h & 0x80))
			return 0; /* not an entry start: corrupt or misread table */
		int code = (h >> 3) & 15;
		int64_t n = (h & 7) + 1;
		bool has_line = true;
		switch (code) {
		case LOC_NONE:
			has_line = false;
			break;
		case LOC_LONG:
			line += svarint(&p, end);
			varint(&p, end); /* end line delta */
			varint(&p, end); /* column + 1 */
			varint(&p, end); /* end column + 1 */
			break;
		case LOC_NO_COLUMNS:
			line += svarint(&p, end);
			break;
		case LOC_ONE_LINE0:
		case LOC_ONE_LINE0 + 1:
		case LOC_ONE_LINE0 + 2:
			line += code - LOC_ONE_LINE0;
			p += 2;
			break;
		default: /* short forms: same line, one column byte */
			p += 1;
			break;
		}
		if (lasti >= addr && lasti < addr + n)
			return has_line && line > 0 ? (int)line : 0;
		addr += n;
	}
	return 0;
}

int py_linetable_line(int kind, const uint8_t *tab, size_t len, int firstlineno, int64_t lasti)
{
	if (lasti < 0)
		return firstlineno;
	switch (kind) {
	case PY_LT_LNOTAB:
		return lnotab_line(tab, len, firstlineno, lasti * 2);
	case PY_LT_LINETABLE:
		return linetable310_line(tab, len, firstlineno, lasti * 2);
	case PY_LT_LOCATIONS:
		return locations_line(tab, len, firstlineno, lasti);
	default:
		return 0;
	}
}
