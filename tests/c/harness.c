// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The test-program side of the pytest handshake; see harness.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

void lt_init(struct lt *lt, int argc, char **argv)
{
	int i = 1;

	memset(lt, 0, sizeof(*lt));
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--now") == 0)
			lt->now = 1;
		else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
			lt->exit_code = atoi(argv[++i]);
		else
			break;
	}
	lt->argc = argc - i;
	lt->argv = argv + i;
}

static void write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(99);
		buf += n;
		len -= (size_t)n;
	}
}

void lt_say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(buf, (size_t)n);
}

void lt_ready(const struct lt *lt)
{
	(void)lt;
	lt_say("ready %d", (int)getpid());
}

static int read_byte(void)
{
	char c;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);

		if (n == 1)
			return (unsigned char)c;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

int lt_wait_go(const struct lt *lt)
{
	int c;

	if (lt->now)
		return 'g';
	c = read_byte();
	if (c < 0)
		_exit(0); /* the driver went away before saying go */
	return c;
}

void lt_leak(const struct lt *lt, const char *func, size_t count, size_t bytes)
{
	(void)lt;
	lt_say("leak %s %zu %zu", func, count, bytes);
}

void lt_clean(const struct lt *lt, const char *func)
{
	(void)lt;
	lt_say("clean %s", func);
}

void lt_done(const struct lt *lt)
{
	(void)lt;
	lt_say("done");
}

int lt_end(const struct lt *lt)
{
	if (lt->now)
		return lt->exit_code;
	for (;;) {
		int c = read_byte();

		if (c < 0)
			return 0;
		if (c == 'q')
			return lt->exit_code;
	}
}

void lt_keep(void *p)
{
	/* An empty asm that "uses" p: the compiler must materialise it. */
	__asm__ volatile("" : : "r"(p) : "memory");
}
