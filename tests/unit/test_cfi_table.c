// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * user/unwind/cfi_table.c on real ELF files: the system libc and
 * cfi_sample.c built without frame pointers, with them, and with only
 * .debug_frame in a separate debug file. Every row of every FDE is compared
 * with binutils' own decoding (`readelf -wF`), an implementation
 * independent of libdw.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "target/elf_file.h"
#include "unwind/cfi_table.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static char sample_dir[PATH_MAX - 64];

static const char *sample(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", sample_dir, name);
	return buf;
}

static int build(const char *path, struct cfi_table *t)
{
	char err[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	int rc = cfi_table_build(fd, path, 1u << 24, t, err, sizeof(err));
	close(fd);
	if (rc)
		fprintf(stderr, "%s: %s\n", path, err);
	return rc;
}

static long row_off(const struct lb_cfi_row *r)
{
	return (r->kind & LB_CFI_OFF_X8) ? 8L * r->off : r->off;
}

/* What readelf printed for one row of an FDE. */
struct ref_row {
	uint64_t loc, end; /* [loc, end) */
	char cfa[32], rbp[16], ra[16];
	bool signal; /* the FDE's CIE has the "S" augmentation */
};

struct compare_stats {
	long rows, rsp, rbp_cfa, rbp_based, exp, roots, signals, gaps_checked;
};

/* One readelf row against the table, at its first and last address. */
static void compare_row(const struct cfi_table *t, const struct ref_row *ref,
			struct compare_stats *st)
{
	uint64_t probe[2] = {ref->loc, ref->end - 1};
	for (int k = 0; k < 2; k++) {
		const struct lb_cfi_row *r = cfi_table_lookup(t, probe[k]);
		CHECK(r != NULL);
		if (!r) {
			fprintf(stderr, "no row at %#" PRIx64 "\n", probe[k]);
			return;
		}
		int rule = LB_CFI_RULE(r->kind), rbp = LB_CFI_RBP(r->kind);
		long off;
		st->rows++;
		if (!strcmp(ref->ra, "u")) {
			if (rule != LB_CFA_ROOT)
				fprintf(stderr, "at %#" PRIx64 ": %s %s\n", probe[k], ref->cfa,
					ref->ra);
			CHECK_EQ(rule, LB_CFA_ROOT);
			st->roots++;
			continue;
		}
		if (ref->signal) {
			CHECK_EQ(rule, LB_CFA_SIGNAL);
			st->signals++;
			continue;
		}
		if (sscanf(ref->cfa, "rsp+%ld", &off) == 1 ||
		    sscanf(ref->cfa, "rbp+%ld", &off) == 1) {
			int want = ref->cfa[1] == 's' ? LB_CFA_RSP : LB_CFA_RBP;
			if (strcmp(ref->ra, "c-8")) {
				CHECK_EQ(rule, LB_CFA_NONE);
				continue;
			}
			CHECK_EQ(rule, want);
			CHECK_EQ(row_off(r), off);
			st->rsp += want == LB_CFA_RSP;
			st->rbp_based += want == LB_CFA_RBP;
		} else if (!strcmp(ref->cfa, "exp")) {
			/* PLT, DRAP or unsupported: never a plain register rule */
			CHECK(rule != LB_CFA_RSP && rule != LB_CFA_RBP);
			st->exp++;
			continue;
		} else {
			/* another base register (the DRAP prologue's %r10...) */
			if (rule != LB_CFA_NONE)
				fprintf(stderr, "at %#" PRIx64 ": %s %s\n", probe[k], ref->cfa,
					ref->ra);
			CHECK_EQ(rule, LB_CFA_NONE);
			continue;
		}
		if (ref->rbp[0] == 'u' || !ref->rbp[0]) {
			CHECK(rbp == LB_RBP_SAME || rbp == LB_RBP_LOST);
		} else if (sscanf(ref->rbp, "c%ld", &off) == 1) {
			CHECK_EQ(rbp, LB_RBP_CFA);
			CHECK_EQ(8L * r->rbp_off, off);
			st->rbp_cfa++;
		} else {
			CHECK(rbp == LB_RBP_RBP || rbp == LB_RBP_LOST);
		}
	}
}

/* Columns of a "LOC CFA ... ra" header line. */
struct columns {
	int rbp, ra; /* index among the register columns, -1 if absent */
};

static void parse_header(const char *line, struct columns *c)
{
	char word[32];
	int pos = 0, n, col = -2; /* LOC, CFA, then registers */
	c->rbp = c->ra = -1;
	while (sscanf(line + pos, "%31s%n", word, &n) == 1) {
		if (col >= 0 && !strcmp(word, "rbp"))
			c->rbp = col;
		if (col >= 0 && !strcmp(word, "ra"))
			c->ra = col;
		col++;
		pos += n;
	}
}

static void parse_row(const char *line, const struct columns *c, struct ref_row *r)
{
	char words[24][32];
	int pos = 0, n, nw = 0;
	while (nw < 24 && sscanf(line + pos, "%31s%n", words[nw], &n) == 1) {
		/* "r10 (r10)": one column */
		if (words[nw][0] != '(')
			nw++;
		pos += n;
	}
	r->loc = nw ? strtoull(words[0], NULL, 16) : 0;
	snprintf(r->cfa, sizeof(r->cfa), "%s", nw > 1 ? words[1] : "");
	snprintf(r->rbp, sizeof(r->rbp), "%s",
		 c->rbp >= 0 && c->rbp + 2 < nw ? words[c->rbp + 2] : "");
	snprintf(r->ra, sizeof(r->ra), "%s", c->ra >= 0 && c->ra + 2 < nw ? words[c->ra + 2] : "");
}

/* Every FDE readelf finds in `path` (its .eh_frame and .debug_frame)
 * against table t. An FDE without rows of its own runs the CIE's initial
 * instructions: CFA = %rsp + 8. */
static void compare_with_readelf(const struct cfi_table *t, const char *path,
				 struct compare_stats *st)
{
	char cmd[PATH_MAX + 64], line[1024];
	snprintf(cmd, sizeof(cmd), "readelf -wF '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!p)
		return;
	struct columns cols = {-1, -1};
	struct ref_row rows[256];
	int nrows = 0;
	uint64_t fde_lo = 0, fde_hi = 0;
	bool in_fde = false, signal = false;
	/* CIE offset -> has "S": few CIEs, a small list does */
	unsigned long sig_cies[64];
	int nsig = 0, ncies = 0;
	struct {
		unsigned long off;
		struct ref_row row;
	} cies[64];
	struct ref_row cie_row = {0};
	bool in_cie = false;
	for (bool more = true; more;) {
		more = fgets(line, sizeof(line), p) != NULL;
		unsigned long off, cie;
		char aug[16];
		uint64_t lo, hi;
		bool fde_line =
		    more && sscanf(line, "%lx %*x %*x FDE cie=%lx pc=%" SCNx64 "..%" SCNx64, &off,
				   &cie, &lo, &hi) == 4;
		bool end = !more || fde_line || strstr(line, "CIE") || strstr(line, "Contents of");
		if (end && in_fde) {
			if (!nrows) {
				rows[0] = cie_row;
				rows[0].loc = fde_lo;
				nrows = 1;
			}
			for (int i = 0; i < nrows; i++) {
				rows[i].end = i + 1 < nrows ? rows[i + 1].loc : fde_hi;
				rows[i].signal = signal;
				if (rows[i].end > rows[i].loc)
					compare_row(t, &rows[i], st);
			}
			/* just past the FDE: nothing, unless another FDE starts there */
			const struct lb_cfi_row *after = cfi_table_lookup(t, fde_hi);
			if (after && after->pc == fde_hi && LB_CFI_RULE(after->kind) == LB_CFA_NONE)
				st->gaps_checked++;
			in_fde = false;
		}
		if (!more)
			break;
		aug[0] = '\0';
		if (strstr(line, " CIE ") &&
		    sscanf(line, "%lx %*x %*x CIE \"%15[^\"]", &off, aug) >= 1 && ncies < 64) {
			in_cie = true;
			cies[ncies].off = off;
			cies[ncies].row = (struct ref_row){0};
			ncies++;
			if (strchr(aug, 'S') && nsig < 64)
				sig_cies[nsig++] = off;
			continue;
		}
		if (in_cie && ncies) {
			/* the CIE's initial instructions: the rule of FDEs that add none */
			if (strstr(line, "LOC") && strstr(line, "CFA"))
				parse_header(line, &cols);
			else if (strspn(line, "0123456789abcdef") == 16)
				parse_row(line, &cols, &cies[ncies - 1].row);
			else if (line[0] == '\n')
				in_cie = false;
			continue;
		}
		if (fde_line) {
			cie_row = (struct ref_row){0};
			for (int i = 0; i < ncies; i++)
				if (cies[i].off == cie)
					cie_row = cies[i].row;
			in_fde = hi > lo;
			fde_lo = lo;
			fde_hi = hi;
			nrows = 0;
			signal = false;
			for (int i = 0; i < nsig; i++)
				signal |= sig_cies[i] == cie;
			continue;
		}
		if (!in_fde)
			continue;
		if (strstr(line, "LOC") && strstr(line, "CFA")) {
			parse_header(line, &cols);
		} else if (strspn(line, "0123456789abcdef") == 16 && nrows < 256) {
			/* a row: a 16-digit LOC (not "0000012c ZERO terminator") */
			parse_row(line, &cols, &rows[nrows]);
			nrows++;
		}
	}
	pclose(p);
}

static void test_libc_matches_readelf(void)
{
	struct cfi_table t;
	if (access(LIBC, R_OK)) {
		fprintf(stderr, "%s: no %s, skipped\n", unit_current, LIBC);
		return;
	}
	CHECK_EQ(build(LIBC, &t), 0);
	struct compare_stats st = {0};
	compare_with_readelf(&t, LIBC, &st);
	fprintf(stderr,
		"%s: %zu rows; %ld addresses compared (%ld rsp, %ld rbp-based, %ld exp), "
		"%ld roots, %ld signal, %ld FDE ends without CFI\n",
		unit_current, t.nrows, st.rows, st.rsp, st.rbp_based, st.exp, st.roots, st.signals,
		st.gaps_checked);
	CHECK(st.rows > 10000);
	CHECK(st.rbp_cfa > 1000);
	CHECK(st.roots >= 2);	/* clone3's child, __clone's */
	CHECK(st.signals >= 2); /* __restore_rt */
	CHECK(st.gaps_checked > 100);
	CHECK(t.eh_frame);
	cfi_table_free(&t);
}

/* The address of a function of the sample. */
static uint64_t symbol(const char *path, const char *name)
{
	char err[256];
	uint64_t vaddr = 0, size, off;
	struct elf_file *ef = elf_file_open(path, err, sizeof(err));
	if (!ef || elf_file_symbol(ef, name, &vaddr, &size, &off))
		vaddr = 0;
	elf_file_close(ef);
	CHECK(vaddr != 0);
	return vaddr;
}

/* Rules of the sample's functions, as cfi_sample.c says they are. */
static void check_sample_shapes(const struct cfi_table *t, const char *path, bool fp)
{
	int rules[8] = {0};
	bool big = false;
	uint64_t lo = symbol(path, "big_frame"), hi = symbol(path, "realigned");
	for (size_t i = 0; i < t->nrows; i++) {
		const struct lb_cfi_row *r = &t->rows[i];
		rules[LB_CFI_RULE(r->kind)]++;
		if (r->pc >= lo && r->pc < lo + 256 && LB_CFI_RULE(r->kind) == LB_CFA_RSP)
			big |= row_off(r) > 40000;
	}
	(void)hi;
	CHECK(big || fp); /* with frame pointers the big frame is %rbp-based */
	CHECK(rules[LB_CFA_RBP] > 0);
	CHECK_EQ(rules[LB_CFA_PLT], 1);
	CHECK_EQ(rules[LB_CFA_ROOT], 1); /* _start */
	if (!fp)
		CHECK_EQ(rules[LB_CFA_RBP_DEREF], 1); /* realigned() */
	/* _start: the outermost frame */
	const struct lb_cfi_row *r = cfi_table_lookup(t, symbol(path, "_start") + 4);
	CHECK(r && LB_CFI_RULE(r->kind) == LB_CFA_ROOT);
	/* a callee-saved push at the start of pushes() (no frame pointers) */
	r = cfi_table_lookup(t, symbol(path, "pushes"));
	CHECK(r && LB_CFI_RULE(r->kind) == LB_CFA_RSP && row_off(r) == 8);
}

/* One build of the sample against readelf and its known shapes. */
static void check_sample(const char *name, bool fp)
{
	char path[PATH_MAX];
	struct cfi_table t;
	sample(name, path, sizeof(path));
	CHECK_EQ(build(path, &t), 0);
	struct compare_stats st = {0};
	compare_with_readelf(&t, path, &st);
	CHECK(st.rows > 20);
	/* the VLA's frame; with frame pointers every function after its prologue */
	CHECK(st.rbp_based >= (fp ? 4 : 1));
	check_sample_shapes(&t, path, fp);
	if (fp) {
		/* pushes() with frame pointers: CFA = %rbp + 16 after the prologue */
		const struct lb_cfi_row *r = cfi_table_lookup(&t, symbol(path, "pushes") + 8);
		CHECK(r && LB_CFI_RULE(r->kind) == LB_CFA_RBP && row_off(r) == 16);
	}
	cfi_table_free(&t);
}

static void test_sample_without_frame_pointers(void)
{
	check_sample("cfi_nofp", false);
}

static void test_sample_with_frame_pointers(void)
{
	check_sample("cfi_fp", true);
}

/* Built with -fno-asynchronous-unwind-tables: the functions' CFI is in
 * .debug_frame, moved to cfi_dbgframe.debug and found by debuglink. */
static void test_debug_frame_in_separate_file(void)
{
	char path[PATH_MAX], dbg[PATH_MAX];
	struct cfi_table t;
	sample("cfi_dbgframe", path, sizeof(path));
	sample("cfi_dbgframe.debug", dbg, sizeof(dbg));
	CHECK_EQ(build(path, &t), 0);
	CHECK(t.debug_frame);
	CHECK(t.eh_frame); /* the C runtime's own objects keep .eh_frame */
	struct compare_stats st = {0};
	compare_with_readelf(&t, dbg, &st);
	CHECK(st.rows > 20);
	check_sample_shapes(&t, path, false);
	cfi_table_free(&t);
}

static void test_bias_of_mappings(void)
{
	struct cfi_table t = {0};
	struct cfi_segment segs[] = {{0, 0, 0x1000}, {0x401000, 0x1000, 0x2000}};
	t.segs = segs;
	t.nsegs = 2;
	uint64_t bias = 1;
	/* non-PIE: mapped at its link address */
	CHECK_EQ(cfi_table_bias(&t, 0x401000, 0x1000, &bias), 0);
	CHECK_EQ(bias, 0);
	/* a segment whose address differs from its offset, loaded elsewhere */
	segs[1].vaddr = 0x2000;
	CHECK_EQ(cfi_table_bias(&t, 0x7f0000001000, 0x1000, &bias), 0);
	CHECK_EQ(bias, 0x7f0000001000 - 0x2000);
	CHECK_EQ(cfi_table_bias(&t, 0x7f0000001000, 0x9000, &bias), -1);
}

static void test_refuses_what_it_cannot_use(void)
{
	struct cfi_table t;
	char err[256];
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(cfi_table_build(fd, "/etc/passwd", 1000, &t, err, sizeof(err)), -1);
	CHECK_STR(err, "not a readable ELF file");
	close(fd);
	/* the table is bounded: libc has more than 1000 rows */
	fd = open(LIBC, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		CHECK_EQ(cfi_table_build(fd, LIBC, 1000, &t, err, sizeof(err)), -1);
		CHECK(strstr(err, "more than 1000 rows") != NULL);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	snprintf(sample_dir, sizeof(sample_dir), "%.*s", (int)sizeof(sample_dir) - 1,
		 n > 0 ? dirname(self) : dirname(argv[0]));
	RUN(test_libc_matches_readelf);
	RUN(test_sample_without_frame_pointers);
	RUN(test_sample_with_frame_pointers);
	RUN(test_debug_frame_in_separate_file);
	RUN(test_bias_of_mappings);
	RUN(test_refuses_what_it_cannot_use);
	return unit_done();
}
