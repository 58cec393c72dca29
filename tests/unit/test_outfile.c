// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/outfile.c: the decision for a destination, and files written in a
 * scratch directory (no root needed; ownership is checked when root). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "util/outfile.h"

static bool in_proc;

static enum outfile_plan plan(bool exists, mode_t mode, uid_t uid, mode_t dir_mode)
{
	struct outfile_facts f = {exists, mode, uid, dir_mode, in_proc, 1000, 1000};
	const char *why;
	enum outfile_plan p = outfile_plan(&f, &why);
	CHECK((p == OUTFILE_REFUSE) == (why != NULL));
	return p;
}

static void test_plan(void)
{
	const mode_t dir = S_IFDIR | 0755, sticky = S_IFDIR | 01777, open = S_IFDIR | 0777;

	CHECK_EQ(plan(false, 0, 0, sticky), OUTFILE_REPLACE);
	CHECK_EQ(plan(true, S_IFREG | 0644, 1000, dir), OUTFILE_REPLACE);
	CHECK_EQ(plan(true, S_IFREG | 0644, 0, dir), OUTFILE_REPLACE);
	/* a link is never followed, even one's own */
	CHECK_EQ(plan(true, S_IFLNK | 0777, 1000, dir), OUTFILE_REFUSE);
	CHECK_EQ(plan(true, S_IFLNK | 0777, 65534, sticky), OUTFILE_REFUSE);
	CHECK_EQ(plan(true, S_IFDIR | 0755, 1000, dir), OUTFILE_REFUSE);
	/* another user's file where anyone can plant one */
	CHECK_EQ(plan(true, S_IFREG | 0644, 65534, sticky), OUTFILE_REFUSE);
	CHECK_EQ(plan(true, S_IFREG | 0644, 65534, open), OUTFILE_REFUSE);
	CHECK_EQ(plan(true, S_IFIFO | 0644, 65534, sticky), OUTFILE_REFUSE);
	CHECK_EQ(plan(true, S_IFREG | 0644, 1000, sticky), OUTFILE_REPLACE);
	/* devices and FIFOs are written in place: never replaced by a file */
	CHECK_EQ(plan(true, S_IFCHR | 0666, 0, dir), OUTFILE_IN_PLACE);
	CHECK_EQ(plan(true, S_IFIFO | 0600, 1000, dir), OUTFILE_IN_PLACE);
	CHECK_EQ(plan(true, S_IFBLK | 0660, 0, dir), OUTFILE_REFUSE);
	CHECK_EQ(plan(true, S_IFSOCK | 0755, 1000, dir), OUTFILE_REFUSE);
	/* the links of /proc (/proc/self/fd/N) stand for open files: in place */
	in_proc = true;
	CHECK_EQ(plan(true, S_IFLNK | 0700, 1000, S_IFDIR | 0500), OUTFILE_IN_PLACE);
	in_proc = false;
}

static void test_links_in_paths(void)
{
	CHECK(outfile_link_trusted(S_IFDIR | 0755, 65534, 0, 1000));
	CHECK(!outfile_link_trusted(S_IFDIR | 01777, 65534, 0, 1000));
	CHECK(!outfile_link_trusted(S_IFDIR | 0777, 65534, 0, 1000));
	CHECK(outfile_link_trusted(S_IFDIR | 01777, 0, 0, 1000));
	CHECK(outfile_link_trusted(S_IFDIR | 01777, 1000, 0, 1000));
}

static char dir[64];

