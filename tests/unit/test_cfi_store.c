// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * user/unwind/cfi_store.c over this very process's mappings (libc, libdw,
 * the test itself), with a rows array in our own memory instead of the
 * BPF one: each file built once, idle tables kept and reused, their room
 * taken back only when no code range can still name them, tables that do
 * not fit counted, and the bias of every slice right; several users (the
 * processes of a session) share a table, which goes idle only when none
 * maps it any more.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <elfutils/libdw.h>
#include "unit.h"
#include "target/elf_file.h"
#include "target/process.h"
#include "unwind/cfi_store.h"
#include "unwind/cfi_table.h"

static struct lb_target self;

static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* The executable mappings of this process whose file name starts with one
 * of names (NULL: all). */
static void only(const char *const *names, struct lb_target *out)
{
	*out = self;
	out->maps = calloc(self.nmaps, sizeof(*out->maps));
	out->nmaps = 0;
	for (size_t i = 0; i < self.nmaps; i++) {
		const struct lb_mapping *m = &self.maps[i];
		if (m->perms[2] != 'x' || m->path[0] != '/')
			continue;
		bool want = !names;
		for (size_t k = 0; names && names[k]; k++)
			want |= !strncmp(base(m->path), names[k], strlen(names[k]));
		if (want)
			out->maps[out->nmaps++] = *m;
	}
}

/* One pass, as code_ranges.c makes it; the slice of the mapping named
 * `name` in *got when not NULL. */
static void pass_of(struct cfi_store *s, struct cfi_user *u, const struct lb_target *t,
		    const char *name, struct cfi_slice *got, const struct lb_mapping **map)
{
	cfi_store_begin(s, u);
	for (size_t i = 0; i < t->nmaps; i++) {
		struct cfi_slice sl = cfi_store_slice(s, u, t, &t->maps[i]);
		if (name && !strncmp(base(t->maps[i].path), name, strlen(name)) && got) {
			*got = sl;
			if (map)
				*map = &t->maps[i];
		}
	}
	cfi_store_end(s, u);
}

/* A pass of the store's one user (the tests of a single process). */
static struct cfi_user *one_user;

static void pass(struct cfi_store *s, const struct lb_target *t, const char *name,
		 struct cfi_slice *got, const struct lb_mapping **map)
{
	pass_of(s, one_user, t, name, got, map);
}

static struct cfi_store *store_new(struct lb_cfi_row *rows, uint32_t cap)
{
	struct cfi_store *s = cfi_store_new(rows, cap, 0, false);
	one_user = s ? cfi_store_join(s) : NULL;
	CHECK(s && one_user);
	return s;
}

static void store_free(struct cfi_store *s)
{
	cfi_store_leave(s, one_user);
	cfi_store_free(s);
}

