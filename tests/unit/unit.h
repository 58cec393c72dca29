/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The fast tier: C unit tests of pure code, run by `make unit` without root
 * or BPF. A test file defines test functions and a main() that runs them:
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_EQ(f(), 42); }
 *   int main(void) { RUN(test_x); return unit_done(); }
 *
 * A failed check prints file:line and the expression, and the test goes on;
 * unit_done() prints a summary line and returns the exit status.
 */
#ifndef UNIT_H
#define UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failed, unit_checks, unit_tests;
static const char *unit_current;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		unit_checks++;                                                                     \
		if (!(cond)) {                                                                     \
			unit_failed++;                                                             \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__,       \
				unit_current, #cond);                                              \
		}                                                                                  \
	} while (0)

/* Integers (any width up to 64 bits), printed when they differ. */
#define CHECK_EQ(got, want)                                                                        \
	do {                                                                                       \
		long long unit_g = (long long)(got), unit_w = (long long)(want);                   \
		unit_checks++;                                                                     \
		if (unit_g != unit_w) {                                                            \
			unit_failed++;                                                             \
			fprintf(stderr, "%s:%d: %s: %s is %lld, want %lld\n", __FILE__, __LINE__,  \
				unit_current, #got, unit_g, unit_w);                               \
		}                                                                                  \
	} while (0)

/* Strings (NULL allowed), printed when they differ. */
#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *unit_g = (got), *unit_w = (want);                                      \
		unit_checks++;                                                                     \
		if (!(unit_g == unit_w || (unit_g && unit_w && !strcmp(unit_g, unit_w)))) {        \
			unit_failed++;                                                             \
			fprintf(stderr, "%s:%d: %s: %s is \"%s\", want \"%s\"\n", __FILE__,        \
				__LINE__, unit_current, #got, unit_g ? unit_g : "(null)",          \
				unit_w ? unit_w : "(null)");                                       \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		unit_current = #fn;                                                                \
		unit_tests++;                                                                      \
		fn();                                                                              \
	} while (0)

static inline int unit_done(void)
{
	fprintf(stderr, "%s: %d tests, %d checks, %d failed\n", __BASE_FILE__, unit_tests,
		unit_checks, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
