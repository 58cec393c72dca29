// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/json_read.c and util/json_write.c on synthetic documents. */
#include <stdlib.h>
#include "unit.h"
#include "util/json.h"

/* What a writer call printed, as a string (static buffer). */
#define CAPTURE(buf, stmt)                                                                         \
	do {                                                                                       \
		FILE *f_ = fmemopen(buf, sizeof(buf), "w");                                        \
		FILE *out = f_;                                                                    \
		stmt;                                                                              \
		fclose(f_);                                                                        \
	} while (0)

static void test_string_escapes(void)
{
	char buf[256];
	CAPTURE(buf, json_put_string(out, "a\"b\\c\n\x1b[2J\x07"));
	CHECK_STR(buf, "\"a\\\"b\\\\c\\u000a\\u001b[2J\\u0007\"");
	CAPTURE(buf, json_put_string(out, NULL));
	CHECK_STR(buf, "null");
	/* invalid UTF-8 becomes U+FFFD, valid sequences stay */
	CAPTURE(buf, json_put_string(out, "\xff\xc3\xa9"));
	CHECK_STR(buf, "\"\xef\xbf\xbd\xc3\xa9\"");
}

static void test_double_round_trip(void)
{
	const double vals[] = {0, 1, -1.5, 0.1, 1e300, 123456789.123456789, 5e-324};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		char buf[64];
		CAPTURE(buf, json_put_double(out, vals[i]));
		CHECK(strtod(buf, NULL) == vals[i]);
	}
}

static void test_reader_walks_nested_document(void)
{
	const char *doc = " {\"a\": [1, -2, 18446744073709551615], \"s\": \"x\\u00e9\\n\","
			  " \"o\": {\"t\": true, \"n\": null}, \"skip\": [{\"deep\": [[]]}]} ";
	struct jr jr;
	jr_init(&jr, doc, strlen(doc));
	CHECK(jr_object(&jr));
	const char *k;
	int seen = 0;
	while ((k = jr_key(&jr))) {
		if (!strcmp(k, "a")) {
			CHECK(jr_array(&jr));
			CHECK(jr_next(&jr));
			CHECK_EQ(jr_int(&jr), 1);
			CHECK(jr_next(&jr));
			CHECK_EQ(jr_int(&jr), -2);
			CHECK(jr_next(&jr));
			CHECK(jr_uint(&jr) == UINT64_MAX);
			CHECK(!jr_next(&jr));
			seen |= 1;
		} else if (!strcmp(k, "s")) {
			CHECK_STR(jr_string(&jr), "x\xc3\xa9\n");
			seen |= 2;
		} else if (!strcmp(k, "o")) {
			CHECK(jr_object(&jr));
			CHECK_STR(jr_key(&jr), "t");
			CHECK(jr_bool(&jr));
			CHECK_STR(jr_key(&jr), "n");
			CHECK(jr_null(&jr));
			CHECK(!jr_key(&jr));
			seen |= 4;
		} else {
			jr_skip(&jr);
			seen |= 8;
		}
	}
	CHECK(jr_end(&jr));
	CHECK(!jr_failed(&jr));
	CHECK_EQ(seen, 15);
	jr_fini(&jr);
}

static void test_reader_errors(void)
{
	const char *bad[] = {"{", "[1,]", "{\"a\" 1}", "\"\\u12\"", "[1] x", "tru", "{\"a\":-}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jr jr;
		jr_init(&jr, bad[i], strlen(bad[i]));
		jr_skip(&jr);
		jr_end(&jr);
		CHECK(jr_failed(&jr));
		CHECK(jr.err[0] != 0);
		jr_fini(&jr);
	}
	/* nesting deeper than JR_MAX_DEPTH is refused, not a crash */
	char deep[JR_MAX_DEPTH * 2 + 8];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = 0;
	struct jr jr;
	jr_init(&jr, deep, strlen(deep));
	jr_skip(&jr);
	CHECK(jr_failed(&jr));
	jr_fini(&jr);
}

int main(void)
{
	RUN(test_string_escapes);
	RUN(test_double_round_trip);
	RUN(test_reader_walks_nested_document);
	RUN(test_reader_errors);
	return unit_done();
}
