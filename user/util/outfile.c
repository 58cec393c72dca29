// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "util/outfile.h"

/* Anyone may create names here, so a name there may be a trap. */
static bool open_to_all(mode_t dir_mode)
{
	return (dir_mode & S_ISVTX) || (dir_mode & S_IWOTH);
}

bool outfile_link_trusted(mode_t dir_mode, uid_t link_uid, uid_t me, uid_t invoker)
{
	return !open_to_all(dir_mode) || link_uid == me || link_uid == invoker;
}

enum outfile_plan outfile_plan(const struct outfile_facts *f, const char **why)
{
	*why = NULL;
	if (!f->exists)
		return OUTFILE_REPLACE;
	if (S_ISLNK(f->mode) && f->dir_is_proc)
		return OUTFILE_IN_PLACE;
	if (S_ISLNK(f->mode)) {
		*why = "it is a symbolic link (leakbpf never writes through one: remove it, name "
		       "another file, or - for standard output)";
		return OUTFILE_REFUSE;
	}
	if (S_ISDIR(f->mode)) {
		*why = "it is a directory";
		return OUTFILE_REFUSE;
	}
	if (open_to_all(f->dir_mode) && f->uid != f->me && f->uid != f->invoker) {
		*why = "another user's file in a sticky or world-writable directory (refusing to "
		       "replace it)";
		return OUTFILE_REFUSE;
	}
	if (S_ISREG(f->mode))
		return OUTFILE_REPLACE;
	if (S_ISCHR(f->mode) || S_ISFIFO(f->mode))
		return OUTFILE_IN_PLACE;
	*why = "it is neither a file, a character device nor a FIFO";
	return OUTFILE_REFUSE;
}

/* Who runs us, and whom files should belong to. */
struct owner {
	uid_t me, uid;
	gid_t gid;
	bool chown; /* run as root through sudo */
};

static bool parse_id(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= UINT32_MAX)
		return false;
	*out = (unsigned)v;
	return true;
}

static struct owner owner_of_run(void)
{
	struct owner o = {.me = geteuid(), .uid = geteuid(), .gid = getegid()};
	unsigned uid, gid;

	if (o.me == 0 && parse_id(getenv("SUDO_UID"), &uid) && parse_id(getenv("SUDO_GID"), &gid)) {
		o.uid = uid;
		o.gid = gid;
		o.chown = true;
	}
	return o;
}

static void give_to_invoker(int dirfd, const char *name, int fd, const struct owner *o)
{
	/* best effort: some filesystems have no owners (vfat) */
	if (!o->chown)
		return;
	if (fd >= 0)
		(void)!fchown(fd, o->uid, o->gid);
	else
		(void)!fchownat(dirfd, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW);
}

/* Links followed in one path at most, as the kernel's MAXSYMLINKS. */
#define MAX_LINKS 40

static int walk(int fd, const char *path, bool create, const struct owner *o, int *links, char *err,
		size_t errlen);

/* One component of a directory path: the next directory fd (O_PATH), or
 * -1 with err. A symbolic link is followed, component by component with
 * the same rules, only when trusted. */
