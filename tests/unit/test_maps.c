// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* target/maps.c on synthetic /proc/PID/maps text, laid out as the kernel
 * prints it (fs/proc/task_mmu.c: fields, padding to column 73, the path). */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "target/maps.h"

/* What the callback saw, paths copied. */
struct seen {
	struct maps_entry e[16];
	char path[16][256];
	size_t n;
	int stop_after; /* return 7 after this many (0: never) */
};

static int collect(const struct maps_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->e[s->n] = *e;
		snprintf(s->path[s->n], sizeof(s->path[0]), "%s", e->path);
		s->e[s->n].path = s->path[s->n];
	}
	s->n++;
	return s->stop_after && s->n == (size_t)s->stop_after ? 7 : 0;
}

static int count_only(const struct maps_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

static void test_normal_lines(void)
{
	struct maps_entry e;

	CHECK_EQ(maps_parse_line("7f5f26776000-7f5f268cc000 r-xp 00026000 fe:00 332835"
				 "                     /usr/lib/x86_64-linux-gnu/libc.so.6",
				 &e),
		 0);
	CHECK(e.start == 0x7f5f26776000ULL);
	CHECK(e.end == 0x7f5f268cc000ULL);
	CHECK(e.offset == 0x26000);
	CHECK_EQ(e.dev_major, 0xfe);
	CHECK_EQ(e.dev_minor, 0);
	CHECK_EQ(e.inode, 332835);
	CHECK_STR(e.perms, "r-xp");
	CHECK_STR(e.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	CHECK_EQ(e.path_len, strlen("/usr/lib/x86_64-linux-gnu/libc.so.6"));
	CHECK(!e.deleted);

	/* 32-bit style 8-digit addresses, a shared mapping, a 5-digit minor */
	CHECK_EQ(maps_parse_line("08048000-08049000 rw-s 00000000 103:10a01 12 /dev/shm/x", &e), 0);
	CHECK(e.start == 0x08048000);
	CHECK_STR(e.perms, "rw-s");
	CHECK_EQ(e.dev_major, 0x103);
	CHECK_EQ(e.dev_minor, 0x10a01);
	CHECK_STR(e.path, "/dev/shm/x");

	/* the top of the address space, execute-only */
	CHECK_EQ(maps_parse_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
				 "                  [vsyscall]",
				 &e),
		 0);
	CHECK(e.end == 0xffffffffff601000ULL);
	CHECK_STR(e.perms, "--xp");
	CHECK_STR(e.path, "[vsyscall]");
}

/* Lines as the kernel prints them, and the path each must give. */
static const struct {
	const char *line, *path;
	bool deleted;
} paths[] = {
    /* anonymous: the line ends after the inode and one space, or (not
     * the kernel's, still read) without it */
    {"7f5f2662b000-7f5f266ef000 rw-p 00000000 00:00 0 ", "", false},
    {"7f5f2662b000-7f5f266ef000 rw-p 00000000 00:00 0", "", false},
    {"561707000000-561707021000 rw-p 00000000 00:00 0                          [heap]", "[heap]",
     false},
    {"7ffd4a1c3000-7ffd4a1e4000 rw-p 00000000 00:00 0                          [stack]", "[stack]",
     false},
    /* a named anonymous mapping (PR_SET_VMA_ANON_NAME) */
    {"7f0000000000-7f0000001000 rw-p 00000000 00:00 0                          [anon:my arena]",
     "[anon:my arena]", false},
    {"7fc932982000-7fc932983000 r-xp 00000000 fe:00 10953945                   /tmp/lib leak.so "
     "(deleted)",
     "/tmp/lib leak.so (deleted)", true},
    /* memfd code: deleted from birth */
    {"7f00000000-7f00001000 r-xp 00000000 00:01 2048 /memfd:jit code (deleted)",
     "/memfd:jit code (deleted)", true},
    /* only the suffix counts, and the padding before a path is not its own */
    {"1000-2000 r-xp 0 fe:00 9 /tmp/ (deleted)/x", "/tmp/ (deleted)/x", false},
    {"1000-2000 r-xp 0 fe:00 9  (deleted)", "(deleted)", false},
    /* spaces inside and at the end of a path stay */
    {"1000-2000 r--p 00000000 fe:00 77 /opt/my app/lib x.so  ", "/opt/my app/lib x.so  ", false},
    /* the kernel escapes a newline in a path as \012: one mapping, one
     * line, no newline in the path (handed on as printed) */
    {"7fc9335ba000-7fc9335bb000 r--s 00000000 fe:00 10953943                   /tmp/a\\012b c .so",
     "/tmp/a\\012b c .so", false},
    /* other control bytes are not escaped by the kernel: kept verbatim */
    {"1000-2000 r--p 0 fe:00 5 /tmp/\x1b[2J\r", "/tmp/\x1b[2J\r", false},
};

static void test_paths_anonymous_deleted_spaces_escapes(void)
{
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct maps_entry e;

		CHECK_EQ(maps_parse_line(paths[i].line, &e), 0);
		CHECK_STR(e.path, paths[i].path);
		CHECK_EQ(e.path_len, strlen(paths[i].path));
		CHECK_EQ(e.deleted, paths[i].deleted);
		CHECK(!strchr(e.path, '\n'));
	}
}

