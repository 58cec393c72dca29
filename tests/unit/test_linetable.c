// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * python/linetable.c on tables written byte by byte from the formats'
 * descriptions (CPython's Objects/lnotab_notes.txt for 3.8-3.10 and
 * Objects/locations.md for 3.11+), with the line expected for every
 * instruction. Offsets are in code units (2-byte instructions), as lasti.
 * tests/py/linetable_cases.py checks the same decoder against the tables
 * of real interpreters.
 */
#include <stdlib.h>
#include "unit.h"
#include "python/layout.h"
#include "python/linetable.h"

/* The table in a buffer of exactly its size, so that reading past its end
 * is reading past an allocation. */
static int line_at(int kind, const uint8_t *tab, size_t len, int first, int64_t lasti)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (len)
		memcpy(copy, tab, len);
	int line = py_linetable_line(kind, copy, len, first, lasti);
	free(copy);
	return line;
}

/* want[u] is the line of code unit u; one check per unit, failures named. */
static void expect_lines(const char *what, int kind, const uint8_t *tab, size_t len, int first,
			 const int *want, size_t n)
{
	for (size_t u = 0; u < n; u++) {
		int got = line_at(kind, tab, len, first, (int64_t)u);
		if (got != want[u])
			fprintf(stderr, "  %s: unit %zu: line %d, want %d\n", what, u, got,
				want[u]);
		CHECK_EQ(got, want[u]);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 3.8/3.9 co_lnotab: (bytecode offset increment, line increment) pairs;
 * the line of offset A is firstlineno plus the line increments of every
 * pair whose cumulative offset is <= A. Increments over 255 bytes, or over
 * 127 lines, are split into several pairs; line increments are signed. */
static void test_lnotab(void)
{
	/* The example of lnotab_notes.txt in wordcode:
	 *   offset 0 -> line 1, 6 -> 2, 50 -> 7, 350 -> 207, 362 -> 208
	 * 50 -> 350 is +300 bytes and +200 lines: (255, 0), (45, 127), (0, 73) */
	static const uint8_t tab[] = {6, 1, 44, 5, 255, 0, 45, 127, 0, 73, 12, 1};
	static int want[190];
	for (size_t u = 0; u < N(want); u++) {
		size_t b = 2 * u;
		want[u] = b < 6 ? 1 : b < 50 ? 2 : b < 350 ? 7 : b < 362 ? 207 : 208;
	}
	expect_lines("lnotab", PY_LT_LNOTAB, tab, sizeof(tab), 1, want, N(want));

	/* a loop: the line goes back. 10: units 0-1, 12: units 2-4, 11 after
	 * (-1 as a signed byte), 8 from unit 7 (-3) */
	static const uint8_t back[] = {4, 2, 6, 0xff, 4, 0xfd};
	static const int want_back[] = {10, 10, 12, 12, 12, 11, 11, 8, 8, 8};
	expect_lines("lnotab back", PY_LT_LNOTAB, back, sizeof(back), 10, want_back, N(want_back));

	/* a jump back of more than 128 lines: (0, -128) is -128 here */
	static const uint8_t far_back[] = {2, 0x80, 2, 0x81};
	static const int want_far[] = {500, 372, 245};
	expect_lines("lnotab far back", PY_LT_LNOTAB, far_back, sizeof(far_back), 500, want_far,
		     N(want_far));

	/* no pairs: every instruction is on firstlineno; a dangling byte is
	 * not a pair */
	static const int want_first[] = {42, 42, 42};
	expect_lines("lnotab empty", PY_LT_LNOTAB, NULL, 0, 42, want_first, N(want_first));
	static const uint8_t odd[] = {2, 1, 2};
	static const int want_odd[] = {7, 8, 8, 8};
	expect_lines("lnotab odd", PY_LT_LNOTAB, odd, sizeof(odd), 7, want_odd, N(want_odd));
}

/* 3.10 co_linetable: (range length in bytes, signed line delta) pairs that
 * cover the code back to back; the line of a range is the running sum of
 * the deltas from firstlineno, and a delta of -128 means the range has no
 * line (the sum is left as it was). Ranges over 254 bytes and deltas over
 * 127 are split; zero-length ranges only move the line. */
static void test_linetable_310(void)
{
	static const uint8_t tab[] = {
	    6,	 1,    /* bytes 0-5: 6 */
	    4,	 0x80, /* bytes 6-9: no line */
	    0,	 127,  /* +127, no bytes */
	    8,	 73,   /* bytes 10-17: 206 */
	    254, 0xfd, /* bytes 18-271: 203 (-3) */
	    46,	 0,    /* bytes 272-317: 203 */
	    2,	 0x80, /* bytes 318-319: no line */
	    4,	 1,    /* bytes 320-323: 204 (the sum skipped the no-line range) */
	};
	static int want[170];
	for (size_t u = 0; u < N(want); u++) {
		size_t b = 2 * u;
		want[u] = b < 6	    ? 6
			  : b < 10  ? 0
			  : b < 18  ? 206
			  : b < 318 ? 203
			  : b < 320 ? 0
			  : b < 324 ? 204
				    : 0; /* past the table: no line */
	}
	expect_lines("3.10", PY_LT_LINETABLE, tab, sizeof(tab), 5, want, N(want));

	/* a negative delta below the first line, and a table whose last
	 * byte is not a whole pair */
	static const uint8_t back[] = {2, 3, 2, 0xf6, 2};
	static const int want_back[] = {23, 13, 0};
	expect_lines("3.10 back", PY_LT_LINETABLE, back, sizeof(back), 20, want_back, N(want_back));

	static const int want_none[] = {0, 0};
	expect_lines("3.10 empty", PY_LT_LINETABLE, NULL, 0, 9, want_none, N(want_none));
}

/* 3.11+ location table (PEP 657): entries of a header byte 1CCCCLLL (code,
 * length - 1 in code units) and a payload: 0-9 short form (one column byte,
 * same line), 10-12 one-line form (line + code - 10, two column bytes), 13
 * no columns (signed varint line delta), 14 long form (signed line delta,
 * end line delta, column + 1, end column + 1 as varints), 15 no location.
 * Varints are 6-bit groups, least significant first, bit 6 set when more
 * follow; a signed value v is stored as v << 1, or (-v) << 1 | 1. */
static void test_locations(void)
{
	static const uint8_t tab[] = {
	    0x80 | 13 << 3 | 2,
	    0x04, /* units 0-2: no columns, +2 -> 102 */
	    0x80 | 0 << 3 | 0,
	    0x05, /* unit 3: short form -> 102 */
	    0x80 | 11 << 3 | 1,
	    0x04,
	    0x10,		/* units 4-5: one-line, +1 -> 103 */
	    0x80 | 15 << 3 | 0, /* unit 6: no location */
	    0x80 | 14 << 3 | 7,
	    0x65,
	    0x01, /* units 7-14: long, -50 (101 = 0x25 + 1 << 6) */
	    0x00,
	    0x01,
	    0x05, /*   end line +0, columns 0 and 4 */
	    0x80 | 13 << 3 | 7,
	    0x50,
	    0x1f, /* units 15-22: +1000 (2000 = 0x10 + 31 << 6) -> 1053 */
	    0x80 | 13 << 3 | 7,
	    0x00, /* a long run goes on in entries of 8 */
	    0x80 | 13 << 3 | 3,
	    0x00, /*   units 23-34: 1053 */
	    0x80 | 9 << 3 | 0,
	    0x7f, /* unit 35: short form with the largest code -> 1053 */
	    0x80 | 12 << 3 | 0,
	    0x00,
	    0x00, /* unit 36: one-line, +2 -> 1055 */
	};
	static int want[40];
	for (size_t u = 0; u < N(want); u++)
		want[u] = u < 3	   ? 102
			  : u < 4  ? 102
			  : u < 6  ? 103
			  : u < 7  ? 0
			  : u < 15 ? 53
			  : u < 36 ? 1053
			  : u < 37 ? 1055
				   : 0; /* past the table */
	expect_lines("3.11", PY_LT_LOCATIONS, tab, sizeof(tab), 100, want, N(want));

	/* the running line survives a no-location entry */
	static const uint8_t gap[] = {0x80 | 15 << 3 | 1, 0x80 | 10 << 3 | 0, 1, 2};
	static const int want_gap[] = {0, 0, 7, 0};
	expect_lines("3.11 gap", PY_LT_LOCATIONS, gap, sizeof(gap), 7, want_gap, N(want_gap));

	/* a byte that is not an entry start (bit 7 clear): the table is not
	 * trusted from there on */
	static const uint8_t bad[] = {0x80 | 13 << 3 | 0, 0x02, 0x13, 0x80 | 13 << 3 | 0, 0x02};
	static const int want_bad[] = {2, 0, 0};
	expect_lines("3.11 corrupt", PY_LT_LOCATIONS, bad, sizeof(bad), 1, want_bad, N(want_bad));

	/* a line that would be 0 or below is no line */
	static const uint8_t neg[] = {0x80 | 13 << 3 | 0, 0x05 /* -2 */};
	static const int want_neg[] = {0};
	expect_lines("3.11 below 1", PY_LT_LOCATIONS, neg, sizeof(neg), 2, want_neg, N(want_neg));

	/* cut short inside an entry: no read past the end, no line past it */
	static const uint8_t cut[] = {0x80 | 13 << 3 | 1, 0x04, 0x80 | 14 << 3 | 0, 0x65};
	CHECK_EQ(line_at(PY_LT_LOCATIONS, cut, sizeof(cut), 10, 1), 12);
	line_at(PY_LT_LOCATIONS, cut, sizeof(cut), 10, 2); /* any value, no crash */
	CHECK_EQ(line_at(PY_LT_LOCATIONS, cut, sizeof(cut), 10, 3), 0);

	static const int want_none[] = {0};
	expect_lines("3.11 empty", PY_LT_LOCATIONS, NULL, 0, 9, want_none, N(want_none));
}

static void test_not_started_and_unknown_kind(void)
{
	static const uint8_t tab[] = {0x80 | 13 << 3 | 0, 0x04};

	/* a frame that has not started is on its first line, in every format */
	CHECK_EQ(line_at(PY_LT_LNOTAB, tab, sizeof(tab), 31, -1), 31);
	CHECK_EQ(line_at(PY_LT_LINETABLE, tab, sizeof(tab), 31, -1), 31);
	CHECK_EQ(line_at(PY_LT_LOCATIONS, tab, sizeof(tab), 31, -1), 31);
	CHECK_EQ(line_at(PY_LT_LOCATIONS, tab, sizeof(tab), 31, INT64_MIN), 31);
	/* far past any table */
	CHECK_EQ(line_at(PY_LT_LOCATIONS, tab, sizeof(tab), 31, INT64_MAX), 0);
	CHECK_EQ(line_at(PY_LT_LINETABLE, tab, sizeof(tab), 31, INT64_MAX / 4), 0);
	/* a layout without a line table format */
	CHECK_EQ(line_at(0, tab, sizeof(tab), 31, 0), 0);
	CHECK_EQ(line_at(99, tab, sizeof(tab), 31, 0), 0);
}

int main(void)
{
	RUN(test_lnotab);
	RUN(test_linetable_310);
	RUN(test_locations);
	RUN(test_not_started_and_unknown_kind);
	return unit_done();
}
