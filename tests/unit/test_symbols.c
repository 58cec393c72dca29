// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* symbols/demangle.c and symbols/frame_cache.c on synthetic input. */
#include <stdlib.h>
#include "unit.h"
#include "symbols/demangle.h"
#include "symbols/frame_cache.h"

#define SHOWN_MAX 1024 /* as the symbolizer: RM_FUNCTION_MAX */

static const char *dm(const char *raw)
{
	static char buf[SHOWN_MAX];

	return demangle_name(raw, buf, sizeof(buf));
}

static void test_cxx_names_demangled(void)
{
	CHECK_STR(dm("_Z12open_sessioni"), "open_session(int)");
	CHECK_STR(dm("_Znwm"), "operator new(unsigned long)");
	CHECK_STR(dm("_ZNSt6vectorIiSaIiEEC2EmRKS0_"),
		  "std::vector<int, std::allocator<int> >::vector(unsigned long, "
		  "std::allocator<int> const&)");
	CHECK_STR(dm("_GLOBAL__sub_I_main"), "_GLOBAL__sub_I_main");
}

static void test_other_names_kept(void)
{
	CHECK_STR(dm("main"), "main");
	CHECK_STR(dm("i"), "i"); /* a C name, not a type encoding */
	CHECK_STR(dm("_Z"), "_Z");
	CHECK_STR(dm("_Zx9garbage"), "_Zx9garbage");
	CHECK_STR(dm(""), "");
	CHECK_STR(dm(NULL), "");
	/* symbol versions are dropped; a name that is only a version is kept */
	CHECK_STR(dm("__libc_start_main@@GLIBC_2.34"), "__libc_start_main");
	CHECK_STR(dm("memcpy@GLIBC_2.2.5"), "memcpy");
	CHECK_STR(dm("_Znwm@@GLIBCXX_3.4"), "operator new(unsigned long)");
	CHECK_STR(dm("@x"), "@x");
}

/* f<P<P<...<A, A>...>>>(): every level names the previous one twice, so
 * the text doubles per level: 2^depth. */
static char *doubling_name(unsigned depth)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t cap = 64 + depth * 32, len;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	/* substitutions: S_ f, S0_ A, S1_ P, S2_ P<A, A>, then one per level */
	len = (size_t)snprintf(s, cap, "_Z1fI1A1PIS0_S0_E");
	for (unsigned d = 0; d < depth; d++) {
		/* the previous level, S<seq>_ in base 36 */
		char seq[8];
		unsigned v = d + 2, n = 0;

		do {
			seq[n++] = digits[v % 36];
			v /= 36;
		} while (v);
		char sub[12];
		size_t k = 0;

		sub[k++] = 'S';
		while (n)
			sub[k++] = seq[--n];
		sub[k++] = '_';
		sub[k] = '\0';
		len += (size_t)snprintf(s + len, cap - len, "S1_I%s%sE", sub, sub);
	}
	snprintf(s + len, cap - len, "EvT_");
	return s;
}

static void test_output_bounded(void)
{
	char *small = doubling_name(4), *huge = doubling_name(60);
	char buf[SHOWN_MAX];

	CHECK(small && huge);
	if (!small || !huge)
		goto out;
	/* the construction is right: a small one demangles completely */
	CHECK(!strncmp(dm(small), "void f<A, P<A, A>, P<P<A, A>, P<A, A> >", 39));
	CHECK(strlen(dm(small)) < 1000 && !strcmp(dm(small) + strlen(dm(small)) - 4, ">(A)"));
	/* 2^60 bytes of text: stops at the bound, marked as cut */
	demangle_name(huge, buf, sizeof(buf));
	CHECK_EQ(strlen(buf), SHOWN_MAX - 1);
	CHECK_STR(buf + SHOWN_MAX - 4, "...");
	CHECK(!strncmp(buf, "void f<A, P<A, A>, P<P<A, A>, P<A, A> >", 39));
	/* a small buffer bounds it too */
	demangle_name("_Z12open_sessioni", buf, 8);
	CHECK_STR(buf, "open...");
out:
	free(small);
	free(huge);
}

static void test_long_input_bounded(void)
{
	size_t n = 20000;
	char *raw = malloc(n + 1), buf[64];

	CHECK(raw != NULL);
	if (!raw)
		return;
	/* a mangled name too long to hand to the demangler: shown raw, cut */
	memset(raw, 'a', n);
	memcpy(raw, "_Z5", 3);
	raw[n] = '\0';
	demangle_name(raw, buf, sizeof(buf));
	CHECK_EQ(strlen(buf), sizeof(buf) - 1);
	CHECK(!strncmp(buf, "_Z5aaa", 6));
	CHECK_STR(buf + sizeof(buf) - 4, "...");
	free(raw);
	/* cut on a character boundary: never half of a UTF-8 sequence */
	demangle_name("abcd\xc3\xa9xyz", buf, 8);
	CHECK_STR(buf, "abcd...");
	demangle_name("abc\xc3\xa9xyz", buf, 8);
	CHECK_STR(buf, "abc...");
}

static void test_frame_cache(void)
{
	struct frame_cache c = {0};
	struct rm_frame f[3] = {{.function = "outer"},
				{.function = "mid", .inlined = true},
				{.function = "inner", .inlined = true}};
	const struct rm_frame *got;
	unsigned n = 0;

	CHECK(frame_cache_get(&c, 0x1000, 1, &n) == NULL);
	CHECK(frame_cache_put(&c, 0x1000, 1, f, 3));
	CHECK(frame_cache_put(&c, 0x1000, 0, f, 1));
	got = frame_cache_get(&c, 0x1000, 1, &n);
	CHECK(got != NULL);
	CHECK_EQ(n, 3);
	if (got && n == 3)
		CHECK_STR(got[2].function, "inner");
	got = frame_cache_get(&c, 0x1000, 0, &n);
	CHECK_EQ(n, 1);
	CHECK(frame_cache_get(&c, 0x2000, 1, &n) == NULL);
	/* bounded: past FRAME_CACHE_MAX_FRAMES it starts over */
	unsigned failed = 0;

	for (uint64_t a = 0; a < FRAME_CACHE_MAX_FRAMES / 3 + 10; a++)
		failed += !frame_cache_put(&c, 0x10000 + a * 16, 1, f, 3);
	CHECK_EQ(failed, 0);
	CHECK(c.nframes <= FRAME_CACHE_MAX_FRAMES);
	CHECK(c.count <= FRAME_CACHE_MAX_ADDRS);
	CHECK(frame_cache_get(&c, 0x1000, 1, &n) == NULL);
	got = frame_cache_get(&c, 0x10000 + (FRAME_CACHE_MAX_FRAMES / 3 + 9) * 16, 1, &n);
	CHECK(got != NULL && n == 3);
	frame_cache_free(&c);
}

int main(void)
{
	RUN(test_cxx_names_demangled);
	RUN(test_other_names_kept);
	RUN(test_output_bounded);
	RUN(test_long_input_bounded);
	RUN(test_frame_cache);
	return unit_done();
}
