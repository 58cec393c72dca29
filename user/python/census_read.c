// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Batched reads of the target's memory. process_vm_readv reads remote
 * iovecs in order and stops at the first it cannot read whole, returning
 * the bytes read so far: the requests before that point are complete, the
 * one it stopped in is marked failed, and the batch resumes after it. The
 * target is never stopped or signalled by a read.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "python/census_read.h"
#include "util/hash.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif
#define BATCH (IOV_MAX < 1024 ? IOV_MAX : 1024)

void read_batch(pid_t pid, struct read_req *reqs, size_t n, struct read_stats *st)
{
	struct iovec local[BATCH], remote[BATCH];
	size_t i = 0;
	while (i < n) {
		size_t k = 0;
		for (size_t j = i; j < n && k < BATCH; j++, k++) {
			reqs[j].ok = false;
			local[k] = (struct iovec){.iov_base = reqs[j].dst, .iov_len = reqs[j].len};
			remote[k] = (struct iovec){.iov_base = (void *)(uintptr_t)reqs[j].addr,
						   .iov_len = reqs[j].len};
		}
		ssize_t got = process_vm_readv(pid, local, k, remote, k, 0);
		st->syscalls++;
		size_t done = 0;
		uint64_t left = got > 0 ? (uint64_t)got : 0;
		while (done < k && left >= reqs[i + done].len) {
			left -= reqs[i + done].len;
			reqs[i + done].ok = true;
			st->bytes += reqs[i + done].len;
			done++;
		}
		if (done < k) {
			/* the kernel stopped in this one (or could not start it) */
			st->failed++;
			done++;
		}
		st->requests += done;
		i += done;
	}
}

int read_one(pid_t pid, uint64_t addr, void *dst, size_t len, struct read_stats *st)
{
	struct read_req r = {.addr = addr, .dst = dst, .len = (uint32_t)len};
	if (len == 0)
		return 0;
	if (addr == 0 || len > UINT32_MAX)
		return -1;
	read_batch(pid, &r, 1, st);
	return r.ok ? 0 : -1;
}

int read_cache_init(struct read_cache *c, pid_t pid, size_t bytes, struct read_stats *st)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->st = st;
	c->nsets = 1;
	while (c->nsets * READ_WAYS * READ_BLOCK < bytes)
		c->nsets *= 2;
	size_t n = c->nsets * READ_WAYS;
	c->tag = malloc(n * sizeof(*c->tag));
	c->used = calloc(n, sizeof(*c->used));
	c->valid = calloc(n, sizeof(*c->valid));
	c->data = malloc(n * READ_BLOCK);
	if (!c->tag || !c->used || !c->valid || !c->data) {
		read_cache_free(c);
		return -1;
	}
	read_cache_clear(c);
	return 0;
}

void read_cache_free(struct read_cache *c)
{
	free(c->tag);
	free(c->used);
	free(c->valid);
	free(c->data);
	c->tag = NULL;
	c->used = NULL;
	c->valid = NULL;
	c->data = NULL;
}

void read_cache_clear(struct read_cache *c)
{
	for (size_t i = 0; i < c->nsets * READ_WAYS; i++)
		c->tag[i] = 1;
}

/* The slot holding block `base`, filled on a miss. */
static size_t block_slot(struct read_cache *c, uint64_t base)
{
	size_t set = (size_t)(hash_mix64(base) & (c->nsets - 1)) * READ_WAYS;
	size_t victim = set;
	for (size_t w = set; w < set + READ_WAYS; w++) {
		if (c->tag[w] == base) {
			c->hits++;
			c->used[w] = ++c->clock;
			return w;
		}
		if (c->used[w] < c->used[victim])
			victim = w;
	}
	c->misses++;
	uint8_t *dst = c->data + victim * READ_BLOCK;
	struct iovec local = {.iov_base = dst, .iov_len = READ_BLOCK};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)base, .iov_len = READ_BLOCK};
	ssize_t got = process_vm_readv(c->pid, &local, 1, &remote, 1, 0);
	c->st->syscalls++;
	c->st->requests++;
	c->valid[victim] = got > 0 ? (uint32_t)got : 0;
	c->st->bytes += c->valid[victim];
	c->tag[victim] = base;
	c->used[victim] = ++c->clock;
	return victim;
}

int read_cached(struct read_cache *c, uint64_t addr, void *dst, size_t len)
{
	uint8_t *out = dst;
	if (addr == 0 || addr + len < addr)
		return -1;
	while (len) {
		uint64_t base = addr & ~(uint64_t)(READ_BLOCK - 1);
		size_t off = (size_t)(addr - base);
		size_t n = READ_BLOCK - off < len ? READ_BLOCK - off : len;
		size_t w = block_slot(c, base);
		if (off + n > c->valid[w]) {
			/* a block cut short by an unmapped page: read exactly */
			if (read_one(c->pid, addr, out, n, c->st))
				return -1;
		} else {
			memcpy(out, c->data + w * READ_BLOCK + off, n);
		}
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}
