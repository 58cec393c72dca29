// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A pull reader for JSON (RFC 8259): the caller walks the document in the
 * order it expects and skips what it does not know. Used to load snapshots;
 * it accepts any valid JSON and rejects what is not.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/array.h"
#include "util/json.h"

void jr_init(struct jr *jr, const char *buf, size_t len)
{
	memset(jr, 0, sizeof(*jr));
	jr->p = jr->start = buf;
	jr->end = buf + len;
}

void jr_fini(struct jr *jr)
{
	free(jr->sbuf);
	jr->sbuf = NULL;
}

bool jr_failed(const struct jr *jr)
{
	return jr->err[0] != '\0';
}

/* Record the first error and stop: every later read fails quietly. */
void jr_fail(struct jr *jr, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (jr_failed(jr))
		return;
	n = snprintf(jr->err, sizeof(jr->err), "at byte %zu: ", (size_t)(jr->p - jr->start));
	va_start(ap, fmt);
	vsnprintf(jr->err + n, sizeof(jr->err) - n, fmt, ap);
	va_end(ap);
	jr->p = jr->end;
}

static void skip_ws(struct jr *jr)
{
	while (jr->p < jr->end &&
	       (*jr->p == ' ' || *jr->p == '\t' || *jr->p == '\n' || *jr->p == '\r'))
		jr->p++;
}

enum jr_type jr_peek(struct jr *jr)
{
	skip_ws(jr);
	if (jr_failed(jr) || jr->p >= jr->end)
		return JR_ERROR;
	switch (*jr->p) {
	case 'n':
		return JR_NULL;
	case 't':
	case 'f':
		return JR_BOOL;
	case '"':
		return JR_STRING;
	case '[':
		return JR_ARRAY;
	case '{':
		return JR_OBJECT;
	default:
		if (*jr->p == '-' || (*jr->p >= '0' && *jr->p <= '9'))
			return JR_NUMBER;
		return JR_ERROR;
	}
}

static bool literal(struct jr *jr, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jr->end - jr->p) < n || memcmp(jr->p, word, n)) {
		jr_fail(jr, "expected %s", word);
		return false;
	}
	jr->p += n;
	return true;
}

static bool expect(struct jr *jr, char c)
{
	skip_ws(jr);
	if (jr->p >= jr->end || *jr->p != c) {
		jr_fail(jr, "expected '%c'", c);
		return false;
	}
	jr->p++;
	return true;
}