static size_t rows_of(const char *path)
{
	struct cfi_table t;
	char err[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	if (fd >= 0 && !cfi_table_build(fd, path, 1u << 24, &t, err, sizeof(err))) {
		n = t.nrows;
		cfi_table_free(&t);
	}
	if (fd >= 0)
		close(fd);
	return n;
}

static const char *path_of(const char *name)
{
	for (size_t i = 0; i < self.nmaps; i++)
		if (!strncmp(base(self.maps[i].path), name, strlen(name)))
			return self.maps[i].path;
	return NULL;
}

static void test_each_file_built_once_with_the_right_bias(void)
{
	struct lb_target all;
	struct cfi_store_stats st;
	struct cfi_slice libc = {0};
	const struct lb_mapping *m = NULL;
	struct lb_cfi_row *rows = calloc(1u << 20, sizeof(*rows));
	struct cfi_store *s = store_new(rows, 1u << 20);
	only(NULL, &all);
	pass(s, &all, "libc.so", &libc, &m);
	cfi_store_stats(s, &st);
	CHECK(st.modules >= 3); /* the test, libc, ld.so, libdw... */
	CHECK_EQ(st.builds, st.modules + st.no_cfi);
	CHECK_EQ(st.dropped, 0);
	size_t built = st.builds;
	/* the same mappings again: nothing is built */
	pass(s, &all, NULL, NULL, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(st.builds, built);
	/* malloc's address in this process, minus the bias, is its address in
	 * libc's ELF file; and the row there says a function's first byte */
	CHECK(libc.count > 1000 && m);
	char err[256];
	uint64_t vaddr = 0, size, off;
	struct elf_file *ef = m ? elf_file_open(m->path, err, sizeof(err)) : NULL;
	CHECK(ef && !elf_file_symbol(ef, "malloc", &vaddr, &size, &off));
	elf_file_close(ef);
	CHECK_EQ((uint64_t)(uintptr_t)&malloc - libc.bias, vaddr);
	struct cfi_table one = {.rows = &rows[libc.first], .nrows = libc.count};
	const struct lb_cfi_row *r = cfi_table_lookup(&one, vaddr);
	CHECK(r && LB_CFI_RULE(r->kind) == LB_CFA_RSP && r->off == 8);
	store_free(s);
	free(all.maps);
	free(rows);
}

static void test_idle_table_kept_and_reused(void)
{
	struct lb_target all, some;
	struct cfi_store_stats st;
	const char *not_libc[] = {"ld-linux", "test_cfi_store", NULL};
	struct lb_cfi_row *rows = calloc(1u << 20, sizeof(*rows));
	struct cfi_store *s = store_new(rows, 1u << 20);
	only(NULL, &all);
	only(not_libc, &some);
	pass(s, &all, NULL, NULL, NULL);
	cfi_store_stats(s, &st);
	size_t built = st.builds, mapped = st.modules;
	pass(s, &some, NULL, NULL, NULL); /* libc (and others) unmapped */
	cfi_store_stats(s, &st);
	CHECK(st.idle >= 1);
	CHECK_EQ(st.modules + st.idle, mapped);
	pass(s, &all, NULL, NULL, NULL); /* mapped again: not built again */
	cfi_store_stats(s, &st);
	CHECK_EQ(st.builds, built);
	CHECK_EQ(st.idle, 0);
	store_free(s);
	free(all.maps);
	free(some.maps);
	free(rows);
}

/* Targets that map libc alone, libdw alone, and neither, and a rows
 * array with room for the larger of the two tables only. */
struct two_libs {
	struct lb_target libc, libdw, empty;
	size_t nlibc, nlibdw;
	uint32_t cap;
	struct lb_cfi_row *rows;
};

static void two_libs_open(struct two_libs *f)
{
	static const char *const libc_only[] = {"libc.so", NULL}, *const libdw_only[] = {"libdw",
											 NULL};
	static const char *const none[] = {"no such module", NULL};
	f->nlibc = rows_of(path_of("libc.so"));
	f->nlibdw = rows_of(path_of("libdw"));
	CHECK(f->nlibc > 0 && f->nlibdw > 0);
	f->cap = (uint32_t)(f->nlibc > f->nlibdw ? f->nlibc : f->nlibdw);
	f->rows = calloc(f->cap, sizeof(*f->rows));
	only(libc_only, &f->libc);
	only(libdw_only, &f->libdw);
	only(none, &f->empty);
}

static void two_libs_close(struct two_libs *f)
{
	free(f->libc.maps);
	free(f->libdw.maps);
	free(f->empty.maps);
	free(f->rows);
}

static void test_room_of_idle_tables_taken_back_safely(void)
{
	struct two_libs f;
	two_libs_open(&f);
	struct lb_target libc = f.libc, libdw = f.libdw, empty = f.empty;
	size_t nlibdw = f.nlibdw;
	uint32_t cap = f.cap;
	struct lb_cfi_row *rows = f.rows;
	struct cfi_store_stats st;
	struct cfi_slice got;

	/* libc unmapped in the pass right before libdw is mapped: a range
	 * written then may still name libc's rows, so they are not reused */
	struct cfi_store *s = store_new(rows, cap);
	pass(s, &libc, NULL, NULL, NULL);
	pass(s, &libdw, "libdw", &got, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(got.count, 0);
	CHECK_EQ(st.dropped, 1);
	CHECK_EQ(st.rows_dropped, nlibdw);
	store_free(s);

	/* a pass later they are */
	s = store_new(rows, cap);
	pass(s, &libc, NULL, NULL, NULL);
	pass(s, &empty, NULL, NULL, NULL);
	pass(s, &libdw, "libdw", &got, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(got.count, nlibdw);
	CHECK_EQ(st.dropped, 0);
	CHECK_EQ(st.idle, 0);
	CHECK_EQ(st.modules, 1);
	store_free(s);
	two_libs_close(&f);
}

/* Two processes map libc; a third wants libdw, with room for one table. */
static void test_table_shared_until_no_process_maps_it(void)
{
	struct two_libs f;
	two_libs_open(&f);
	struct lb_target libc = f.libc, libdw = f.libdw, empty = f.empty;
	size_t nlibc = f.nlibc, nlibdw = f.nlibdw;
	uint32_t cap = f.cap;
	struct lb_cfi_row *rows = f.rows;
	struct cfi_store_stats st;
	struct cfi_slice a_got, b_got, got;
	struct cfi_store *s = cfi_store_new(rows, cap, 0, false);
	struct cfi_user *a = cfi_store_join(s), *b = cfi_store_join(s), *c = cfi_store_join(s);
	CHECK(a && b && c);

	/* built once, the same slice for both */
	pass_of(s, a, &libc, "libc.so", &a_got, NULL);
	pass_of(s, b, &libc, "libc.so", &b_got, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(st.builds, 1);
	CHECK_EQ(st.users, 3);
	CHECK(a_got.count == nlibc && a_got.first == b_got.first && a_got.count == b_got.count);

	/* a stops mapping it, b still does: however many passes go by, its
	 * rows stay (libdw does not fit) */
	pass_of(s, a, &empty, NULL, NULL, NULL);
	pass_of(s, a, &empty, NULL, NULL, NULL);
	pass_of(s, c, &libdw, "libdw", &got, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(got.count, 0);
	CHECK_EQ(st.modules, 1);
	CHECK_EQ(st.idle, 0);
	CHECK_EQ(st.dropped, 1);
	CHECK_EQ(cfi_user_tables_full(c), 1);
	CHECK_EQ(cfi_user_tables_full(a), 0);
	pass_of(s, b, &libc, "libc.so", &got, NULL); /* still the same rows */
	CHECK(got.first == b_got.first && got.count == nlibc);
	pass_of(s, c, &empty, NULL, NULL, NULL);

	/* b stops too: idle, kept a pass, then its room goes to libdw */
	pass_of(s, b, &empty, NULL, NULL, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(st.modules, 0);
	CHECK_EQ(st.idle, 1);
	pass_of(s, c, &libdw, "libdw", &got, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(got.count, nlibdw);
	CHECK_EQ(st.modules, 1);
	CHECK_EQ(st.idle, 0);
	CHECK_EQ(st.dropped, 1);

	/* users that leave: libdw stays while one of two still maps it */
	pass_of(s, a, &libdw, NULL, NULL, NULL);
	cfi_store_leave(s, c);
	pass_of(s, b, &libc, "libc.so", &got, NULL);
	cfi_store_stats(s, &st);
	CHECK_EQ(got.count, 0); /* no room: libdw is a's */
	CHECK_EQ(st.modules, 1);
	CHECK_EQ(st.users, 2);
	pass_of(s, b, &empty, NULL, NULL, NULL);
	cfi_store_leave(s, a);
	cfi_store_stats(s, &st);
	CHECK_EQ(st.idle, 1);
	pass_of(s, b, &libc, "libc.so", &got, NULL);
	CHECK_EQ(got.count, nlibc);
	size_t builds = st.builds;
	cfi_store_stats(s, &st);
	CHECK_EQ(st.builds, builds + 1);
	cfi_store_leave(s, b);
	cfi_store_free(s);
	two_libs_close(&f);
}

/* The passes of several processes may follow each other within
 * microseconds: an idle table's room waits its grace period as well. */
static void test_idle_room_waits_its_grace_period(void)
{
	struct two_libs f;
	two_libs_open(&f);
	struct lb_target libc = f.libc, libdw = f.libdw, empty = f.empty;
	uint32_t cap = f.cap;
	struct lb_cfi_row *rows = f.rows;
	struct cfi_slice got;
	/* an hour: longer than this test */
	struct cfi_store *s = cfi_store_new(rows, cap, 3600ull * 1000000000, false);
	struct cfi_user *a = cfi_store_join(s), *b = cfi_store_join(s);
	pass_of(s, a, &libc, NULL, NULL, NULL);
	pass_of(s, a, &empty, NULL, NULL, NULL);
	pass_of(s, b, &empty, NULL, NULL, NULL);
	pass_of(s, b, &libdw, "libdw", &got, NULL);
	CHECK_EQ(got.count, 0);
	CHECK_EQ(cfi_user_tables_full(b), 1);
	cfi_store_leave(s, a);
	cfi_store_leave(s, b);
	cfi_store_free(s);
	two_libs_close(&f);
}

int main(void)
{
	char err[256];
	/* link libdw's CFI reader in (the maps must show libdw) */
	(void)dwarf_getcfi;
	if (target_open(getpid(), &self, err, sizeof(err))) {
		fprintf(stderr, "cannot read my own mappings: %s\n", err);
		return 1;
	}
	RUN(test_each_file_built_once_with_the_right_bias);
	RUN(test_idle_table_kept_and_reused);
	RUN(test_room_of_idle_tables_taken_back_safely);
	RUN(test_table_shared_until_no_process_maps_it);
	RUN(test_idle_room_waits_its_grace_period);
	target_close(&self);
	return unit_done();
}
