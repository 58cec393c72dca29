// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot series of a long run: every `every_s` seconds the report is
 * written as gzipped JSON, and the oldest files beyond `keep` are deleted,
 * so disk use stays below keep x the largest snapshot. Files are written
 * under a temporary name and renamed, so readers never see a partial one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "out/formats.h"
#include "snapshot/snapshot.h"

struct snapshot_writer {
	char *dir;
	double every_s;
	unsigned keep;
	double next_due; /* CLOCK_MONOTONIC seconds */
	unsigned seq;
	char **paths; /* ring of the files kept, oldest at head */
	unsigned head, count;
	uint64_t max_size;
	char *last;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char *p, *copy = strdup(dir);
	int rc = 0;

	if (!copy)
		return -1;
	for (p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(copy, 0755) && errno != EEXIST) {
			rc = -1;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(copy);
	return rc;
}

struct snapshot_writer *snapshot_writer_new(const char *dir, double every_s, unsigned keep,
					    char *err, size_t errlen)
{
	struct snapshot_writer *w;
	struct stat st;

	if (!(every_s > 0) || keep < 1) {
		snprintf(err, errlen, "snapshots need a period > 0 and keep >= 1");
		return NULL;
	}
	if (!*dir || make_dirs(dir) || stat(dir, &st) ||
	    (!S_ISDIR(st.st_mode) && (errno = ENOTDIR)) || access(dir, W_OK | X_OK)) {
		snprintf(err, errlen, "snapshot directory '%s': %s", dir,
			 *dir ? strerror(errno) : "empty name");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(dir)) || !(w->paths = calloc(keep, sizeof(*w->paths)))) {
		snapshot_writer_free(w);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->every_s = every_s;
	w->keep = keep;
	w->next_due = mono_now() + every_s;
	return w;
}

bool snapshot_writer_due(const struct snapshot_writer *w)
{
	return mono_now() >= w->next_due;
}

static ssize_t gz_cookie_write(void *cookie, const char *buf, size_t len)
{
	size_t done = 0;

	/* gzwrite takes an unsigned length and may write less */
	while (done < len) {
		unsigned chunk = len - done > 1u << 30 ? 1u << 30 : (unsigned)(len - done);
		int n = gzwrite(cookie, buf + done, chunk);

		if (n <= 0) {
			errno = errno ? errno : EIO;
			return done ? (ssize_t)done : -1;
		}
		done += n;
	}
	return done;
}

/* Gzipped JSON of r into path. */
static int write_gz_json(const char *path, const struct rm_report *r)
{
	cookie_io_functions_t io = {.write = gz_cookie_write};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	gzFile gz;
	FILE *f;
	int rc;

	if (fd < 0)
		return -1;
	gz = gzdopen(fd, "wb6");
	if (!gz) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	f = fopencookie(gz, "w", io);
	if (!f) {
		gzclose(gz);
		return -1;
	}
	rc = json_write(r, f);
	if (fclose(f))
		rc = -1;
	if (gzclose(gz) != Z_OK && !rc) {
		errno = errno ? errno : EIO;
		rc = -1;
	}
	return rc;
}

/* Remember path as the newest file and delete the oldest beyond keep. */
static void rotate(struct snapshot_writer *w, char *path)
{
	if (w->count == w->keep) {
		unlink(w->paths[w->head]);
		free(w->paths[w->head]);
		w->paths[w->head] = path;
		w->head = (w->head + 1) % w->keep;
	} else {
		w->paths[(w->head + w->count++) % w->keep] = path;
	}
	w->last = path;
}

int snapshot_writer_write(struct snapshot_writer *w, const struct rm_report *r)
{
	long when = r->unix_time > 0 ? (long)r->unix_time : (long)time(NULL);
	char *path = NULL, *tmp = NULL;
	struct stat st;
	int saved;

	w->seq++;
	if (asprintf(&path, "%s/leakbpf-%d-%06u-%ld.json.gz", w->dir, r->pid, w->seq, when) < 0) {
		path = NULL;
		goto fail;
	}
	if (asprintf(&tmp, "%s/.leakbpf-%d-%06u.tmp", w->dir, r->pid, w->seq) < 0) {
		tmp = NULL;
		goto fail;
	}
	if (write_gz_json(tmp, r) || rename(tmp, path))
		goto fail;
	if (!stat(path, &st) && (uint64_t)st.st_size > w->max_size)
		w->max_size = st.st_size;
	free(tmp);
	rotate(w, path);
	return 1;
fail:
	saved = errno;
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(path);
	errno = saved;
	return -1;
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
	return w->last;
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
	free(w);
}