static bool sbuf_put(struct jr *jr, size_t *n, const char *s, size_t len)
{
	if (len >= SIZE_MAX - *n || ARRAY_RESERVE(jr->sbuf, jr->scap, *n + len + 1)) {
		jr_fail(jr, "out of memory");
		return false;
	}
	memcpy(jr->sbuf + *n, s, len);
	*n += len;
	jr->sbuf[*n] = '\0';
	return true;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static size_t utf8_encode(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* \uXXXX (and a following low surrogate) at jr->p, just after the 'u'. */
static unsigned read_u_escape(struct jr *jr)
{
	int hi, lo;

	if (jr->end - jr->p < 4 || (hi = hex4(jr->p)) < 0) {
		jr_fail(jr, "bad \\u escape");
		return 0;
	}
	jr->p += 4;
	if (hi >= 0xd800 && hi <= 0xdbff && jr->end - jr->p >= 6 && jr->p[0] == '\\' &&
	    jr->p[1] == 'u' && (lo = hex4(jr->p + 2)) >= 0xdc00 && lo <= 0xdfff) {
		jr->p += 6;
		return 0x10000 + ((unsigned)(hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	/* lone surrogates and NUL cannot live in a C string: U+FFFD */
	if ((hi >= 0xd800 && hi <= 0xdfff) || hi == 0)
		return 0xfffd;
	return hi;
}

/* Decode the string at jr->p into jr->sbuf. */
static const char *read_string(struct jr *jr)
{
	size_t n = 0;

	if (!expect(jr, '"') || !sbuf_put(jr, &n, "", 0))
		return NULL;
	while (jr->p < jr->end) {
		const char *run = jr->p;
		char c, enc[4];

		while (jr->p < jr->end && *jr->p != '"' && *jr->p != '\\' &&
		       (unsigned char)*jr->p >= 0x20)
			jr->p++;
		if (!sbuf_put(jr, &n, run, jr->p - run) || jr->p >= jr->end)
			break;
		c = *jr->p++;
		if (c == '"')
			return jr->sbuf;
		if (c != '\\') {
			jr->p--;
			jr_fail(jr, "control character in string");
			return NULL;
		}
		if (jr->p >= jr->end)
			break;
		c = *jr->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u': {
			unsigned cp = read_u_escape(jr);

			if (jr_failed(jr) || !sbuf_put(jr, &n, enc, utf8_encode(cp, enc)))
				return NULL;
			continue;
		}
		default:
			jr->p--;
			jr_fail(jr, "bad escape");
			return NULL;
		}
		if (!sbuf_put(jr, &n, &c, 1))
			return NULL;
	}
	jr_fail(jr, "unterminated string");
	return NULL;
}

/* Consume the opening bracket of an object or array. */
static bool open_container(struct jr *jr, char open)
{
	if (jr->depth >= JR_MAX_DEPTH) {
		jr_fail(jr, "nested too deeply");
		return false;
	}
	if (!expect(jr, open))
		return false;
	jr->first[jr->depth++] = true;
	return true;
}

bool jr_object(struct jr *jr)
{
	return open_container(jr, '{');
}

bool jr_array(struct jr *jr)
{
	return open_container(jr, '[');
}

/* Before the next member/element: false at the closing bracket. */
static bool next_member(struct jr *jr, char close)
{
	bool *first;

	skip_ws(jr);
	if (jr_failed(jr) || !jr->depth)
		return false;
	if (jr->p < jr->end && *jr->p == close) {
		jr->p++;
		jr->depth--;
		return false;
	}
	first = &jr->first[jr->depth - 1];
	if (!*first && !expect(jr, ','))
		return false;
	*first = false;
	return true;
}

const char *jr_key(struct jr *jr)
{
	const char *k;

	if (!next_member(jr, '}'))
		return NULL;
	skip_ws(jr);
	k = read_string(jr);
	if (!k || !expect(jr, ':'))
		return NULL;
	return k;
}

bool jr_next(struct jr *jr)
{
	return next_member(jr, ']');
}

const char *jr_string(struct jr *jr)
{
	switch (jr_peek(jr)) {
	case JR_NULL:
		literal(jr, "null");
		return NULL;
	case JR_STRING:
		return read_string(jr);
	default:
		jr_fail(jr, "expected a string");
		return NULL;
	}
}

bool jr_null(struct jr *jr)
{
	if (jr_peek(jr) != JR_NULL)
		return false;
	return literal(jr, "null");
}

bool jr_bool(struct jr *jr)
{
	if (jr_peek(jr) == JR_BOOL) {
		if (*jr->p == 't')
			return literal(jr, "true");
		literal(jr, "false");
		return false;
	}
	jr_fail(jr, "expected true or false");
	return false;
}

/* Copy the number token at jr->p (validated against the JSON grammar) to
 * sbuf. *integral tells whether it has no fraction or exponent. */
static const char *number_token(struct jr *jr, bool *integral)
{
	const char *s, *q;
	size_t n = 0;

	if (jr_peek(jr) != JR_NUMBER) {
		jr_fail(jr, "expected a number");
		return NULL;
	}
	s = q = jr->p; /* after the whitespace jr_peek skipped */
	*integral = true;
	if (q < jr->end && *q == '-')
		q++;
	if (q < jr->end && *q == '0')
		q++;
	else if (q < jr->end && *q >= '1' && *q <= '9')
		while (q < jr->end && *q >= '0' && *q <= '9')
			q++;
	else
		goto bad;
	if (q < jr->end && *q == '.') {
		*integral = false;
		if (++q >= jr->end || *q < '0' || *q > '9')
			goto bad;
		while (q < jr->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < jr->end && (*q == 'e' || *q == 'E')) {
		*integral = false;
		q++;
		if (q < jr->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= jr->end || *q < '0' || *q > '9')
			goto bad;
		while (q < jr->end && *q >= '0' && *q <= '9')
			q++;
	}
	jr->p = q;
	if (!sbuf_put(jr, &n, s, q - s))
		return NULL;
	return jr->sbuf;
bad:
	jr_fail(jr, "bad number");
	return NULL;
}

double jr_double(struct jr *jr)
{
	bool integral;
	const char *t = number_token(jr, &integral);

	return t ? strtod(t, NULL) : 0;
}

int64_t jr_int(struct jr *jr)
{
	bool integral;
	const char *t = number_token(jr, &integral);
	long long v;

	if (!t)
		return 0;
	errno = 0;
	v = strtoll(t, NULL, 10);
	if (!integral || errno == ERANGE) {
		jr_fail(jr, "expected a 64-bit integer, got %s", t);
		return 0;
	}
	return v;
}

uint64_t jr_uint(struct jr *jr)
{
	bool integral;
	const char *t = number_token(jr, &integral);
	unsigned long long v;

	if (!t)
		return 0;
	errno = 0;
	v = strtoull(t, NULL, 10);
	if (!integral || *t == '-' || errno == ERANGE) {
		jr_fail(jr, "expected a non-negative 64-bit integer, got %s", t);
		return 0;
	}
	return v;
}

void jr_skip(struct jr *jr)
{
	bool integral;

	switch (jr_peek(jr)) {
	case JR_NULL:
		literal(jr, "null");
		break;
	case JR_BOOL:
		jr_bool(jr);
		break;
	case JR_NUMBER:
		number_token(jr, &integral);
		break;
	case JR_STRING:
		read_string(jr);
		break;
	case JR_ARRAY:
		if (jr_array(jr))
			while (jr_next(jr))
				jr_skip(jr);
		break;
	case JR_OBJECT:
		if (jr_object(jr))
			while (jr_key(jr))
				jr_skip(jr);
		break;
	default:
		jr_fail(jr, "expected a value");
	}
}

bool jr_end(struct jr *jr)
{
	skip_ws(jr);
	if (!jr_failed(jr) && jr->p != jr->end)
		jr_fail(jr, "trailing data");
	return !jr_failed(jr);
}
