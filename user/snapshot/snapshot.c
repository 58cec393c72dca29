// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot series of a long run: every `every_s` seconds the report is
 * written as gzipped JSON, and the oldest files beyond `keep` are deleted,
 * so disk use stays below keep x the largest snapshot. Files are written
 * under a new unpredictable name and renamed (util/outfile.h), so readers
 * never see a partial one and no planted link is followed. The directory is
 * opened once: later changes to its path do not move the series.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "out/formats.h"
#include "report/bound.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"
#include "util/gzip.h"
#include "util/outfile.h"

struct snapshot_writer {
	char *dir;
	int dirfd; /* dir, opened once */
	double every_s;
	unsigned keep;
	size_t max_stacks;
	double next_due; /* CLOCK_MONOTONIC seconds */
	unsigned seq;
	char **paths; /* ring of the files kept (names in dirfd), oldest at head */
	unsigned head, count;
	uint64_t max_size;
	char *last_path; /* the newest file, for messages */
};

static double mono_now(void)
{
	return mono_ns() / 1e9;
}

/* The directory of the series, created if missing and writable. */
static int open_series_dir(const char *dir, char *err, size_t errlen)
{
	char why[400];
	int fd = outfile_open_dir(dir, true, why, sizeof(why));

	if (fd < 0 || outfile_dir_writable(fd, why, sizeof(why))) {
		snprintf(err, errlen, "snapshot directory '%s': %s", dir, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int snapshot_dir_check(const char *dir, char *err, size_t errlen)
{
	int fd = open_series_dir(dir, err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

struct snapshot_writer *snapshot_writer_new(const char *dir, double every_s, unsigned keep,
					    size_t max_stacks, char *err, size_t errlen)
{
	struct snapshot_writer *w;
	int fd;

	if (!(every_s > 0) || keep < 1) {
		snprintf(err, errlen, "snapshots need a period > 0 and keep >= 1");
		return NULL;
	}
	fd = open_series_dir(dir, err, errlen);
	if (fd < 0)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(dir)) || !(w->paths = calloc(keep, sizeof(*w->paths)))) {
		if (w)
			w->dirfd = -1;
		snapshot_writer_free(w);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->dirfd = fd;
	w->every_s = every_s;
	w->keep = keep;
	w->max_stacks = max_stacks;
	w->next_due = mono_now() + every_s;
	return w;
}

bool snapshot_writer_due(const struct snapshot_writer *w)
{
	return mono_now() >= w->next_due;
}

/* Gzipped JSON of r, at most max_stacks stacks, as `name` in the series'
 * directory. 0, or -1 with errno set. */
static int write_gz_json(struct snapshot_writer *w, const char *name, const struct rm_report *r)
{
	struct rm_bounded b;
	struct outfile of;
	char err[256];
	FILE *gz;
	int rc = -1;

	if (rm_bound(r, w->max_stacks, &b)) {
		errno = ENOMEM;
		return -1;
	}
	if (outfile_openat(&of, w->dirfd, name, err, sizeof(err))) {
		fprintf(stderr, "leakbpf: warning: snapshot %s/%s: %s\n", w->dir, name, err);
		errno = EPERM;
		goto out;
	}
	gz = gzip_open(of.f, 6);
	if (!gz || json_write(&b.r, gz) | fclose(gz)) {
		outfile_abort(&of);
		goto out;
	}
	if (outfile_close(&of, err, sizeof(err))) {
		fprintf(stderr, "leakbpf: warning: snapshot %s/%s: %s\n", w->dir, name, err);
		errno = EIO;
		goto out;
	}
	rc = 0;
out:
	rm_bounded_free(&b);
	return rc;
}

/* Remember path as the newest file and delete the oldest beyond keep. */
static void rotate(struct snapshot_writer *w, char *path)
{
	if (w->count == w->keep) {
		unlinkat(w->dirfd, w->paths[w->head], 0);
		free(w->paths[w->head]);
		w->paths[w->head] = path;
		w->head = (w->head + 1) % w->keep;
	} else {
		w->paths[(w->head + w->count++) % w->keep] = path;
	}
	free(w->last_path);
	if (asprintf(&w->last_path, "%s/%s", w->dir, path) < 0)
		w->last_path = NULL;
}

int snapshot_writer_write(struct snapshot_writer *w, const struct rm_report *r)
{
	long when = r->unix_time > 0 ? (long)r->unix_time : (long)time(NULL);
	char *name = NULL;
	struct stat st;

	w->seq++;
	if (asprintf(&name, "leakbpf-%d-%06u-%ld.json.gz", r->pid, w->seq, when) < 0) {
		errno = ENOMEM;
		return -1;
	}
	if (write_gz_json(w, name, r)) {
		int saved = errno;

		free(name);
		errno = saved;
		return -1;
	}
	if (!fstatat(w->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
	    (uint64_t)st.st_size > w->max_size)
		w->max_size = st.st_size;
	rotate(w, name);
	return 1;
}

int snapshot_writer_tick(struct snapshot_writer *w, const struct rm_report *r)
{
	double now = mono_now();

	if (now < w->next_due)
		return 0;
	/* stay on the grid of periods; after a stall start a new one */
	w->next_due += w->every_s;
	if (w->next_due <= now)
		w->next_due = now + w->every_s;
	return snapshot_writer_write(w, r);
}

const char *snapshot_writer_last_path(const struct snapshot_writer *w)
{
	return w->last_path;
}

uint64_t snapshot_writer_bound(const struct snapshot_writer *w)
{
	return (uint64_t)w->keep * w->max_size;
}

void snapshot_writer_describe(const struct snapshot_writer *w, char *buf, size_t len)
{
	if (w->max_size)
		snprintf(buf, len,
			 "snapshots every %gs in %s, keeping the last %u: at most %.1f MiB on disk "
			 "(%u x the largest so far, %.1f KiB)",
			 w->every_s, w->dir, w->keep, snapshot_writer_bound(w) / 1048576.0, w->keep,
			 w->max_size / 1024.0);
	else
		snprintf(buf, len,
			 "snapshots every %gs in %s, keeping the last %u: at most %u x the "
			 "largest snapshot on disk",
			 w->every_s, w->dir, w->keep, w->keep);
}

void snapshot_writer_free(struct snapshot_writer *w)
{
	if (!w)
		return;
	if (w->paths)
		for (unsigned i = 0; i < w->count; i++)
			free(w->paths[(w->head + i) % w->keep]);
	free(w->paths);
	free(w->dir);
	free(w->last_path);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w);
}