static void test_garbage_is_refused(void)
{
	static const char *const bad[] = {
	    "",
	    "hello",
	    "1000-2000",
	    "1000-2000 r-xp",
	    "1000-2000 r-xp 0 fe:00",
	    "1000-2000 r-xp 0 fe:00 x /lib",			       /* inode not a number */
	    "1000-2000 rwxq 0 fe:00 1 /lib",			       /* perms */
	    "1000-2000 r-x 0 fe:00 1 /lib",			       /* perms too short */
	    "1000-2000 r-xpp 0 fe:00 1 /lib",			       /* perms too long */
	    "1000 2000 r-xp 0 fe:00 1 /lib",			       /* no dash */
	    "2000-1000 r-xp 0 fe:00 1 /lib",			       /* end before start */
	    "1000-1000 r-xp 0 fe:00 1 /lib",			       /* empty */
	    "-1000-2000 r-xp 0 fe:00 1 /lib",			       /* sign */
	    "0x1000-2000 r-xp 0 fe:00 1 /lib",			       /* prefix */
	    " 1000-2000 r-xp 0 fe:00 1 /lib",			       /* leading space */
	    "1000-2000 r-xp 0 fe00 1 /lib",			       /* device */
	    "1000-2000 r-xp 0 fe:00 12a /lib",			       /* junk after the inode */
	    "1000-2000\tr-xp 0 fe:00 1 /lib",			       /* tab */
	    "10000000000000000-10000000000000001 r-xp 0 fe:00 1 /lib", /* 17 digits */
	    "1000-2000 r-xp 0 fe:00 18446744073709551616 /lib",	       /* inode > 2^64-1 */
	};
	struct maps_entry e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (maps_parse_line(bad[i], &e) != -1)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK_EQ(maps_parse_line(bad[i], &e), -1);
	}
	/* the largest values still fit */
	CHECK_EQ(maps_parse_line("0-ffffffffffffffff r-xp ffffffffffffffff fe:00 "
				 "18446744073709551615 /lib",
				 &e),
		 0);
	CHECK(e.inode == UINT64_MAX);
	CHECK(e.offset == UINT64_MAX);
}

static const char sample[] =
    "55d0c0a00000-55d0c0a02000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n"
    "55d0c0a02000-55d0c0a07000 r-xp 00002000 fe:00 247134                     /usr/bin/cat\n"
    "55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0                          [heap]\n"
    "this line is not a mapping\n"
    "7f5f2662b000-7f5f266ef000 rw-p 00000000 00:00 0 \n"
    "7fc932982000-7fc932983000 r-xp 00000000 fe:00 10953945                   /tmp/x (deleted)\n"
    "7ffd4a1c3000-7ffd4a1e4000 rw-p 00000000 00:00 0                          [stack]";

static void test_text_in_any_pieces(void)
{
	struct seen s = {0};
	struct maps_stats st;

	CHECK_EQ(maps_parse_text(sample, strlen(sample), collect, &s, &st), 0);
	CHECK_EQ(s.n, 6);
	CHECK_EQ(st.mappings, 6);
	CHECK_EQ(st.bad, 1);
	CHECK_EQ(st.overlong, 0);
	CHECK(!st.truncated);
	CHECK_STR(s.path[0], "/usr/bin/cat");
	CHECK_STR(s.path[2], "[heap]");
	CHECK_STR(s.path[3], "");
	CHECK(s.e[4].deleted);
	CHECK_STR(s.path[5], "[stack]"); /* the last line needs no newline */

	/* the same through a file descriptor, read in the kernel's pieces */
	FILE *f = tmpfile();
	fwrite(sample, 1, strlen(sample), f);
	fflush(f);
	int fd = dup(fileno(f));
	lseek(fd, 0, SEEK_SET);
	struct seen s2 = {0};
	CHECK_EQ(maps_read_fd(fd, collect, &s2, &st), 0);
	CHECK_EQ(s2.n, 6);
	CHECK_STR(s2.path[4], "/tmp/x (deleted)");
	close(fd);
	fclose(f);

	/* lines cut across the reader's chunks come out whole */
	f = tmpfile();
	for (int i = 0; i < 500; i++)
		fprintf(f, "%s\n", sample);
	fflush(f);
	fd = dup(fileno(f));
	lseek(fd, 0, SEEK_SET);
	size_t n = 0;
	CHECK_EQ(maps_read_fd(fd, count_only, &n, &st), 0);
	CHECK_EQ(n, 500 * 6);
	CHECK_EQ(st.bad, 500);
	CHECK_EQ(st.overlong, 0);
	close(fd);
	fclose(f);

	/* a bad descriptor is a read error */
	CHECK_EQ(maps_read_fd(-1, collect, &s2, NULL), -1);
	/* the callback can stop the read, and its value is returned */
	struct seen s3 = {.stop_after = 2};
	CHECK_EQ(maps_parse_text(sample, strlen(sample), collect, &s3, &st), 7);
	CHECK_EQ(s3.n, 2);
	/* empty text: nothing, no error */
	struct seen s4 = {0};
	CHECK_EQ(maps_parse_text("", 0, collect, &s4, &st), 0);
	CHECK_EQ(s4.n, 0);
	CHECK_EQ(st.mappings + st.bad, 0);
}