static char *path(const char *name)
{
	static char buf[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static int write_text(const char *p, const char *text, char *err, size_t len)
{
	struct outfile of;
	if (outfile_open(&of, p, err, len))
		return -1;
	fputs(text, of.f);
	return outfile_close(&of, err, len);
}

static const char *read_text(const char *p)
{
	static char buf[256];
	FILE *f = fopen(p, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static int entries(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

static void test_files(void)
{
	char err[512];
	struct stat st;
	mode_t old = umask(077);

	CHECK_EQ(write_text(path("a.json"), "one", err, sizeof(err)), 0);
	CHECK_STR(read_text(path("a.json")), "one");
	CHECK(!stat(path("a.json"), &st) && (st.st_mode & 07777) == 0644);
	/* replaced whole, nothing left behind */
	CHECK_EQ(write_text(path("a.json"), "two", err, sizeof(err)), 0);
	CHECK_STR(read_text(path("a.json")), "two");
	CHECK_EQ(entries(), 1);

	/* a link at the destination: refused, its target untouched */
	CHECK_EQ(symlink(path("a.json"), path("link.json")), 0);
	CHECK_EQ(outfile_check(path("link.json"), err, sizeof(err)), -1);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK_EQ(write_text(path("link.json"), "three", err, sizeof(err)), -1);
	CHECK_STR(read_text(path("a.json")), "two");

	/* a missing directory is named */
	CHECK_EQ(outfile_check(path("nodir/x.json"), err, sizeof(err)), -1);
	CHECK(strstr(err, "nodir: No such file") != NULL);
	CHECK_EQ(outfile_check(path("a.json/x"), err, sizeof(err)), -1);
	CHECK_EQ(outfile_check(path(""), err, sizeof(err)), -1);

	/* one's own link to a directory is followed */
	CHECK_EQ(mkdir(path("sub"), 0755), 0);
	CHECK_EQ(symlink("sub", path("sublink")), 0);
	CHECK_EQ(write_text(path("sublink/b.json"), "four", err, sizeof(err)), 0);
	CHECK_STR(read_text(path("sub/b.json")), "four");

	/* a character device is written in place, and its errors seen */
	CHECK_EQ(write_text("/dev/null", "x", err, sizeof(err)), 0);
	CHECK_EQ(write_text("/dev/full", "x", err, sizeof(err)), -1);
	CHECK(strstr(err, "No space") != NULL);

	/* a pipe named by /proc/self/fd/N or /dev/fd/N (a shell's >(...)) */
	int pipefd[2];
	char name[64], got[16] = "";
	CHECK_EQ(pipe(pipefd), 0);
	snprintf(name, sizeof(name), "/proc/self/fd/%d", pipefd[1]);
	CHECK_EQ(outfile_check(name, err, sizeof(err)), 0);
	CHECK_EQ(write_text(name, "via", err, sizeof(err)), 0);
	snprintf(name, sizeof(name), "/dev/fd/%d", pipefd[1]);
	CHECK_EQ(write_text(name, " fd", err, sizeof(err)), 0);
	close(pipefd[1]);
	CHECK_EQ(read(pipefd[0], got, sizeof(got) - 1), 6);
	CHECK_STR(got, "via fd");
	close(pipefd[0]);
	/* but /dev/stdout is a link in /dev */
	CHECK_EQ(outfile_check("/dev/stdout", err, sizeof(err)), -1);
	CHECK(strstr(err, "- for standard output") != NULL);

	/* directories created on the way, usable as open directories */
	int fd = outfile_open_dir(path("new/deeper"), true, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK_EQ(outfile_dir_writable(fd, err, sizeof(err)), 0);
	struct outfile of;
	CHECK_EQ(outfile_openat(&of, fd, "c.json", err, sizeof(err)), 0);
	fputs("five", of.f);
	CHECK_EQ(outfile_close(&of, err, sizeof(err)), 0);
	CHECK_STR(read_text(path("new/deeper/c.json")), "five");
	/* given up: no file at all */
	CHECK_EQ(outfile_openat(&of, fd, "d.json", err, sizeof(err)), 0);
	outfile_abort(&of);
	CHECK(access(path("new/deeper/d.json"), F_OK) != 0);
	close(fd);

	/* another user's link in a sticky directory is not followed, also when
	 * reached through a link of one's own */
	if (geteuid() == 0) {
		CHECK_EQ(mkdir(path("tmp"), 01777), 0);
		CHECK_EQ(chmod(path("tmp"), 01777), 0);
		CHECK_EQ(symlink(path("sub"), path("tmp/theirs")), 0);
		CHECK_EQ(lchown(path("tmp/theirs"), 65534, 65534), 0);
		CHECK_EQ(outfile_check(path("tmp/theirs/x.json"), err, sizeof(err)), -1);
		CHECK(strstr(err, "symbolic link of uid 65534") != NULL);
		CHECK_EQ(symlink("tmp/theirs", path("mine")), 0);
		CHECK_EQ(outfile_check(path("mine/x.json"), err, sizeof(err)), -1);
		CHECK(strstr(err, "symbolic link of uid 65534") != NULL);
		CHECK_EQ(lchown(path("tmp/theirs"), 0, 0), 0);
		CHECK_EQ(outfile_check(path("mine/x.json"), err, sizeof(err)), 0);
	}

	/* through sudo, files belong to the invoking user */
	if (geteuid() == 0) {
		setenv("SUDO_UID", "65534", 1);
		setenv("SUDO_GID", "65533", 1);
		CHECK_EQ(write_text(path("sudo.json"), "six", err, sizeof(err)), 0);
		CHECK(!lstat(path("sudo.json"), &st) && st.st_uid == 65534 && st.st_gid == 65533);
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
	}
	umask(old);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/leakbpf-unit-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_plan);
	RUN(test_links_in_paths);
	RUN(test_files);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return unit_done();
}