static int step(int fd, const char *comp, bool create, const struct owner *o, int *links, char *err,
		size_t errlen)
{
	struct stat pst, st;
	char target[PATH_MAX];
	int nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (nfd < 0 && errno == ENOENT && create) {
		if (mkdirat(fd, comp, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create it: %s", strerror(errno));
			return -1;
		}
		give_to_invoker(fd, comp, -1, o);
		nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (nfd < 0 || fstat(fd, &pst) || fstat(nfd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (nfd >= 0)
			close(nfd);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return nfd;
	close(nfd);
	if (!S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s", strerror(ENOTDIR));
		return -1;
	}
	if (!outfile_link_trusted(pst.st_mode, st.st_uid, o->me, o->uid)) {
		snprintf(err, errlen,
			 "a symbolic link of uid %u in a sticky or world-writable directory (not "
			 "followed)",
			 (unsigned)st.st_uid);
		return -1;
	}
	n = readlinkat(fd, comp, target, sizeof(target) - 1);
	if (n < 0 || ++*links > MAX_LINKS) {
		snprintf(err, errlen, "%s", strerror(n < 0 ? errno : ELOOP));
		return -1;
	}
	target[n] = '\0';
	nfd = *target == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
			     : fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (nfd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	return walk(nfd, target, false, o, links, err, errlen);
}

/* Walk path from the directory fd (which it closes): the fd of the last
 * directory, or -1 with err naming the path up to the component that
 * failed. */
static int walk(int fd, const char *path, bool create, const struct owner *o, int *links, char *err,
		size_t errlen)
{
	char *copy = strdup(path), *save = NULL, *comp, why[256];

	if (!copy) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		close(fd);
		return -1;
	}
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, "."))
			continue;
		int nfd = step(fd, comp, create, o, links, why, sizeof(why));

		close(fd);
		fd = nfd;
		if (fd < 0) {
			int upto = (int)(comp - copy + strlen(comp));

			snprintf(err, errlen, "%.*s: %s", upto, path, why);
			break;
		}
	}
	free(copy);
	return fd;
}

static int open_dir(const char *dir, bool create, const struct owner *o, char *err, size_t errlen)
{
	int links = 0;
	int fd = open(*dir == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	return walk(fd, dir, create, o, &links, err, errlen);
}

int outfile_open_dir(const char *dir, bool create, char *err, size_t errlen)
{
	struct owner o = owner_of_run();

	if (!*dir) {
		snprintf(err, errlen, "empty directory name");
		return -1;
	}
	return open_dir(dir, create, &o, err, errlen);
}

/* Split path into its directory (opened) and last component. */
static int open_parent(const char *path, const struct owner *o, const char **name, char *err,
		       size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	*name = slash ? slash + 1 : path;
	if (!**name || !strcmp(*name, ".") || !strcmp(*name, "..")) {
		snprintf(err, errlen, "not a file name");
		return -1;
	}
	if (!slash)
		return open_dir(".", false, o, err, errlen);
	dir = slash == path ? strdup("/") : strndup(path, slash - path);
	if (!dir) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	fd = open_dir(dir, false, o, err, errlen);
	free(dir);
	return fd;
}

/* The plan for name in dirfd, as it is now; *open_flags are those of an
 * in-place open. */
static enum outfile_plan plan_now(int dirfd, const char *name, const struct owner *o,
				  int *open_flags, char *err, size_t errlen)
{
	struct outfile_facts f = {.me = o->me, .invoker = o->uid};
	struct stat st, dst;
	struct statfs sfs;
	const char *why;
	enum outfile_plan p;

	if (fstat(dirfd, &dst) || fstatfs(dirfd, &sfs)) {
		snprintf(err, errlen, "%s", strerror(errno));
		return OUTFILE_REFUSE;
	}
	f.dir_mode = dst.st_mode;
	f.dir_is_proc = sfs.f_type == PROC_SUPER_MAGIC;
	if (!fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		f.exists = true;
		f.mode = st.st_mode;
		f.uid = st.st_uid;
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s", strerror(errno));
		return OUTFILE_REFUSE;
	}
	p = outfile_plan(&f, &why);
	/* a /proc link is followed to the pipe or file it stands for */
	*open_flags = O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISLNK(f.mode) ? 0 : O_NOFOLLOW);
	if (p == OUTFILE_REFUSE && f.uid != f.me && f.uid != f.invoker)
		snprintf(err, errlen, "%s; it belongs to uid %u", why, (unsigned)f.uid);
	else if (p == OUTFILE_REFUSE)
		snprintf(err, errlen, "%s", why);
	return p;
}

/* A new file with an unpredictable name in dirfd: its fd, or -1. */
static int create_temp(int dirfd, char tmp[32], const struct owner *o, char *err, size_t errlen)
{
	for (int tries = 0; tries < 16; tries++) {
		uint64_t r;
		int fd;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
			snprintf(err, errlen, "no random name: %s", strerror(errno));
			return -1;
		}
		snprintf(tmp, 32, ".leakbpf-%016" PRIx64 ".tmp", r);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0) {
			/* the umask must not decide who can read the report */
			if (fchmod(fd, 0644)) {
				snprintf(err, errlen, "%s", strerror(errno));
				close(fd);
				unlinkat(dirfd, tmp, 0);
				return -1;
			}
			give_to_invoker(dirfd, tmp, fd, o);
			return fd;
		}
		if (errno != EEXIST) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
	}
	snprintf(err, errlen, "%s", strerror(EEXIST));
	return -1;
}

int outfile_openat(struct outfile *of, int dirfd, const char *name, char *err, size_t errlen)
{
	struct owner o = owner_of_run();
	struct stat st;
	int fd, flags;

	memset(of, 0, sizeof(*of));
	of->dirfd = dirfd;
	of->name = strdup(name);
	if (!of->name) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	switch (plan_now(dirfd, name, &o, &flags, err, errlen)) {
	case OUTFILE_REFUSE:
		goto fail;
	case OUTFILE_IN_PLACE:
		fd = openat(dirfd, name, flags | O_TRUNC);
		break;
	default:
		fd = create_temp(dirfd, of->tmp, &o, err, errlen);
		if (fd < 0)
			goto fail;
		break;
	}
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail_fd;
	}
	of->dev = st.st_dev;
	of->ino = st.st_ino;
	of->f = fdopen(fd, "w");
	if (!of->f) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail_fd;
	}
	return 0;
