// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/maps: a strict line parser and a bounded line splitter. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "target/maps.h"

#define DELETED " (deleted)"

/* 1..maxdigits hex digits into *v. */
static const char *hex(const char *p, unsigned maxdigits, uint64_t *v)
{
	unsigned n = 0;

	*v = 0;
	for (;; p++, n++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (n == maxdigits)
			return NULL;
		*v = *v << 4 | d;
	}
	return n ? p : NULL;
}

static const char *decimal(const char *p, uint64_t *v)
{
	const char *start = p;

	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return NULL;
		*v = *v * 10 + d;
	}
	return p > start ? p : NULL;
}

static const char *expect(const char *p, char c)
{
	return p && *p == c ? p + 1 : NULL;
}

static const char *perms(const char *p, char out[5])
{
	static const char allowed[4][3] = {"r-", "w-", "x-", "ps"};

	for (int i = 0; i < 4; i++) {
		if (!p[i] || !memchr(allowed[i], p[i], 2))
			return NULL;
		out[i] = p[i];
	}
	out[4] = '\0';
	return p + 4;
}

int maps_parse_line(const char *line, struct maps_entry *e)
{
	uint64_t major, minor;
	const char *p = line;

	memset(e, 0, sizeof(*e));
	p = hex(p, 16, &e->start);
	p = expect(p, '-');
	p = p ? hex(p, 16, &e->end) : NULL;
	p = expect(p, ' ');
	p = p ? perms(p, e->perms) : NULL;
	p = expect(p, ' ');
	p = p ? hex(p, 16, &e->offset) : NULL;
	p = expect(p, ' ');
	p = p ? hex(p, 8, &major) : NULL;
	p = expect(p, ':');
	p = p ? hex(p, 8, &minor) : NULL;
	p = expect(p, ' ');
	p = p ? decimal(p, &e->inode) : NULL;
	/* then spaces up to the path's column, or the end (anonymous) */
	if (!p || (*p && *p != ' ') || e->start >= e->end)
		return -1;
	while (*p == ' ')
		p++;
	e->dev_major = (unsigned)major;
	e->dev_minor = (unsigned)minor;
	e->path = p;
	e->path_len = strlen(p);
	e->deleted =
	    e->path_len > strlen(DELETED) && !strcmp(p + e->path_len - strlen(DELETED), DELETED);
	return 0;
}

/* Splits text into lines of at most MAPS_LINE_MAX bytes, whatever the size
 * of the pieces it is fed. */
struct splitter {
	maps_fn fn;
	void *arg;
	struct maps_stats st;
	size_t lines;
	size_t len;    /* of the line so far */
	bool overlong; /* the line so far did not fit: skip to its end */
	char line[MAPS_LINE_MAX + 1];
	char chunk[16384]; /* read buffer of maps_read_fd */
};

/* The line in sp->line is complete: hand it on. Non-zero stops. */
static int end_line(struct splitter *sp)
{
	struct maps_entry e;
	int rc = 0;

	if (sp->overlong) {
		sp->st.overlong++;
	} else {
		sp->line[sp->len] = '\0';
		/* a NUL byte would hide the rest of the line from the parser */
		if (memchr(sp->line, '\0', sp->len) || maps_parse_line(sp->line, &e)) {
			sp->st.bad++;
		} else {
			sp->st.mappings++;
			rc = sp->fn(&e, sp->arg);
		}
	}
	sp->len = 0;
	sp->overlong = false;
	if (!rc && ++sp->lines >= MAPS_LINES_MAX) {
		sp->st.truncated = true;
		return 1;
	}
	return rc;
}

static int feed(struct splitter *sp, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (!sp->overlong && take <= MAPS_LINE_MAX - sp->len) {
			memcpy(sp->line + sp->len, p, take);
			sp->len += take;
		} else {
			sp->overlong = true;
		}
		if (!nl)
			return 0;
		int rc = end_line(sp);

		if (rc)
			return rc;
		p = nl + 1;
		n -= take + 1;
	}
	return 0;
}

/* The end of the text: a last line without its newline counts too. */
static int finish(struct splitter *sp, int rc, struct maps_stats *st)
{
	if (!rc && (sp->len || sp->overlong))
		rc = end_line(sp);
	if (sp->st.truncated)
		rc = 0; /* the bound is not an error: what was read stands */
	if (st)
		*st = sp->st;
	free(sp);
	return rc;
}

static struct splitter *splitter_new(maps_fn fn, void *arg)
{
	struct splitter *sp = malloc(sizeof(*sp));

	if (sp)
		*sp = (struct splitter){.fn = fn, .arg = arg};
	return sp;
}

int maps_parse_text(const char *text, size_t len, maps_fn fn, void *arg, struct maps_stats *st)
{
	struct splitter *sp = splitter_new(fn, arg);

	if (!sp)
		return -1;
	return finish(sp, feed(sp, text, len), st);
}

int maps_read_fd(int fd, maps_fn fn, void *arg, struct maps_stats *st)
{
	struct splitter *sp = splitter_new(fn, arg);
	int rc = 0;

	if (!sp)
		return -1;
	while (!rc) {
		ssize_t n = read(fd, sp->chunk, sizeof(sp->chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		rc = feed(sp, sp->chunk, (size_t)n);
	}
	return finish(sp, rc, st);
}
