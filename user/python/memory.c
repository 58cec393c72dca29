// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Target memory through process_vm_readv (no ptrace stop needed). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "python/memory.h"

int py_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	if (addr == 0)
		return -1;
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -1;
}

/* PyASCIIObject.state bits, the same from 3.8 to 3.13:
 * interned:2 kind:3 compact:1 ascii:1 */
#define STATE_KIND(s)	 (((s) >> 2) & 7)
#define STATE_COMPACT(s) (((s) >> 5) & 1)
#define STATE_ASCII(s)	 (((s) >> 6) & 1)

/* Longest string kept: names and paths, not data. */
#define STR_MAX_CHARS 1024

static size_t put_utf8(char *out, size_t pos, size_t outlen, uint32_t c)
{
	char tmp[4];
	size_t n;
	if (c >= 0xd800 && c < 0xe000)
		c = 0xfffd; /* lone surrogate: not encodable */
	if (c < 0x80) {
		tmp[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		tmp[0] = (char)(0xc0 | (c >> 6));
		tmp[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		tmp[0] = (char)(0xe0 | (c >> 12));
		tmp[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else if (c < 0x110000) {
		tmp[0] = (char)(0xf0 | (c >> 18));
		tmp[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	} else {
		tmp[0] = '?';
		n = 1;
	}
	if (pos + n >= outlen)
		return pos; /* no room: drop, never cut a character */
	memcpy(out + pos, tmp, n);
	return pos + n;
}

int py_mem_str(pid_t pid, const struct py_layout *l, uint64_t obj, char *out, size_t outlen)
{
	int64_t length;
	uint32_t state;
	if (outlen == 0 || py_mem_read(pid, obj + l->str_length, &length, sizeof(length)) ||
	    py_mem_read(pid, obj + l->str_state, &state, sizeof(state)))
		return -1;
	unsigned kind = STATE_KIND(state);
	if (!STATE_COMPACT(state) || length < 0 || (kind != 1 && kind != 2 && kind != 4))
		return -1;
	if (length > STR_MAX_CHARS)
		length = STR_MAX_CHARS;
	bool ascii = STATE_ASCII(state);
	uint64_t data = obj + (ascii ? l->str_ascii_data : l->str_compact_data);
	uint8_t raw[STR_MAX_CHARS * 4];
	if (length && py_mem_read(pid, data, raw, (size_t)length * kind))
		return -1;
	size_t pos = 0;
	for (int64_t i = 0; i < length; i++) {
		uint32_t c;
		if (kind == 1)
			c = raw[i];
		else if (kind == 2)
			c = raw[2 * i] | (uint32_t)raw[2 * i + 1] << 8;
		else
			memcpy(&c, raw + 4 * i, 4);
		pos = put_utf8(out, pos, outlen, c);
	}
	out[pos] = '\0';
	return (int)pos;
}

long py_mem_bytes(pid_t pid, const struct py_layout *l, uint64_t obj, size_t max, uint8_t **data)
{
	int64_t size;
	*data = NULL;
	if (py_mem_read(pid, obj + l->bytes_size, &size, sizeof(size)) || size < 0 ||
	    (uint64_t)size > max)
		return -1;
	uint8_t *buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return -1;
	if (size && py_mem_read(pid, obj + l->bytes_data, buf, (size_t)size)) {
		free(buf);
		return -1;
	}
	*data = buf;
	return (long)size;
}
