// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/gzip.c: what it writes is one gzip member that zlib reads back. */
#include <stdlib.h>
#include <zlib.h>
#include "unit.h"
#include "util/gzip.h"

static void test_round_trip(void)
{
	char *mem = NULL;
	size_t memlen = 0;
	FILE *raw = open_memstream(&mem, &memlen);
	FILE *gz = gzip_open(raw, 6);
	CHECK(gz != NULL);
	/* more than one deflate buffer, written in odd pieces */
	size_t n = 0;
	for (int i = 0; i < 20000; i++)
		n += fprintf(gz, "line %d %s\n", i, i % 7 ? "x" : "a longer line of text");
	CHECK_EQ(fclose(gz), 0);
	fclose(raw);
	CHECK(memlen > 18 && (unsigned char)mem[0] == 0x1f && (unsigned char)mem[1] == 0x8b);

	char *out = malloc(n + 1);
	z_stream z = {0};
	CHECK_EQ(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)mem;
	z.avail_in = memlen;
	z.next_out = (unsigned char *)out;
	z.avail_out = n + 1;
	CHECK_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
	CHECK_EQ(z.total_out, n);
	CHECK_EQ(z.avail_in, 0);
	inflateEnd(&z);
	out[n < z.total_out ? n : z.total_out] = '\0';
	CHECK(!strncmp(out, "line 0 a longer line of text\nline 1 x\n", 38));
	free(out);
	free(mem);
}

static void test_write_errors_are_reported(void)
{
	FILE *full = fopen("/dev/full", "w");
	FILE *gz = gzip_open(full, 6);
	for (int i = 0; i < 100000; i++)
		fprintf(gz, "%d", i * 7919);
	CHECK_EQ(fclose(gz), EOF);
	fclose(full);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_write_errors_are_reported);
	return unit_done();
}
