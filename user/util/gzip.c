// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "util/gzip.h"

struct gzip_stream {
	z_stream z;
	FILE *out;
	int err; /* first errno, sticky */
	unsigned char buf[16384];
};

/* Deflate what is in z's input with `flush`, writing every output chunk. */
static int pump(struct gzip_stream *g, int flush)
{
	int rc;

	do {
		g->z.next_out = g->buf;
		g->z.avail_out = sizeof(g->buf);
		rc = deflate(&g->z, flush);
		if (rc == Z_STREAM_ERROR) {
			g->err = EINVAL;
			return -1;
		}
		size_t n = sizeof(g->buf) - g->z.avail_out;
		if (n && fwrite(g->buf, 1, n, g->out) != n) {
			g->err = errno ? errno : EIO;
			return -1;
		}
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

static ssize_t gzip_write(void *cookie, const char *buf, size_t len)
{
	struct gzip_stream *g = cookie;
	size_t done = 0;

	while (!g->err && done < len) {
		/* avail_in is an unsigned int */
		size_t chunk = len - done > 1u << 30 ? 1u << 30 : len - done;

		g->z.next_in = (unsigned char *)buf + done;
		g->z.avail_in = (unsigned)chunk;
		if (pump(g, Z_NO_FLUSH))
			break;
		done += chunk;
	}
	if (g->err) {
		errno = g->err;
		return -1;
	}
	return (ssize_t)len;
}

static int gzip_close(void *cookie)
{
	struct gzip_stream *g = cookie;
	int err;

	g->z.next_in = NULL;
	g->z.avail_in = 0;
	if (!g->err)
		pump(g, Z_FINISH);
	if (!g->err && (fflush(g->out) || ferror(g->out)))
		g->err = errno ? errno : EIO;
	deflateEnd(&g->z);
	err = g->err;
	free(g);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

FILE *gzip_open(FILE *out, int level)
{
	cookie_io_functions_t io = {.write = gzip_write, .close = gzip_close};
	struct gzip_stream *g = calloc(1, sizeof(*g));
	FILE *f;

	if (!g) {
		errno = ENOMEM;
		return NULL;
	}
	g->out = out;
	/* windowBits 15 + 16: a gzip wrapper (header, CRC-32, length) */
	if (deflateInit2(&g->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	f = fopencookie(g, "w", io);
	if (!f) {
		deflateEnd(&g->z);
		free(g);
		errno = ENOMEM;
	}
	return f;
}