fail_fd:
	if (fd >= 0)
		close(fd);
	if (of->tmp[0])
		unlinkat(dirfd, of->tmp, 0);
fail:
	free(of->name);
	of->name = NULL;
	return -1;
}

int outfile_open(struct outfile *of, const char *path, char *err, size_t errlen)
{
	struct owner o = owner_of_run();
	const char *name;
	int dirfd;

	if (!strcmp(path, "-")) {
		memset(of, 0, sizeof(*of));
		of->f = stdout;
		of->dirfd = -1;
		return 0;
	}
	dirfd = open_parent(path, &o, &name, err, errlen);
	if (dirfd < 0)
		return -1;
	if (outfile_openat(of, dirfd, name, err, errlen)) {
		close(dirfd);
		return -1;
	}
	of->own_dirfd = true;
	return 0;
}

static void release(struct outfile *of)
{
	if (of->own_dirfd && of->dirfd >= 0)
		close(of->dirfd);
	free(of->name);
	memset(of, 0, sizeof(*of));
	of->dirfd = -1;
}

void outfile_abort(struct outfile *of)
{
	if (of->f && of->f != stdout)
		fclose(of->f);
	if (of->tmp[0])
		unlinkat(of->dirfd, of->tmp, 0);
	release(of);
}

int outfile_close(struct outfile *of, char *err, size_t errlen)
{
	struct owner o = owner_of_run();
	struct stat st;
	int rc = 0;

	if (of->f == stdout) {
		if (fflush(stdout) || ferror(stdout)) {
			snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
			rc = -1;
		}
		release(of);
		return rc;
	}
	errno = 0;
	if (ferror(of->f) | fclose(of->f)) {
		snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	of->f = NULL;
	if (rc || !of->tmp[0])
		goto out;
	/* the destination may have changed while the report was written */
	int flags;

	if (plan_now(of->dirfd, of->name, &o, &flags, err, errlen) == OUTFILE_REFUSE) {
		rc = -1;
		goto out;
	}
	if (renameat(of->dirfd, of->tmp, of->dirfd, of->name)) {
		snprintf(err, errlen, "%s", strerror(errno));
		rc = -1;
		goto out;
	}
	of->tmp[0] = '\0';
	/* in a world-writable directory another user could have swapped the
	 * temporary file: what now has the name must be what was written */
	if (fstatat(of->dirfd, of->name, &st, AT_SYMLINK_NOFOLLOW) || st.st_dev != of->dev ||
	    st.st_ino != of->ino) {
		snprintf(err, errlen, "the file was replaced while it was written");
		rc = -1;
	}
out:
	if (of->tmp[0])
		unlinkat(of->dirfd, of->tmp, 0);
	release(of);
	return rc;
}

int outfile_dir_writable(int dirfd, char *err, size_t errlen)
{
	struct owner o = owner_of_run();
	char tmp[32];
	int fd = create_temp(dirfd, tmp, &o, err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	unlinkat(dirfd, tmp, 0);
	return 0;
}

int outfile_check(const char *path, char *err, size_t errlen)
{
	struct owner o = owner_of_run();
	const char *name;
	int dirfd, fd, flags, rc = -1;

	if (!strcmp(path, "-"))
		return 0;
	dirfd = open_parent(path, &o, &name, err, errlen);
	if (dirfd < 0)
		return -1;
	switch (plan_now(dirfd, name, &o, &flags, err, errlen)) {
	case OUTFILE_REFUSE:
		break;
	case OUTFILE_IN_PLACE:
		/* not truncated yet: that is for when it is written */
		fd = openat(dirfd, name, flags | O_NONBLOCK);
		if (fd < 0 && errno != ENXIO) { /* ENXIO: a FIFO nobody reads yet */
			snprintf(err, errlen, "%s", strerror(errno));
			break;
		}
		if (fd >= 0)
			close(fd);
		rc = 0;
		break;
	default:
		rc = outfile_dir_writable(dirfd, err, errlen);
		break;
	}
	close(dirfd);
	return rc;
}

int stream_finish(FILE *out)
{
	if (!fflush(out) && !ferror(out))
		return 0;
	if (!errno)
		errno = EIO;
	return -1;
}
