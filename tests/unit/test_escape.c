// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/escape.c: text from the target made safe for terminals and lines. */
#include "unit.h"
#include "util/escape.h"

static const char *esc(const char *s, const char *also)
{
	static char buf[512];
	return escape_str(s, also, buf, sizeof(buf));
}

static void test_plain_text_is_unchanged(void)
{
	CHECK_STR(esc("main (/src/app.c:10)", NULL), "main (/src/app.c:10)");
	CHECK_STR(esc("caf\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x98\x80", NULL),
		  "caf\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x98\x80");
	CHECK_STR(esc("a;b", NULL), "a;b");
	CHECK_STR(esc(NULL, NULL), "(null)");
}

static void test_control_characters(void)
{
	/* C0 (escape sequences, CR, LF, bell, tab), DEL */
	CHECK_STR(esc("\x1b[2J\x1b]0;t\x07", NULL), "\\x1b[2J\\x1b]0;t\\x07");
	CHECK_STR(esc("a\r\nb\tc\x7f", NULL), "a\\x0d\\x0ab\\x09c\\x7f");
	/* C1 as UTF-8 (U+009B, CSI) byte by byte; U+00A0 is not a control */
	CHECK_STR(esc("x\xc2\x9by\xc2\xa0", NULL), "x\\xc2\\x9by\xc2\xa0");
	/* a backslash is doubled, so an escape in the input cannot pass for one */
	CHECK_STR(esc("\\x1b", NULL), "\\\\x1b");
}

static void test_bidi_formatting_is_visible(void)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE, U+200F,
	 * U+2028 LINE SEPARATOR: byte by byte; U+2010 (a hyphen) is text */
	CHECK_STR(esc("a\xe2\x80\xae"
		      "b",
		      NULL),
		  "a\\xe2\\x80\\xaeb");
	CHECK_STR(esc("\xe2\x81\xa6x\xe2\x80\x8f", NULL), "\\xe2\\x81\\xa6x\\xe2\\x80\\x8f");
	CHECK_STR(esc("l\xe2\x80\xa8m\xe2\x80\x90", NULL), "l\\xe2\\x80\\xa8m\xe2\x80\x90");
}

static void test_invalid_utf8_is_visible(void)
{
	/* raw C1 bytes, a lone continuation, a truncated and an overlong
	 * sequence, a surrogate: each byte as \xHH */
	CHECK_STR(esc("\x9b\x80", NULL), "\\x9b\\x80");
	CHECK_STR(esc("a\xe6\xbc", NULL), "a\\xe6\\xbc");
	CHECK_STR(esc("\xc0\xaf", NULL), "\\xc0\\xaf");
	CHECK_STR(esc("\xed\xa0\x80", NULL), "\\xed\\xa0\\x80");
	CHECK_STR(esc("\xff", NULL), "\\xff");
}

static void test_extra_characters(void)
{
	/* folded stacks: ';' separates frames */
	CHECK_STR(esc("f;g (a;b.py:1)", ";"), "f\\x3bg (a\\x3bb.py:1)");
}

static void test_never_a_line_break(void)
{
	char in[256], out[1200];
	for (int i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	escape_str(in, ";", out, sizeof(out));
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		CHECK(*p >= 0x20 && *p != 0x7f);
		CHECK(*p != ';');
	}
}

static void test_buffer_cut_keeps_escapes_whole(void)
{
	char small[6];
	/* "ab" + "\x1b" (4) does not fit in 5 characters + NUL: cut before it */
	CHECK_STR(escape_str("ab\x1b"
			     "cd",
			     NULL, small, sizeof(small)),
		  "ab");
	CHECK_STR(escape_str("abcdefgh", NULL, small, sizeof(small)), "abcde");
	CHECK_STR(escape_str("x", NULL, small, 1), "");
}

static void test_stream(void)
{
	char buf[64];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	escape_put(f, "q\nr", NULL);
	fclose(f);
	CHECK_STR(buf, "q\\x0ar");
}

int main(void)
{
	RUN(test_plain_text_is_unchanged);
	RUN(test_control_characters);
	RUN(test_invalid_utf8_is_visible);
	RUN(test_bidi_formatting_is_visible);
	RUN(test_extra_characters);
	RUN(test_never_a_line_break);
	RUN(test_buffer_cut_keeps_escapes_whole);
	RUN(test_stream);
	return unit_done();
}
