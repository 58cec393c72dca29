/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * JSON text for the exports and snapshots: writing strings and numbers
 * (RFC 8259), and a small pull reader that walks a document in place, so a
 * large snapshot is loaded without building a tree of it first.
 */
#ifndef UTIL_JSON_H
#define UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A JSON string for s (null when s is NULL). Control characters are
 * escaped and invalid UTF-8 bytes become U+FFFD, so output is always valid. */
void json_put_string(FILE *out, const char *s);
/* s with every byte that is not valid UTF-8 replaced by U+FFFD (malloc'd),
 * or NULL when s is valid already (or on allocation failure). */
char *utf8_fix(const char *s);
/* Shortest text that reads back as exactly v (0 for NaN/inf, not JSON). */
void json_put_double(FILE *out, double v);

enum jr_type { JR_ERROR, JR_NULL, JR_BOOL, JR_NUMBER, JR_STRING, JR_ARRAY, JR_OBJECT };

#define JR_MAX_DEPTH 64

/* Reader over buf[0..len). The first error stops it; jr->err says why. */
struct jr {
	const char *p, *end, *start;
	char err[128];
	unsigned depth;
	bool first[JR_MAX_DEPTH]; /* per open container: no member read yet */
	char *sbuf;		  /* last decoded string/key (owned) */
	size_t scap;
};

void jr_init(struct jr *jr, const char *buf, size_t len);
void jr_fini(struct jr *jr);
bool jr_failed(const struct jr *jr);
/* Stop with a reason (the first one is kept), e.g. for a semantic error. */
void jr_fail(struct jr *jr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Type of the next value without consuming it. */
enum jr_type jr_peek(struct jr *jr);

/* Objects: jr_object() consumes '{'; then while jr_key() returns a key
 * (valid until the next read), read or skip its value. NULL at '}' or error. */
bool jr_object(struct jr *jr);
const char *jr_key(struct jr *jr);
/* Arrays: jr_array() consumes '['; jr_next() is true before each element. */
bool jr_array(struct jr *jr);
bool jr_next(struct jr *jr);

/* Scalars; each consumes one value. jr_string returns NULL for null, and
 * its result is valid until the next read. Wrong types are errors. */
const char *jr_string(struct jr *jr);
double jr_double(struct jr *jr);
int64_t jr_int(struct jr *jr);	 /* integer values, exact to 64 bits */
uint64_t jr_uint(struct jr *jr); /* non-negative integers, exact */
bool jr_bool(struct jr *jr);
/* Consume null when it is next: true if it was. */
bool jr_null(struct jr *jr);
void jr_skip(struct jr *jr);
/* Only whitespace must follow the document. */
bool jr_end(struct jr *jr);

#endif
