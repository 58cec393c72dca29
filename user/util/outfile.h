/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Output files written safely by a root process. A file is written under a
 * new, unpredictable name created exclusively next to its destination
 * (O_CREAT|O_EXCL|O_NOFOLLOW), then renamed over it: a symbolic link is
 * never followed, nor a file planted by another user replaced in a sticky or
 * world-writable directory. Files get mode 0644 whatever the umask, and
 * belong to the invoking user when run through sudo (SUDO_UID/SUDO_GID).
 * Character devices and FIFOs (/dev/null, a pipe) are written in place, and
 * so are the links of /proc (/proc/self/fd/N, /dev/fd/N: a shell's >(...)),
 * which no user can plant. "-" is standard output. Errors are one line in
 * err, without the path.
 */
#ifndef UTIL_OUTFILE_H
#define UTIL_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* What lstat says of a destination and its directory, and who may own it. */
struct outfile_facts {
	bool exists;
	mode_t mode; /* destination, not followed */
	uid_t uid;
	mode_t dir_mode;
	bool dir_is_proc;  /* the directory is in procfs */
	uid_t me, invoker; /* effective user; SUDO_UID (or me) */
};

enum outfile_plan {
	OUTFILE_REPLACE,  /* new file next to it, renamed over it */
	OUTFILE_IN_PLACE, /* a character device, FIFO or /proc link: write into it */
	OUTFILE_REFUSE,
};

/* The decision for a destination; *why says why when refused. */
enum outfile_plan outfile_plan(const struct outfile_facts *f, const char **why);
/* Whether a symbolic link owned by link_uid may be followed as a directory
 * of an output path: not when another user owns it in a sticky or
 * world-writable directory (where anyone can plant one). */
bool outfile_link_trusted(mode_t dir_mode, uid_t link_uid, uid_t me, uid_t invoker);

struct outfile {
	FILE *f;   /* write the content here */
	int dirfd; /* directory of the destination, -1 for stdout */
	bool own_dirfd;
	char *name;   /* destination in dirfd */
	char tmp[32]; /* temporary name, "" when written in place */
	dev_t dev;
	ino_t ino;
};

/* Open path for writing (see above). 0, or -1 with a reason in err. */
/* End of a writer: 0 when everything written so far reached the stream's
 * file, else -1 with errno set (EIO when stdio kept no reason). */
int stream_finish(FILE *out);

int outfile_open(struct outfile *of, const char *path, char *err, size_t errlen);
/* The same for name inside an open directory (outfile_open_dir). */
int outfile_openat(struct outfile *of, int dirfd, const char *name, char *err, size_t errlen);
/* Finish: flush, close, rename into place. 0, or -1 with a reason in err
 * (the temporary file is removed and the destination left as it was). */
int outfile_close(struct outfile *of, char *err, size_t errlen);
/* Give up: close and remove the temporary file. */
void outfile_abort(struct outfile *of);

/* Whether path could be written now (its directory is reachable without an
 * untrusted link, the destination may be replaced, a file can be created
 * there): the check made before tracing starts. 0, or -1 and err. */
int outfile_check(const char *path, char *err, size_t errlen);

/* Open directory dir (O_PATH), creating what is missing when `create`,
 * following only trusted symbolic links. The fd, or -1 and err. */
int outfile_open_dir(const char *dir, bool create, char *err, size_t errlen);
/* Whether a file can be created in the open directory dirfd. */
int outfile_dir_writable(int dirfd, char *err, size_t errlen);

#endif