static void test_overlong_and_nul_lines_are_skipped(void)
{
	const char *head = "1000-2000 r-xp 00000000 fe:00 1 /";
	const char *next = "\n3000-4000 r-xp 00000000 fe:00 2 /lib/ok.so\n";
	size_t pathlen = MAPS_LINE_MAX; /* one past what fits with the fields */
	size_t len = strlen(head) + pathlen + strlen(next);
	char *text = malloc(len + 1);

	strcpy(text, head);
	memset(text + strlen(head), 'a', pathlen);
	strcpy(text + strlen(head) + pathlen, next);
	struct seen s = {0};
	struct maps_stats st;
	CHECK_EQ(maps_parse_text(text, len, collect, &s, &st), 0);
	CHECK_EQ(s.n, 1); /* the overlong line is skipped, not cut */
	CHECK_STR(s.path[0], "/lib/ok.so");
	CHECK_EQ(st.overlong, 1);

	/* a line of exactly MAPS_LINE_MAX bytes is read */
	size_t fit = MAPS_LINE_MAX - strlen(head);
	memset(text + strlen(head), 'a', fit);
	strcpy(text + strlen(head) + fit, next);
	struct seen s2 = {0};
	CHECK_EQ(maps_parse_text(text, strlen(text), collect, &s2, &st), 0);
	CHECK_EQ(s2.n, 2);
	CHECK_EQ(st.overlong, 0);
	CHECK_EQ(s2.e[0].path_len, fit + 1);
	free(text);

	/* a NUL byte inside a line makes it garbage, not a shorter line */
	const char nul[] = "1000-2000 r-xp 0 fe:00 1 /lib/a.so\0/x\n"
			   "3000-4000 r-xp 0 fe:00 2 /lib/b.so\n";
	struct seen s3 = {0};
	CHECK_EQ(maps_parse_text(nul, sizeof(nul) - 1, collect, &s3, &st), 0);
	CHECK_EQ(s3.n, 1);
	CHECK_STR(s3.path[0], "/lib/b.so");
	CHECK_EQ(st.bad, 1);
}

static void test_line_count_is_bounded(void)
{
	const char line[] = "1000-2000 r-xp 0 fe:00 1 /x\n";
	size_t lines = MAPS_LINES_MAX + 10, n = 0;
	size_t len = lines * (sizeof(line) - 1);
	char *text = malloc(len);

	for (size_t i = 0; i < lines; i++)
		memcpy(text + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	struct maps_stats st;
	CHECK_EQ(maps_parse_text(text, len, count_only, &n, &st), 0);
	CHECK_EQ(n, MAPS_LINES_MAX);
	CHECK(st.truncated);
	free(text);
}

static void test_real_maps_of_this_process(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	struct seen s = {0};
	struct maps_stats st;

	CHECK(fd >= 0);
	CHECK_EQ(maps_read_fd(fd, collect, &s, &st), 0);
	close(fd);
	CHECK(st.mappings > 5);
	CHECK_EQ(st.bad, 0);
	CHECK_EQ(st.overlong, 0);
}

int main(void)
{
	RUN(test_normal_lines);
	RUN(test_paths_anonymous_deleted_spaces_escapes);
	RUN(test_garbage_is_refused);
	RUN(test_text_in_any_pieces);
	RUN(test_overlong_and_nul_lines_are_skipped);
	RUN(test_line_count_is_bounded);
	RUN(test_real_maps_of_this_process);
	return unit_done();
}
