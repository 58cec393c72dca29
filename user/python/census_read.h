/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading the target's memory for the census in large batches: many
 * requests per process_vm_readv call (one iovec each), and a small cache of
 * aligned blocks for walks that chase pointers through nearby memory (the
 * collector's linked lists). Nothing here trusts what it reads.
 */
#ifndef PY_CENSUS_READ_H
#define PY_CENSUS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* The 64-bit word at byte off of a buffer read from the target. */
static inline uint64_t read_u64(const void *buf, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

struct read_req {
	uint64_t addr;
	void *dst;
	uint32_t len;
	bool ok; /* set by read_batch: every byte was read */
};

struct read_stats {
	uint64_t syscalls;
	uint64_t requests;
	uint64_t bytes;
	uint64_t failed; /* requests that could not be read whole */
};

/* Read every request (up to IOV_MAX per call); a request the kernel cannot
 * read whole is marked !ok and the batch goes on after it. */
void read_batch(pid_t pid, struct read_req *reqs, size_t n, struct read_stats *st);

/* One read (len bytes at addr). 0, or -1. */
int read_one(pid_t pid, uint64_t addr, void *dst, size_t len, struct read_stats *st);

/* The block cache: READ_WAYS-way set-associative, blocks of READ_BLOCK
 * bytes, the least recently used block of a set replaced. */
#define READ_BLOCK 16384
#define READ_WAYS  4

struct read_cache {
	pid_t pid;
	size_t nsets;	 /* a power of two */
	uint64_t *tag;	 /* nsets * READ_WAYS block addresses, 1 when empty */
	uint64_t *used;	 /* last use, per block */
	uint32_t *valid; /* bytes of the block that could be read */
	uint8_t *data;	 /* nsets * READ_WAYS * READ_BLOCK */
	uint64_t clock;
	uint64_t hits, misses;
	struct read_stats *st;
};

/* A cache of at least `bytes` bytes. 0, or -1 without memory. */
int read_cache_init(struct read_cache *c, pid_t pid, size_t bytes, struct read_stats *st);
void read_cache_free(struct read_cache *c);
/* Forget every block (their memory may have changed). */
void read_cache_clear(struct read_cache *c);
/* len bytes at addr through the cache. 0, or -1 when unreadable. */
int read_cached(struct read_cache *c, uint64_t addr, void *dst, size_t len);

#endif
